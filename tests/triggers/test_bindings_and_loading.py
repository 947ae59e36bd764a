"""Start-up checks and bindings (issue 11 items 2, 11, 12): the worker's parameter/binding rule, invalid
schedules, unsupported triggers and bindings, the v1 programming model, and a sub-minute run_on_startup timer."""

from __future__ import annotations

import logging
import textwrap
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from devhost.cli.serve import banner
from devhost.core.errors import AppLoadError
from devhost.runtime.loader import load_app
from devhost.testing.local import workers_wanted

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
READS_MODULE_GLOBALS = pytest.mark.skipif(
    workers_wanted(None),
    reason="reads the app module's CALLS list in the test's process, where the functions run only in-process "
    "(DEVHOST_WORKERS=1 runs them in worker processes)",
)


def write_app(app_dir: Path, body: str) -> Path:
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "function_app.py").write_text(textwrap.dedent(HEADER).lstrip("\n") + textwrap.dedent(body))
    return app_dir


HEADER = """
    import azure.durable_functions as df
    import azure.functions as func
    app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)
"""


# --- the worker's FunctionLoadError (azure-functions-python-worker 7e6acf3, azure_functions_worker/functions.py) ----
def test_a_python_parameter_without_a_binding_refuses_the_app_naming_the_function(tmp_path: Path) -> None:
    # validate_function_params, functions.py:136-140; FunctionLoadError, functions.py:41-45.
    app_dir = write_app(
        tmp_path / "app",
        """
        @app.activity_trigger(input_name="value")
        def double(value: int, factor: int) -> int:
            return value * factor
    """,
    )

    with pytest.raises(AppLoadError) as error:
        load_app(app_dir)

    assert str(error.value) == (
        "FunctionLoadError: cannot load the double function: the following parameters are declared in Python "
        "but not in function.json: {'factor'}"
    )


def test_a_binding_without_a_python_parameter_refuses_the_app(tmp_path: Path) -> None:
    # functions.py:142-146: here the trigger names "payload" but the function takes "value".
    app_dir = write_app(
        tmp_path / "app",
        """
        @app.activity_trigger(input_name="payload")
        def double(value: int) -> int:
            return value * 2
    """,
    )

    with pytest.raises(
        AppLoadError,
        match="cannot load the double function: the following parameters are declared in "
        "Python but not in function.json: {'value'}",
    ):
        load_app(app_dir)


def test_a_context_parameter_is_allowed_without_a_binding_but_must_be_a_func_context(tmp_path: Path) -> None:
    # is_context_required, functions.py:114-131.
    app_dir = write_app(
        tmp_path / "app",
        """
        @app.activity_trigger(input_name="value")
        def ok(value: int, context: func.Context) -> int:
            return value

        @app.activity_trigger(input_name="value")
        def wrong(value: int, context: str) -> int:
            return value
    """,
    )

    with pytest.raises(
        AppLoadError,
        match='cannot load the wrong function: the "context" parameter is expected to be of '
        "type azure.functions.Context, got <class 'str'>",
    ):
        load_app(app_dir)


# --- timer schedules ------------------------------------------------------------------------------------------
def test_an_invalid_schedule_is_a_one_line_error_naming_the_function(tmp_path: Path) -> None:
    app_dir = write_app(
        tmp_path / "app",
        """
        @app.timer_trigger(schedule="every five minutes", arg_name="timer")
        def tick(timer: func.TimerRequest) -> None:
            pass
    """,
    )

    with pytest.raises(AppLoadError) as error:
        load_app(app_dir)

    assert str(error.value).startswith(
        "function 'tick': The schedule expression 'every five minutes' was not recognized as a valid cron expression "
        "or timespan string"
    )
    assert "\n" not in str(error.value)


def test_a_schedule_naming_an_app_setting_uses_its_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # "%ScheduleAppSetting%" (the docs' schedule property; nameResolver.ResolveWholeString, TimerSchedule.cs:67).
    monkeypatch.setenv("TICK_SCHEDULE", "0 0 * * * *")
    app_dir = write_app(
        tmp_path / "app",
        """
        @app.timer_trigger(schedule="%TICK_SCHEDULE%", arg_name="timer")
        def tick(timer: func.TimerRequest) -> None:
            pass

        @app.timer_trigger(schedule="%NOT_SET_ANYWHERE%", arg_name="timer")
        def tock(timer: func.TimerRequest) -> None:
            pass
    """,
    )
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)

    with pytest.raises(
        AppLoadError, match="function 'tock': the schedule names app setting 'NOT_SET_ANYWHERE', which is not set"
    ):
        load_app(app_dir)


