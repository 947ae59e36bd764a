"""host.json and local.settings.json as func and the Durable extension read them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from devhost.core.errors import StartupError
from devhost.runtime.config import HostSettings, load_host_settings, load_local_settings


def write_host_json(app_dir: Path, durable: dict[str, Any] | None = None, http: dict[str, Any] | None = None) -> None:
    extensions: dict[str, Any] = {}
    if durable is not None:
        extensions["durableTask"] = durable
    if http is not None:
        extensions["http"] = http
    (app_dir / "host.json").write_text(json.dumps({"version": "2.0", "extensions": extensions}))


def test_missing_host_json_gives_the_local_defaults(tmp_path: Path) -> None:
    settings = load_host_settings(tmp_path, {})

    assert settings.route_prefix == "api"
    assert settings.hub_name == "TestHubName"
    assert settings.default_version == ""
    assert settings.storage_provider_type == "AzureStorage"


def test_concurrency_defaults_are_ten_per_processor(tmp_path: Path) -> None:
    settings = load_host_settings(tmp_path, {})

    assert settings.max_concurrent_activities == 10 * (os.cpu_count() or 1)
    assert settings.max_concurrent_orchestrations == 10 * (os.cpu_count() or 1)


def test_route_prefix_is_read_and_may_be_empty(tmp_path: Path) -> None:
    write_host_json(tmp_path, http={"routePrefix": "/v1/"})
    assert load_host_settings(tmp_path, {}).route_prefix == "v1"

    write_host_json(tmp_path, http={"routePrefix": ""})
    assert load_host_settings(tmp_path, {}).route_prefix == ""


def test_hub_name_substitutes_app_settings(tmp_path: Path) -> None:
    write_host_json(tmp_path, durable={"hubName": "%PREFIX%Hub%SUFFIX%"})

    settings = load_host_settings(tmp_path, {"PREFIX": "My", "SUFFIX": "2"})

    assert settings.hub_name == "MyHub2"


def test_hub_name_referring_to_a_missing_setting_is_a_startup_error_naming_it(tmp_path: Path) -> None:
    write_host_json(tmp_path, durable={"hubName": "%TASKHUB_NAME%"})

    with pytest.raises(StartupError) as error:
        load_host_settings(tmp_path, {})

    assert "TASKHUB_NAME" in str(error.value)
    assert "\n" not in str(error.value)


def test_concurrency_limits_and_default_version_are_read(tmp_path: Path) -> None:
    write_host_json(
        tmp_path,
        durable={"maxConcurrentActivityFunctions": 3, "maxConcurrentOrchestratorFunctions": 7, "defaultVersion": "1.2"},
    )

    settings = load_host_settings(tmp_path, {})

    assert (settings.max_concurrent_activities, settings.max_concurrent_orchestrations) == (3, 7)
    assert settings.default_version == "1.2"


def test_a_non_positive_concurrency_limit_is_rejected(tmp_path: Path) -> None:
    write_host_json(tmp_path, durable={"maxConcurrentActivityFunctions": 0})

    with pytest.raises(StartupError, match="maxConcurrentActivityFunctions"):
        load_host_settings(tmp_path, {})


def test_azure_storage_sends_the_long_timer_properties(tmp_path: Path) -> None:
    settings = load_host_settings(tmp_path, {})

    assert settings.max_short_timer == "6.00:00:00"
    assert settings.long_timer_interval == "3.00:00:00"


@pytest.mark.parametrize(
    "provider, canonical", [("azureManaged", "azureManaged"), ("MSSQL", "mssql"), ("netherite", "netherite")]
)
def test_other_providers_send_zero_timer_properties(tmp_path: Path, provider: str, canonical: str) -> None:
    write_host_json(tmp_path, durable={"storageProvider": {"type": provider}})

    settings = load_host_settings(tmp_path, {})

    assert settings.storage_provider_type == canonical
    assert (settings.max_short_timer, settings.long_timer_interval) == ("00:00:00", "00:00:00")


def test_an_unknown_storage_provider_is_the_extensions_startup_error(tmp_path: Path) -> None:
    write_host_json(tmp_path, durable={"storageProvider": {"type": "cosmos"}})

    with pytest.raises(StartupError, match=r"Storage provider type \(cosmos\) was not found"):
        load_host_settings(tmp_path, {})


def test_malformed_host_json_is_a_one_line_startup_error(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text('{"version": "2.0",\n "extensions": }')

    with pytest.raises(StartupError) as error:
        load_host_settings(tmp_path, {})

    assert str(error.value).startswith("host.json is not valid JSON")
    assert "line 2" in str(error.value)
    assert "\n" not in str(error.value)


def test_local_settings_values_fill_the_environment_without_overriding_it(tmp_path: Path) -> None:
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"IsEncrypted": False, "Values": {"NEW": "from-file", "EXISTING": "from-file", "NUM": 3, "FLAG": True}})
    )
    environ = {"EXISTING": "from-env"}

    values = load_local_settings(tmp_path, environ)

    assert environ == {"EXISTING": "from-env", "NEW": "from-file", "NUM": "3", "FLAG": "true"}
    assert values["EXISTING"] == "from-file"


def test_missing_local_settings_changes_nothing(tmp_path: Path) -> None:
    environ: dict[str, str] = {}

    assert load_local_settings(tmp_path, environ) == {}
    assert environ == {}


def test_malformed_local_settings_is_a_one_line_startup_error(tmp_path: Path) -> None:
    (tmp_path / "local.settings.json").write_text("{ nope")

    with pytest.raises(StartupError, match=r"^local.settings.json is not valid JSON"):
        load_local_settings(tmp_path, {})


def test_local_settings_feed_the_hub_name_substitution(tmp_path: Path) -> None:
    write_host_json(tmp_path, durable={"hubName": "%TASKHUB_NAME%", "storageProvider": {"type": "azureManaged"}})
    (tmp_path / "local.settings.json").write_text(json.dumps({"Values": {"TASKHUB_NAME": "default"}}))
    environ: dict[str, str] = {}

    load_local_settings(tmp_path, environ)
    settings = load_host_settings(tmp_path, environ)

    assert settings.hub_name == "default"


def test_host_settings_defaults_match_azure_storage() -> None:
    settings = HostSettings()

    assert settings.storage_provider_type == "AzureStorage"
    assert settings.max_short_timer == "6.00:00:00"
