"""devhost as one more row of the shared peer benchmark (the monitor workload of the peer harness).

    python benchmarks/peer_row.py -n 200 -k 10 [--label devhost] [--status-rate 50] [--no-memo]
                                  [--store file|memory] [--app FILE] [--json-out FILE]

Runs the harness's workload unchanged: its ``df_monitor_app.py`` (K iterations of ``check_job_status``,
custom status, ``create_timer(now + 0 s)``; the last check returns instead of waiting) as the app's
``function_app.py``, N instances started back to back inside the timed region, after one untimed K=1
warm-up instance; wall time until all N have completed. The app file is taken from the harness when it is
at hand (``--app``, else ``df_monitor_app.py`` in the working directory, which is where the harness's
``run_all.sh`` runs its engines), else from ``benchmarks/peer_app`` (a copy of it).

devhost runs with default settings on a SQLite **file** store (durable: every turn is committed before
anything it caused is acknowledged), the real clock, and its timestamp memo (``--no-memo`` takes it out).
A status client in a process of its own polls instance statuses at ``--status-rate``/s meanwhile; p50/p99 go into
the row.

Prints one ``RESULT {json}`` line, the harness's format (steps = N*K checks), so the harness can run it:

    BENCH_EXTRA='devhost|<venv>/bin/python <repo>/benchmarks/peer_row.py --label devhost' ./run_all.sh
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import shutil
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from benchkit import percentile
from devhost_run import HostRun, run_host

from devhost.core.model import RuntimeStatus

HERE = Path(__file__).resolve().parent
BUNDLED_APP = HERE / "peer_app" / "function_app.py"
HARNESS_APP = "df_monitor_app.py"
ORCHESTRATOR = "monitor"


def app_file(explicit: Path | None) -> Path:
    if explicit is not None:
        return explicit
    in_cwd = Path.cwd() / HARNESS_APP
    return in_cwd if in_cwd.is_file() else BUNDLED_APP


def outputs_ok(run: HostRun, k: int) -> int:
    ok = 0
    for instance in run.instances.values():
        output = json.loads(instance.output or "null")
        if (
            instance.runtime_status is RuntimeStatus.COMPLETED
            and isinstance(output, dict)
            and output.get("final_status") == "completed"
            and output.get("checks_performed") == k
        ):
            ok += 1
    return ok


def row(args: argparse.Namespace, run: HostRun, source: Path) -> dict[str, Any]:
    n, k = args.instances, args.iterations
    completed = sum(1 for i in run.instances.values() if i.runtime_status is RuntimeStatus.COMPLETED)
    return {
        "engine": "devhost", "label": args.label, "N": n, "K": k,
        # With workers, their CPU (start-up included) is the engine's too; the SDK then runs in them, side by side.
        "wall_s": round(run.wall_seconds, 3), "cpu_s": round(run.cpu_seconds + run.worker_cpu_seconds, 3),
        "workers": args.workers,
        "completed": completed, "outputs_ok": outputs_ok(run, k), "steps": n * k,
        "steps_per_s": round(n * k / run.wall_seconds, 1), "timers": n * (k - 1),
        "episodes": run.turns, "episodes_per_s": round(run.turns / run.wall_seconds, 1),
        "sdk_s": round(run.sdk_seconds, 3), "sdk_share": round(run.sdk_seconds / run.wall_seconds, 3),
        "host_only_ms_per_turn": None if args.workers else round(1000 * (run.wall_seconds - run.sdk_seconds) / run.turns, 3),
        "status_requests": len(run.latencies), "status_errors": run.status_errors,
        "status_p50_ms": round(1000 * percentile(run.latencies, 0.5), 2) if run.latencies else None,
        "status_p99_ms": round(1000 * percentile(run.latencies, 0.99), 2) if run.latencies else None,
        "peak_rss_mb": round(run.peak_rss_mb, 1), "memo": run.memo,
        "store": "sqlite-file" if args.store == "file" else "in-memory",
        "app": source.name, "python": platform.python_version(), "error": None,
    }  # fmt: skip


def parse_args(argv: list | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("-n", "--instances", type=int, default=200, help="instances (N, default 200)")
    parser.add_argument("-k", "--iterations", type=int, default=10, help="checks per instance (K, default 10)")
    parser.add_argument("--label", default="devhost", help="row label (default devhost)")
    parser.add_argument("--status-rate", type=float, default=50.0, help="status GETs/s while running; 0: none")
    parser.add_argument("--no-memo", action="store_true", help="without the host's timestamp memo")
    parser.add_argument(
        "--store", choices=("file", "memory"), default="file", help="SQLite file (default) or the in-memory store"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run the app in this many worker processes, as python -m devhost does (default 0: in the host, as the kit does)",
    )
    parser.add_argument("--app", type=Path, help=f"the harness's {HARNESS_APP} (default: ./{HARNESS_APP}, else the copy)")
    parser.add_argument("--json-out", type=Path, help="append the RESULT json to this file too")
    args = parser.parse_args(argv)
    if args.instances < 1 or args.iterations < 1:
        parser.error("-n and -k must be at least 1")
    return args


def main(argv: list | None = None) -> int:
    args = parse_args(argv)
    warnings.simplefilter("ignore")
    logging.getLogger().setLevel(logging.ERROR)  # DFApp warns about the auth level on import
    source = app_file(args.app)
    inputs = {f"job-{i}": {"job_id": f"job-{i}", "k": args.iterations} for i in range(args.instances)}
    try:
        with tempfile.TemporaryDirectory(prefix="devhost-peer-app-") as tmp:
            shutil.copyfile(source, Path(tmp) / "function_app.py")
            run = asyncio.run(
                run_host(
                    Path(tmp),
                    ORCHESTRATOR,
                    inputs,
                    store=args.store,
                    status_rate=args.status_rate,
                    memo=not args.no_memo,
                    warmup=("warmup", {"job_id": "warmup", "k": 1}),
                    keep_histories=False,
                    workers=args.workers,
                )
            )
        result = row(args, run, source)
    except Exception as exc:  # the harness shows a row's error instead of a missing line
        result = {
            "engine": "devhost",
            "label": args.label,
            "N": args.instances,
            "K": args.iterations,
            "error": f"{type(exc).__name__}: {exc}",
        }
    line = json.dumps(result, sort_keys=True)
    print("RESULT " + line, flush=True)
    if args.json_out:
        with args.json_out.open("a") as out:
            out.write(line + "\n")
    return 0 if result.get("error") is None else 1


if __name__ == "__main__":
    sys.exit(main())
