"""The engine: runs orchestration turns and activities against the store, on the host's one clock.

Each orchestration turn is load → :func:`devhost.core.turn.decide_turn`, run on the event loop (the SDK's
replay is CPU-bound and never awaits; in a language-worker process, the turn's steps run on the loop around its
awaited replay); a dispatch round's turns and the activity results reported since the
last round are then written in one store transaction (group commit, ``Store.commit_group``), each turn still
all-or-nothing, and nothing is acknowledged before that commit; HTTP handlers run between a round's turns
(seeing only the store). Activities (:mod:`devhost.runtime.activities`) run through the Invoker in a bounded
pool; each result is committed together with the removal of its work item, so after a crash every
activity whose result was not committed runs again (at-least-once, as in Azure) and nothing is recorded twice.
A store fault (``StoreUnavailable``: the call's transaction rolled back) is logged and retried with a short
back-off; a round's group commit that fails keeps its activity results for the next round, whose turns are
decided again (their messages are still queued).

On a clock that can skip (the virtual one), ``run_until`` lets a test wait while time skips and ``advance_to``
steps time through every deadline up to a target: whenever nothing is runnable and every running function is
asleep on the clock, time jumps by the one rule in :mod:`devhost.runtime.timeskip`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from datetime import datetime
from typing import Any

from devhost.clock import Clock, Unsubscribe
from devhost.core.errors import DevhostError, StoreUnavailable
from devhost.runtime import entity_batches
from devhost.runtime.activities import Activities
from devhost.runtime.config import HostSettings
from devhost.runtime.invoker import Invoker
from devhost.runtime.notifications import Notifier
from devhost.runtime.registry import EntityFunction, FunctionRegistry
from devhost.runtime.timeskip import Condition, TimeSkipper
from devhost.runtime.turns import Decided, TurnDecider, log_outcome
from devhost.store.base import Store

log = logging.getLogger("devhost.engine")

TURNS_BETWEEN_YIELDS = 2
"""Turns a dispatch round runs back to back before it lets HTTP handlers in (see :meth:`Engine._dispatch`).
Measured on the peer benchmark (200 instances × 10 checks, status GETs at 50/s from another process): with no
yield in a round, status GET p50/p99 59/140 ms; a yield every 4 turns 20/47 ms; every 2 turns 6/19 ms; every turn
3/12 ms. Throughput stayed within the run-to-run noise; each yield costs two loop iterations."""


async def _let_handlers_in() -> None:
    """Yield so that HTTP handlers whose requests are waiting run before the round's next turn.

    Two iterations, because one is not enough: a request read in the iteration where the engine resumes gets its
    handler task scheduled *behind* the engine's, so the engine would run more turns first."""
    await asyncio.sleep(0)
    await asyncio.sleep(0)


class Stalled(DevhostError):
    """``run_until`` found nothing left to run and no timer to skip to, with its condition still false."""


