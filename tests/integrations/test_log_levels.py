"""devhost honours host.json ``logging.logLevel`` the way the Functions host does (categories, longest prefix)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devhost.core.errors import StartupError
from devhost.runtime import loglevels
from devhost.runtime.config import load_host_settings

from ..e2e.flows import start_job

REPO = Path(__file__).resolve().parents[2]


def record(name: str, level: int, message: str = "line") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, (), None)


def write_host(directory: Path, log_level: dict[str, Any]) -> Path:
    host = json.loads((REPO / "host.json").read_text(encoding="utf-8"))
    host["logging"]["logLevel"] = log_level
    (directory / "host.json").write_text(json.dumps(host), encoding="utf-8")
    return directory


def test_host_json_levels_are_read_in_any_case(tmp_path: Path) -> None:
    settings = load_host_settings(
        write_host(
            tmp_path,
            {"default": "warning", "Function.check_job_status": "Debug", "DurableTask.Core": "None", "Host.General": "Trace"},
        ),
        {"TASKHUB_NAME": "hub"},
    )

    assert settings.log_levels == {
        "default": logging.WARNING,
        "Function.check_job_status": logging.DEBUG,
        "DurableTask.Core": logging.CRITICAL + 10,
        "Host.General": loglevels.TRACE,
    }


@pytest.mark.parametrize("value", ["Verbose", 3, None, ""])
def test_an_unknown_level_is_a_one_line_startup_error(tmp_path: Path, value: Any) -> None:
    with pytest.raises(StartupError) as raised:
        load_host_settings(write_host(tmp_path, {"Function": value}), {"TASKHUB_NAME": "hub"})

    assert str(raised.value) == (
        f"host.json: logging.logLevel.Function must be one of Trace, Debug, Information, "
        f"Warning, Error, Critical, None, got {json.dumps(value)}"
    )


@pytest.mark.parametrize(
    ("name", "message", "expected"),
    [
        ("devhost.invoke", "Executing 'Functions.check_job_status' (Reason='(null)', Id=1)", "Function.check_job_status"),
        ("devhost.engine", "x (y) is Completed", "Host.Triggers.DurableTask"),
        ("devhost.store", "line", "DurableTask.Core"),
        ("devhost.server", "Host started", "Host.General"),
        ("aiohttp.access", "GET /", "Microsoft.AspNetCore"),
        ("job_monitor.activities", "Job x check #1", "Function"),
    ],
)
def test_each_record_gets_its_functions_host_category(name: str, message: str, expected: str) -> None:
    assert loglevels.category(record(name, logging.INFO, message)) == expected


def test_app_lines_inside_an_invocation_are_that_functions_user_lines() -> None:
    with loglevels.running_function("check_job_status"):
        assert loglevels.category(record("job_monitor.activities", logging.INFO)) == "Function.check_job_status.User"


def test_the_longest_matching_prefix_decides_case_insensitively() -> None:
    levels = loglevels.LogLevelFilter(
        {"default": logging.ERROR, "Function": logging.INFO, "function.check_job_status": logging.WARNING}
    )

    assert levels.threshold("Function.check_job_status.User") == logging.WARNING
    assert levels.threshold("Function.check_job_statusX.User") == logging.INFO  # whole parts only
    assert levels.threshold("Function") == logging.INFO
    assert levels.threshold("Host.General") == logging.ERROR


def test_without_a_default_the_host_default_is_information() -> None:
    assert loglevels.LogLevelFilter({}).threshold("Host.General") == logging.INFO


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured_root() -> Iterator[ListHandler]:
    handler = ListHandler()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_the_monitor_on_devhost_keeps_only_the_configured_categories(
    durable_app: Any, tmp_path: Path, captured_root: ListHandler
) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    # Only the entry point and settings: the copy imports the repo's own job_monitor package (a copy of the
    # package would replace the imported one for the rest of the session).
    for name in ("function_app.py", "local.settings.json"):
        shutil.copy(REPO / name, app_dir / name)
    write_host(app_dir, {"default": "Information", "Function.check_job_status": "Warning", "Host.Triggers.DurableTask": "None"})
    loglevels.install(load_host_settings(app_dir, {"TASKHUB_NAME": "default"}).log_levels, [captured_root])
    app = durable_app(app_dir)

    app.wait_for_completion(start_job(app, {"job_id": "job-levels"})["id"])

    lines = [(r.name, r.getMessage()) for r in captured_root.records]
    assert any(n == "job_monitor.orchestrator" and m.startswith("Check #") for n, m in lines)  # Function → Information
    assert any(n == "devhost.invoke" and "'Functions.wait_for_interval'" in m for n, m in lines)
    assert not [m for n, m in lines if n == "job_monitor.activities"]  # Function.check_job_status.User → Warning
    assert not [m for n, m in lines if n == "devhost.invoke" and "'Functions.check_job_status'" in m]
    assert not [m for n, m in lines if n == "devhost.engine"]  # Host.Triggers.DurableTask → None


def serve_once(app_dir: Path, store: Path) -> str:
    """``python -m devhost`` until its banner is out, then SIGINT; returns what it logged (stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "devhost", "--app-dir", str(app_dir), "--port", "0", "--store", str(store)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:  # the banner ends with the Durable HTTP API line
            if line.startswith("Durable HTTP API:"):
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    return str(stderr)


@pytest.mark.parametrize(
    ("log_level", "host_lines_shown"),
    [({"default": "Warning"}, False), ({"default": "Warning", "Host.General": "Information"}, True)],
    ids=["default-warning", "host-general-information"],
)
def test_the_cli_applies_host_json_levels_from_its_first_line(
    tmp_path: Path, log_level: dict[str, str], host_lines_shown: bool
) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for name in ("function_app.py", "local.settings.json"):
        shutil.copy(REPO / name, app_dir / name)
    write_host(app_dir, log_level)

    stderr = serve_once(app_dir, tmp_path / "store.sqlite3")

    assert ("Host started" in stderr, "Host stopped" in stderr) == (host_lines_shown, host_lines_shown)
