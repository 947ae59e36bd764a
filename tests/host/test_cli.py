"""``python -m devhost`` as a user runs it (subprocesses; no fixed sleeps, timeouts only as safety nets)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from devhost.cli.serve import banner, build_parser
from devhost.runtime.registry import FunctionRegistry, HttpFunction
from tests.host.conftest import APPS

REPO = Path(__file__).resolve().parents[2]
SAFETY_NET_SECONDS = 60


def run_devhost(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devhost", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=SAFETY_NET_SECONDS,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_a_missing_app_directory_is_one_error_line_and_exit_status_1(tmp_path: Path) -> None:
    result = run_devhost("--app-dir", str(tmp_path / "nowhere"), "--in-memory")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"devhost: error: app directory {tmp_path / 'nowhere'} does not exist"]


def test_a_broken_app_is_one_error_line_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "function_app.py").write_text("import azure.functions as func\n\nboom()\n")

    result = run_devhost("--app-dir", str(tmp_path), "--in-memory")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "devhost: error: cannot import function_app.py: NameError: name 'boom' is not defined (function_app.py:3)"
    ]


def test_a_busy_port_is_one_error_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_devhost("--app-dir", str(APPS / "kinds"), "--port", str(port), "--store", str(tmp_path / "s.db"))

    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert result.returncode == 1
    assert errors == [f"devhost: error: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert "Traceback" not in result.stderr


def test_store_and_in_memory_are_mutually_exclusive() -> None:
    result = run_devhost("--store", "x.db", "--in-memory")

    assert result.returncode == 2
    assert "not allowed with argument" in result.stderr


def test_serves_until_sigint_then_stops_gracefully(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "--app-dir", str(APPS / "kinds"), "--port", "0", "--store", str(tmp_path / "s.db")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        for line in process.stdout:  # the banner ends with the Durable HTTP API line
            lines.append(line.rstrip("\n"))
            if line.startswith("Durable HTTP API:"):
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=SAFETY_NET_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 0
    assert any(
        line.strip().startswith("start: [POST] http://127.0.0.1:") and line.endswith("/api/start/{functionName}")
        for line in lines
    )
    assert any(line.strip() == "say_hello: activityTrigger" for line in lines)
    assert "Host stopped" in stderr


def test_banner_lists_http_functions_with_methods_and_urls_then_the_other_kinds() -> None:
    registry = FunctionRegistry(
        http=[
            HttpFunction(name="start", fn=print, route="orchestrators/{name}", methods=["GET", "POST"], request_arg="req"),
            HttpFunction(name="any", fn=print, route="any", methods=None, request_arg="req"),
        ]
    )

    text = banner(registry, "http://127.0.0.1:7071", "api")

    assert "        start: [GET,POST] http://127.0.0.1:7071/api/orchestrators/{name}" in text.splitlines()
    # No methods declared: Core Tools shows [GET,POST] (issue 11 item 12; see docs/timer-triggers.md "Banner").
    assert "        any: [GET,POST] http://127.0.0.1:7071/api/any" in text.splitlines()
    assert text.splitlines()[-1] == "Durable HTTP API: http://127.0.0.1:7071/runtime/webhooks/durabletask"


def test_default_flags_match_func_start() -> None:
    args = build_parser().parse_args([])

    assert (args.host, args.port, args.store, args.in_memory) == ("127.0.0.1", 7071, None, False)


def test_replay_subcommand_is_dispatched_to_replay_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    from devhost import cli

    received: list[list[str]] = []
    fake = types.ModuleType("devhost.cli.replay")
    fake.main = lambda argv: received.append(argv) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "devhost.cli.replay", fake)

    status = cli.main(["replay", "--instance", "abc"])

    assert received == [["--instance", "abc"]]
    assert status == 3