class Engine:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        registry: FunctionRegistry,
        settings: HostSettings,
        invoker: Invoker,
        *,
        notifier: Notifier | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        """Lifecycle notifications (host.json notifications.eventGrid): owed ones are committed with the turn."""
        self.clock = clock
        self.registry = registry
        self.settings = settings
        self.invoker = invoker
        invoker.on_change = self.notify
        self.decider = TurnDecider(store, clock, registry, settings, invoker, notifier)
        self.max_activities = max(1, settings.max_concurrent_activities)
        self.activities = Activities(store, clock, registry, invoker, self.max_activities, self.notify)
        self.max_orchestrations = max(1, settings.max_concurrent_orchestrations)
        """Turns per dispatch round (host.json maxConcurrentOrchestratorFunctions): after that many, the
        engine starts the activities they scheduled and lets HTTP handlers in before taking more."""
        self.time = TimeSkipper(clock, store, self.is_idle)
        self._unsubscribe: Unsubscribe | None = None
        self._entity_batches: dict[str, asyncio.Task[None]] = {}
        """Entity batches running, by scheduler id: one per entity at a time, so its operations run in order."""
        self._dispatched_at = clock.now()
        """When the last dispatch round looked for work: what was due then and not taken waits for a wake-up."""
        self._inside_invoker = 0
        """Entity batches inside the Invoker (activities count their own): the idle check counts just these."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._wake: asyncio.Event | None = None
        self._passed: asyncio.Condition | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._work = True
        """The store may hold work no round has looked at (set by :meth:`notify`): only then is a round run."""
        self._time_moved = False
        """The clock moved since the last round (set by :meth:`_clock_changed`): the loop asks the store whether
        that made a message visible."""
        self._dispatching = False
        """A round is running (not idle: it yields to HTTP handlers between a commit and starting its activities)."""
        self.turns = 0
        self._versions = itertools.count(1)
        self.version = 0
        """Changes whenever the store may have changed under the engine's eyes (a notice of new work, a committed
        round): a waiter may keep what it read from the store for as long as this stays the same."""
        self.store_retry_delay = 0.05
        """Seconds before the first retry after a store fault (doubled per fault in a row, capped at 2 s)."""

    # --- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._wake.set()
        self._passed = asyncio.Condition()
        self._unsubscribe = self.clock.subscribe(self._clock_changed)
        self._task = asyncio.create_task(self._run(), name="devhost-engine")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop dispatching; let running activities report for a moment, then abandon them.

        Every turn is already committed (turns are atomic); an abandoned activity keeps its work item and
        runs again on the next start.
        """
        self._stopping = True
        self.notify()
        if self._task is not None:
            await self._task
        if self.activities.tasks or self._entity_batches:
            # On a clock that moves only when told, nobody will advance it any more: sleepers would never wake.
            pending = set(self.activities.tasks.values()) | set(self._entity_batches.values())
            if not self.clock.can_skip:
                _, pending = await asyncio.wait(pending, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.activities.results:  # results reported after the last round: durable before we say we stopped
            try:
                self._commit_round([])
            except StoreUnavailable as exc:  # their work items stay: those activities run again on the next start
                unsaved = len(self.activities.results)
                log.warning("store unavailable at shutdown; %d activity results will run again: %s", unsaved, exc)
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def notify(self) -> None:
        """New work may be in the store. Safe from any thread."""
        self._work = True  # set before the wake-up: the loop clears the event first, then reads this
        self.version = next(self._versions)  # next() on a count is atomic: safe from any thread
        self._wake_loop()

    def _clock_changed(self) -> None:
        """The clock's news (a function fell asleep or woke, time moved). Safe from any thread: the loop decides
        whether time moving made a message visible (:meth:`_message_visible`); otherwise it re-checks idleness."""
        if self.clock.now() != self._dispatched_at:
            self._time_moved = True  # set before the wake-up, as notify() does with _work
        self._wake_loop()

    def _message_visible(self) -> bool:
        """Whether the clock has reached the store's next deliverable message (a timer, a delayed retry, an entity
        request). A skip to a sleeping function's deadline makes nothing visible: the function's own result
        wakes the loop when it comes, so no round runs in between (the store caches this answer until a write)."""
        visible_at = self.store.next_visible_at()
        return visible_at is not None and visible_at <= self.clock.now()

    def _wake_loop(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            wake.set()
        else:
            loop.call_soon_threadsafe(wake.set)

    # --- the dispatch loop ---------------------------------------------------------------------------
    async def _run(self) -> None:
        assert self._wake is not None and self._passed is not None
        faults = 0
        while not self._stopping:
            self._wake.clear()
            try:
                if self._time_moved:
                    self._time_moved = False
                    self._work = self._work or self._message_visible()
                if self._work:
                    self._work = False
                    try:
                        self._dispatching = True
                        again = await self._dispatch()
                    finally:
                        self._dispatching = False
                    if again:
                        self._work = True
                        faults = 0
                        continue
                if await self.time.skip_when_settled():
                    self._time_moved = True  # messages may be visible now
                    continue
                async with self._passed:
                    self._passed.notify_all()
                await self._wait()
                faults = 0
            except StoreUnavailable as exc:
                # Every store call is one transaction that rolled back: the turns' messages are still queued and
                # the round's activity results are kept (see _commit_round), so the next round simply runs again.
                self._work = True
                faults += 1
                await self._back_off(faults, "the dispatch loop", exc)

    async def _dispatch(self) -> bool:
        """One dispatch round: run every ready turn back to back, group-commit them with the activity results
        that came in, then start what activities and entity batches fit. True if another round should follow
        at once, because something may be ready now that this round did not see.

        Group commit (issue 8): the turns of a round and the activity results reported since the last round
        share one store transaction; nothing of them is acknowledged before it commits: activities the turns
        scheduled are read from the store after the commit, and HTTP handlers and status reads, which run
        between the round's turns, only ever see the store (a turn whose instance they purged or replaced
        meanwhile is dropped before the commit, with no ``await`` between that check and the commit).

        Activity results: a round's turns see those that came in since the last commit as if stored just before it
        (:func:`devhost.core.delivery.with_arriving`); its commit records each with the turn that consumed it. A
        round is followed at once only if its commit can have made something ready (:meth:`_made_ready`)."""
        self._dispatched_at = self.clock.now()
        ready = self.store.ready_instances(self._dispatched_at, limit=self.max_orchestrations)
        again = len(ready) >= self.max_orchestrations  # there may be more than one round's worth
        arriving = self.activities.arriving()
        if arriving and not again:
            # One that cannot take its result now (say, suspended) loads no turn: prepare() skips it.
            ready = [*ready, *(instance_id for instance_id in arriving if instance_id not in ready)][: self.max_orchestrations]
        self.decider.begin_round()
        lifecycle = self.store.lifecycle_version
        if ready and self.invoker.turns_off_loop:
            # Turns replay in worker processes: decide this round's turns side by side (one task per instance,
            # awaiting its replay on this loop), so FUNCTIONS_WORKER_PROCESS_COUNT workers use as many cores and
            # their pipes carry the round's contexts and replies in a few writes; the round still commits once.
            # Each task loads its turn and sends it at once (the tasks all start in one loop pass, so every turn is
            # loaded before any is decided, as before): the worker starts on the first while the rest are loaded.
            # A store fault in one turn fails the round only once every turn has finished: none is left running to
            # record its status in the next round's view of this one (TurnDecider.deciding) without being committed.
            remote = (self.decider.decide_remotely(i, arriving.get(i, ())) for i in ready)
            turns = []
            for result in await asyncio.gather(*remote, return_exceptions=True):
                if isinstance(result, BaseException):
                    raise result
                if result is not None:
                    turns.append(result)
            prepared, outcomes = [p for p, _ in turns], [o for _, o in turns]
            if any(o is None for o in outcomes):
                self.notify()  # a worker died mid-turn: the turn's messages wait in the store for the next round
        else:
            prepared, outcomes = [], []
            for instance_id in ready:
                if self._stopping:
                    break
                one = self.decider.prepare(instance_id, arriving.get(instance_id, ()))
                if one is None:
                    continue
                prepared.append(one)
                outcomes.append(self.decider.decided(one, self.decider.decide(one)))
                if len(prepared) % TURNS_BETWEEN_YIELDS == 0 and len(prepared) < len(ready):
                    await _let_handlers_in()
        # HTTP handlers ran while this round's turns were decided. They see only the store (nothing of this round
        # until it commits below), and a turn commits only the messages it loaded, so an event, terminate or
        # rewind sent meanwhile waits for the next turn. A turn whose instance was purged or replaced (purged,
        # then started again under the same id) meanwhile is dropped here, with no await before the commit.
        replaced = self.store.lifecycle_version != lifecycle
        decided = [o for p, o in zip(prepared, outcomes) if o is not None and (not replaced or self.decider.still_current(p))]
        self.decider.begin_round()
        if decided or self.activities.results:
            again = again or self._made_ready(decided)
            self._commit_round(decided)
        if self._stopping:
            return True
        await asyncio.sleep(0)  # let HTTP handlers in between rounds
        if not self._stopping:
            self.activities.start_waiting()
        free = self.max_activities - len(self._entity_batches)
        if free > 0 and not self._stopping:
            for entity_id in self.store.ready_entities(self._dispatched_at, free, exclude=list(self._entity_batches)):
                self._entity_batches[entity_id] = asyncio.create_task(self._run_entity_batch(entity_id))
        return again

    def _made_ready(self, decided: list[Decided]) -> bool:
        """Whether committing these turns and the results waiting can leave an instance ready at this round's time:
        a result no turn consumed is queued, a message the turns send (a 0 s timer, an event, a sub-orchestration's
        start, a continue-as-new's restart) is already visible, or a turn did not consume every message it loaded."""
        now = self._dispatched_at
        return self.activities.left_queued([commit for _, commit, _ in decided]) or any(
            len(commit.consumed_message_ids) != loaded or any(m.visible_at <= now for m in commit.new_messages)
            for _, commit, loaded in decided
        )

    def _commit_round(self, decided: list[Decided]) -> None:
        """One transaction for the round's turns and the activity results waiting; a turn the store rejects
        (a sub-orchestration id that became active meanwhile) is written nothing and runs again next round."""
        results = self.activities.take_results()
        try:
            outcomes = self.store.commit_group([commit for _, commit, _ in decided], results)
        except BaseException:
            self.activities.give_back(results)  # not durable: keep them for the next attempt
            raise
        self.version = next(self._versions)
        notified = False
        for (before, commit, _), rejected in zip(decided, outcomes):
            if rejected is None:
                self.turns += 1
                self.activities.committed(commit)
                notified = notified or bool(commit.notifications)
                log_outcome(before, commit)
            else:
                self.notify()  # its messages are still queued: decide it again against the committed state
        if notified and self.notifier is not None:
            self.notifier.wake()

    async def _wait(self) -> None:
        assert self._wake is not None
        if self.clock.can_skip:
            # Every move of this clock is announced (_clock_changed sets _work): no sleeper of our own is needed.
            await self._wake.wait()
            return
        next_at = self.store.next_visible_at()
        if next_at is not None and self._entity_batches and next_at <= self._dispatched_at:
            # Due requests nobody could take are those of entities whose batch is running (or of entities waiting
            # for a free batch slot): a batch's end wakes the loop; waiting on the clock would spin until then.
            next_at = None
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
        if next_at is not None:
            waits.append(asyncio.ensure_future(self.clock.sleep_until(next_at)))
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if waits[0] not in done:
                self._work = True  # the clock reached the next visible message
        finally:
            for waiter in waits:
                waiter.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    # --- turns ---------------------------------------------------------------------------------------
    async def _back_off(self, faults: int, what: str, exc: StoreUnavailable) -> None:
        """Log a store fault and wait before retrying (real time on the loop's timer, doubling up to 2 s: a full
        disk or a lock held by another program clears in wall-clock time, whatever the host's clock says)."""
        delay = min(self.store_retry_delay * 2 ** (faults - 1), 2.0)
        log.warning("store unavailable (attempt %d), retrying %s in %.2f s: %s", faults, what, delay, exc)
        await asyncio.sleep(delay)

    # --- entity batches ------------------------------------------------------------------------------
    async def _run_entity_batch(self, entity_id: str) -> None:
        try:
            commit = await entity_batches.run(self.store, self.clock, self.registry, self._invoke_entity, entity_id)
        finally:
            self._entity_batches.pop(entity_id, None)
        if commit is not None:
            self.store.commit_entity_batch(commit)
            self.notify()

    async def _invoke_entity(self, function: EntityFunction, payload: str) -> str:
        self._inside_invoker += 1  # counted for the idle check, like an activity in the Invoker
        try:
            return await self.invoker.call_entity(function, payload)
        finally:
            self._inside_invoker -= 1

    # --- idleness and time skipping ------------------------------------------------------------------
    def is_idle(self) -> bool:
        """Nothing runnable now, and every running function is asleep on the clock."""
        assert self._wake is not None
        running = len(self.activities.tasks) + len(self._entity_batches)
        if self._dispatching or self._wake.is_set() or running != self.activities.inside_invoker + self._inside_invoker:
            return False
        # A coroutine woken by a skip but not yet resumed (an HTTP request polling in
        # Management.wait_for_completion) is about to work: skipping again would jump past its next poll.
        if self.clock.waking:
            return False
        return self.invoker.running == self.clock.sleeping_functions

    async def run_until(self, condition: Condition, *, skip_time: bool = True, limit: datetime | None = None) -> None:
        """Return once ``condition()`` holds, skipping time while idle if ``skip_time`` (never past ``limit``).

        Raises :class:`Stalled` when the engine is idle with nothing scheduled and the condition is false
        (for example an orchestration waiting for an external event nobody will raise).
        """
        assert self._passed is not None
        with self.time.awaiting(condition, skip=skip_time, limit=limit):
            self.notify()
            while not condition():
                async with self._passed:
                    await self._passed.wait()
                if condition():
                    return
                if self._nothing_scheduled():
                    raise Stalled("nothing is running or scheduled, and the awaited condition is still false")

    async def advance_to(self, when: datetime) -> datetime:
        """Move time to ``when``, stopping at every deadline and message on the way and letting the host
        finish what each one starts; returns once time is there and the host is idle. Needs a clock that can skip.
        """
        if not self.clock.can_skip:
            raise TypeError("advance_to() needs a host on a clock that can skip (a VirtualClock)")
        await self.run_until(lambda: self.clock.now() >= when and self.is_idle(), limit=when)
        return self.clock.now()

    def _nothing_scheduled(self) -> bool:
        return self.is_idle() and not self.activities.tasks and not self._entity_batches and self.time.nothing_ahead()
