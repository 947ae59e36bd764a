"""host.json ``versionMatchStrategy`` / ``versionFailureStrategy``, as DTFx applies them.

DurableTask.Core ``TaskOrchestrationDispatcher.cs`` lines 399-432 (Strict: versions differ; CurrentOrOlder:
``VersioningSettings.CompareVersions(instance, worker) > 0``; Fail: FailureDetails "VersionMismatch", "Orchestration
version did not comply with Worker Versioning"; Reject: the work item is abandoned and nothing changes),
``VersioningSettings.cs`` lines 89-116 for the comparison, and the Durable Functions "Orchestration versioning" docs
for the host.json names and defaults (CurrentOrOlder, Reject).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from devhost.core.errors import StartupError
from devhost.core.versioning import FailureStrategy, MatchStrategy, Versioning, compare_versions
from devhost.runtime.config import load_host_settings
from tests.engine.conftest import APP_DIR, SAFETY_TIMEOUT, WEBHOOKS


@pytest.mark.parametrize(
    "source, other, expected",
    [
        ("", " ", 0),  # both empty: equal
        ("", "1.0", -1),  # empty is older than any version
        ("1.0", "", 1),
        ("1.10", "1.9", 1),  # System.Version compares numbers, not text
        ("1.0", "1.0.0", -1),  # an unset component sorts first, as System.Version.CompareTo
        ("2.0.1", "2.0.1", 0),
        ("v2", "V2", 0),  # otherwise case-insensitive ordinal text
        ("2025-01-01", "2025-02-01", -1),
        ("1", "2", -1),  # "1" is no System.Version (one component): text comparison
    ],
)
def test_versions_compare_as_versioning_settings_does(source: str, other: str, expected: int) -> None:
    assert compare_versions(source, other) == expected


def test_current_or_older_accepts_older_and_equal_and_refuses_newer() -> None:
    worker = Versioning("1.5", MatchStrategy.CURRENT_OR_OLDER)

    assert [worker.accepts(v) for v in ("", None, "1.0", "1.5", "1.6", "2.0")] == [True, True, True, True, False, False]


def test_strict_accepts_only_the_same_version_and_none_accepts_all() -> None:
    assert [Versioning("1.5", MatchStrategy.STRICT).accepts(v) for v in ("1.5", "1.0", "")] == [True, False, False]
    assert Versioning("1.5", MatchStrategy.NONE).accepts("9.0")


def _host_json(app_dir: Path, durable: dict[str, Any]) -> None:
    (app_dir / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"durableTask": durable}}))


def test_host_json_strategies_are_read_case_insensitively_with_the_documented_defaults(tmp_path: Path) -> None:
    _host_json(tmp_path, {"defaultVersion": "1.0"})
    assert load_host_settings(tmp_path, {}).versioning == Versioning(
        "1.0", MatchStrategy.CURRENT_OR_OLDER, FailureStrategy.REJECT
    )

    _host_json(tmp_path, {"defaultVersion": "1.0", "versionMatchStrategy": "strict", "versionFailureStrategy": "FAIL"})
    assert load_host_settings(tmp_path, {}).versioning == Versioning("1.0", MatchStrategy.STRICT, FailureStrategy.FAIL)


def test_no_versioning_settings_run_every_version(tmp_path: Path) -> None:
    _host_json(tmp_path, {})

    assert load_host_settings(tmp_path, {}).versioning is None


def test_an_unknown_strategy_is_a_one_line_startup_error(tmp_path: Path) -> None:
    _host_json(tmp_path, {"defaultVersion": "1.0", "versionMatchStrategy": "Newest"})

    with pytest.raises(StartupError, match=r"versionMatchStrategy must be one of None, Strict, CurrentOrOlder, not \"Newest\""):
        load_host_settings(tmp_path, {})


def _versioned_app(durable_app, tmp_path: Path, durable: dict[str, Any]):
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    shutil.copy(APP_DIR / "function_app.py", app_dir / "function_app.py")
    _host_json(app_dir, durable)
    return durable_app(app_dir)


def _start(app, version: str) -> str:
    response = app.http.post(f"{WEBHOOKS}/orchestrators/chain", params={"version": version}, json_body={"city": "a"})
    assert response.status == 202, response.text
    return str(response.json()["id"])


def test_reject_leaves_a_newer_instance_pending_and_runs_the_older_one(durable_app, tmp_path):
    app = _versioned_app(durable_app, tmp_path, {"defaultVersion": "1.0"})
    newer, older = _start(app, "2.0"), _start(app, "0.9")

    done = app.wait_for_completion(older, timeout=SAFETY_TIMEOUT)
    app.advance(3600)  # the rejected work item comes back every minute and is refused again

    assert done["runtimeStatus"] == "Completed"
    assert app.status(newer)["runtimeStatus"] == "Pending"
    assert app.history(newer) == []


def test_fail_fails_a_newer_instance_with_the_version_mismatch(durable_app, tmp_path):
    app = _versioned_app(durable_app, tmp_path, {"defaultVersion": "1.0", "versionFailureStrategy": "Fail"})

    status = app.wait_for_completion(_start(app, "1.1"), timeout=SAFETY_TIMEOUT)

    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == "VersionMismatch: Orchestration version did not comply with Worker Versioning"


def test_strict_fails_an_older_instance_too(durable_app, tmp_path):
    app = _versioned_app(
        durable_app, tmp_path, {"defaultVersion": "1.0", "versionMatchStrategy": "Strict", "versionFailureStrategy": "Fail"}
    )

    older = app.wait_for_completion(_start(app, "0.9"), timeout=SAFETY_TIMEOUT)
    same = app.wait_for_completion(_start(app, "1.0"), timeout=SAFETY_TIMEOUT)

    assert (older["runtimeStatus"], same["runtimeStatus"]) == ("Failed", "Completed")
