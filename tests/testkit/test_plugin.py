"""The durable_app fixture, used the way an app's own test suite uses it: pytest run by pytester in a
directory outside this repo, with the plugin loaded through its ``pytest11`` entry point (no ``-p``)."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

USING_THE_KIT = """
import time
from datetime import timedelta

import pytest


def test_wait_for_completion_skips_a_one_hour_timer(durable_app):
    app = durable_app()
    started_at = app.now
    wall = time.perf_counter()

    status = app.wait_for_completion(app.start("after_an_hour"))

    assert time.perf_counter() - wall < 5
    assert status["runtimeStatus"] == "Completed"
    assert status["output"]["greeting"] == "Hello, world!"
    assert status["output"]["finished_at"] == (started_at + timedelta(hours=1)).isoformat()
    assert app.now == started_at + timedelta(hours=1)


def test_time_stands_still_until_advanced(durable_app):
    app = durable_app()
    instance_id = app.start("reminder")

    app.advance(0)
    waiting = app.status(instance_id)
    app.advance(599)
    still_waiting = app.status(instance_id)
    app.advance(timedelta(seconds=1))
    done = app.status(instance_id)

    assert (waiting["runtimeStatus"], waiting["customStatus"]) == ("Running", "waiting")
    assert still_waiting["customStatus"] == "waiting"
    assert (done["runtimeStatus"], done["customStatus"], done["output"]) == ("Completed", "reminded", "done")


def test_raise_event_delivers_data_to_a_waiting_orchestration(durable_app):
    app = durable_app()
    instance_id = app.start("approval", instance_id="order-7")
    app.advance(0)

    app.raise_event(instance_id, "Approval", {"by": "ann"})
    status = app.wait_for_completion(instance_id)

    assert status["output"] == {"approved": {"by": "ann"}}


def test_status_and_history_show_the_orchestration(durable_app):
    app = durable_app()
    instance_id = app.start("greet_once", {"name": "Ann"})
    app.wait_for_completion(instance_id)

    status = app.status(instance_id, show_history=True)
    names = [event.get("Name") for event in app.history(instance_id)]

    assert status["output"] == "Hello, Ann!"
    assert [e["EventType"] for e in status["historyEvents"]][0] == "ExecutionStarted"
    assert "greet" in names


def test_app_routes_are_served_at_the_base_url(durable_app):
    app = durable_app()

    response = app.http.post("/api/orchestrators/greet_once", json_body={"name": "Bob"})

    assert response.status == 202
    assert response.json()["statusQueryGetUri"].startswith(app.base_url)
    assert app.wait_for_completion(response.json()["id"])["output"] == "Hello, Bob!"


def test_stub_activity_replaces_the_body_while_the_orchestrator_replays(durable_app):
    app = durable_app()
    stub = app.stub_activity("greet", lambda name: f"Stubbed {name}")

    status = app.wait_for_completion(app.start("after_an_hour"))

    assert status["output"]["greeting"] == "Stubbed world"
    assert stub.calls == ["world"]


def test_an_orchestration_nobody_will_finish_is_reported(durable_app):
    app = durable_app()
    app.wait_for_completion(app.start("approval", instance_id="forgotten"))
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A fresh interpreter, as a user's `pytest` is: the plugin can only come from the installed entry point.
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def test_the_kit_drives_an_app_outside_the_repo_through_the_entry_point(
    pytester: pytest.Pytester, tiny_app_project: Path
) -> None:
    pytester.makepyfile(test_using_the_kit=USING_THE_KIT)

    result = _run(pytester)

    result.assert_outcomes(passed=6, failed=1)
    # The stalled orchestration fails fast with a clear message instead of hanging.
    result.stdout.fnmatch_lines(["*AssertionError: instance 'forgotten' cannot finish: nothing is running or scheduled*"])


def test_without_the_plugin_the_fixture_does_not_exist(pytester: pytest.Pytester, tiny_app_project: Path) -> None:
    pytester.makepyfile("def test_uses_it(durable_app):\n    durable_app()\n")

    with_plugin = _run(pytester)
    without_plugin = _run(pytester, "-p", "no:devhost")

    with_plugin.assert_outcomes(passed=1)
    without_plugin.assert_outcomes(errors=1)
    without_plugin.stdout.fnmatch_lines(["*fixture 'durable_app' not found*"])


def test_the_app_can_be_named_by_directory_file_or_module(pytester: pytest.Pytester, tiny_app_project: Path) -> None:
    (pytester.path / "apps").mkdir()
    (pytester.path / "function_app.py").rename(pytester.path / "apps" / "function_app.py")
    (pytester.path / "apps" / "__init__.py").write_text("")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("app_ref", ["apps", "apps/function_app.py", "apps.function_app"])
        def test_named(durable_app, app_ref):
            app = durable_app(app_ref)
            assert app.wait_for_completion(app.start("greet_once", {"name": "Cy"}))["output"] == "Hello, Cy!"
        """
    )

    result = _run(pytester)

    result.assert_outcomes(passed=3)


def test_the_default_app_comes_from_the_ini_option(pytester: pytest.Pytester, tmp_path: Path) -> None:
    from .tiny_app import write_app

    write_app(pytester.path / "src" / "myapp")
    pytester.makeini("[pytest]\ndevhost_app = src/myapp\n")
    pytester.makepyfile("def test_default(durable_app):\n    assert durable_app().app_dir.name == 'myapp'\n")

    result = _run(pytester)

    result.assert_outcomes(passed=1)


def test_a_missing_app_is_a_one_line_failure_with_a_hint(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_default(durable_app):\n    durable_app()\n")

    result = _run(pytester)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*durable_app(): no function_app.py in *(the default app is the rootdir; pass*"])


def test_everything_is_stopped_after_the_test(pytester: pytest.Pytester, tiny_app_project: Path) -> None:
    report = pytester.path / "report.json"
    pytester.makepyfile(
        f"""
        import json

        def test_leaves_a_timer_a_sleeping_activity_and_a_waiting_orchestration(durable_app, tmp_path):
            app = durable_app()
            app.start("reminder")
            app.start("napper")
            app.start("approval")
            app.advance(1)
            assert app.host.clock.sleeping_functions == 1
            with open({str(report)!r}, "w") as f:
                json.dump({{"base_url": app.base_url, "store": str(app.store_path), "tmp_path": str(tmp_path)}}, f)
        """
    )
    threads_before = {t.ident for t in threading.enumerate()}

    # In this process, so its threads are visible. Without pytest-asyncio (the kit does not need it): loaded in a
    # project with no pytest config, it would warn that asyncio_default_fixture_loop_scope is unset, and a warning
    # raised in this process reaches this test's warning filters.
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:asyncio")

    result.assert_outcomes(passed=1)
    seen = json.loads(report.read_text())
    host, port = seen["base_url"].removeprefix("http://").split(":")
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()
    assert Path(seen["store"]).is_file() and Path(seen["store"]).is_relative_to(seen["tmp_path"])
    left = [t.name for t in threading.enumerate() if t.ident not in threads_before and t.is_alive()]
    assert left == []
