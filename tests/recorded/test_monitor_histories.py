"""Recorded histories of the monitoring app must keep replaying against its current code.

A change to ``monitoring_job_orchestrator`` that is not deterministic against these recordings would break
every monitor already running in Azure after a deploy; this test makes CI fail first. To re-record after a
deliberate, versioned change: ``RECORD_HISTORIES=1 python -m pytest tests/recorded``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from devhost.testing.replay import assert_replays, save_history

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = Path(__file__).parent / "histories"
START = "/api/start_monitoring_job"

FLOWS = {
    "completed-activity": {"job_id": "rec-completed"},
    "stalled-timer": {"job_id": "rec-stalled-timer", "simulated_outcome": "stalled", "wait_strategy": "timer"},
    "failed": {"job_id": "rec-failed", "simulated_outcome": "failed", "simulated_duration_seconds": 20},
    "long-second-generation": {
        "job_id": "rec-long",
        "simulated_outcome": "stalled",
        "timeout_seconds": 300,
        "polling_interval_seconds": 5,
        "enable_monitoring": False,
    },
}


@pytest.mark.skipif(not os.environ.get("RECORD_HISTORIES"), reason="set RECORD_HISTORIES=1 to re-record")
@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_record_history(durable_app, flow):
    app = durable_app(ROOT)
    instance_id = app.http.post(START, json_body=FLOWS[flow]).json()["id"]
    app.wait_for_completion(instance_id)
    save_history(app, instance_id, HISTORIES / f"{flow}.json")


def test_recorded_monitor_histories_replay_against_current_code():
    results = assert_replays(ROOT, HISTORIES)
    assert len(results) == len(FLOWS)


def test_non_deterministic_change_to_the_orchestrator_fails_the_replay(tmp_path):
    app_dir = tmp_path / "app"
    shutil.copytree(ROOT / "job_monitor", app_dir / "job_monitor")
    for name in ("function_app.py", "host.json", "local.settings.json"):
        shutil.copy(ROOT / name, app_dir / name)
    orchestrator = app_dir / "job_monitor" / "orchestrator.py"
    source = orchestrator.read_text()
    # The kind of edit that looks harmless: always wait with a durable timer instead of the activity.
    changed = source.replace('if request.wait_strategy == "timer":', "if True:")
    assert changed != source
    orchestrator.write_text(changed)

    with pytest.raises(AssertionError, match="no longer replay"):
        assert_replays(app_dir, HISTORIES)
