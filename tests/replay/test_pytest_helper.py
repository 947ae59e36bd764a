"""The pytest helper (devhost.testing.replay): recorded histories in a folder must still replay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devhost.testing.replay import assert_replays, replay_histories, save_history
from tests.replay.apps import record_all, save, write_app
from tests.replay.host import running_app

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, base_registry) -> Path:
    histories = tmp_path_factory.mktemp("histories")
    for recording in record_all(base_registry):
        save(histories, recording)
    return histories


def test_assert_replays_passes_and_returns_every_result(folder, tmp_path):
    results = assert_replays(write_app(tmp_path / "app"), folder)

    assert len(results) == 10 and all(r.ok for r in results)


def test_assert_replays_accepts_a_registry(folder, base_registry):
    assert len(assert_replays(base_registry, [folder / "chain-0.json", folder / "fan-1.json"])) == 2


def test_assert_replays_fails_listing_each_diverging_history(folder, tmp_path):
    with pytest.raises(AssertionError) as caught:
        assert_replays(write_app(tmp_path / "app", "renamed_activity"), folder)

    message = str(caught.value)
    assert message.splitlines()[0] == "1 of 10 recorded histories no longer replay:"
    assert (
        "FAIL chain-0 chain: episode 2, decision 0: expected activity 'shout' (TaskScheduled #1), "
        "got activity 'whisper' (TaskScheduled #1)" in message
    )


def test_assert_replays_fails_when_there_is_nothing_to_replay(tmp_path):
    (tmp_path / "empty").mkdir()

    with pytest.raises(AssertionError, match="no recorded histories found"):
        assert_replays(write_app(tmp_path / "app"), tmp_path / "empty")
    with pytest.raises(AssertionError, match="no recorded histories found"):
        assert_replays(write_app(tmp_path / "app"), [])


def test_replay_histories_reports_unreadable_files_as_errors(folder, tmp_path, base_registry):
    (tmp_path / "bad.json").write_text("nope", encoding="utf-8")
    (tmp_path / "good.json").write_bytes((folder / "sleeper-2.json").read_bytes())

    results = replay_histories(base_registry, tmp_path)

    assert [(r.instance_id, r.ok) for r in results] == [("bad.json", False), ("sleeper-2", True)]
    assert results[0].error is not None and results[0].error.startswith("not valid JSON")


def test_save_history_records_a_run_of_the_real_host_that_then_replays(tmp_path):
    app_dir = write_app(tmp_path / "app")
    with running_app(app_dir, tmp_path / "store.sqlite3") as app:
        instance_id = app.start("greet", "Ann")
        status = app.wait_for_completion(instance_id)
        path = save_history(app, instance_id, tmp_path / "histories")

    saved = json.loads(path.read_text(encoding="utf-8"))
    assert status["runtimeStatus"] == "Completed"
    assert path == tmp_path / "histories" / f"{instance_id}.json"
    # The test kit starts with a string as client.start_new does: its JSON text, as a JSON string.
    assert (saved["name"], saved["instanceId"], saved["input"]) == ("greet", instance_id, json.dumps(json.dumps("Ann")))
    assert [r.ok for r in assert_replays(app_dir, path)] == [True]


def test_helper_inside_a_pytest_run(folder, tmp_path):
    base, changed = write_app(tmp_path / "base"), write_app(tmp_path / "changed", "removed_step")
    (tmp_path / "suite").mkdir()
    (tmp_path / "suite" / "test_histories.py").write_text(
        "from devhost.testing.replay import assert_replays\n\n\n"
        "def test_recorded_histories_still_replay():\n"
        f"    assert_replays({str(base)!r}, {str(folder)!r})\n\n\n"
        "def test_recorded_histories_against_changed_code():\n"
        f"    assert_replays({str(changed)!r}, {str(folder)!r})\n",
        encoding="utf-8",
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_histories.py"],
        cwd=tmp_path / "suite",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert "FAIL chain-0 chain: episode 2, decision 0: expected activity 'shout'" in run.stdout
