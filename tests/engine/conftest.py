"""Fixtures for the engine's end-to-end tests: the engine_features app on devhost (virtual clock)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

from devhost.testing import DurableAppHandle, HttpResponse

APP_DIR = Path(__file__).parents[1] / "apps" / "engine_features"
WEBHOOKS = "/runtime/webhooks/durabletask"
SAFETY_TIMEOUT = 20.0
"""Real seconds any single wait may take before the test fails instead of hanging."""


@pytest.fixture
def app(durable_app: Callable[..., DurableAppHandle]) -> DurableAppHandle:
    return durable_app(APP_DIR)


def run(app: DurableAppHandle, orchestrator: str, input: Any = None, *, instance_id: str | None = None) -> dict[str, Any]:
    """Start ``orchestrator`` through the webhook and wait (virtual time) until it finishes."""
    return app.wait_for_completion(app.start(orchestrator, input, instance_id=instance_id), timeout=SAFETY_TIMEOUT)


def at(start: datetime, **delta: float) -> str:
    """The ISO text the SDK's ``current_utc_datetime.isoformat()`` gives for ``start + delta``."""
    return (start + timedelta(**delta)).isoformat()


def while_time_runs(app: DurableAppHandle, request: Callable[[], HttpResponse]) -> HttpResponse:
    """Send a blocking HTTP request while the host skips virtual time until it is answered.

    For requests that wait on the host's clock (wait-for-completion polling), which would otherwise never
    see time move.
    """
    return app.run_while_time_skips(request, timeout=SAFETY_TIMEOUT)
