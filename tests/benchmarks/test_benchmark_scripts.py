"""The benchmark scripts still run against the current host and print what they promise (tiny sizes, no timing
is asserted: the figures themselves are for people, see benchmarks/README.md)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_script(name: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCHMARKS / name), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def load(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_peer_row_prints_one_harness_result_line_for_the_shared_workload() -> None:
    out = run_script("peer_row.py", "-n", "3", "-k", "2", "--status-rate", "0", "--label", "devhost-test")

    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1
    row = json.loads(lines[0][len("RESULT ") :])
    assert row["error"] is None and row["label"] == "devhost-test" and row["engine"] == "devhost"
    assert (row["N"], row["K"], row["completed"], row["outputs_ok"], row["steps"]) == (3, 2, 3, 3, 6)
    assert row["episodes"] == 3 * 2 * 2  # start, K results, K-1 timers per instance
    assert row["memo"] is True and row["store"] == "sqlite-file"


def test_monitor_bench_replays_the_hosts_own_episodes_plain_and_memoized() -> None:
    figures = json.loads(run_script("monitor_bench.py", "--n", "2", "--k", "2", "--status-rate", "0", "--json"))

    assert figures["turns"] == figures["sdk_episodes"] == 2 * (2 * 2 + 1)
    assert figures["memo_in_host"] is True
    assert figures["cpu_floor_plain_steps_per_s"] > 0 and figures["cpu_floor_memo_steps_per_s"] > 0


def test_scaling_reports_host_and_sdk_cost_per_k() -> None:
    rows: list[dict[str, Any]] = json.loads(run_script("scaling.py", "--k", "2,3", "--json"))

    assert [(r["K"], r["turns"]) for r in rows] == [(2, 4), (3, 6)]
    assert all(r["sdk_plain_ms_per_episode"] > 0 and r["sdk_memo_ms_per_episode"] > 0 for r in rows)


def test_week_monitor_runs_the_app_through_the_test_kit_until_its_timeout() -> None:
    result = json.loads(run_script("week_monitor.py", "--days", "0.01", "--json"))

    assert (result["runtime_status"], result["final_status"]) == ("Completed", "Timeout")
    assert result["checks"] == 15 and result["generations"] == 1 and result["memo"] is True


def test_compare_gives_devhosts_ratio_to_each_row_against_the_issues_targets() -> None:
    compare = load("compare")
    records = [
        {"label": "durabletask-inmem", "steps_per_s": 100.0, "steps": 2000, "cpu_s": 10.0},
        {"label": "dbos-sqlite", "steps_per_s": 50.0, "steps": 2000, "cpu_s": 20.0},
        {"label": "devhost", "steps_per_s": 250.0, "episodes_per_s": 500.0, "steps": 2000, "cpu_s": 5.0},
    ]

    text = compare.ratios(records)

    assert "vs durabletask-inmem" in text and "wall 2.50x; per CPU-s 2.00x  (target >= 2.0x: met)" in text
    assert "wall 5.00x; per CPU-s 4.00x  (target >= 4.0x: met)" in text
    assert "devhost-no-memo: no result" in text
