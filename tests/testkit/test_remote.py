"""DEVHOST_TARGET_URL: the same tests, pointed at a host running elsewhere, get an HTTP-only handle.

The "elsewhere" here is devhost on the real clock in this process (standing in for ``func start``); the
tests run in a pytest subprocess that only knows its URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.clock import RealClock
from devhost.host.server import DevHost
from devhost.testing import RemoteAppHandle
from devhost.testing.loop import LoopThread

AGAINST_A_REAL_HOST = """
def test_the_handle_is_remote(durable_app):
    app = durable_app()
    assert app.remote

def test_orchestrations_run_and_are_awaited_over_http(durable_app):
    app = durable_app()
    assert app.wait_for_completion(app.start("greet_once", {"name": "Di"}), timeout=30)["output"] == "Hello, Di!"

def test_app_routes_answer(durable_app):
    app = durable_app()
    started = app.http.post("/api/orchestrators/greet_once", json_body={"name": "Ed"})
    assert started.status == 202
    assert app.wait_for_completion(started.json()["id"], timeout=30)["output"] == "Hello, Ed!"

def test_stubbing_needs_the_in_process_host(durable_app):
    durable_app().stub_activity("greet", lambda name: name)

def test_history_needs_the_in_process_host(durable_app):
    durable_app().history("anything")
"""


@pytest.fixture
def real_host(tiny_app_dir: Path, tmp_path: Path) -> Iterator[DevHost]:
    loop = LoopThread()
    host = DevHost(tiny_app_dir, port=0, store_path=tmp_path / "real.sqlite3", clock=RealClock())
    loop.run(host.start(), timeout=60)
    try:
        yield host
    finally:
        loop.run(host.stop(), timeout=60)
        loop.close()


def test_target_url_makes_the_fixture_return_an_http_only_handle(
    pytester: pytest.Pytester, real_host: DevHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEVHOST_TARGET_URL", real_host.base_url)
    pytester.makepyfile(test_against_a_real_host=AGAINST_A_REAL_HOST)  # no app in this directory at all

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs", timeout=120)

    result.assert_outcomes(passed=3, skipped=2)
    result.stdout.fnmatch_lines(
        [
            f"devhost: durable_app targets {real_host.base_url} (DEVHOST_TARGET_URL)",
            "*stub_activity('greet') replaces a function inside the in-process host; not available against DEVHOST_TARGET_URL*",
        ]
    )


def test_a_remote_handle_runs_a_blocking_call_as_it_is_since_real_time_passes_by_itself() -> None:
    handle = RemoteAppHandle("http://127.0.0.1:9")

    assert handle.run_while_time_skips(lambda: "answered", timeout=1) == "answered"
