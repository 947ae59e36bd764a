"""Fixtures for the engine's end-to-end tests: the engine_features app on devhost (virtual clock)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

import pytest

from devhost.clock import VirtualClock
from devhost.core.model import RuntimeStatus
from devhost.runtime.config import HostSettings
from devhost.runtime.engine import Engine
from devhost.runtime.invoker import Invoker
from devhost.runtime.loader import load_app
from devhost.service.management import Management
from devhost.store.base import Store
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


async def run_chains(
    store: Store, settings: HostSettings, ids: list[str], *, started: Callable[[Management], None] = lambda _: None
) -> None:
    """On a bare engine (no HTTP) over ``store``: start a ``chain`` orchestration per id, call ``started`` with the
    management service, and run until every one has completed."""
    clock = VirtualClock()
    registry = load_app(APP_DIR)
    invoker = Invoker(clock, app_dir=APP_DIR)
    engine = Engine(store, clock, registry, settings, invoker)
    management = Management(store, clock, registry, engine.notify, hub_name=settings.hub_name)
    for instance_id in ids:
        management.start("chain", instance_id, {"city": "Oslo"})
    started(management)

    def all_completed() -> bool:
        return all(store.get_instance(i).runtime_status is RuntimeStatus.COMPLETED for i in ids)  # type: ignore[union-attr]

    await engine.start()
    try:
        await asyncio.wait_for(engine.run_until(all_completed), SAFETY_TIMEOUT)
    finally:
        await engine.stop()
        invoker.close()
