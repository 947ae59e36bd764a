"""One orchestration turn, decided purely: stored history + deliverable messages in, a TurnCommit out.

The orchestrator itself (the SDK's ``handle``) is a function of JSON text; everything else here is
bookkeeping on plain data. :func:`decide_turn_steps` is the turn as steps around that one call: it yields
the context JSON to replay and takes the SDK's reply (or has the SDK's exception thrown in), so a host whose
replay runs elsewhere (a language-worker process) can await it without blocking anything; :func:`decide_turn`
drives it with ``env.orchestrator`` in-process. The engine loads a Turn, decides it, and commits the result in
one transaction. This module chooses what an episode delivers, runs the orchestrator, checks its
replayed actions against the cursor and ends the execution; what new actions schedule is
:mod:`devhost.core.effects`.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Collection, Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from devhost.core import events
from devhost.core.actions import ActionType, describe, flatten, signature
from devhost.core.context import ReplaySettings, build_context, mark_played
from devhost.core.cursor import Cursor
from devhost.core.effects import Effects, EpisodeFailure
from devhost.core.errors import TurnAborted
from devhost.core.lifecycle import control, notify_parent_failed, terminate
from devhost.core.model import EventType, HistoryEvent, Instance, Message, RuntimeStatus, Turn, TurnCommit
from devhost.core.protocol import NON_DETERMINISM_MARK, OUT_OF_PROC_LABEL
from devhost.core.rewind import rewind
from devhost.core.versioning import Versioning, refuse

CUSTOM_STATUS_LIMIT_KB = 16
"""The extension's ``MaxCustomStatusPayloadSizeInKB`` (DurableOrchestrationContext.cs, SetCustomStatus, line 226)."""

CONTROL_EVENTS = (EventType.EXECUTION_SUSPENDED, EventType.EXECUTION_RESUMED, EventType.EXECUTION_REWOUND)


@dataclass(frozen=True)
class TurnEnv:
    """What a turn needs from outside: the time, the orchestrator code, and an id source."""

    now: datetime
    orchestrator: Callable[[str], str] | None
    known_orchestrators: Collection[str]
    new_id: Callable[[], str]
    settings: ReplaySettings = ReplaySettings()
    default_version: str = ""
    known_entities: Collection[str] | None = None
    """Registered entity names (lower-cased) an entity action may address; None: any (no registry at hand)."""
    versioning: Versioning | None = None
    """The worker's versioning (host.json); None runs every version."""
    is_active: Callable[[str], bool] = lambda _instance_id: False
    """Whether an instance of that id exists and has not finished (for sub-orchestration id collisions)."""


TurnSteps = Generator[str, str, TurnCommit]
"""A turn's steps: yields the context JSON the orchestrator must replay, is sent the SDK's state JSON (or has its
exception thrown in: the SDK's failure channel, or TurnAborted to give the turn up), returns the commit."""


def decide_turn(turn: Turn, env: TurnEnv) -> TurnCommit:
    """The turn, its orchestrator called in-process (``env.orchestrator``)."""
    steps = decide_turn_steps(turn, env)
    try:
        context = next(steps)
        while True:
            assert env.orchestrator is not None  # the steps ask for a replay only when there is an orchestrator
            try:
                reply = env.orchestrator(context)
            except Exception as exc:  # the SDK's failure channel: the steps word it
                context = steps.throw(exc)
            else:
                context = steps.send(reply)
    except StopIteration as done:
        commit: TurnCommit = done.value
        return commit


def decide_turn_steps(turn: Turn, env: TurnEnv) -> TurnSteps:
    """The turn as steps around its replay (see :data:`TurnSteps`); the caller runs the orchestrator."""
    instance = turn.instance.copy()  # the turn's own copy to change
    messages = turn.messages
    if not messages:
        return TurnCommit(instance=instance)
    if instance.runtime_status is RuntimeStatus.FAILED and messages[0].event["EventType"] == EventType.EXECUTION_REWOUND:
        commit, _ = rewind(turn, messages[0], env.now)
        return commit
    if instance.runtime_status.is_terminal:
        # Late activity results, timers or events for a finished instance: nothing will read them.
        return TurnCommit(instance=instance, consumed_message_ids=[m.id for m in messages if m.id is not None])
    if env.versioning is not None and not env.versioning.accepts(instance.version):
        return refuse(instance, messages, env.versioning, env.now)
    terminate_message = next((m for m in messages if m.event["EventType"] == EventType.EXECUTION_TERMINATED), None)
    if terminate_message is not None:
        return terminate(instance, messages, terminate_message, env.now)
    if messages[0].event["EventType"] in CONTROL_EVENTS:
        return control(instance, messages[0], env.now, started=bool(turn.history_json))
    return (yield from _Episode(turn, instance, env).run())


