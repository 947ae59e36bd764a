"""The kit without pytest's fixture: the durable_app context manager, finding an app, and its error messages."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from devhost.core.errors import AppLoadError
from devhost.testing import durable_app, resolve_app_dir


def _port_is_closed(base_url: str) -> bool:
    host, port = base_url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except OSError:
        return True
    return False


def test_context_manager_runs_an_app_and_stops_it_on_exit(tiny_app_dir: Path, tmp_path: Path) -> None:
    store_dir = tmp_path / "store"

    with durable_app(tiny_app_dir, store_dir=store_dir) as app:
        status = app.wait_for_completion(app.start("after_an_hour"))
        base_url = app.base_url

    assert status["output"]["greeting"] == "Hello, world!"
    assert _port_is_closed(base_url)
    assert (store_dir / "store.sqlite3").is_file()
    with pytest.raises(RuntimeError, match="not running"):
        app.advance(1)


def test_context_manager_without_a_store_dir_removes_its_temporary_store(tiny_app_dir: Path) -> None:
    with durable_app(tiny_app_dir) as app:
        store = app.store_path
        assert store is not None and store.is_file()

    assert not store.parent.exists()


def test_stub_activity_refuses_unknown_names_and_wrong_signatures(tiny_app_dir: Path) -> None:
    with durable_app(tiny_app_dir) as app:
        with pytest.raises(KeyError, match=r"no activity named 'gret' \(it has \['greet', 'nap'\]\)"):
            app.stub_activity("gret", lambda name: name)
        with pytest.raises(TypeError, match="exactly one argument"):
            app.stub_activity("greet", lambda: "no input")


def test_restored_stub_runs_the_real_activity_again(tiny_app_dir: Path) -> None:
    with durable_app(tiny_app_dir) as app:
        stub = app.stub_activity("greet", lambda name: "stubbed")
        first = app.wait_for_completion(app.start("greet_once", {"name": "A"}))["output"]
        stub.restore()
        second = app.wait_for_completion(app.start("greet_once", {"name": "B"}))["output"]

    assert (first, second) == ("stubbed", "Hello, B!")


def test_async_stub_replaces_a_sync_activity(tiny_app_dir: Path) -> None:
    async def greet(name: str) -> str:
        return f"async {name}"

    with durable_app(tiny_app_dir) as app:
        app.stub_activity("greet", greet)
        output = app.wait_for_completion(app.start("greet_once", {"name": "C"}))["output"]

    assert output == "async C"


def test_wait_for_status_stops_at_the_requested_status(tiny_app_dir: Path) -> None:
    with durable_app(tiny_app_dir) as app:
        instance_id = app.start("reminder")
        status = app.wait_for_status(instance_id, "Running")
        with pytest.raises(ValueError, match="runtime status names"):
            app.wait_for_status(instance_id, "Done")

    assert (status["runtimeStatus"], status["customStatus"]) == ("Running", "waiting")


def test_an_app_is_found_by_directory_file_or_module(tiny_app_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tiny_app_dir / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tiny_app_dir.parent))

    assert resolve_app_dir(tiny_app_dir) == tiny_app_dir.resolve()
    assert resolve_app_dir("tiny_app", base=tiny_app_dir.parent) == tiny_app_dir.resolve()
    assert resolve_app_dir(str(tiny_app_dir / "function_app.py")) == tiny_app_dir.resolve()
    assert resolve_app_dir("tiny_app.function_app") == tiny_app_dir.resolve()
    sys.modules.pop("tiny_app", None)


@pytest.mark.parametrize(
    "name, message",
    [
        ("missing_dir/", "no app at"),
        ("other.py", "devhost loads an app from its function_app.py"),
        ("empty", "no function_app.py in"),
        ("no_such_module_anywhere", "not a path and not an importable module"),
    ],
)
def test_a_wrong_app_reference_names_the_problem(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "other.py").write_text("")
    (tmp_path / "empty").mkdir()

    with pytest.raises(AppLoadError, match=message):
        resolve_app_dir(name, base=tmp_path)
