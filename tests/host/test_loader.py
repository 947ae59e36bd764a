"""Indexing function_app.py the way the Python worker and the Durable extension do."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from devhost.core.errors import AppLoadError
from devhost.runtime.loader import load_app
from devhost.runtime.registry import FunctionRegistry
from tests.host.conftest import APPS


def write_app(app_dir: Path, source: str) -> Path:
    app_dir.mkdir(parents=True, exist_ok=True)
    (app_dir / "function_app.py").write_text(textwrap.dedent(source).lstrip("\n"))
    return app_dir


def test_orchestrators_are_registered_under_their_alias_or_function_name(kinds_app: FunctionRegistry) -> None:
    assert sorted(kinds_app.orchestrators) == ["AliasedOrchestrator", "hello_orchestrator"]
    assert kinds_app.orchestrators["AliasedOrchestrator"].name == "AliasedOrchestrator"


def test_activities_keep_the_user_function_and_its_input_name(kinds_app: FunctionRegistry) -> None:
    say_hello = kinds_app.activities["say_hello"]
    aliased = kinds_app.activities["AliasedActivity"]

    assert say_hello.input_name == "city"
    assert say_hello.fn(city="Oslo") == "Hello Oslo!"
    assert say_hello.is_async is False
    assert aliased.input_name == "payload"
    assert aliased.is_async is True


def test_orchestrator_handle_is_the_sdks_json_entry_point(kinds_app: FunctionRegistry) -> None:
    handle = kinds_app.orchestrators["AliasedOrchestrator"].handle

    state = handle(
        '{"history": [{"EventType": 12, "EventId": -1, "IsPlayed": false, "Timestamp": "2030-01-01T00:00:00Z"},'
        ' {"EventType": 0, "EventId": -1, "IsPlayed": false, "Timestamp": "2030-01-01T00:00:00Z",'
        ' "Name": "AliasedOrchestrator", "Version": "", "Input": null}],'
        ' "instanceId": "i1", "isReplaying": false, "parentInstanceId": null}'
    )

    assert '"output": "aliased"' in state
    assert '"isDone": true' in state


def test_entities_are_keyed_case_insensitively(kinds_app: FunctionRegistry) -> None:
    assert list(kinds_app.entities) == ["counter"]
    assert kinds_app.entities["counter"].name == "Counter"


def test_http_functions_carry_route_methods_and_binding_names(kinds_app: FunctionRegistry) -> None:
    http = {fn.name: fn for fn in kinds_app.http}

    starter = http["http_start"]
    assert starter.route == "orchestrators/{functionName}"
    assert starter.methods == ["POST"]
    assert starter.request_arg == "req"
    assert starter.durable_client_args == ["client"]
    assert starter.context_arg is None
    assert starter.is_async is True

    echo = http["echo"]
    assert echo.methods is None
    assert echo.context_arg == "context"
    assert echo.durable_client_args == []
    assert http["text"].methods == ["GET"]


def test_an_http_route_defaults_to_the_function_name(tmp_path: Path) -> None:
    app_dir = write_app(
        tmp_path / "app",
        """
        import azure.functions as func
        app = func.FunctionApp()

        @app.function_name("Named")
        @app.route()
        def whatever(req):
            return "x"
    """,
    )

    registry = load_app(app_dir)

    assert [(fn.name, fn.route) for fn in registry.http] == [("Named", "Named")]


def test_timer_triggers_are_indexed_with_their_parsed_schedule(kinds_app: FunctionRegistry) -> None:
    # Timer triggers used to be skipped with a warning; issue 11 item 2 runs them (tests/triggers/).
    tick = kinds_app.timers["tick"]

    assert "tick" not in {fn.name for fn in kinds_app.http}
    assert (tick.arg_name, tick.schedule.expression, tick.run_on_startup, tick.use_monitor) == (
        "timer",
        "0 */5 * * * *",
        False,
        True,
    )


def test_app_modules_can_import_function_app_and_their_siblings(kinds_app: FunctionRegistry) -> None:
    assert sys.modules["function_app"].__file__ == str(APPS / "kinds" / "function_app.py")
    assert sys.modules["helpers"].function_app is sys.modules["function_app"]


def test_each_load_imports_a_fresh_module_from_the_right_directory() -> None:
    first = load_app(APPS / "kinds")
    other = load_app(APPS / "sibling")
    again = load_app(APPS / "kinds")

    assert other.activities["say_hello"].fn(city="Paris") == "Bonjour Paris!"
    assert again.activities["say_hello"].fn(city="Paris") == "Hello Paris!"
    assert first.activities["say_hello"].fn is not again.activities["say_hello"].fn


def test_a_missing_app_directory_is_an_app_load_error(tmp_path: Path) -> None:
    with pytest.raises(AppLoadError, match="does not exist"):
        load_app(tmp_path / "nope")


def test_a_directory_without_function_app_py_is_an_app_load_error(tmp_path: Path) -> None:
    with pytest.raises(AppLoadError, match=r"^no function_app.py in "):
        load_app(tmp_path)


def test_an_import_error_names_the_exception_and_the_app_line(tmp_path: Path) -> None:
    app_dir = write_app(
        tmp_path / "app",
        """
        import azure.functions as func

        app = func.FunctionApp()
        value = undefined_name + 1
    """,
    )

    with pytest.raises(AppLoadError) as error:
        load_app(app_dir)

    assert (
        str(error.value) == "cannot import function_app.py: NameError: name 'undefined_name' is not defined (function_app.py:4)"
    )


def test_an_error_in_a_sibling_module_points_at_that_module(tmp_path: Path) -> None:
    app_dir = write_app(tmp_path / "app", "import broken_helper\n")
    (app_dir / "broken_helper.py").write_text("x = 1\nraise RuntimeError('no config')\n")

    with pytest.raises(AppLoadError) as error:
        load_app(app_dir)

    assert str(error.value) == "cannot import function_app.py: RuntimeError: no config (broken_helper.py:2)"


def test_a_syntax_error_is_one_line_with_its_location(tmp_path: Path) -> None:
    app_dir = write_app(tmp_path / "app", "def broken(:\n    pass\n")

    with pytest.raises(AppLoadError) as error:
        load_app(app_dir)

    assert str(error.value).startswith("cannot import function_app.py: SyntaxError: ")
    assert str(error.value).endswith("(function_app.py:1)")
    assert "\n" not in str(error.value)


def test_a_missing_package_is_reported_as_module_not_found(tmp_path: Path) -> None:
    app_dir = write_app(tmp_path / "app", "import surely_not_installed_pkg\n")

    with pytest.raises(AppLoadError, match="ModuleNotFoundError: No module named 'surely_not_installed_pkg'"):
        load_app(app_dir)


def test_an_app_without_a_function_app_instance_is_rejected(tmp_path: Path) -> None:
    app_dir = write_app(tmp_path / "app", "import azure.durable_functions as df\nbp = df.Blueprint()\n")

    with pytest.raises(AppLoadError, match="defines no function app"):
        load_app(app_dir)


def test_two_function_app_instances_are_rejected(tmp_path: Path) -> None:
    app_dir = write_app(tmp_path / "app", "import azure.functions as func\na = func.FunctionApp()\nb = func.FunctionApp()\n")

    with pytest.raises(AppLoadError, match="more than one function app"):
        load_app(app_dir)


def test_duplicate_function_names_are_the_sdks_one_line_error(tmp_path: Path) -> None:
    app_dir = write_app(
        tmp_path / "app",
        """
        import azure.durable_functions as df
        app = df.DFApp()

        @app.function_name("same")
        @app.activity_trigger(input_name="x")
        def one(x):
            return x

        @app.function_name("same")
        @app.activity_trigger(input_name="x")
        def two(x):
            return x
    """,
    )

    with pytest.raises(AppLoadError, match=r"^cannot index function_app.py: ValueError: Function same does not have a unique"):
        load_app(app_dir)


def test_an_alias_clashing_with_another_activity_is_rejected(tmp_path: Path) -> None:
    app_dir = write_app(
        tmp_path / "app",
        """
        import azure.durable_functions as df
        app = df.DFApp()

        @app.activity_trigger(input_name="x")
        def greet(x):
            return x

        @app.activity_trigger(input_name="x", activity="greet")
        def other(x):
            return x
    """,
    )

    with pytest.raises(AppLoadError, match="two activity functions named 'greet'"):
        load_app(app_dir)


def test_a_failed_import_leaves_no_half_imported_function_app_module(tmp_path: Path) -> None:
    app_dir = write_app(tmp_path / "app", "raise SystemExit(3)\n")

    with pytest.raises(AppLoadError, match="SystemExit: 3"):
        load_app(app_dir)

    assert "function_app" not in sys.modules
