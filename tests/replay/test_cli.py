"""``python -m devhost replay`` end to end: history files and store files, exit codes 0/1/2."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devhost.cli import replay as replay_cli
from devhost.store.sqlite import SqliteStore
from tests.replay.apps import record_all, save, write_app
from tests.replay.host import record_store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, base_registry):
    """A base app, a changed app, a folder of recorded histories, and a store file written by the real host."""
    root = tmp_path_factory.mktemp("cli")
    histories = root / "histories"
    for recording in record_all(base_registry):
        save(histories, recording)
    base = write_app(root / "base")
    record_store(base, root / "store.sqlite3", root / "status")
    return {
        "root": root,
        "base": base,
        "changed": write_app(root / "changed", "renamed_activity"),
        "histories": histories,
        "store": root / "store.sqlite3",
        "status": root / "status",
    }


def run(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = replay_cli.main([str(a) for a in argv], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def run_module(*argv: object, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "devhost", "replay", *map(str, argv)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def test_history_files_replaying_against_the_same_code_exit_0(workspace):
    code, out, err = run("--app-dir", workspace["base"], workspace["histories"])

    assert code == 0, out + err
    assert lines(out)[-1] == "10 replayed: 10 OK, 0 FAIL, 0 skipped, 0 errors"
    assert "OK   chain-0 chain (4 episodes)" in lines(out)


def test_changed_code_exits_1_naming_the_first_diverging_decision(workspace):
    code, out, _ = run("--app-dir", workspace["changed"], workspace["histories"])

    assert code == 1
    failures = [line for line in lines(out) if line.startswith("FAIL")]
    assert failures == [
        "FAIL chain-0 chain: episode 2, decision 0: expected activity 'shout' (TaskScheduled #1), "
        f"got activity 'whisper' (TaskScheduled #1)  [{workspace['histories'] / 'chain-0.json'}]"
    ]
    assert lines(out)[-1] == "10 replayed: 9 OK, 1 FAIL, 0 skipped, 0 errors"


def test_instance_filter_limits_the_replay(workspace):
    code, out, _ = run("--app-dir", workspace["changed"], "--instance", "fan-1", workspace["histories"])

    assert code == 0
    assert lines(out) == ["OK   fan-1 fan (3 episodes)", "1 replayed: 1 OK, 0 FAIL, 0 skipped, 0 errors"]


def test_store_file_replays_every_instance(workspace):
    code, out, _ = run("--app-dir", workspace["base"], "--store", workspace["store"])

    assert code == 0, out
    assert lines(out)[-1] == "5 replayed: 5 OK, 0 FAIL, 0 skipped, 0 errors"


def test_store_file_against_changed_code_exits_1(workspace):
    code, out, _ = run("--app-dir", workspace["changed"], "--store", workspace["store"], "--instance", "h-chain")

    assert code == 1
    assert lines(out)[0].startswith("FAIL h-chain chain: episode 2, decision 0: expected activity 'shout'")


def test_default_source_is_the_apps_own_store(workspace, tmp_path):
    app = write_app(tmp_path / "app")
    (app / ".devhost").mkdir()
    (app / ".devhost" / "store.sqlite3").write_bytes(workspace["store"].read_bytes())

    code, out, _ = run("--app-dir", app)

    assert code == 0, out
    assert lines(out)[-1].startswith("5 replayed: 5 OK")


def test_status_documents_replay_from_the_command_line(workspace):
    code, out, _ = run("--app-dir", workspace["base"], workspace["status"])

    assert code == 0, out
    assert lines(out)[-1] == "4 replayed: 4 OK, 0 FAIL, 0 skipped, 0 errors"


def test_unreadable_history_file_is_an_error_line_and_exit_2(workspace, tmp_path):
    (tmp_path / "broken.json").write_text("[1,", encoding="utf-8")
    (tmp_path / "ok.json").write_bytes((workspace["histories"] / "fan-1.json").read_bytes())

    code, out, _ = run("--app-dir", workspace["base"], tmp_path)

    assert code == 2
    assert lines(out)[0].startswith(f"ERROR {tmp_path / 'broken.json'}: not valid JSON")
    assert "OK   fan-1 fan (3 episodes)" in lines(out)
    assert lines(out)[-1] == "1 replayed: 1 OK, 0 FAIL, 0 skipped, 1 errors"


def test_a_mismatch_outranks_input_errors_in_the_exit_status(workspace, tmp_path):
    (tmp_path / "broken.json").write_text("{}", encoding="utf-8")
    (tmp_path / "chain.json").write_bytes((workspace["histories"] / "chain-0.json").read_bytes())

    code, _, _ = run("--app-dir", workspace["changed"], tmp_path)

    assert code == 1


@pytest.mark.parametrize(
    "case", ["missing path", "no source", "bad flag", "broken app", "negative tolerance", "unknown instance", "missing store"]
)
def test_usage_and_input_errors_exit_2_with_one_line(workspace, tmp_path, case):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "function_app.py").write_text("def oops(:\n", encoding="utf-8")
    argv = {
        "missing path": ["--app-dir", workspace["base"], tmp_path / "nope.json"],
        "no source": ["--app-dir", tmp_path],
        "bad flag": ["--frobnicate"],
        "broken app": ["--app-dir", broken, workspace["histories"]],
        "negative tolerance": ["--time-tolerance", "-1", workspace["histories"]],
        "unknown instance": ["--app-dir", workspace["base"], "--instance", "nope", workspace["histories"]],
        "missing store": ["--app-dir", workspace["base"], "--store", tmp_path / "none.sqlite3"],
    }[case]

    code, out, err = run(*argv)

    assert code == 2
    assert out == ""
    message = [line for line in lines(err) if "error:" in line]
    assert len(message) == 1 and "Traceback" not in err


def test_end_to_end_through_python_dash_m_devhost(workspace):
    same = run_module(workspace["histories"], cwd=workspace["base"])
    changed = run_module("--app-dir", workspace["changed"], workspace["histories"], cwd=workspace["root"])

    assert same.returncode == 0, same.stdout + same.stderr
    assert same.stdout.splitlines()[-1] == "10 replayed: 10 OK, 0 FAIL, 0 skipped, 0 errors"
    assert changed.returncode == 1
    assert "FAIL chain-0 chain: episode 2" in changed.stdout


def test_end_to_end_store_in_use_exits_2_with_one_line(workspace):
    holder = SqliteStore(workspace["store"])
    try:
        result = run_module("--app-dir", workspace["base"], "--store", workspace["store"], cwd=workspace["root"])
    finally:
        holder.close()

    assert result.returncode == 2
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert errors == [
        f"python -m devhost replay: error: store {workspace['store']} is in use by a running "
        "devhost; stop it (or replay a copy of the file) and try again"
    ]
    assert "Traceback" not in result.stderr
