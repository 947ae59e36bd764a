"""The engine's time skipping (run_until) on the real host: it stops at the moment its condition holds."""

from __future__ import annotations

from devhost.core.model import RuntimeStatus
from tests.engine.conftest import SAFETY_TIMEOUT


def test_run_until_returns_when_its_condition_holds_instead_of_skipping_past_it(app):
    host = app.host
    start = app.now

    async def start_then_wait_for_running() -> str:
        # Started on the loop, so the engine only gets to the first turn once run_until is waiting.
        instance_id = host.management.start("sleeper", None, {"seconds": 3600})

        def running() -> bool:
            record = host.store.get_instance(instance_id)
            return record is not None and record.runtime_status is RuntimeStatus.RUNNING

        await host.engine.run_until(running)
        return instance_id

    instance_id = app.run_on_host(start_then_wait_for_running(), timeout=SAFETY_TIMEOUT)

    assert app.now == start  # the one-hour timer did not fire
    assert app.status(instance_id)["runtimeStatus"] == "Running"


def test_wait_for_status_running_sees_an_instance_with_a_pending_timer_before_it_fires(app):
    start = app.now

    status = app.wait_for_status(app.start("approval", {"hours": 24}), "Running", timeout=SAFETY_TIMEOUT)

    assert status["runtimeStatus"] == "Running"
    assert app.now == start
