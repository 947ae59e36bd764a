"""Functions run in language-worker processes: an app that crashes, hangs or eats memory fails only its own
invocation; the host stays up and replaces the worker (real processes, virtual time, bounded real waits)."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from devhost.runtime.worker.pool import WorkerInvoker
from devhost.testing.inprocess import DurableAppHandle

APP_DIR = Path(__file__).parent / "app"
WORKER_DIED = re.compile(r"Activity function '(\w+)' failed: \S+ exited with code (-?\d+) \(0x[0-9A-F]+\)")
SAFETY = 30.0  # real seconds: a safety net, never a sleep


@pytest.fixture(autouse=True)
def _memory_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVHOST_WORKER_MEMORY_LIMIT_MB", "1536")


@pytest.fixture
def app(durable_app: Any) -> DurableAppHandle:
    handle: DurableAppHandle = durable_app(APP_DIR, workers=True)
    return handle


def invoker(app: DurableAppHandle) -> WorkerInvoker:
    assert isinstance(app.host.invoker, WorkerInvoker)
    return app.host.invoker


def worker_pids(app: DurableAppHandle) -> list[int | None]:
    return [worker.pid for worker in invoker(app).workers]


def call(app: DurableAppHandle, activity: str, value: Any = None, *, retry: bool = False) -> dict[str, Any]:
    instance_id = app.start("call_one", {"activity": activity, "input": value, "retry": retry})
    status = app.wait_for_completion(instance_id, timeout=SAFETY)
    assert status["runtimeStatus"] == "Completed", status
    return dict(status["output"])


def test_activities_run_in_a_worker_process_not_in_the_host(app: DurableAppHandle) -> None:
    output = call(app, "pid")

    assert output["result"] != os.getpid()
    assert output["result"] in worker_pids(app)


def test_an_activity_calling_os_exit_fails_only_its_invocation_and_the_worker_is_replaced(app: DurableAppHandle) -> None:
    before = worker_pids(app)

    crashed = call(app, "exit_now")
    after = call(app, "pid")

    match = WORKER_DIED.match(crashed["failed"])
    assert match is not None and match.groups() == ("exit_now", "1"), crashed
    assert after["result"] not in before  # a new worker ran it
    assert invoker(app).replaced == 1


def test_an_activity_that_segfaults_fails_with_the_signal_as_exit_code(app: DurableAppHandle) -> None:
    crashed = call(app, "segfault")

    match = WORKER_DIED.match(crashed["failed"])
    assert match is not None and match.groups() == ("segfault", str(-signal.SIGSEGV)), crashed
    assert "result" in call(app, "pid")


def test_an_activity_looping_forever_fails_at_function_timeout_and_its_worker_is_recycled(app: DurableAppHandle) -> None:
    before = worker_pids(app)

    timed_out = call(app, "spin")

    assert re.match(
        r"Activity function 'spin' failed: Timeout value of 00:00:02 exceeded by function 'Functions\.spin' "
        r"\(Id: '[0-9a-f-]{36}'\)\. Initiating cancellation\.\s.*",
        timed_out["failed"],
    ), timed_out
    assert call(app, "pid")["result"] not in before


def test_an_activity_asleep_past_function_timeout_fails_in_virtual_time(app: DurableAppHandle) -> None:
    start = app.now

    timed_out = call(app, "nap", 3600)

    assert "Timeout value of 00:00:02 exceeded by function 'Functions.nap'" in timed_out["failed"]
    assert (app.now - start).total_seconds() < 60  # failed at +2 s of virtual time, not after the hour


def test_a_short_sleep_in_a_worker_follows_the_virtual_clock(app: DurableAppHandle) -> None:
    start = app.now

    assert call(app, "nap", 1)["result"] == "rested"

    assert (app.now - start).total_seconds() >= 1


def test_a_memory_hog_fails_only_its_invocation(app: DurableAppHandle) -> None:
    hogged = call(app, "hog")

    # Under the worker's memory cap the allocation fails (MemoryError) or the worker dies; either way only this call.
    assert "Activity function 'hog' failed:" in hogged["failed"], hogged
    assert "result" in call(app, "pid")


def test_the_retry_policy_runs_after_a_worker_crash(app: DurableAppHandle, tmp_path: Path) -> None:
    output = call(app, "exit_first_time", str(tmp_path / "crashed-once"), retry=True)

    assert output == {"result": "second attempt"}


def test_an_orchestrator_turn_whose_worker_dies_is_retried(app: DurableAppHandle, tmp_path: Path) -> None:
    instance_id = app.start("crash_first_turn", str(tmp_path / "crashed-once"))

    status = app.wait_for_completion(instance_id, timeout=SAFETY)

    assert status["runtimeStatus"] == "Completed" and status["output"] == "survived"
    assert invoker(app).replaced == 1


def test_turns_sent_to_a_worker_with_one_that_kills_it_are_all_retried(app: DurableAppHandle, tmp_path: Path) -> None:
    # One dispatch round sends every ready turn down the same pipe: the crash fails the others in flight with it
    # (their turns run again; a bystander's activity running in the worker then fails, as any activity there would).
    bystanders = [app.start("call_one", {"activity": "pid", "input": None}) for _ in range(5)]
    crasher = app.start("crash_first_turn", str(tmp_path / "crashed-once"))

    statuses = [app.wait_for_completion(instance_id, timeout=SAFETY) for instance_id in [crasher, *bystanders]]

    assert [status["runtimeStatus"] for status in statuses] == ["Completed"] * 6
    assert statuses[0]["output"] == "survived"
    assert invoker(app).replaced == 1


def test_an_http_function_whose_worker_dies_answers_500_and_the_next_request_is_served(app: DurableAppHandle) -> None:
    crashed = app.http.get("/api/exit")
    served = app.http.get("/api/pid")

    assert crashed.status == 500
    assert served.status == 200 and int(served.text) in worker_pids(app)


def test_a_worker_killed_mid_activity_fails_that_activity_and_is_replaced(app: DurableAppHandle) -> None:
    instance_id = app.start("call_one", {"activity": "nap", "input": 1})
    app.advance(0)  # the activity is now asleep in the worker
    (victim,) = worker_pids(app)
    assert victim is not None

    os.kill(victim, signal.SIGKILL)
    status = app.wait_for_completion(instance_id, timeout=SAFETY)

    match = WORKER_DIED.match(status["output"]["failed"])
    assert match is not None and match.groups() == ("nap", str(-signal.SIGKILL)), status
    assert victim not in worker_pids(app)
    assert "result" in call(app, "pid")


def test_function_worker_process_count_starts_that_many_workers_and_spreads_calls(
    durable_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FUNCTIONS_WORKER_PROCESS_COUNT", "2")
    app: DurableAppHandle = durable_app(APP_DIR, workers=True)

    instance_id = app.start("fan_out", 2)
    status = app.wait_for_completion(instance_id, timeout=SAFETY)

    assert len(worker_pids(app)) == 2
    assert sorted(status["output"]) == sorted(worker_pids(app))


def test_an_orchestrator_looping_forever_fails_at_function_timeout(app: DurableAppHandle) -> None:
    instance_id = app.start("spin_turn")

    status = app.wait_for_completion(instance_id, timeout=SAFETY)

    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(
        "Orchestrator function 'spin_turn' failed: Timeout value of 00:00:02 exceeded by function 'Functions.spin_turn'"
    )
    assert "result" in call(app, "pid")  # the recycled worker was replaced


def test_an_entity_batch_whose_worker_dies_runs_again_in_the_new_worker(app: DurableAppHandle, tmp_path: Path) -> None:
    instance_id = app.start("use_counter", str(tmp_path / "crashed-once"))

    status = app.wait_for_completion(instance_id, timeout=SAFETY)

    assert status["runtimeStatus"] == "Completed", status
    first, second, orchestrator_pid = status["output"]
    assert (first, second) == (1, 2)  # the crashed batch left no trace; its retry counted once
    assert orchestrator_pid in worker_pids(app) and invoker(app).replaced == 1
