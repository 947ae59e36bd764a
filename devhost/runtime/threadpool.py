"""A bounded pool of reused *daemon* worker threads, for the app's sync functions on the real clock.

Not a ``concurrent.futures.ThreadPoolExecutor``: its workers are joined at interpreter exit, so one activity
still running (a long ``time.sleep``, a hung request) would keep ``python -m devhost`` from exiting after
SIGTERM. Daemon workers are abandoned at exit like the per-call threads the invoker uses on a virtual clock.
Starting a thread per call costs more than the small functions a monitor calls; these are reused.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable

Job = Callable[[], None]

FUNCTION_THREAD_PREFIX = "devhost-fn-"
"""Names the thread a sync function gets per call on a virtual clock (``devhost-fn-<function>``); the test kit
joins the threads with this prefix after a host stops and its sleepers are released."""


class DaemonPool:
    """Runs submitted jobs on at most ``max_workers`` daemon threads, started on demand and then kept.

    Jobs beyond ``max_workers`` wait their turn in submission order. A job must not raise (the caller wraps
    its function and reports the outcome itself); if one does, its worker carries on with the next job.
    """

    def __init__(self, max_workers: int, name: str = "devhost-pool") -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._max = max_workers
        self._name = name
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._workers = 0
        self._idle = 0
        """Workers that will ask for a job, minus the jobs queued; below 0 only when every worker is busy."""
        self._closed = False

    @property
    def workers(self) -> int:
        return self._workers

    def submit(self, job: Job) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is closed")
            self._jobs.put(job)
            if self._idle <= 0 and self._workers < self._max:
                self._workers += 1  # nobody free to take it, and room for one more worker
                threading.Thread(target=self._work, name=f"{self._name}-{self._workers}", daemon=True).start()
            else:
                self._idle -= 1  # a free worker takes it, or (below 0) the first one to finish

    def close(self) -> None:
        """Let every worker exit once it is done with its current job (queued jobs still run first)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for _ in range(self._workers):
                self._jobs.put(None)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except BaseException:  # noqa: BLE001 - a job reports its own outcome; keep the worker alive
                pass
            with self._lock:
                self._idle += 1
