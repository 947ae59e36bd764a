"""The daemon worker pool that runs sync functions on the real clock."""

from __future__ import annotations

import threading

import pytest

from devhost.runtime.threadpool import DaemonPool

SAFETY_NET_SECONDS = 10.0


def _run(pool: DaemonPool, seen: list[threading.Thread]) -> None:
    done = threading.Event()

    def job() -> None:
        seen.append(threading.current_thread())
        done.set()

    pool.submit(job)
    assert done.wait(SAFETY_NET_SECONDS)


def test_calls_one_after_another_reuse_one_daemon_worker() -> None:
    pool = DaemonPool(1)
    seen: list[threading.Thread] = []

    for _ in range(3):
        _run(pool, seen)
    pool.close()

    assert len({t.ident for t in seen}) == 1
    assert seen[0].daemon
    assert pool.workers == 1


def test_many_calls_start_at_most_max_workers() -> None:
    pool = DaemonPool(3)
    seen: list[threading.Thread] = []

    for _ in range(50):
        _run(pool, seen)
    pool.close()

    assert len({t.ident for t in seen}) <= 3
    assert 1 <= pool.workers <= 3


def test_no_more_than_max_workers_run_and_the_rest_wait_their_turn() -> None:
    pool = DaemonPool(2)
    release = threading.Event()
    started = threading.Semaphore(0)
    finished = threading.Semaphore(0)
    order: list[int] = []

    def job(n: int) -> None:
        order.append(n)
        started.release()
        release.wait(SAFETY_NET_SECONDS)
        finished.release()

    for n in range(3):
        pool.submit(lambda n=n: job(n))
    assert started.acquire(timeout=SAFETY_NET_SECONDS) and started.acquire(timeout=SAFETY_NET_SECONDS)
    third_started_early = started.acquire(blocking=False)
    running_before_release = sorted(order)
    release.set()
    for _ in range(3):
        assert finished.acquire(timeout=SAFETY_NET_SECONDS)
    pool.close()

    assert not third_started_early
    assert running_before_release == [0, 1]
    assert sorted(order) == [0, 1, 2]
    assert pool.workers == 2


def test_a_raising_job_leaves_its_worker_serving_the_next_one() -> None:
    pool = DaemonPool(1)
    seen: list[threading.Thread] = []

    def boom() -> None:
        raise RuntimeError("boom")

    pool.submit(boom)
    _run(pool, seen)
    pool.close()

    assert pool.workers == 1
    assert len(seen) == 1  # the one worker ran the next job after the failure


def test_closing_lets_idle_workers_exit_and_refuses_new_jobs() -> None:
    pool = DaemonPool(2)
    seen: list[threading.Thread] = []
    _run(pool, seen)

    pool.close()
    seen[0].join(SAFETY_NET_SECONDS)

    assert not seen[0].is_alive()
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)
