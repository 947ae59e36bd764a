"""Fixtures for the app tests: the app's functions as the host indexes them, and a fake clock."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) does not add the cwd
    sys.path.insert(0, str(REPO_ROOT))

from devhost.runtime.registry import ActivityFunction  # noqa: E402
from job_monitor import clock  # noqa: E402

from .fakes import FakeTime  # noqa: E402

START = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def load_function_app() -> Any:
    """A fresh copy of this repository's ``function_app.py``, under a private module name.

    ``FunctionApp.get_functions()`` may be called only once per app object (it raises on the second call), and
    ``import function_app`` may find another app's module of that name that an earlier test loaded."""
    spec = importlib.util.spec_from_file_location("_function_app_under_test", REPO_ROOT / "function_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def app_functions() -> dict[str, Any]:
    """``get_functions()`` of a fresh copy of ``function_app.py``, by function name."""
    return {f.get_function_name(): f for f in load_function_app().app.get_functions()}


@pytest.fixture(scope="session")
def orchestrator_handle(app_functions: dict[str, Any]) -> Any:
    return app_functions["monitoring_job_orchestrator"].get_user_function()


@pytest.fixture(scope="session")
def activities(app_functions: dict[str, Any]) -> dict[str, ActivityFunction]:
    found = {}
    for name, fn in app_functions.items():
        trigger = fn.get_trigger()
        if trigger.type == "activityTrigger":
            user_fn = fn.get_user_function()
            found[name] = ActivityFunction(name, user_fn, trigger.name)
    return found


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTime]:
    """Replace the ``time`` module seen by ``job_monitor.clock``; nothing really sleeps."""
    fake = FakeTime(START)
    monkeypatch.setattr(clock, "time", fake)
    yield fake
