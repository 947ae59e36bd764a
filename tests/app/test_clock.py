"""The clock seam: the app reads time only through ``time.time``/``time.sleep`` module attributes."""

from __future__ import annotations

import ast
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from job_monitor import clock

PACKAGE = Path(clock.__file__).resolve().parent


def test_utc_now_follows_a_patched_time_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # devhost virtualizes exactly this attribute while it runs a function.
    monkeypatch.setattr(time, "time", lambda: 1_893_499_200.25)

    now = clock.utc_now()

    assert now == datetime(2030, 1, 1, 12, 0, 0, 250000, tzinfo=timezone.utc)


def test_sleep_goes_through_a_patched_time_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)

    clock.sleep(2.5)
    clock.sleep(-1)

    assert slept == [2.5, 0.0]


def _time_reads(path: Path) -> list[str]:
    """Every way ``path`` could read or wait on time without the seam (AST, so docstrings don't count)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "asyncio"):
            found.append(f"from {node.module} import ...")
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            pair = (node.value.id, node.attr)
            if pair in {
                ("datetime", "now"),
                ("datetime", "utcnow"),
                ("date", "today"),
                ("asyncio", "sleep"),
                ("time", "monotonic"),
                ("time", "perf_counter"),
            }:
                found.append(".".join(pair))
            if pair in {("time", "time"), ("time", "sleep")} and path.name != "clock.py":
                found.append(".".join(pair))
    return [f"{path.name}: {item}" for item in found]


def test_no_module_of_the_app_reads_time_around_the_seam() -> None:
    offenders = [item for path in sorted(PACKAGE.glob("*.py")) for item in _time_reads(path)]

    assert offenders == []


def test_the_time_check_would_catch_a_direct_read(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import time\nfrom datetime import datetime\nx = datetime.now()\ntime.sleep(1)\n")

    assert _time_reads(sneaky) == ["sneaky.py: datetime.now", "sneaky.py: time.sleep"]
