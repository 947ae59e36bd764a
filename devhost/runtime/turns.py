"""Deciding orchestration turns for the engine: load a ready instance's turn, wrap its orchestrator for this host
(the in-process handle or a worker process's replay, trace context, whether it ran), decide it with the pure core
(:func:`devhost.core.turn.decide_turn`, or its steps awaited on the loop when a worker replays), and complete the
commit for the round's group commit (trace context for new children, owed lifecycle notifications, and the
statuses later turns of the round must already see).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence

from devhost.clock import Clock
from devhost.core.delivery import with_arriving
from devhost.core.errors import TurnAborted
from devhost.core.model import Message, RuntimeStatus, Turn, TurnCommit
from devhost.core.turn import TurnEnv, decide_turn, decide_turn_steps
from devhost.runtime import loglevels
from devhost.runtime.config import HostSettings
from devhost.runtime.invoker import Invoker
from devhost.runtime.notifications import Notifier
from devhost.runtime.registry import FunctionRegistry
from devhost.runtime.tracing import attached, worker_attaches_context
from devhost.store.base import Store

log = logging.getLogger("devhost.engine")


class PreparedTurn:
    """A loaded turn, its environment, and whether the orchestrator ran (for the lifecycle notifications)."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.env: TurnEnv | None = None
        self.ran = False
        self.remote: Callable[[str], Awaitable[str]] | None = None
        """The replay in a worker process (:meth:`Invoker.remote_orchestrator`), or None: it runs in this process."""
        self.trace: tuple[str | None, str | None] = (None, None)


Decided = tuple[RuntimeStatus, TurnCommit, int]
"""A decided, not yet committed turn: the status it started from, what it writes, how many messages it loaded."""


