"""Kill soak: ``python -m devhost`` (app in language-worker processes) runs hundreds of monitors while this
script ``kill -9``s a worker (``--target worker``) or the host's whole process group, then restarts the host on
the same store (``--target host``), at random moments; then it checks what the issue asks.

    python benchmarks/worker_kill_soak.py [--monitors 200] [--kills 50] [--workers 1] [--seed 1] [--target worker|host]

Checks: the host process never exits by itself; every started instance ends (none stuck), Completed unless one check lost
its worker on every retry attempt (then Failed with the worker's exit text: the app's failure path); no history
records a task's completion or a timer's firing twice; ``PRAGMA integrity_check`` is ``ok`` after a SIGTERM stop.
Real clock, real processes: a script, not a test. Prints one line of figures; exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
APP = Path(__file__).resolve().parent / "worker_soak_app"
WEBHOOKS = "/runtime/webhooks/durabletask"
BANNER = re.compile(r"Durable HTTP API: http://127\.0\.0\.1:(\d+)/")


def request(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def worker_pids(host_pid: int) -> list[int]:
    """The language workers: children of the host's fork server (itself a child of the host)."""
    pids = []
    for child in children(host_pid):
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"forkserver" in cmdline:
            pids += children(child)
    return pids


def wait_for(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise SystemExit(f"timed out waiting for {what}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--monitors", type=int, default=200)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--target", choices=("worker", "host"), default="worker", help="kill a worker, or the host's process group and restart it"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="devhost-worker-soak-"))
    store = workdir / "store.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(REPO), "FUNCTIONS_WORKER_PROCESS_COUNT": str(args.workers)}
    command = [sys.executable, "-m", "devhost", "--app-dir", str(APP), "--port", "0", "--store", str(store)]
    generation = 0

    def start_host() -> tuple[subprocess.Popen[bytes], str]:
        nonlocal generation
        generation += 1
        log_path = workdir / f"host-{generation}.out"
        with log_path.open("wb") as out:
            # A session of its own: killing its process group takes the fork server and the workers with it.
            process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        port = wait_for(lambda: (m := BANNER.search(log_path.read_text(errors="replace"))) and m.group(1), 60, "banner")
        return process, f"http://127.0.0.1:{port}"

    host, base = start_host()
    try:
        ids = []
        for index in range(args.monitors):
            kind = "loop_monitor" if index % 2 == 0 else "fan_monitor"
            instance_id = f"soak-{index:04d}"
            plan = {"steps": rng.randint(3, 8), "ms": rng.randint(5, 60), "timer_ms": rng.randint(10, 200)}
            status, _ = request("POST", f"{base}{WEBHOOKS}/orchestrators/{kind}/{instance_id}", plan)
            assert status == 202, status
            ids.append(instance_id)
        kills = 0
        alive = True
        started = time.monotonic()
        while kills < args.kills:
            time.sleep(rng.uniform(0.02, 0.3))
            if host.poll() is not None:
                alive = False
                raise SystemExit(f"the host exited ({host.returncode})")
            if args.target == "host":
                os.killpg(host.pid, signal.SIGKILL)
                host.wait(timeout=30)
                kills += 1
                host, base = start_host()
                continue
            pids = worker_pids(host.pid)
            if pids:
                os.kill(rng.choice(pids), signal.SIGKILL)
                kills += 1

        def finished() -> dict[str, Any] | None:
            status, body = request("GET", f"{base}{WEBHOOKS}/instances?top=1000&showInput=false")
            statuses = {s["instanceId"]: s for s in body} if status == 200 else {}
            done = [s for s in statuses.values() if s["runtimeStatus"] in ("Completed", "Failed", "Terminated")]
            return statuses if len(done) == len(ids) else None

        statuses = wait_for(finished, 600, "every instance to finish")
        elapsed = time.monotonic() - started
        alive = alive and host.poll() is None
        host.send_signal(signal.SIGTERM)
        host.wait(timeout=60)
    finally:
        if host.poll() is None:
            host.kill()
    outcomes = Counter(s["runtimeStatus"] for s in statuses.values())
    failed_texts = Counter(str(s["output"])[:80] for s in statuses.values() if s["runtimeStatus"] == "Failed")
    duplicates = 0
    with sqlite3.connect(store) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        seen: Counter[tuple[str, str, Any]] = Counter()
        for instance_id, text in db.execute("SELECT instance_id, event FROM history"):
            event = json.loads(text)
            kind = event.get("EventType")
            if kind in (5, 6):  # TaskCompleted, TaskFailed
                seen[instance_id, "task", event.get("TaskScheduledId")] += 1
            elif kind == 11:  # TimerFired
                seen[instance_id, "timer", event.get("TimerId")] += 1
        duplicates = sum(count - 1 for count in seen.values() if count > 1)
    figures = {
        "monitors": args.monitors,
        "workers": args.workers,
        "target": args.target,
        "kills": args.kills,
        "host_alive_at_end": alive,
        "outcomes": dict(outcomes),
        "failed_outputs": dict(failed_texts),
        "stuck": args.monitors - sum(outcomes.values()),
        "duplicated_completions": duplicates,
        "integrity_check": integrity,
        "seconds": round(elapsed, 1),
    }
    print(json.dumps(figures))
    ok = alive and duplicates == 0 and integrity == "ok" and figures["stuck"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
