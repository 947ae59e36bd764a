"""Crash recovery on the real clock: ``kill -9`` a busy host, restart it on the same store, and every unfinished
instance resumes — in-flight activities run again (at-least-once), timers fire after the restart, nothing is
lost and no history event is recorded twice. A graceful SIGTERM exits 0 promptly and loses nothing either.

The crash moment is pinned, not hoped for: in the first generation even-numbered instances block in the
activity of their hang step (``CRASH_HANG=1``), so those executions are in flight when the host dies;
odd-numbered ones wait on a 600 ms timer at step 1, and the kill comes while at least one of those timers is
seen pending (requiring all of them at once would make the test depend on scheduling: one stall of the host
longer than the timer and the odd instances never overlap). The store as the dead process left it is copied
and read before the restart, to check exactly what was outstanding at the kill.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devhost.core.model import EventType, HistoryEvent, RuntimeStatus
from devhost.store.sqlite import SqliteStore
from tests.crash.hostproc import HostProcess, copy_store, read_ledger, wait_for

INSTANCES = 20
STEPS = 4
WORK_MS = 20
SHORT_TIMER_MS = 30
LONG_TIMER_MS = 600  # long enough to still be pending when the test has seen it created and kills the host
HANG_STEP = 1
PROGRESS_DEADLINE_SECONDS = 30.0
PROMPT_EXIT_SECONDS = 3.0

TaskKey = tuple[str, int]


class Run:
    """One test's store, ledger and host processes (all killed at the end, whatever happened)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.store = workdir / "store.sqlite3"
        self.ledger = workdir / "ledger.jsonl"
        self.hosts: list[HostProcess] = []

    def host(self, generation: str, *, hang: bool) -> HostProcess:
        process = HostProcess(self.workdir, self.store, self.ledger, generation=generation, hang=hang)
        self.hosts.append(process)
        return process.wait_ready()

    def executions(self, generation: str | None = None) -> Counter[TaskKey]:
        return Counter(
            (line["instance"], line["step"])
            for line in read_ledger(self.ledger)
            if line["phase"] == "start" and (generation is None or line["generation"] == generation)
        )


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    state = Run(tmp_path)
    try:
        yield state
    finally:
        for process in state.hosts:
            process.close()


def plan(index: int) -> dict[str, Any]:
    if index % 2 == 0:
        return {"work_ms": WORK_MS, "timers_ms": [SHORT_TIMER_MS] * STEPS, "hang_step": HANG_STEP}
    timers = [SHORT_TIMER_MS] * STEPS
    timers[1] = LONG_TIMER_MS
    return {"work_ms": WORK_MS, "timers_ms": timers, "hang_step": None}


def start_all(host: HostProcess, plans: dict[str, dict[str, Any]]) -> None:
    for instance_id, body in plans.items():
        host.start_orchestration("crash_flow", instance_id, body)


def waiting_on_timer(host: HostProcess, step: int) -> set[str]:
    return {
        instance_id
        for instance_id, status in host.statuses().items()
        if status["customStatus"] == {"step": step, "phase": "timer"}
    }


def wait_until_all_completed(host: HostProcess, count: int) -> dict[str, dict[str, Any]]:
    def finished() -> dict[str, dict[str, Any]] | None:
        statuses = host.statuses()
        done = [s for s in statuses.values() if s["runtimeStatus"] not in ("Running", "Pending")]
        return statuses if len(statuses) == count and len(done) == count else None

    return wait_for(finished, timeout=PROGRESS_DEADLINE_SECONDS, what="every instance to finish")


def read_histories(store_path: Path, instance_ids: list[str]) -> dict[str, list[HistoryEvent]]:
    with SqliteStore(store_path) as store:
        return {instance_id: store.get_history(instance_id) for instance_id in instance_ids}


def ids_of(history: list[HistoryEvent], kind: EventType, key: str) -> list[int]:
    return [event[key] for event in history if event["EventType"] == kind]


def pending_timer_ids(history: list[HistoryEvent]) -> set[int]:
    created = set(ids_of(history, EventType.TIMER_CREATED, "EventId"))
    return created - set(ids_of(history, EventType.TIMER_FIRED, "TimerId"))


def assert_recorded_exactly_once(instance_id: str, history: list[HistoryEvent]) -> None:
    kinds = Counter(EventType(event["EventType"]) for event in history)
    scheduled = ids_of(history, EventType.TASK_SCHEDULED, "EventId")
    completed = ids_of(history, EventType.TASK_COMPLETED, "TaskScheduledId")
    created = ids_of(history, EventType.TIMER_CREATED, "EventId")
    fired = ids_of(history, EventType.TIMER_FIRED, "TimerId")
    where = f"history of {instance_id}"
    assert (kinds[EventType.EXECUTION_STARTED], kinds[EventType.EXECUTION_COMPLETED]) == (1, 1), where
    assert kinds[EventType.TASK_FAILED] == 0, where
    assert len(scheduled) == len(set(scheduled)) == STEPS, where
    assert sorted(completed) == sorted(scheduled), where
    assert len(created) == len(set(created)) == STEPS, where
    assert sorted(fired) == sorted(created), where


def expected_output(instance_id: str) -> list[str]:
    return [f"{instance_id}:{step}" for step in range(STEPS)]