class TurnDecider:
    """Prepares and decides turns; the engine runs it once per ready instance in a dispatch round."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        registry: FunctionRegistry,
        settings: HostSettings,
        invoker: Invoker,
        notifier: Notifier | None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.registry = registry
        self.settings = settings
        self.invoker = invoker
        self.notifier = notifier
        self.attach_trace = worker_attaches_context()
        self.replay_settings = settings.replay_settings()
        self.deciding: dict[str, RuntimeStatus] = {}
        """Statuses the turns decided so far in this round will write (their instances and new children)."""

    def begin_round(self) -> None:
        self.deciding = {}

    def prepare(self, instance_id: str, arriving: Sequence[tuple[int, Message]] = ()) -> PreparedTurn | None:
        """Load the instance's turn with the orchestrator wrapped for this host (trace context, lifecycle), or None
        when nothing is deliverable to it any more. ``arriving``: its activity results not stored yet, delivered
        as if they were (:func:`devhost.core.delivery.with_arriving`)."""
        now = self.clock.now()
        turn = self.store.load_turn(instance_id, now)
        if turn is None:
            return None
        if arriving:
            instance = turn.instance
            turn.messages = with_arriving(instance.runtime_status, instance.execution_id, turn.messages, arriving, now)
        if not turn.messages:
            return None
        function = self.registry.orchestrators.get(turn.instance.name)
        prepared = PreparedTurn(turn)
        trace = (turn.instance.trace_parent, turn.instance.trace_state) if self.attach_trace else (None, None)
        handle = self.invoker.orchestrator_handle(function, trace=trace) if function else None
        prepared.remote = self.invoker.remote_orchestrator(function, trace=trace) if function else None
        prepared.trace = trace

        def orchestrator(context_json: str) -> str:
            prepared.ran = True
            assert handle is not None
            with attached(*trace):  # the worker's configure_opentelemetry (devhost.runtime.tracing)
                return handle(context_json)

        prepared.env = TurnEnv(
            now=now,
            orchestrator=orchestrator if function else None,
            known_orchestrators=self.registry.orchestrators.keys(),
            new_id=lambda: uuid.uuid4().hex,
            settings=self.replay_settings,
            default_version=self.settings.default_version,
            known_entities=self.registry.entities.keys(),
            versioning=self.settings.versioning,
            is_active=self.is_active,
        )
        return prepared

    @staticmethod
    def decide(prepared: PreparedTurn) -> TurnCommit:
        assert prepared.env is not None
        with loglevels.running_function(prepared.turn.instance.name):  # the app's log lines: Function.<name>.User
            return decide_turn(prepared.turn, prepared.env)

    @staticmethod
    async def decide_remote(prepared: PreparedTurn) -> TurnCommit:
        """:meth:`decide`, with the replay awaited from a worker process on the host's loop (no thread per turn).
        A worker that dies mid-turn raises TurnAborted out of here: nothing of the turn is kept, and it runs again."""
        assert prepared.env is not None
        remote = prepared.remote
        if remote is None:  # not replayed in a worker (a test's stub of the orchestrator): as in-process
            return TurnDecider.decide(prepared)
        steps = decide_turn_steps(prepared.turn, prepared.env)
        # Each turn runs in a task of its own (the engine gathers them), so the context variables set here (the
        # log lines' function, the trace context) hold for this turn alone across the await.
        with loglevels.running_function(prepared.turn.instance.name):
            try:
                context = next(steps)
                while True:
                    prepared.ran = True
                    try:
                        with attached(*prepared.trace):
                            reply = await remote(context)
                    except Exception as exc:  # the SDK's failure text (or TurnAborted): the steps word it
                        context = steps.throw(exc)
                    else:
                        context = steps.send(reply)
            except StopIteration as done:
                commit: TurnCommit = done.value
                return commit

    async def decide_remotely(
        self, instance_id: str, arriving: Sequence[tuple[int, Message]] = ()
    ) -> tuple[PreparedTurn, Decided | None] | None:
        """:meth:`prepare` and :meth:`decide_remote` the instance's turn, completed for the group commit (:meth:`decided`).
        None when nothing is deliverable to it; no Decided when its worker died mid-turn (TurnAborted: nothing was
        committed, its messages wait in the store and the next round runs the turn again)."""
        prepared = self.prepare(instance_id, arriving)
        if prepared is None:
            return None
        try:
            commit = await self.decide_remote(prepared)
        except TurnAborted as exc:
            log.warning("turn of %s aborted and retried: %s", instance_id, exc)
            return prepared, None
        return prepared, self.decided(prepared, commit)

    def still_current(self, prepared: PreparedTurn) -> bool:
        """Whether the instance a turn was loaded from is still the stored one: not purged, not replaced by a new
        instance of the same id (another execution or creation time). A turn decided while HTTP handlers could run
        (between a round's turns, or while a worker process replays) must not be applied to its successor; the
        successor's own messages run it afresh. The engine asks only when the store's lifecycle_version moved."""
        loaded = prepared.turn.instance
        stored = self.store.get_instance(loaded.instance_id)
        if stored is not None and (stored.execution_id, stored.created_time) == (loaded.execution_id, loaded.created_time):
            return True
        log.info("turn of %s dropped: the instance was purged or replaced while it was decided", loaded.instance_id)
        return False

    def decided(self, prepared: PreparedTurn, commit: TurnCommit) -> Decided:
        """Complete a decided turn for the group commit: trace context, owed notifications, and what later turns
        of this round must see of it (as if it had committed already)."""
        turn = prepared.turn
        for child in commit.new_instances:  # sub-orchestrations continue their parent's trace
            child.trace_parent, child.trace_state = turn.instance.trace_parent, turn.instance.trace_state
        if self.notifier is not None:
            commit.notifications = self.notifier.owed(turn, commit, orchestrator_ran=prepared.ran)
        self.deciding[commit.instance.instance_id] = commit.instance.runtime_status
        for child in commit.new_instances:
            self.deciding[child.instance_id] = child.runtime_status
        return turn.instance.runtime_status, commit, len(turn.messages)

    def is_active(self, instance_id: str) -> bool:
        """Whether an instance exists and has not finished, counting what this round's decided turns will write."""
        status = self.deciding.get(instance_id)
        if status is not None:
            return not RuntimeStatus(status).is_terminal
        instance = self.store.get_instance(instance_id)
        return instance is not None and not instance.runtime_status.is_terminal


def log_outcome(before: RuntimeStatus, commit: TurnCommit) -> None:
    """One log line when a committed turn changed the instance's runtime status."""
    instance = commit.instance
    after = instance.runtime_status
    if after == before:
        return
    extra = {"instance_id": instance.instance_id, "orchestration": instance.name}
    if after is RuntimeStatus.FAILED:
        log.warning("%s (%s) failed: %s", instance.name, instance.instance_id, instance.output, extra=extra)
    else:
        log.info("%s (%s) is %s", instance.name, instance.instance_id, after.value, extra=extra)
