"""The timer-triggered starter under ``python -m devhost`` (real clock, subprocess; no sleeps: the test reads the
host's log lines, with a timeout only as a safety net)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "apps" / "timer_starter"
SAFETY_NET_SECONDS = 60


def test_a_past_due_timer_starts_its_orchestration_at_start_up_under_the_cli(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite3"
    # A status recorded by an earlier run whose Next (2020) has passed: the timer is past due at start-up
    # (ScheduleMonitor.cs:117-121), so it runs now instead of in up to five minutes.
    (tmp_path / "store.sqlite3.timers.json").write_text(
        json.dumps(
            {
                "every_five_minutes": {
                    "Last": "2020-01-01T00:00:00+00:00",
                    "Next": "2020-01-01T00:05:00+00:00",
                    "LastUpdated": "2020-01-01T00:00:00+00:00",
                }
            }
        )
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "--app-dir", str(APP), "--port", "0", "--store", str(store)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    log: list[str] = []
    try:
        assert process.stderr is not None
        for line in process.stderr:
            log.append(line.rstrip("\n"))
            if " is Completed" in line or "Traceback" in line:
                break
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=SAFETY_NET_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 0
    assert any("scheduled_run (" in line and line.endswith(" is Completed") for line in log), "\n".join(log)
    assert any("every_five_minutes" in line and "past due" in line for line in log)
    assert "        every_five_minutes: timerTrigger" in stdout.splitlines()
    status = json.loads((tmp_path / "store.sqlite3.timers.json").read_text())["every_five_minutes"]
    assert status["Last"] > "2026" and status["Next"] > status["Last"]


def test_an_invalid_schedule_stops_the_cli_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\napp = func.FunctionApp()\n\n"
        "@app.timer_trigger(schedule='0 */5 * * *  *  *', arg_name='t')\ndef tick(t: func.TimerRequest) -> None:\n    pass\n"
    )

    result = subprocess.run(
        [sys.executable, "-m", "devhost", "--app-dir", str(tmp_path), "--in-memory"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SAFETY_NET_SECONDS,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )

    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if "error" in line] == [
        "devhost: error: function 'tick': The schedule expression '0 */5 * * *  *  *' was not recognized as a valid cron "
        "expression or timespan string ('0 */5 * * *  *  *' must have 6 fields (second minute hour day month day-of-week) "
        "or 5 without seconds)"
    ]