class _Episode:
    """Runs the orchestrator once over history + new events and turns its actions into a commit."""

    def __init__(self, turn: Turn, instance: Instance, env: TurnEnv) -> None:
        self.turn = turn
        self.instance = instance
        self.env = env
        self.now = env.now
        self.cursor = Cursor.loads(instance.cursor)
        self.commit = TurnCommit(instance=instance)
        self.effects = Effects(
            instance,
            self.cursor,
            self.commit,
            now=env.now,
            new_id=env.new_id,
            known_orchestrators=env.known_orchestrators,
            default_version=env.default_version,
            known_entities=env.known_entities,
            is_active=env.is_active,
        )

    # --- choosing what to deliver ---------------------------------------------------------------------
    def _batch(self) -> list[Message]:
        """The messages this episode delivers.

        A retryable failure or a retry timer makes the SDK take a hidden sequence id while it processes
        that event, before the orchestrator resumes; delivering it alone, first in its episode, lets the
        host know that id is the counter at the start of the episode (§1.11).
        """
        batch: list[Message] = []
        started = bool(self.turn.history_json)
        for message in self.turn.messages:
            kind = message.event["EventType"]
            if kind in CONTROL_EVENTS:
                break
            if kind == EventType.EXECUTION_STARTED:
                if started:
                    if message.id is not None:
                        self.commit.consumed_message_ids.append(message.id)  # a duplicate start: drop it
                    continue
                batch.insert(0, message)
                started = True
                continue
            if self._is_retry_event(message):
                if not batch:
                    batch.append(message)
                break
            batch.append(message)
        if not started:
            return []
        return batch

    def _is_retry_event(self, message: Message) -> bool:
        event = message.event
        kind = event["EventType"]
        if kind in (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED):
            return self.cursor.retry_for_task(event.get("TaskScheduledId")) is not None
        if kind == EventType.TIMER_FIRED:
            return self.cursor.retry_for_timer(event.get("TimerId")) is not None
        return False

    # --- the episode ---------------------------------------------------------------------------------
    def run(self) -> TurnSteps:
        batch = self._batch()
        if not batch:
            return self.commit
        self.commit.consumed_message_ids.extend(m.id for m in batch if m.id is not None)
        delivered = [dict(m.event, IsPlayed=False) for m in batch if self._deliverable(m)]
        new_events = [events.orchestrator_started(self.now)] + delivered
        for message in batch:
            self.effects.before_replay(message)
        try:
            state = yield from self._execute(new_events)
            # The SDK re-emits every action so far: flatten once per episode, for both uses below.
            flat = flatten(state.get("actions") or [])
            self._apply_actions(flat, state)
            status_text = _custom_status_text(state)
            _check_custom_status(status_text)
        except EpisodeFailure as failure:
            return self._fail(
                new_events, str(failure), state=getattr(failure, "state", None), stack=getattr(failure, "stack", None)
            )
        self.instance.custom_status = self._custom_status(status_text)
        continue_as_new = next((a for a in flat if a.get("actionType") == ActionType.CONTINUE_AS_NEW), None)
        if state.get("isDone") and continue_as_new is not None:
            return self._continue_as_new(new_events, continue_as_new)
        if state.get("isDone"):
            return self._complete(new_events, state)
        self.instance.runtime_status = RuntimeStatus.RUNNING
        return self._finish(new_events)

    def _custom_status(self, text: str | None) -> str | None:
        if text is None and not self.turn.history_json:
            # The first episode of an execution that sets no status keeps the one it inherited: DTFx runs a
            # continued-as-new execution's first episode in the same work item and stores
            # ``Status ?? carryOverStatus`` (TaskOrchestrationDispatcher). A fresh instance has none to keep.
            return self.instance.custom_status
        return text

    def _deliverable(self, message: Message) -> bool:
        event = message.event
        if event["EventType"] == EventType.TIMER_FIRED:
            timer_id = event.get("TimerId")
            return timer_id in self.cursor.open_timers or self.cursor.retry_for_timer(timer_id) is not None
        return True

    def _execute(self, new_events: list[HistoryEvent]) -> Generator[str, str, dict[str, Any]]:
        if self.env.orchestrator is None:
            raise EpisodeFailure(
                f"The function '{self.instance.name}' doesn't exist, is disabled, or is not an orchestrator function."
            )
        context = build_context(self.instance, self.turn.history_json, new_events, self.env.settings)
        try:
            state: dict[str, Any] = json.loads((yield context))
            return state
        except TurnAborted:
            raise  # not the orchestrator's failure: the host retries the turn
        except Exception as exc:  # the SDK's failure channel (§1.9), not an error of the host
            message = str(exc)
            head, label, tail = message.partition(OUT_OF_PROC_LABEL)
            failure = EpisodeFailure(head)
            if label:
                try:
                    state = json.loads(tail)
                    failure = EpisodeFailure(state.get("error") or head)
                    failure.state = state  # type: ignore[attr-defined]
                except ValueError:
                    pass
            failure.stack = stack_text(exc)  # type: ignore[attr-defined]
            raise failure from exc

    # --- actions -------------------------------------------------------------------------------------
    def _apply_actions(self, flat: list[dict[str, Any]], state: dict[str, Any]) -> None:
        seen = self.cursor.seen
        for position, action in enumerate(flat[: len(seen)]):
            # A timer's later isCanceled changes nothing here: its TimerFired is delivered all the same.
            expected, _ = seen[position]
            actual = signature(action)
            if actual != expected:
                raise EpisodeFailure(_non_determinism(position, expected, actual))
        if len(flat) < len(seen) and not state.get("isDone"):
            raise EpisodeFailure(_non_determinism(len(flat), seen[len(flat)][0], None))
        for action in flat[len(seen) :]:
            self.effects.new_action(action)

    # --- outcomes ------------------------------------------------------------------------------------
    def _finish(self, new_events: list[HistoryEvent], *closing: HistoryEvent) -> TurnCommit:
        self.instance.last_updated_time = self.now
        self.instance.cursor = self.cursor.dumps()
        history = new_events + self.effects.scheduled + list(closing) + [events.orchestrator_completed(self.now)]
        self.commit.new_history = mark_played(history)
        return self.commit

    def _complete(self, new_events: list[HistoryEvent], state: dict[str, Any]) -> TurnCommit:
        output = json.dumps(state["output"]) if "output" in state else None
        self.instance.runtime_status = RuntimeStatus.COMPLETED
        self.instance.output = output
        self.commit.clear_pending = True
        if self.instance.parent_instance_id is not None and self.instance.parent_task_id is not None:
            done = events.sub_orchestration_completed(self.now, self.instance.parent_task_id, output)
            self.commit.new_messages.append(
                Message(self.instance.parent_instance_id, done, self.now, self.instance.parent_execution_id)
            )
        return self._finish(new_events, events.execution_completed(self.now, RuntimeStatus.COMPLETED, output))

    def _fail(
        self, new_events: list[HistoryEvent], error: str, state: dict[str, Any] | None, stack: str | None = None
    ) -> TurnCommit:
        message = f"Orchestrator function '{self.instance.name}' failed: {error}"
        # The parent's SubOrchestrationInstanceFailed carries this Reason and, as Details, the extension's
        # "Message: {execution.Error}, StackTrace: {...}" (OutOfProcOrchestrationShim.cs line 87; DTFx
        # TaskOrchestrationDispatcher.cs line 1104 copies both, IncludeDetails being set by DurableTaskExtension.cs
        # line 1438). The real stack text is the host's .NET frames; devhost gives the Python frames of the error.
        details = f"Message: {error}, StackTrace: {stack or ''}"
        # Drop what this episode scheduled: a failed orchestration runs nothing more.
        self.commit.new_activities.clear()
        self.commit.new_instances.clear()
        self.commit.new_entity_messages.clear()
        self.commit.new_messages = notify_parent_failed(self.instance, self.now, message, details)
        self.effects.scheduled.clear()
        self.instance.runtime_status = RuntimeStatus.FAILED
        self.instance.output = json.dumps(message)
        if state is not None:
            self.instance.custom_status = _custom_status_text(state)
        self.commit.clear_pending = True
        return self._finish(new_events, events.execution_completed(self.now, RuntimeStatus.FAILED, self.instance.output, message))

    def _continue_as_new(self, new_events: list[HistoryEvent], action: dict[str, Any]) -> TurnCommit:
        input_text = action.get("input")
        execution_id = self.env.new_id()
        self.instance.execution_id = execution_id
        self.instance.input = None if input_text is None else json.dumps(input_text)
        self.instance.runtime_status = RuntimeStatus.CONTINUED_AS_NEW
        self.instance.output = None
        self.instance.last_updated_time = self.now
        self.instance.cursor = Cursor().dumps()
        start = events.execution_started(
            self.now,
            instance_id=self.instance.instance_id,
            execution_id=execution_id,
            name=self.instance.name,
            input_text=input_text,
            version=self.instance.version,
            parent_instance_id=self.instance.parent_instance_id,
            parent_execution_id=self.instance.parent_execution_id,
            parent_task_id=self.instance.parent_task_id,
        )
        # Anything the old execution scheduled in this episode belongs to it and is dropped with it.
        # Entity requests are messages to other instances: DTFx sends an episode's SendEvent messages even when it
        # continues as new (Azure/durabletask 5217032, TaskOrchestrationDispatcher.cs: orchestratorMessages filled
        # at 516-519, sent at 717 after the continue-as-new loop), so an eternal orchestration's signals arrive.
        self.commit.new_activities.clear()
        self.commit.new_instances.clear()
        self.commit.new_messages = [Message(self.instance.instance_id, start, self.now, execution_id)]
        self.commit.replace_history = True
        self.commit.new_history = []
        return self.commit


