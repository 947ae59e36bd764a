"""The project's benchmark: devhost against the SDK's replay floor and the peer engines, from one run, as ratios.

    python benchmarks/compare.py [--bench-dir DIR] [-n 200] [-k 10] [--skip-scaling] [--skip-week] [--json-out FILE]

Runs the shared peer harness (``run_all.sh`` of ``--bench-dir``, default ``$DEVHOST_PEER_BENCH`` or
``../shared/bench`` beside the repository) once (``-r 1``; ``--reps 3`` interleaves three and takes medians)
with devhost joined through ``BENCH_EXTRA`` (three rows, :data:`ROWS`: ``devhost``, ``devhost-workers`` and
``devhost-no-memo``, benchmarks/peer_row.py in this interpreter), on the engines whose
virtualenvs the harness already has in its scratch directory (``$BENCH_SCRATCH``, else ``bench-scratch`` in the
temporary directory; none is created): durabletask in-memory (``venv-dt``), DBOS on SQLite (``venv-dbos``) and
the unpatched DF SDK replay floor with its K scaling (``venv-df``), plus the harness's raw SQLite commit floor.
Then, in fresh processes of this interpreter: benchmarks/scaling.py (K = 10, 100, 1000) and
benchmarks/week_monitor.py (the app's 7-day monitor).
Prints the harness's tables, then devhost's ratio to every row and the issue's targets.

Machines and moments differ by up to 3x: compare only figures from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = {"dt": "durabletask-inmem", "dbos": "dbos-sqlite", "df": "df-sdk-replay-floor"}
VENVS = {"dt": "venv-dt", "dbos": "venv-dbos", "df": "venv-df"}
TARGETS = {"durabletask-inmem": 2.0, "dbos-sqlite": 4.0, "df-sdk-replay-floor": 2.0}
"""Issue 8: devhost steps/s at least this many times the row's, in the same run."""


def bench_dir(explicit: Path | None) -> Path | None:
    for candidate in (explicit, os.environ.get("DEVHOST_PEER_BENCH"), REPO.parent / "shared" / "bench"):
        if candidate and (Path(candidate) / "run_all.sh").is_file():
            return Path(candidate).resolve()
    return None


ROWS = {"devhost": "", "devhost-workers": " --workers 1", "devhost-no-memo": " --no-memo"}
"""devhost's rows: in the host's process (the test kit's default), in one worker process (``python -m devhost``'s
default), and in the host without the timestamp memo."""


def scratch_dir() -> Path:
    # The harness's own default (run_all.sh): $BENCH_SCRATCH, else ${TMPDIR:-/tmp}/bench-scratch.
    return Path(os.environ.get("BENCH_SCRATCH") or Path(tempfile.gettempdir()) / "bench-scratch")


def run_harness(harness: Path, n: int, k: int, reps: int, out: Path) -> list[dict[str, Any]]:
    scratch = scratch_dir()
    present = [key for key, venv in VENVS.items() if (scratch / venv / "bin" / "python").is_file()]
    only = present + (["dfscale"] if "df" in present else []) + ["sqlite", "extra"]
    me = f"{sys.executable} {HERE / 'peer_row.py'}"
    extra = "\n".join(f"{label}|{me} --label {label}{flags}" for label, flags in ROWS.items())
    env = dict(os.environ, BENCH_EXTRA=extra, BENCH_SCRATCH=str(scratch))
    print(f"peer harness {harness}: engines {', '.join(present) or 'none'} (+ devhost), N={n} K={k}, {reps} rep(s)", flush=True)
    command = [
        "bash",
        str(harness / "run_all.sh"),
        "-n",
        str(n),
        "-k",
        str(k),
        "-r",
        str(reps),
        "--only",
        ",".join(only),
        "--out",
        str(out),
    ]
    subprocess.run(command, env=env, check=False)
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def per_cpu(record: dict[str, Any]) -> float:
    steps, cpu = record.get("steps"), record.get("cpu_s")
    return steps / cpu if steps and cpu else 0.0


def medians(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One record per label: with several reps, each numeric field's median."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_label.setdefault(record.get("label") or record["engine"], []).append(record)
    merged: dict[str, dict[str, Any]] = {}
    for label, group in by_label.items():
        row = dict(group[0])
        for key, value in group[0].items():
            values = [r.get(key) for r in group]
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            if numeric and isinstance(value, (int, float)):
                row[key] = statistics.median(values)  # type: ignore[type-var]
        merged[label] = row
    return merged


def ratios(records: list[dict[str, Any]]) -> str:
    rows = medians([r for r in records if "steps_per_s" in r and not r.get("error")])
    lines = ["## devhost against each row (steps/s ratio, same run)", ""]
    for mine in ROWS:
        me = rows.get(mine)
        if me is None:
            lines.append(f"{mine}: no result")
            continue
        lines.append(
            f"{mine}: {me['steps_per_s']:.1f} steps/s, {me['episodes_per_s']:.1f} turns/s, status GET p50 "
            f"{me.get('status_p50_ms')} ms / p99 {me.get('status_p99_ms')} ms ({me.get('status_requests')} GETs), "
            f"{me.get('host_only_ms_per_turn')} ms host-only per turn, SDK share {me.get('sdk_share')}"
        )
        for label, other in rows.items():
            if label.startswith("devhost"):
                continue
            ratio = me["steps_per_s"] / other["steps_per_s"]
            target = TARGETS.get(label) if mine != "devhost-no-memo" else None
            verdict = "" if target is None else f"  (target >= {target:.1f}x: {'met' if ratio >= target else 'MISSED'})"
            # Steps per CPU second: the same comparison without the other processes of a busy machine.
            cpu = f"; per CPU-s {per_cpu(me) / per_cpu(other):.2f}x" if per_cpu(me) and per_cpu(other) else ""
            lines.append(f"  vs {label:<26} {other['steps_per_s']:>7.1f} steps/s  wall {ratio:.2f}x{cpu}{verdict}")
    errors = [r for r in records if r.get("error")]
    lines += [f"ERROR in {r.get('label')}: {r['error']}" for r in errors]
    return "\n".join(lines)


def run_script(name: str, *args: str) -> None:
    print(f"\n## {name} {' '.join(args)}".rstrip(), flush=True)
    subprocess.run([sys.executable, str(HERE / name), *args], check=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--bench-dir", type=Path, help="the shared peer harness (a folder with run_all.sh)")
    parser.add_argument("-n", type=int, default=200, help="instances (default 200)")
    parser.add_argument("-k", type=int, default=10, help="checks per instance (default 10)")
    parser.add_argument(
        "-r", "--reps", type=int, default=1, help="harness repetitions, interleaved; ratios use each row's median (default 1)"
    )
    parser.add_argument("--scaling", default="10,100,1000", help="K values for benchmarks/scaling.py")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-week", action="store_true")
    parser.add_argument("--json-out", type=Path, help="keep the harness's RESULT lines in this file (jsonl)")
    args = parser.parse_args(argv)
    harness = bench_dir(args.bench_dir)
    if harness is None:
        print("no peer harness found (--bench-dir or DEVHOST_PEER_BENCH); devhost against its own SDK floor only:")
        run_script("monitor_bench.py", "--n", str(args.n), "--k", str(args.k))
    else:
        with tempfile.TemporaryDirectory(prefix="devhost-compare-") as tmp:
            out = args.json_out or Path(tmp) / "results.jsonl"
            records = run_harness(harness, args.n, args.k, args.reps, out)
        print()
        print(ratios(records))
    if not args.skip_scaling:
        run_script("scaling.py", "--k", args.scaling)
    if not args.skip_week:
        run_script("week_monitor.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
