"""Fixtures for the engine's end-to-end tests: the engine_features app on devhost (virtual clock)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import pytest

from devhost.testing import DurableAppHandle, HttpResponse

APP_DIR = Path(__file__).parents[1] / "apps" / "engine_features"
WEBHOOKS = "/runtime/webhooks/durabletask"
SAFETY_TIMEOUT = 20.0
"""Real seconds any single wait may take before the test fails instead of hanging."""


@pytest.fixture
def app(durable_app: Callable[..., DurableAppHandle]) -> DurableAppHandle:
    return durable_app(APP_DIR)


def run(app: DurableAppHandle, orchestrator: str, input: Any = None, *, instance_id: Optional[str] = None) -> Dict[str, Any]:
    """Start ``orchestrator`` through the webhook and wait (virtual time) until it finishes."""
    return app.wait_for_completion(app.start(orchestrator, input, instance_id=instance_id), timeout=SAFETY_TIMEOUT)


def at(start: datetime, **delta: float) -> str:
    """The ISO text the SDK's ``current_utc_datetime.isoformat()`` gives for ``start + delta``."""
    return (start + timedelta(**delta)).isoformat()


def while_time_runs(app: DurableAppHandle, request: Callable[[], HttpResponse]) -> HttpResponse:
    """Send a blocking HTTP request while the host skips virtual time until it is answered.

    For requests that wait on the host's clock (wait-for-completion polling), which would otherwise never
    see time move. The request runs on a worker thread; the engine time-skips until it is answered. Until
    the server has picked the request up the engine may find nothing to do and report Stalled: keep
    driving until the answer is there.
    """
    from devhost.runtime.engine import Stalled

    engine = app.host.engine

    async def drive(answered: Callable[[], bool]) -> None:
        while not answered():
            try:
                await engine.run_until(answered)
            except Stalled:
                await asyncio.sleep(0)  # the request is still on its way to the server

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(request)
        # The answer is not store state the engine would notice: wake it so run_until looks again.
        future.add_done_callback(lambda _: engine.notify())
        app._loop.run(drive(future.done), timeout=SAFETY_TIMEOUT)
        return future.result(timeout=SAFETY_TIMEOUT)