def test_kill_9_mid_flight_then_restart_on_the_same_store_finishes_every_instance_exactly_once(run: Run) -> None:
    plans = {f"crash-{index:02d}": plan(index) for index in range(INSTANCES)}
    hanging = {(i, p["hang_step"]) for i, p in plans.items() if p["hang_step"] is not None}
    on_long_timer = {i for i, p in plans.items() if p["hang_step"] is None}
    first = run.host("1", hang=True)
    start_all(first, plans)

    seen_waiting = wait_for(
        lambda: hanging <= set(run.executions("1")) and waiting_on_timer(first, step=1) & on_long_timer,
        timeout=PROGRESS_DEADLINE_SECONDS,
        what="the hang steps to be running and a long timer to be created",
    )
    first.kill()

    with SqliteStore(copy_store(run.store, run.workdir / "at-kill")) as at_kill:
        outstanding = {(item.instance_id, json.loads(item.input or "{}")["step"]) for item in at_kill.pending_activities(10_000)}
        timers_at_kill = {i: pending_timer_ids(at_kill.get_history(i)) for i in plans}
        done_at_kill = {
            i for i in plans if (record := at_kill.get_instance(i)) and record.runtime_status is RuntimeStatus.COMPLETED
        }
        scheduled_at_kill = {i: len(ids_of(at_kill.get_history(i), EventType.TASK_SCHEDULED, "EventId")) for i in plans}
    assert hanging <= outstanding, "the blocked activities must still be work items in the store"
    assert all(timers_at_kill[i] for i in seen_waiting), "the long timers seen just before must be pending"

    second = run.host("2", hang=False)
    statuses = wait_until_all_completed(second, INSTANCES)
    assert second.terminate() == 0, second.logs()

    assert_all_completed_exactly_once(run, plans, statuses)
    every_task = {(i, step) for i in plans for step in range(STEPS)}
    executions = run.executions()
    assert set(executions) == every_task and min(executions.values()) >= 1
    rerun = run.executions("2")
    assert outstanding <= set(rerun), "every activity outstanding at the kill runs again after the restart"
    ran_before = set(run.executions("1"))
    # Group commit: an activity is dispatched only once the turn that scheduled it is durable, so every activity
    # the dead host had started has its TaskScheduled in the store it left behind. (The ledger is read only now: a
    # worker process of the killed host may still have been writing its line at the kill.)
    assert all(scheduled_at_kill[i] > step for i, step in ran_before), "an activity ran before its turn committed"
    assert ran_before & set(rerun) == ran_before & outstanding, "an activity whose result was stored never reruns"
    _report(
        "kill -9",
        tasks=len(every_task),
        executions=sum(executions.values()),
        re_executed=sum(1 for n in executions.values() if n > 1),
        outstanding_at_kill=len(outstanding),
        timers_pending_at_kill=sum(len(t) for t in timers_at_kill.values()),
        completed_before_kill=len(done_at_kill),
    )


def test_sigterm_exits_0_promptly_and_a_restart_finishes_the_work(run: Run) -> None:
    plans = {f"term-{index:02d}": plan(index) for index in range(INSTANCES)}
    first = run.host("1", hang=False)
    start_all(first, plans)
    on_long_timer = {i for i, p in plans.items() if p["hang_step"] is None}
    wait_for(
        lambda: waiting_on_timer(first, step=1) & on_long_timer,
        timeout=PROGRESS_DEADLINE_SECONDS,
        what="a long timer to be created",
    )

    signalled = time.monotonic()
    status = first.terminate(timeout=PROGRESS_DEADLINE_SECONDS)
    exit_seconds = time.monotonic() - signalled

    assert status == 0, first.logs()
    assert exit_seconds < PROMPT_EXIT_SECONDS
    with SqliteStore(copy_store(run.store, run.workdir / "at-stop")) as at_stop:
        unfinished = [i for i in plans if at_stop.get_instance(i).runtime_status is not RuntimeStatus.COMPLETED]
    assert unfinished, "the stop must interrupt work for the restart to have something to finish"
    second = run.host("2", hang=False)
    statuses = wait_until_all_completed(second, INSTANCES)
    assert second.terminate() == 0, second.logs()
    assert_all_completed_exactly_once(run, plans, statuses)
    executions = run.executions()
    assert min(executions.values()) >= 1 and len(executions) == INSTANCES * STEPS
    _report(
        "SIGTERM",
        exit_seconds=round(exit_seconds, 3),
        unfinished_at_stop=len(unfinished),
        executions=sum(executions.values()),
        re_executed=sum(1 for n in executions.values() if n > 1),
    )


def _report(label: str, **figures: Any) -> None:
    """Counts for the record (visible with ``pytest -s``)."""
    print(f"\n[crash] {label}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), file=sys.stderr)


def assert_all_completed_exactly_once(run: Run, plans: dict[str, Any], statuses: dict[str, Any]) -> None:
    """Every instance Completed with its expected output, and its stored history records each event once."""
    for instance_id in plans:
        assert statuses[instance_id]["runtimeStatus"] == "Completed", statuses[instance_id]
        assert statuses[instance_id]["output"] == expected_output(instance_id)
    for instance_id, history in read_histories(run.store, list(plans)).items():
        assert_recorded_exactly_once(instance_id, history)
