"""host.json and local.settings.json: valid, and pointing at the Durable Task Scheduler."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

REPO = Path(__file__).resolve().parents[2]
# The official (SchemaStore) schema, kept in the repo with its origin and licence in data/README.md.
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "host.schema.json"
STORAGE_PROVIDER_TYPES = ("azureManaged", "AzureStorage", "mssql", "netherite")


def any_case(word: str) -> str:
    """A portable (ECMA-262) case-insensitive pattern for one word: ``[aA][zZ]...``."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)


def extended_schema() -> dict[str, Any]:
    """The SchemaStore host.json schema, plus the keys the Durable extension accepts for other backends.

    The official ``storageProvider`` object is closed and only lists Azure Storage keys, so the
    ``type`` selector (case-insensitive in the extension) is missing. Only that key is added (and
    ``connectionStringName`` kept a string); every other rule, including
    ``additionalProperties: false``, stays as published.
    """
    schema = copy.deepcopy(official_schema())
    provider = schema["definitions"]["durableTask-extension"]["properties"]["storageProvider"]
    assert provider["additionalProperties"] is False  # still closed: nothing else is loosened
    provider["properties"]["type"] = {
        "type": "string",
        "pattern": "^(" + "|".join(any_case(t) for t in STORAGE_PROVIDER_TYPES) + ")$",
    }
    provider["properties"]["connectionStringName"] = {"type": "string", "minLength": 1}
    return schema


def official_schema() -> dict[str, Any]:
    """The SchemaStore schema for host.json, unchanged."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def errors(document: Any, schema: dict[str, Any]) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(schema).iter_errors(document)]


@pytest.fixture(scope="module")
def host() -> dict[str, Any]:
    return json.loads((REPO / "host.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return extended_schema()


def test_host_json_is_valid_against_the_extended_official_schema(host: dict[str, Any], schema: dict[str, Any]) -> None:
    assert errors(host, schema) == []


def leaf_messages(error: Any) -> list[str]:
    """The innermost messages under a ``oneOf`` failure (jsonschema nests them in ``context``)."""
    if not error.context:
        return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"]
    return [m for sub in error.context for m in leaf_messages(sub)]


def test_the_unextended_schema_rejects_only_the_storage_provider_type(host: dict[str, Any]) -> None:
    official = official_schema()
    # Evaluate the version-2 branch alone: the root oneOf also reports version-1's mismatches.
    version_2 = {key: value for key, value in official.items() if key != "oneOf"}
    version_2.update(official["definitions"]["version-2"])

    found = [m for e in Draft7Validator(version_2).iter_errors(host) for m in leaf_messages(e)]

    assert found == ["extensions/durableTask/storageProvider: Additional properties are not allowed ('type' was unexpected)"]


@pytest.mark.parametrize("provider_type", ["azureManaged", "AZUREMANAGED", "mssql", "Netherite", "azurestorage"])
def test_extended_schema_accepts_known_provider_types_in_any_case(
    host: dict[str, Any], schema: dict[str, Any], provider_type: str
) -> None:
    document = copy.deepcopy(host)
    document["extensions"]["durableTask"]["storageProvider"]["type"] = provider_type

    assert errors(document, schema) == []


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["extensions"]["durableTask"]["storageProvider"].__setitem__("type", "durabletask-scheduler"),
        lambda d: d["extensions"]["durableTask"]["storageProvider"].__setitem__("type", 1),
        lambda d: d["extensions"]["durableTask"]["storageProvider"].__setitem__("connectionStringName", ""),
        lambda d: d["extensions"]["durableTask"]["storageProvider"].__setitem__("bogus", True),
        lambda d: d["extensions"]["durableTask"].__setitem__("bogus", True),
        lambda d: d["extensionBundle"].__setitem__("bogus", True),
        lambda d: d.pop("version"),
    ],
    ids=[
        "unknown-type",
        "numeric-type",
        "empty-connection-name",
        "extra-provider-key",
        "extra-durable-key",
        "extra-bundle-key",
        "no-version",
    ],
)
def test_extended_schema_still_rejects_everything_else(host: dict[str, Any], schema: dict[str, Any], mutate: Any) -> None:
    document = copy.deepcopy(host)
    mutate(document)

    assert errors(document, schema) != []


def test_host_json_targets_the_durable_task_scheduler_with_the_ga_bundle(host: dict[str, Any]) -> None:
    durable = host["extensions"]["durableTask"]

    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"}
    assert durable["hubName"] == "%TASKHUB_NAME%"
    assert durable["storageProvider"] == {
        "type": "azureManaged",
        "connectionStringName": "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    }


def test_host_json_logging_levels_and_sampling(host: dict[str, Any]) -> None:
    logging = host["logging"]
    known_types = {"Dependency", "Event", "Exception", "PageView", "Request", "Trace"}
    excluded = logging["applicationInsights"]["samplingSettings"]["excludedTypes"]

    assert logging["logLevel"] == {"default": "Information", "Function": "Information", "DurableTask.Core": "Warning"}
    assert excluded.split(";") == ["Request", "Exception"]
    assert set(excluded.split(";")) <= known_types


def test_local_settings_provide_every_setting_host_json_refers_to(host: dict[str, Any]) -> None:
    settings = json.loads((REPO / "local.settings.json").read_text(encoding="utf-8"))
    values = settings["Values"]

    assert settings["IsEncrypted"] is False
    assert values == {
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING": "Endpoint=http://localhost:8080;Authentication=None",
        "TASKHUB_NAME": "default",
    }
    assert host["extensions"]["durableTask"]["hubName"].strip("%") in values
    assert host["extensions"]["durableTask"]["storageProvider"]["connectionStringName"] in values
