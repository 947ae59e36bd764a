"""``python -m devhost list|status|history|watch|terminate|raise|purge`` as real processes against a real host."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.cli.client.http import ExitCode
from devhost.cli.main import main

from .hostproc import REPO, Host, finish, lines, wait_for


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    running = Host(Path(tmp_path_factory.mktemp("cli-host")))
    try:
        yield running
    finally:
        running.close()


def test_watch_exit_codes_say_how_each_monitor_ended(host: Host) -> None:
    host.start_monitor("watch-ok")
    host.start_monitor("watch-stalled", timeout_seconds=2, simulated_duration_seconds=600)
    host.start_monitor("watch-failed", simulated_outcome="failed")
    watches = {
        name: host.cli_background("watch", name, "--interval", "0.2") for name in ("watch-ok", "watch-stalled", "watch-failed")
    }

    ok, stalled, failed = (finish(watches[name]) for name in ("watch-ok", "watch-stalled", "watch-failed"))

    assert ok.code == ExitCode.OK, ok
    progress = [int(m.group(1)) for m in re.finditer(r"· (\d+)%$", ok.out, re.MULTILINE)]
    assert progress == sorted(progress) and progress[-1] == 100 and len(progress) >= 2
    assert lines(ok.out)[-1] == "watch-ok: Completed (final_status Completed) (exit 0)"
    assert stalled.code == ExitCode.TIMED_OUT_RESULT, stalled
    assert "the monitored job timed out" in lines(stalled.out)[-1]
    assert failed.code == ExitCode.FAILED, failed
    assert "the monitored job failed" in lines(failed.out)[-1]


def test_watch_on_an_unknown_id_says_so_and_exits_not_found(host: Host) -> None:
    run = host.cli("watch", "no-such-job")

    assert run.code == ExitCode.NOT_FOUND
    assert run.out == ""
    assert run.err.strip() == f"devhost watch: error: no instance 'no-such-job' on {host.url}"


def test_watch_gives_up_after_its_timeout(host: Host) -> None:
    host.start_monitor("watch-long", simulated_duration_seconds=600, timeout_seconds=600)

    run = host.cli("watch", "watch-long", "--timeout", "0.5", "--interval", "0.1")

    assert run.code == ExitCode.WATCH_TIMEOUT, run
    assert lines(run.out)[-1] == "watch-long: still Running after 0.5s; stopped watching"
    assert host.cli("terminate", "watch-long").code == ExitCode.OK


def test_terminate_then_watch_reports_terminated(host: Host) -> None:
    host.start_monitor("to-stop", simulated_duration_seconds=600, timeout_seconds=600)

    run = host.cli("terminate", "to-stop", "--reason", "enough")
    watched = host.cli("watch", "to-stop", "--interval", "0.1")

    assert run.code == ExitCode.OK and run.out.strip() == "terminate requested: to-stop (HTTP 202)"
    assert watched.code == ExitCode.TERMINATED, watched
    assert lines(watched.out)[-1] == "to-stop: Terminated: enough (exit 3)"
    again = host.cli("terminate", "to-stop")
    assert again.code == ExitCode.REFUSED and "HTTP 410" in again.err


def test_raise_sends_an_event_that_shows_in_the_history(host: Host) -> None:
    host.start_monitor("hears", simulated_duration_seconds=600, timeout_seconds=600)

    run = host.cli("raise", "hears", "Nudge", "--data", '{"n": 1}')
    raised = wait_for(lambda: "EventRaised" in (out := host.cli("history", "hears").out) and out, "EventRaised in the history")

    assert run.code == ExitCode.OK and run.out.strip() == "event 'Nudge' raised: hears (HTTP 202)"
    row = next(line for line in raised.splitlines() if "EventRaised" in line)
    assert "Nudge" in row and 'input={"n": 1}' in row
    events = json.loads(host.cli("history", "hears", "--json", "--last", "3").out)
    assert len(events) == 3 and events[-1]["index"] >= 3
    host.cli("terminate", "hears")


def test_list_status_and_purge(host: Host) -> None:
    host.start_monitor("lp-1", simulated_duration_seconds=0)
    wait_for(lambda: host.runtime_status("lp-1") == "Completed", "lp-1 to complete")

    listed = host.cli("list", "--prefix", "lp-", "--status", "Completed")
    as_json = json.loads(host.cli("list", "--prefix", "lp-", "--json").out)
    status = host.cli("status", "lp-1")
    purged = host.cli("purge", "lp-1")

    assert listed.code == ExitCode.OK
    header, row = lines(listed.out)
    assert header.split() == ["INSTANCE", "ORCHESTRATOR", "STATUS", "CREATED", "UPDATED", "CUSTOM", "STATUS"]
    assert row.split()[:3] == ["lp-1", "monitoring_job_orchestrator", "Completed"] and "final Completed" in row
    assert [r["instanceId"] for r in as_json] == ["lp-1"]
    assert "Status:       Completed" in status.out and '"final_status": "Completed"' in status.out
    assert purged.code == ExitCode.OK
    assert host.cli("status", "lp-1").code == ExitCode.NOT_FOUND
    assert host.cli("purge", "lp-1").code == ExitCode.NOT_FOUND


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("list", "--status", "Sleeping"), ExitCode.USAGE, "unknown runtime status 'Sleeping'"),
        (("list", "--created-from", "yesterday"), ExitCode.USAGE, "not an ISO 8601 time"),
        (("list", "--top", "0"), ExitCode.USAGE, "--top must be between 1 and 500"),
        (("list", "--waiting", "event"), ExitCode.USAGE, "invalid choice: 'event'"),
        (("raise", "x", "Go", "--data", "{nope"), ExitCode.USAGE, "--data is not valid JSON"),
        (("watch", "x", "--interval", "0"), ExitCode.USAGE, "--interval must be positive"),
        (("history", "nope"), ExitCode.NOT_FOUND, "no instance 'nope'"),
        (("raise", "nope", "Go"), ExitCode.NOT_FOUND, "no instance 'nope'"),
        (("terminate", "nope"), ExitCode.NOT_FOUND, "no instance 'nope'"),
    ],
)
def test_bad_input_is_a_one_line_error_with_its_exit_code(
    host: Host, capsys: pytest.CaptureFixture[str], args: tuple, code: int, message: str
) -> None:
    # In-process (the same main() the processes above run), to spare a process start per case.
    try:
        returned = main([*args, "--url", host.url])
    except SystemExit as exit_:  # argparse's usage errors
        returned = int(exit_.code or 0)
    err = capsys.readouterr().err

    assert returned == code, err
    assert message in lines(err)[-1]  # argparse prints its usage lines first
    assert "Traceback" not in err


def test_an_unreachable_host_or_a_bad_url_is_a_clear_error(host: Host) -> None:
    unreachable = host.cli("list", url="http://127.0.0.1:1")
    not_a_url = host.cli("status", "x", url="localhost:7071")

    assert unreachable.code == ExitCode.UNREACHABLE
    assert "cannot reach the host at http://127.0.0.1:1" in unreachable.err
    assert not_a_url.code == ExitCode.USAGE and "is not an http(s) URL" in not_a_url.err


def test_watch_on_a_terminal_draws_a_rich_progress_bar(host: Host) -> None:
    host.start_monitor("on-tty")
    primary, secondary = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "watch", "on-tty", "--interval", "0.2", "--url", host.url],
        cwd=REPO,
        stdout=secondary,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "160"},
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the terminal's other end closed (the process exited)
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(primary)
    code = process.wait(timeout=30)
    assert process.stderr is not None
    with process.stderr:
        assert process.stderr.read() == b""
    screen = b"".join(chunks).decode("utf-8", "replace")

    assert code == ExitCode.OK
    assert "━" in screen and "100%" in screen  # rich's bar and its percentage column
    assert "\x1b[" in screen  # drawn in place with terminal escapes, unlike the plain lines
    assert "on-tty: Completed (final_status Completed) (exit 0)" in screen
