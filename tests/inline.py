"""Orchestrations run inline on devhost's real pieces, for tests that want no event loop, HTTP or engine.

:class:`InlineHost` loads each turn from a :class:`~devhost.store.memory.MemoryStore`, lets the pure core
decide it (:func:`devhost.core.turn.decide_turn`, the real SDK ``handle`` as the orchestrator), commits the
result to the store, and runs the activities the turn scheduled at once through the real
:class:`~devhost.runtime.invoker.Invoker`. Time stands still unless nothing is deliverable, then it jumps to
the next message (a timer). Everything the protocol says (event shapes, delivery, cancellation, failure
texts) comes from those pieces; this module only sequences them and keeps a record for assertions.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

from devhost.clock import RealClock
from devhost.core import events
from devhost.core.model import ActivityWorkItem, HistoryEvent, Instance, InstanceQuery, Message, RuntimeStatus, TurnCommit
from devhost.core.protocol import OUT_OF_PROC_LABEL
from devhost.core.results import activity_failure, activity_result
from devhost.core.turn import TurnEnv, decide_turn
from devhost.runtime.invoker import ActivityFailed, Invoker
from devhost.runtime.registry import ActivityFunction
from devhost.store.memory import MemoryStore

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
_END_OF_TIME = datetime.max.replace(tzinfo=timezone.utc)
_invoker: Invoker | None = None


class TimeSource(Protocol):
    """What the host needs of time: read it, and jump forward to the next message."""

    def now(self) -> datetime: ...

    def advance_to(self, moment: datetime) -> None: ...


class ManualTime:
    """Time that moves only when the host jumps to the next message."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        self._now = max(self._now, moment)


def activity(name: str, fn: Callable[..., Any]) -> ActivityFunction:
    """A plain function of one argument as the registry holds an activity (its parameter is the input)."""
    input_name = next(iter(inspect.signature(fn).parameters))
    return ActivityFunction(name, fn, input_name)


def orchestrator_handles(app: Any) -> dict[str, Callable[[str], str]]:
    """The SDK ``handle`` of every orchestrator of a ``DFApp`` (``get_functions()`` works once per app)."""
    out = {}
    for function in app.get_functions():
        if function.get_trigger().get_binding_name() == "orchestrationTrigger":
            out[function.get_function_name()] = function.get_user_function()
    return out


def shared_invoker() -> Invoker:
    """One Invoker for every InlineHost of the test session (its daemon threads are reused)."""
    global _invoker
    if _invoker is None:
        _invoker = Invoker(RealClock())
    return _invoker


@dataclass
class Generation:
    """One execution of an instance that continued as new: its instance row and history at the end."""

    instance: Instance
    history: list[HistoryEvent]