# --- triggers and bindings devhost does not provide -----------------------------------------------------------
def test_other_triggers_are_skipped_with_one_warning_and_listed_as_not_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app_dir = write_app(
        tmp_path / "app",
        """
        @app.queue_trigger(arg_name="msg", queue_name="jobs", connection="AzureWebJobsStorage")
        def on_job(msg: func.QueueMessage) -> None:
            pass
    """,
    )

    with caplog.at_level(logging.WARNING, logger="devhost.loader"):
        registry = load_app(app_dir)

    assert [(s.name, s.trigger) for s in registry.skipped] == [("on_job", "queueTrigger")]
    assert [r.getMessage() for r in caplog.records if r.name == "devhost.loader"] == [
        "function 'on_job': trigger 'queueTrigger' is not supported by devhost; the function is not run"
    ]
    assert (
        "        on_job: queueTrigger (not run: devhost does not support this trigger)"
        in banner(registry, "http://h", "api").splitlines()
    )


def test_an_input_binding_devhost_cannot_provide_is_warned_about_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app_dir = write_app(
        tmp_path / "app",
        """
        @app.activity_trigger(input_name="name")
        @app.blob_input(arg_name="template", path="templates/{name}", connection="AzureWebJobsStorage")
        def render(name: str, template: str) -> str:
            return template
    """,
    )

    with caplog.at_level(logging.WARNING, logger="devhost.loader"):
        registry = load_app(app_dir)

    assert "render" in registry.activities
    assert [r.getMessage() for r in caplog.records if r.name == "devhost.loader"] == [
        "function 'render': binding 'template' (blob) is not supported by devhost and gets no value"
    ]


def test_a_route_without_methods_is_shown_with_get_and_post(tmp_path: Path) -> None:
    app_dir = write_app(
        tmp_path / "app",
        """
        @app.route(route="hello")
        def hello(req: func.HttpRequest) -> str:
            return "hi"
    """,
    )

    text = banner(load_app(app_dir), "http://127.0.0.1:7071", "api")

    assert "        hello: [GET,POST] http://127.0.0.1:7071/api/hello" in text.splitlines()


# --- the v1 programming model ----------------------------------------------------------------------------------
def test_a_v1_model_app_is_refused_with_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "HttpStart").mkdir()
    (tmp_path / "HttpStart" / "function.json").write_text('{"bindings": []}')
    (tmp_path / "HttpStart" / "__init__.py").write_text("def main(req): pass\n")
    (tmp_path / "host.json").write_text('{"version": "2.0"}')

    with pytest.raises(AppLoadError) as error:
        load_app(tmp_path)

    assert str(error.value) == (
        f"{tmp_path} is a v1 programming model app (function.json folders: HttpStart); the v1 programming model is "
        "not supported: devhost runs Python v2 apps (a function_app.py with decorators)"
    )


def test_the_test_kit_refuses_a_v1_model_app_with_the_same_line(tmp_path: Path) -> None:
    from devhost.testing import durable_app as run_app

    (tmp_path / "Hello").mkdir()
    (tmp_path / "Hello" / "function.json").write_text('{"bindings": []}')

    with pytest.raises(AppLoadError, match="is a v1 programming model app .*the v1 programming model is not supported"):
        with run_app(tmp_path):
            pass


# --- a sub-minute TimeSpan timer with run_on_startup, sync, on the test kit --------------------------------------
@READS_MODULE_GLOBALS
def test_a_run_on_startup_timespan_timer_runs_at_start_then_every_interval_unmonitored(tmp_path: Path, durable_app: Any) -> None:
    app_dir = write_app(
        tmp_path / "app",
        """
        CALLS = []

        @app.timer_trigger(schedule="00:00:30", arg_name="timer", run_on_startup=True)
        def every_half_minute(timer: func.TimerRequest) -> None:
            CALLS.append((timer.past_due, timer.schedule_status))
    """,
    )
    app = durable_app(app_dir, start_time=T0)
    calls = app.host.registry.timers["every_half_minute"].fn.__globals__["CALLS"]

    app.advance(0)
    at_start = len(calls)
    app.advance(60)

    assert at_start == 1  # TimerListener.cs:137-145
    # Under a minute: no monitoring (TimerSchedule.cs:81-86), so no status is kept or passed.
    assert calls == [(False, {})] * 3
    assert not any(p.name.endswith(".timers.json") for p in Path(str(app.store_path)).parent.iterdir())


@READS_MODULE_GLOBALS
def test_a_failing_timer_function_is_logged_and_the_schedule_goes_on(
    tmp_path: Path, durable_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # TimerListener.cs:250-253 and 314-322: invocation errors never stop the schedule; there is no retry.
    app_dir = write_app(
        tmp_path / "app",
        """
        CALLS = []

        @app.timer_trigger(schedule="0 * * * * *", arg_name="timer")
        async def flaky(timer: func.TimerRequest) -> None:
            CALLS.append(timer.schedule_status["Next"])
            if len(CALLS) == 1:
                raise RuntimeError("first run fails")
    """,
    )
    app = durable_app(app_dir, start_time=T0)
    calls = app.host.registry.timers["flaky"].fn.__globals__["CALLS"]

    with caplog.at_level(logging.ERROR, logger="devhost.invoke"):
        app.advance(120)

    assert calls == ["2030-01-01T00:01:00+00:00", "2030-01-01T00:02:00+00:00"]
    assert any(
        "Executed 'Functions.flaky' (Failed" in r.getMessage() and "first run fails" in r.getMessage() for r in caplog.records
    )
