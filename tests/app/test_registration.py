"""What the Functions host indexes from ``function_app.py``: names, triggers, routes, auth."""

from __future__ import annotations

from typing import Any

import azure.durable_functions as df

from job_monitor import names

from .conftest import load_function_app


def test_the_app_exposes_exactly_its_six_functions(app_functions: dict[str, Any]) -> None:
    assert set(app_functions) == {
        names.START_MONITORING_JOB,
        names.JOB_STATUS,
        names.MONITORING_JOB_ORCHESTRATOR,
        names.CHECK_JOB_STATUS,
        names.WAIT_FOR_INTERVAL,
        names.DELIVER_ALERT,
    }


def test_http_functions_are_anonymous_with_their_routes_and_a_durable_client(app_functions: dict[str, Any]) -> None:
    routes = {}
    for name in (names.START_MONITORING_JOB, names.JOB_STATUS):
        function = app_functions[name]
        trigger = function.get_trigger()
        bindings = {b.type: b for b in function.get_bindings()}
        routes[name] = (
            trigger.route,
            [str(getattr(m, "value", m)) for m in trigger.methods],
            str(getattr(trigger.auth_level, "value", trigger.auth_level)).lower(),
        )
        assert "durableClient" in bindings

    assert routes == {
        "start_monitoring_job": ("start_monitoring_job", ["POST"], "anonymous"),
        "job_status": ("job_status/{jobId}", ["GET"], "anonymous"),
    }


def test_durable_functions_are_registered_under_their_names(app_functions: dict[str, Any]) -> None:
    orchestrator = app_functions[names.MONITORING_JOB_ORCHESTRATOR].get_trigger()
    check = app_functions[names.CHECK_JOB_STATUS].get_trigger()
    wait = app_functions[names.WAIT_FOR_INTERVAL].get_trigger()

    assert (orchestrator.type, orchestrator.orchestration) == ("orchestrationTrigger", names.MONITORING_JOB_ORCHESTRATOR)
    assert (check.type, check.activity) == ("activityTrigger", names.CHECK_JOB_STATUS)
    assert (wait.type, wait.activity) == ("activityTrigger", names.WAIT_FOR_INTERVAL)


def test_function_app_module_holds_a_dfapp_with_the_blueprint() -> None:
    from job_monitor import bp

    function_app = load_function_app()

    assert isinstance(function_app.app, df.DFApp)
    assert len(function_app.app._function_builders) == len(bp._function_builders) == 6