class InlineHost:
    """Runs orchestrations turn by turn on the real core, store and invoker (see the module docstring)."""

    def __init__(
        self,
        orchestrators: dict[str, Callable[[str], str]],
        activities: dict[str, ActivityFunction],
        time: TimeSource | None = None,
    ) -> None:
        self.orchestrators = orchestrators
        self.activities = activities
        self.time: TimeSource = time or ManualTime()
        self.store = MemoryStore()
        self._ids = itertools.count(1)
        # What happened, for assertions:
        self.episodes: list[tuple[str, str]] = []
        """(context JSON, state JSON) of every orchestrator call; for a failed one the state after the SDK's label."""
        self.activity_calls: list[tuple[str, str | None]] = []
        self.commits: list[TurnCommit] = []
        self.generations: list[Generation] = []
        """Executions that ended in continue-as-new, in order (the current one is not among them)."""

    @property
    def now(self) -> datetime:
        return self.time.now()

    # --- acting on instances ---------------------------------------------------------------------------
    def start(self, name: str, input_value: Any = None, instance_id: str = "i1") -> str:
        """Start ``name`` as the SDK client does: the input JSON-encoded twice (the body holds its text)."""
        now = self.now
        execution_id = f"e{next(self._ids)}"
        text = None if input_value is None else json.dumps(json.dumps(input_value))
        instance = Instance(instance_id, name, execution_id, RuntimeStatus.PENDING, now, now, input=text)
        start = events.execution_started(now, instance_id=instance_id, execution_id=execution_id, name=name, input_text=text)
        self.store.create_instance(instance, Message(instance_id, start, now, execution_id))
        return instance_id

    def raise_event(self, instance_id: str, name: str, data: Any) -> None:
        self.send(Message(instance_id, events.event_raised(self.now, name, json.dumps(data)), self.now))

    def send(self, message: Message) -> None:
        self.store.send_message(message)

    # --- running -----------------------------------------------------------------------------------------
    def turn(self, instance_id: str) -> TurnCommit:
        """One turn of ``instance_id`` at the current time, then the activities it scheduled."""
        turn = self.store.load_turn(instance_id, self.now)
        assert turn is not None, f"no instance {instance_id!r}"
        env = TurnEnv(
            now=self.now,
            orchestrator=self._recorded(self.orchestrators.get(turn.instance.name)),
            known_orchestrators=self.orchestrators.keys(),
            new_id=lambda: f"x{next(self._ids)}",
        )
        commit = decide_turn(turn, env)
        if commit.replace_history:
            self.generations.append(Generation(turn.instance, turn.history))
        self.commits.append(commit)
        self.store.commit_turn(commit)
        for item in self.store.pending_activities(1000):
            self._run_activity(item)
        return commit

    def run(self, max_turns: int = 500) -> None:
        """Run turns until nothing is deliverable, skipping time to the next message."""
        for _ in range(max_turns):
            ready = self.store.ready_instances(self.now, 1000)
            if ready:
                for instance_id in ready:
                    self.turn(instance_id)
                continue
            next_at = self.store.next_visible_at()
            if next_at is None:
                return
            self.time.advance_to(next_at)
        raise AssertionError("did not settle")

    # --- reading -----------------------------------------------------------------------------------------
    def history(self, instance_id: str = "i1") -> list[HistoryEvent]:
        return self.store.get_history(instance_id)

    def status(self, instance_id: str = "i1") -> Instance:
        instance = self.store.get_instance(instance_id)
        assert instance is not None, f"no instance {instance_id!r}"
        return instance

    @property
    def instances(self) -> dict[str, Instance]:
        found: dict[str, Instance] = {}
        token: str | None = None
        while True:
            page, token = self.store.query_instances(InstanceQuery(continuation_token=token))
            found.update((i.instance_id, i) for i in page)
            if token is None:
                return found

    @property
    def messages(self) -> list[Message]:
        """Every message still queued that some turn could receive."""
        turns = [self.store.load_turn(instance_id, _END_OF_TIME) for instance_id in self.instances]
        return [m for turn in turns if turn is not None for m in turn.messages]

    # --- helpers -----------------------------------------------------------------------------------------
    def _recorded(self, handle: Callable[[str], str] | None) -> Callable[[str], str] | None:
        if handle is None:
            return None

        def call(context: str) -> str:
            try:
                state = handle(context)
            except Exception as exc:  # the SDK's failure channel: the state follows its label
                self.episodes.append((context, str(exc).partition(OUT_OF_PROC_LABEL)[2]))
                raise
            self.episodes.append((context, state))
            return state

        return call

    def _run_activity(self, item: ActivityWorkItem) -> None:
        self.activity_calls.append((item.name, item.input))
        fn = self.activities[item.name]  # a test that schedules an unknown activity has a bug: fail loudly
        try:
            result = asyncio.run(shared_invoker().call_activity(fn, item.input))
        except ActivityFailed as failure:
            message = activity_failure(item, self.now, failure.reason, failure.details)
        else:
            message = activity_result(item, self.now, result)
        assert item.id is not None
        self.store.complete_activity(item.id, message)
