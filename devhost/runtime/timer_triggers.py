"""Fires the app's timer-triggered functions on the host's Clock (so on the virtual clock in tests).

One task per timer, following the timer extension's ``TimerListener`` (``Azure/azure-webjobs-sdk-extensions`` at
2e7550f, ``src/WebJobs.Extensions/Extensions/Timers/Listener/TimerListener.cs``): at start the schedule status
is read and checked for a missed occurrence when ``use_monitor`` is on (lines 102-110); a past-due timer runs
at once with ``past_due=True``, otherwise ``run_on_startup`` runs it at once (127-145); then it sleeps until
each next occurrence, invokes, and records Last/Next/LastUpdated (270-347). A failing invocation is logged
and the schedule goes on (250-253, 318-322). Monitoring is off for schedules that fire more than once a
minute (TimerSchedule.cs:71-86), as the extension does even when ``use_monitor`` is set.

The statuses (the extension keeps them in blob storage, ``StorageScheduleMonitor``) go to a JSON file next to
the store, replaced atomically; with an in-memory store they are kept in memory.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Callable

from devhost.clock import Clock
from devhost.core.schedule_status import NEVER, ScheduleStatus, after_invocation, check_past_due
from devhost.runtime.registry import TimerFunction

log = logging.getLogger("devhost.timers")

Invoke = Callable[[TimerFunction, str], Awaitable[bool]]
"""Runs one timer function with the timer JSON (``func.TimerRequest``); False if it failed."""


def status_path_for(store_path: Path | None) -> Path | None:
    """Where timer statuses live for a store file (None: in memory, like the store)."""
    return None if store_path is None else Path(store_path).with_name(Path(store_path).name + ".timers.json")


class ScheduleStatusFile:
    """The schedule monitor: one status per timer name, persisted as one JSON object."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._statuses: dict[str, ScheduleStatus] = {}
        if path is not None and path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                self._statuses = {name: ScheduleStatus.from_json(value) for name, value in dict(raw).items()}
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                # A damaged status only costs the past-due check: start from the schedule as the extension does
                # for a timer it has never seen.
                log.warning("ignoring unreadable timer status file %s: %s", path, exc)

    def get(self, name: str) -> ScheduleStatus | None:
        return self._statuses.get(name)

    def put(self, name: str, status: ScheduleStatus) -> None:
        self._statuses[name] = status
        if self.path is None:
            return
        text = json.dumps({key: value.to_json() for key, value in sorted(self._statuses.items())}, indent=2)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise


def timer_json(status: ScheduleStatus | None, *, past_due: bool) -> str:
    """The trigger value the host sends the worker (the timer docs' "Usage" JSON): Schedule, ScheduleStatus, IsPastDue.

    ScheduleStatus is null when the timer is not monitored (TimerListener.cs:284-289).
    """
    return json.dumps(
        {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": status.to_json() if status is not None else None,
            "IsPastDue": past_due,
        }
    )


class TimerScheduler:
    """Runs every timer function of the registry until :meth:`stop`."""

    def __init__(self, timers: dict[str, TimerFunction], clock: Clock, invoke: Invoke, statuses: ScheduleStatusFile) -> None:
        self.timers = timers
        self.clock = clock
        self.invoke = invoke
        self.statuses = statuses
        self.fired: dict[str, int] = {name: 0 for name in timers}
        """Invocations started per timer since start (for the host status and tests)."""
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start one task per timer; returns once each is asleep on the clock or already invoking.

        Waiting for that matters on a virtual clock: until a timer has registered its next occurrence with
        the clock, a test advancing time would not stop there.
        """
        zone = os.environ.get("WEBSITE_TIME_ZONE")
        if self.timers and zone:
            log.warning("WEBSITE_TIME_ZONE=%s is ignored: devhost evaluates timer schedules in UTC (Azure's default)", zone)
        armed: list[asyncio.Event] = []
        for timer in self.timers.values():
            ready = asyncio.Event()
            armed.append(ready)
            self._tasks.append(asyncio.create_task(self._run(timer, ready), name=f"devhost-timer-{timer.name}"))
        for ready, task in zip(armed, self._tasks):
            waiter = asyncio.ensure_future(ready.wait())
            await asyncio.wait([waiter, task], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _record(self, name: str, status: ScheduleStatus) -> None:
        try:
            self.statuses.put(name, status)
        except OSError as exc:  # the schedule goes on; only the past-due check after a restart is affected
            log.error("Timer '%s': cannot record its schedule status in %s: %s", name, self.statuses.path, exc)

    async def _run(self, timer: TimerFunction, ready: asyncio.Event) -> None:
        try:
            await self._schedule(timer, ready)
        except Exception:  # a bug here must not pass silently: the timer would just stop firing
            log.exception("Timer '%s' stopped", timer.name)
        finally:
            ready.set()

    async def _schedule(self, timer: TimerFunction, ready: asyncio.Event) -> None:
        now = self.clock.now()
        monitored = timer.use_monitor and not timer.schedule.fires_more_than_once_a_minute(now)
        past_due = False
        if monitored:
            status, to_store, past_due = check_past_due(timer.schedule, now, self.statuses.get(timer.name))
            if to_store is not None:
                self._record(timer.name, to_store)
        else:
            status = ScheduleStatus(last=NEVER, next=timer.schedule.next_after(now), last_updated=NEVER)
        log.info(
            "Timer '%s': schedule '%s' (UTC), next occurrence %s%s",
            timer.name,
            timer.schedule.expression,
            status.next.isoformat() if status.next else "never",
            "; past due, running now" if past_due else "; running on startup" if timer.run_on_startup else "",
        )
        unscheduled = past_due or timer.run_on_startup
        while True:
            if not unscheduled:
                if status.next is None:
                    ready.set()
                    return  # the schedule never fires again
                ready.set()  # set before the sleep registers its deadline: no suspension in between
                await self.clock.sleep_until(status.next)
            invoked_at = self.clock.now()
            self.fired[timer.name] += 1
            ready.set()  # the invoker counts the call as running before this task next yields
            await self.invoke(timer, timer_json(status if monitored else None, past_due=past_due))
            status = after_invocation(timer.schedule, status, invoked_at, unscheduled=unscheduled)
            if monitored:
                self._record(timer.name, status)
            unscheduled = past_due = False
