"""host.json extensions.durableTask.notifications.eventGrid, read as the extension reads it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from devhost.core.errors import StartupError
from devhost.runtime.config import load_host_settings


def settings_for(tmp_path: Path, event_grid: dict[str, Any], env: dict[str, str] | None = None) -> Any:
    config = {"version": "2.0", "extensions": {"durableTask": {"notifications": {"eventGrid": event_grid}}}}
    (tmp_path / "host.json").write_text(json.dumps(config))
    return load_host_settings(tmp_path, env if env is not None else {"TOPIC": "http://127.0.0.1:9/api/events", "KEY": "k"})


def test_a_full_section_is_read_with_the_setting_resolved_and_the_key_looked_up(tmp_path: Path) -> None:
    grid = settings_for(
        tmp_path,
        {
            "topicEndpoint": "%TOPIC%",
            "keySettingName": "KEY",
            "publishRetryCount": 2,
            "publishRetryInterval": "00:00:10",
            "publishRetryHttpStatus": [500, 429, 999],
            "publishEventTypes": ["Started", "Completed"],
        },
    ).event_grid

    assert grid.topic_endpoint == "http://127.0.0.1:9/api/events"
    assert grid.key == "k"
    assert (grid.retry_count, grid.retry_interval) == (2, timedelta(seconds=10))
    assert grid.retry_statuses == {500, 429}
    assert grid.publish_statuses == {"Running", "Completed"}


def test_defaults_are_the_extensions(tmp_path: Path) -> None:
    grid = settings_for(tmp_path, {"topicEndpoint": "%TOPIC%", "keySettingName": "KEY"}).event_grid

    assert (grid.retry_count, grid.retry_interval, grid.retry_statuses) == (0, timedelta(minutes=5), frozenset())
    assert grid.publish_statuses == {"Running", "Completed", "Failed", "Terminated"}


def test_no_topic_endpoint_means_no_notifications(tmp_path: Path) -> None:
    assert settings_for(tmp_path, {"keySettingName": "KEY"}).event_grid is None
    assert load_host_settings(tmp_path / "missing", {}).event_grid is None


@pytest.mark.parametrize(
    ("section", "env", "message"),
    [
        ({"topicEndpoint": "%TOPIC%"}, None, "Please check the configuration values for http://127.0.0.1:9/api/events and"),
        ({"topicEndpoint": "%TOPIC%", "keySettingName": "NOPE"}, None, "configuration values for NOPE on AppSettings"),
        ({"topicEndpoint": "%UNSET%", "keySettingName": "KEY"}, None, "refers to app setting 'UNSET'"),
        (
            {"topicEndpoint": "%TOPIC%", "keySettingName": "KEY", "publishEventTypes": ["Pending"]},
            None,
            "Unsupported event types",
        ),
        (
            {"topicEndpoint": "%TOPIC%", "keySettingName": "KEY", "publishRetryInterval": "01:00:01"},
            None,
            "no more than 60 minutes",
        ),
        ({"topicEndpoint": "%TOPIC%", "keySettingName": "KEY", "publishRetryInterval": "soon"}, None, "TimeSpan"),
        ({"topicEndpoint": "%TOPIC%", "keySettingName": "KEY", "publishRetryCount": -1}, None, "non-negative integer"),
        ({"topicEndpoint": "%TOPIC%", "keySettingName": "KEY", "publishRetryHttpStatus": "500"}, None, "list of HTTP status"),
        ({"topicEndpoint": "ftp://x", "keySettingName": "KEY"}, None, "http\\(s\\) URL"),
    ],
)
def test_bad_settings_are_one_line_startup_errors(tmp_path: Path, section: dict[str, Any], env: Any, message: str) -> None:
    with pytest.raises(StartupError, match=message):
        settings_for(tmp_path, section, env)
