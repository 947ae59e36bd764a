"""host.json functionTimeout and FUNCTIONS_WORKER_PROCESS_COUNT as the host reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devhost.core.errors import StartupError
from devhost.runtime.config import DEFAULT_FUNCTION_TIMEOUT, load_host_settings, parse_function_timeout, worker_process_count
from devhost.runtime.worker.pool import timeout_text


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(None, DEFAULT_FUNCTION_TIMEOUT), ("00:05:00", 300.0), ("-1", None), ("01:00:01", 3601.0), ("1.00:00:00", 86400.0)],
)
def test_function_timeout_is_read_as_a_timespan(value: str | None, seconds: float | None) -> None:
    assert parse_function_timeout(value) == seconds


@pytest.mark.parametrize("value", ["5 minutes", "00:60:00", "00:00:00", True, "", "00:05"])
def test_a_bad_function_timeout_is_a_one_line_startup_error(value: object) -> None:
    with pytest.raises(StartupError, match="functionTimeout"):
        parse_function_timeout(value)


def test_host_json_function_timeout_reaches_the_settings(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"version": "2.0", "functionTimeout": "00:00:07"}))

    assert load_host_settings(tmp_path, {}).function_timeout == 7.0
    assert load_host_settings(tmp_path, {"FUNCTIONS_WORKER_PROCESS_COUNT": "3"}).worker_process_count == 3


def test_the_default_timeout_is_thirty_minutes_and_one_worker() -> None:
    assert DEFAULT_FUNCTION_TIMEOUT == 30 * 60
    assert worker_process_count({}) == 1


@pytest.mark.parametrize("value", ["0", "11", "two", "-1"])
def test_a_bad_worker_process_count_is_refused(value: str) -> None:
    with pytest.raises(StartupError, match="FUNCTIONS_WORKER_PROCESS_COUNT"):
        worker_process_count({"FUNCTIONS_WORKER_PROCESS_COUNT": value})


@pytest.mark.parametrize(("seconds", "text"), [(2, "00:00:02"), (1800, "00:30:00"), (90061, "1.01:01:01")])
def test_the_timeout_message_shows_the_timespan_as_dotnet_prints_it(seconds: float, text: str) -> None:
    assert timeout_text(seconds) == text