def _check_custom_status(text: str | None) -> None:
    """Fail the episode as the extension's ``MessagePayloadDataConverter.Serialize`` does (lines 60-72): the
    size is the UTF-16 byte count of the compact JSON (Newtonsoft ``Formatting.None``, non-ASCII unescaped),
    in whole KB rounded down, so only 17 KB (17,408 bytes) and more is refused; the message is its own."""
    # ``text`` is json.dumps' ASCII form: the compact form has at most as many UTF-16 units as it has characters (an
    # escape \uXXXX becomes one unit, a surrogate pair's two escapes two), so a short text needs no re-encoding.
    if text is not None and len(text) * 2 // 1024 > CUSTOM_STATUS_LIMIT_KB:
        compact = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
        size_kb = len(compact.encode("utf-16-le")) // 1024  # (int)(GetByteCount(json) / 1024.0)
        if size_kb > CUSTOM_STATUS_LIMIT_KB:
            raise EpisodeFailure(
                f"The UTF-16 size of the JSON-serialized payload must not exceed {CUSTOM_STATUS_LIMIT_KB:,} KB. "
                f"The current payload size is {size_kb:,} KB."
            )


def stack_text(exc: BaseException) -> str:
    """The frames (no message line, as .NET's ``Exception.StackTrace``) of the orchestrator's own error: the SDK
    raises its labelled exception ``from`` the user's one. An error replayed in a language-worker process carries
    the text of its frames there as ``stack_text``."""
    remote = getattr(exc, "stack_text", None)
    if isinstance(remote, str):
        return remote
    error = exc.__cause__ or exc
    return "".join(traceback.format_tb(error.__traceback__)).rstrip("\n")


def _custom_status_text(state: dict[str, Any] | None) -> str | None:
    if not state or "customStatus" not in state:
        return None
    return json.dumps(state["customStatus"])


def _non_determinism(position: int, expected: str | None, actual: str | None) -> str:
    return (
        f"{NON_DETERMINISM_MARK}: action #{position} of this execution's history is "
        f"{describe(expected)}, but the current orchestrator code scheduled {describe(actual)}. "
        "Was a change made to the orchestrator code after this instance had already started running?"
    )
