"""Hostile-input soak: N generated hostile requests against a real ``python -m devhost`` serving the app.

    python benchmarks/hostile_soak.py [--requests 10000] [--concurrency 8] [--seed 1] [--hang-seconds 10]

The host runs as its own process (real clock, SQLite file in a temporary directory), so its memory is measured
alone: RSS (``/proc/<pid>/status``) after a warm-up of ``--warmup`` requests, after each tenth of the run and at
the end. Requests come
from ``tests/hostile/generate.py`` over every route (the Durable API on both bases, ``/admin``, the dashboard's
``/_devhost/``, the app's functions), each written byte for byte on its own socket. Printed: the answers by
status, the 5xx the client did not ask for (the only 500 a client can ask for is the status of a Failed instance
with ``returnInternalServerErrorOnFailure``), hangs (no answer within ``--hang-seconds``), the RSS before/after and
``PRAGMA integrity_check`` of the store once the host has stopped, and a memory verdict: the host's RSS is "flat"
when its growth over the second half of the run is at most ``--flat-mb-per-1000`` MB per 1,000 requests (what the
bounded caches still filling there add: SQLite's page cache up to its 2 MB default, the history cache, the
executor's threads; the heap fragmentation fixed in ``devhost/http/reads.py`` added 0.4-0.7). Exit status 1 if any
5xx, hang or integrity problem was seen, or the RSS kept growing.

This is a script, not a test: pytest only collects ``tests/``.
"""

from __future__ import annotations

import argparse
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(REPO))

from devhost.http.paths import RPC_BASE_PATH, WEBHOOK_BASE_PATH  # noqa: E402
from devhost.runtime.config import load_host_settings, load_local_settings  # noqa: E402
from devhost.runtime.loader import load_app  # noqa: E402
from tests.hostile.conftest import parse_answer, read_all  # noqa: E402
from tests.hostile.generate import HostileRequest, hostile_request, route_table  # noqa: E402

# The host's router resources (as tests/hostile/test_generated.py reads them from a running host); the dashboard's
# base is listed whether or not this checkout has it: an unknown path is a 404, which is fine.
ROUTER_PATHS = ["/admin/host/status", WEBHOOK_BASE_PATH + "/{_tail}", RPC_BASE_PATH + "/{_tail}", "/_devhost/{tail}", "/_devhost"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def wait_until_up(port: int, deadline_seconds: float = 60) -> None:
    end = time.monotonic() + deadline_seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/host/status", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the host did not come up")


def send(port: int, request: HostileRequest, hang_seconds: float) -> tuple[int, bool, bool]:
    """(status or 0, hung, asked-for 500) for one request on its own connection."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=hang_seconds) as sock:
            try:
                sock.sendall(request.wire(f"127.0.0.1:{port}"))
            except (BrokenPipeError, ConnectionResetError):
                pass
            answer = parse_answer(read_all(sock, head_only=request.method == "HEAD"))
    except TimeoutError:
        return 0, True, False
    except OSError:
        return 0, False, False
    return answer.status, False, answer.status == 500 and b'"runtimeStatus":"Failed"' in answer.body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hang-seconds", type=float, default=10.0)
    parser.add_argument("--flat-mb-per-1000", type=float, default=0.25)
    args = parser.parse_args()

    load_local_settings(REPO)
    settings = load_host_settings(REPO)
    routes = route_table(ROUTER_PATHS, load_app(REPO), settings.route_prefix)
    rng = random.Random(args.seed)
    requests = [hostile_request(rng, routes) for _ in range(args.warmup + args.requests)]

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store.sqlite3"
        port = free_port()
        log = open(Path(tmp) / "host.log", "wb")  # noqa: SIM115 - closed below, after the host exits
        host = subprocess.Popen(
            [sys.executable, "-m", "devhost", "--app-dir", str(REPO), "--port", str(port), "--store", str(store)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(port)
            statuses: Counter[int] = Counter()
            hangs = unasked_5xx = 0
            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(lambda r: send(port, r, args.hang_seconds), requests[: args.warmup]))
                rss_before = rss_kb(host.pid)
                samples = [rss_before]
                started = time.monotonic()
                measured = requests[args.warmup :]
                step = max(1, len(measured) // 10)
                for first in range(0, len(measured), step):  # ten batches, the host's RSS after each
                    batch = measured[first : first + step]
                    for status, hung, asked in pool.map(lambda r: send(port, r, args.hang_seconds), batch):
                        statuses[status] += 1
                        hangs += hung
                        unasked_5xx += status >= 500 and not asked
                    samples.append(rss_kb(host.pid))
                elapsed = time.monotonic() - started
            rss_after = rss_kb(host.pid)
            alive = host.poll() is None
        finally:
            host.send_signal(signal.SIGINT)
            try:
                host.wait(30)
            except subprocess.TimeoutExpired:
                host.kill()
                host.wait()
            log.close()
        with sqlite3.connect(store) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        tracebacks = (Path(tmp) / "host.log").read_text(errors="replace").count("Traceback")

    print(f"requests: {args.requests} (after {args.warmup} warm-up) in {elapsed:.1f} s, concurrency {args.concurrency}")
    print("statuses: " + ", ".join(f"{status or 'no answer'}: {count}" for status, count in sorted(statuses.items())))
    print(f"5xx not asked for: {unasked_5xx}")
    print(f"hangs (> {args.hang_seconds:g} s): {hangs}")
    mid = len(samples) // 2  # samples[k]: after k batches of ``step`` requests
    second_half_slope = (rss_after - samples[mid]) / 1024 / max(1, len(measured) - mid * step) * 1000
    flat = second_half_slope <= args.flat_mb_per_1000
    print(f"host RSS: {rss_before / 1024:.1f} MB after warm-up, {rss_after / 1024:.1f} MB at the end")
    print("host RSS after each tenth (MB): " + " ".join(f"{kb / 1024:.1f}" for kb in samples))
    print(
        f"host RSS growth: {(rss_after - rss_before) / 1024 / len(measured) * 1000:.3f} MB per 1,000 requests overall, "
        f"{second_half_slope:.3f} in the second half: "
        + ("flat" if flat else f"GROWING (more than {args.flat_mb_per_1000:g} MB per 1,000 in the second half)")
    )
    print(f"host alive at the end: {alive}; tracebacks in its log: {tracebacks}; store integrity: {integrity}")
    return 0 if (unasked_5xx == 0 and hangs == 0 and alive and integrity == "ok" and flat) else 1


if __name__ == "__main__":
    sys.exit(main())
