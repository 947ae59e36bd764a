"""One orchestration turn, decided purely: stored history + deliverable messages in, a TurnCommit out.

The orchestrator itself (the SDK's ``handle``) is passed in as a function of JSON text; everything else
here is bookkeeping on plain data. The engine loads a Turn, calls :func:`decide_turn`, and commits the
result in one transaction.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Collection, Dict, List, Optional

from dateutil import parser as dateparser

from devhost.core import events
from devhost.core.actions import WITHOUT_SEQUENCE_ID, ActionType, RetryOptions, describe, flatten, signature
from devhost.core.context import ReplaySettings, build_context, mark_played
from devhost.core.cursor import Cursor, RetryState
from devhost.core.lifecycle import control, notify_parent_failed, terminate
from devhost.core.rewind import rewind
from devhost.core.model import (
    ActivityWorkItem,
    EventType,
    HistoryEvent,
    Instance,
    Message,
    RuntimeStatus,
    Turn,
    TurnCommit,
)
from devhost.core.protocol import HTTP_ACTIVITY_NAME, NON_DETERMINISM_MARK, OUT_OF_PROC_LABEL

CUSTOM_STATUS_LIMIT_BYTES = 16 * 1024
"""The extension rejects custom status whose UTF-16 JSON exceeds 16 KB."""

CONTROL_EVENTS = (EventType.EXECUTION_SUSPENDED, EventType.EXECUTION_RESUMED, EventType.EXECUTION_REWOUND)


@dataclass(frozen=True)
class TurnEnv:
    """What a turn needs from outside: the time, the orchestrator code, and an id source."""

    now: datetime
    orchestrator: Optional[Callable[[str], str]]
    known_orchestrators: Collection[str]
    new_id: Callable[[], str]
    settings: ReplaySettings = ReplaySettings()
    default_version: str = ""


class _Failure(Exception):
    """The orchestration fails this turn with ``message`` (already in the extension's wording)."""


def decide_turn(turn: Turn, env: TurnEnv) -> TurnCommit:
    instance = copy.copy(turn.instance)  # the turn's own copy to change (dataclasses.replace is slower)
    messages = turn.messages
    if not messages:
        return TurnCommit(instance=instance)
    if instance.runtime_status is RuntimeStatus.FAILED and messages[0].event["EventType"] == EventType.EXECUTION_REWOUND:
        commit, _ = rewind(turn, messages[0], env.now)
        return commit
    if instance.runtime_status.is_terminal:
        # Late activity results, timers or events for a finished instance: nothing will read them.
        return TurnCommit(instance=instance, consumed_message_ids=[m.id for m in messages if m.id is not None])
    terminate_message = next((m for m in messages if m.event["EventType"] == EventType.EXECUTION_TERMINATED), None)
    if terminate_message is not None:
        return terminate(instance, messages, terminate_message, env.now)
    if messages[0].event["EventType"] in CONTROL_EVENTS:
        return control(instance, messages[0], env.now, started=bool(turn.history_json))
    return _Episode(turn, instance, env).run()


class _Episode:
    """Runs the orchestrator once over history + new events and turns its actions into a commit."""

    def __init__(self, turn: Turn, instance: Instance, env: TurnEnv) -> None:
        self.turn = turn
        self.instance = instance
        self.env = env
        self.now = env.now
        self.cursor = Cursor.loads(instance.cursor)
        self.scheduled: List[HistoryEvent] = []
        self.commit = TurnCommit(instance=instance)

    # --- choosing what to deliver ---------------------------------------------------------------------
    def _batch(self) -> List[Message]:
        """The messages this episode delivers.

        A retryable failure or a retry timer makes the SDK take a hidden sequence id while it processes
        that event, before the orchestrator resumes; delivering it alone, first in its episode, lets the
        host know that id is the counter at the start of the episode (§1.11).
        """
        batch: List[Message] = []
        started = bool(self.turn.history_json)
        for message in self.turn.messages:
            kind = message.event["EventType"]
            if kind in CONTROL_EVENTS:
                break
            if kind == EventType.EXECUTION_STARTED:
                if started:
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
    def run(self) -> TurnCommit:
        batch = self._batch()
        if not batch:
            return self.commit
        self.commit.consumed_message_ids.extend(m.id for m in batch if m.id is not None)
        delivered = [dict(m.event, IsPlayed=False) for m in batch if self._deliverable(m)]
        new_events = [events.orchestrator_started(self.now)] + delivered
        for message in batch:
            self._before_replay(message)
        try:
            state = self._execute(new_events)
            # The SDK re-emits every action so far: flatten once per episode, for both uses below.
            flat = flatten(state.get("actions") or [])
            self._apply_actions(flat, state)
            status_text = _custom_status_text(state)
            _check_custom_status(status_text)
        except _Failure as failure:
            return self._fail(new_events, str(failure), state=getattr(failure, "state", None))
        self.instance.custom_status = self._custom_status(status_text)
        continue_as_new = next((a for a in flat if a.get("actionType") == ActionType.CONTINUE_AS_NEW), None)
        if state.get("isDone") and continue_as_new is not None:
            return self._continue_as_new(new_events, continue_as_new)
        if state.get("isDone"):
            return self._complete(new_events, state)
        self.instance.runtime_status = RuntimeStatus.RUNNING
        return self._finish(new_events)

    def _custom_status(self, text: Optional[str]) -> Optional[str]:
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

    def _before_replay(self, message: Message) -> None:
        """Host-side effects of delivered events that precede the orchestrator's new actions."""
        event = message.event
        kind = event["EventType"]
        if kind == EventType.TIMER_FIRED:
            timer_id = event.get("TimerId")
            if timer_id in self.cursor.open_timers:
                self.cursor.open_timers.remove(timer_id)
            retry = self.cursor.retry_for_timer(timer_id)
            if retry is not None:
                self._retry_timer_fired(retry)
        elif kind in (EventType.TASK_FAILED, EventType.SUB_ORCHESTRATION_INSTANCE_FAILED):
            retry = self.cursor.retry_for_task(event.get("TaskScheduledId"))
            if retry is not None:
                retry.timer_id = self.cursor.take_seq()
                fire_at = self.now + timedelta(milliseconds=retry.first_retry_interval_ms)
                self._arm_timer(retry.timer_id, fire_at)
        elif kind in (EventType.TASK_COMPLETED, EventType.SUB_ORCHESTRATION_INSTANCE_COMPLETED):
            task_id = event.get("TaskScheduledId")
            self.cursor.retries = [r for r in self.cursor.retries if not (r.task_id == task_id and r.timer_id is None)]

    def _retry_timer_fired(self, retry: RetryState) -> None:
        retry.timer_id = None
        if retry.attempts >= retry.max_attempts:
            # The SDK now raises the last failure into the orchestrator; nothing more to schedule.
            self.cursor.retries.remove(retry)
            return
        retry.attempts += 1
        retry.task_id = self.cursor.take_seq()
        if retry.kind == "activity":
            self._schedule_activity(retry.task_id, retry.name, retry.input)
        else:
            self._start_child(retry.task_id, retry.name, retry.input, retry.instance_id, retry.version)

    def _execute(self, new_events: List[HistoryEvent]) -> Dict:
        if self.env.orchestrator is None:
            raise _Failure(
                f"The function '{self.instance.name}' doesn't exist, is disabled, or is not an orchestrator function."
            )
        context = build_context(self.instance, self.turn.history_json, new_events, self.env.settings)
        try:
            return json.loads(self.env.orchestrator(context))
        except Exception as exc:  # the SDK's failure channel (§1.9), not an error of the host
            message = str(exc)
            head, label, tail = message.partition(OUT_OF_PROC_LABEL)
            failure = _Failure(head)
            if label:
                try:
                    state = json.loads(tail)
                    failure = _Failure(state.get("error") or head)
                    failure.state = state  # type: ignore[attr-defined]
                except ValueError:
                    pass
            raise failure from exc

    # --- actions -------------------------------------------------------------------------------------
    def _apply_actions(self, flat: List[Dict], state: Dict) -> None:
        seen = self.cursor.seen
        for position, action in enumerate(flat[: len(seen)]):
            expected, seq = seen[position]
            actual = signature(action)
            if actual != expected:
                raise _Failure(_non_determinism(position, expected, actual))
            if action.get("actionType") == ActionType.CREATE_TIMER and action.get("isCanceled"):
                self._cancel_timer(seq)
        if len(flat) < len(seen) and not state.get("isDone"):
            raise _Failure(_non_determinism(len(flat), seen[len(flat)][0], None))
        for action in flat[len(seen):]:
            self._new_action(action)

    def _new_action(self, action: Dict) -> None:
        kind = ActionType(action["actionType"])
        text = signature(action)
        if kind in WITHOUT_SEQUENCE_ID:
            self.cursor.seen.append([text, None])
            return
        seq = self.cursor.take_seq()
        self.cursor.seen.append([text, seq])
        if kind in (ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY):
            self._schedule_activity(seq, action["functionName"], action.get("input"))
            if kind is ActionType.CALL_ACTIVITY_WITH_RETRY:
                self._track_retry("activity", seq, action)
        elif kind in (ActionType.CALL_SUB_ORCHESTRATOR, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
            child_id = action.get("instanceId") or self.env.new_id()
            version = action.get("version") or self.env.default_version
            self._start_child(seq, action["functionName"], action.get("input"), child_id, version)
            if kind is ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY:
                self._track_retry("suborchestrator", seq, action, child_id, version)
        elif kind is ActionType.CREATE_TIMER:
            fire_at = dateparser.isoparse(action["fireAt"])
            if not action.get("isCanceled"):
                self._arm_timer(seq, fire_at)
                self.cursor.open_timers.append(seq)
            else:
                self.scheduled.append(events.timer_created(self.now, seq, fire_at))
        elif kind is ActionType.CALL_HTTP:
            self._schedule_activity(seq, HTTP_ACTIVITY_NAME, json.dumps(action.get("httpRequest")))
        else:
            raise _Failure(
                f"Durable entities are not supported by devhost yet (the orchestrator asked for {describe(text)})."
            )

    def _track_retry(self, kind: str, seq: int, action: Dict, child_id: Optional[str] = None, version: str = "") -> None:
        options = RetryOptions.from_action(action)
        self.cursor.retries.append(
            RetryState(
                kind=kind,
                name=action["functionName"],
                input=action.get("input"),
                first_retry_interval_ms=options.first_retry_interval_ms,
                max_attempts=options.max_attempts,
                task_id=seq,
                instance_id=child_id,
                version=version,
            )
        )

    def _schedule_activity(self, seq: int, name: str, input_text: Optional[str]) -> None:
        self.scheduled.append(events.task_scheduled(self.now, seq, name, input_text))
        self.commit.new_activities.append(
            ActivityWorkItem(self.instance.instance_id, self.instance.execution_id, seq, name, input_text)
        )

    def _start_child(
        self, seq: int, name: str, input_text: Optional[str], child_id: Optional[str], version: str
    ) -> None:
        child_id = child_id or self.env.new_id()
        self.scheduled.append(events.sub_orchestration_created(self.now, seq, name, child_id, input_text, version))
        if name not in self.env.known_orchestrators:
            reason = f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function."
            failed = events.sub_orchestration_failed(self.now, seq, reason, None)
            self.commit.new_messages.append(self._to_self(failed, self.now))
            return
        execution_id = self.env.new_id()
        stored_input = None if input_text is None else json.dumps(input_text)
        child = Instance(
            instance_id=child_id,
            name=name,
            execution_id=execution_id,
            runtime_status=RuntimeStatus.PENDING,
            created_time=self.now,
            last_updated_time=self.now,
            input=stored_input,
            version=version,
            parent_instance_id=self.instance.instance_id,
            parent_execution_id=self.instance.execution_id,
            parent_task_id=seq,
        )
        start = events.execution_started(
            self.now,
            instance_id=child_id,
            execution_id=execution_id,
            name=name,
            input_text=input_text,
            version=version,
            parent_instance_id=self.instance.instance_id,
            parent_execution_id=self.instance.execution_id,
            parent_task_id=seq,
        )
        self.commit.new_instances.append(child)
        self.commit.new_messages.append(Message(child_id, start, self.now, execution_id))

    def _arm_timer(self, seq: int, fire_at: datetime) -> None:
        self.scheduled.append(events.timer_created(self.now, seq, fire_at))
        self.commit.new_messages.append(self._to_self(events.timer_fired(fire_at, seq, fire_at), fire_at))

    def _cancel_timer(self, seq: Optional[int]) -> None:
        # timer.cancel() flips isCanceled on a later replay of an already-scheduled CreateTimer (§1.5).
        if seq is not None and seq in self.cursor.open_timers:
            self.cursor.open_timers.remove(seq)
            self.commit.cancelled_timer_ids.append(seq)

    def _to_self(self, event: HistoryEvent, visible_at: datetime) -> Message:
        return Message(self.instance.instance_id, event, visible_at, self.instance.execution_id)

    # --- outcomes ------------------------------------------------------------------------------------
    def _finish(self, new_events: List[HistoryEvent], *closing: HistoryEvent) -> TurnCommit:
        self.instance.last_updated_time = self.now
        self.instance.cursor = self.cursor.dumps()
        history = new_events + self.scheduled + list(closing) + [events.orchestrator_completed(self.now)]
        self.commit.new_history = mark_played(history)
        return self.commit

    def _complete(self, new_events: List[HistoryEvent], state: Dict) -> TurnCommit:
        output = json.dumps(state["output"]) if "output" in state else None
        self.instance.runtime_status = RuntimeStatus.COMPLETED
        self.instance.output = output
        self.commit.clear_pending = True
        if self.instance.parent_instance_id is not None and self.instance.parent_task_id is not None:
            done = events.sub_orchestration_completed(self.now, self.instance.parent_task_id, output)
            self.commit.new_messages.append(
                Message(self.instance.parent_instance_id, done, self.now, self.instance.parent_execution_id)
            )
        return self._finish(new_events, events.execution_completed(self.now, "Completed", output))

    def _fail(self, new_events: List[HistoryEvent], error: str, state: Optional[Dict]) -> TurnCommit:
        message = f"Orchestrator function '{self.instance.name}' failed: {error}"
        # Drop what this episode scheduled: a failed orchestration runs nothing more.
        self.commit.new_activities.clear()
        self.commit.new_instances.clear()
        self.commit.new_messages = notify_parent_failed(self.instance, self.now, message)
        self.scheduled.clear()
        self.instance.runtime_status = RuntimeStatus.FAILED
        self.instance.output = json.dumps(message)
        if state is not None:
            self.instance.custom_status = _custom_status_text(state)
        self.commit.clear_pending = True
        return self._finish(new_events, events.execution_completed(self.now, "Failed", self.instance.output, message))

    def _continue_as_new(self, new_events: List[HistoryEvent], action: Dict) -> TurnCommit:
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
        self.commit.new_activities.clear()
        self.commit.new_instances.clear()
        self.commit.new_messages = [Message(self.instance.instance_id, start, self.now, execution_id)]
        self.commit.replace_history = True
        self.commit.new_history = []
        return self.commit


def _check_custom_status(text: Optional[str]) -> None:
    if text is not None:
        size = len(text.encode("utf-16-le"))
        if size > CUSTOM_STATUS_LIMIT_BYTES:
            raise _Failure(
                "The UTF-16 size of the JSON-serialized custom status payload must not exceed 16 KB. "
                f"The current payload size is {size / 1024:.1f} KB."
            )


def _custom_status_text(state: Optional[Dict]) -> Optional[str]:
    if not state or "customStatus" not in state:
        return None
    return json.dumps(state["customStatus"])


def _non_determinism(position: int, expected: Optional[str], actual: Optional[str]) -> str:
    return (
        f"{NON_DETERMINISM_MARK}: action #{position} of this execution's history is "
        f"{describe(expected)}, but the current orchestrator code scheduled {describe(actual)}. "
        "Was a change made to the orchestrator code after this instance had already started running?"
    )
