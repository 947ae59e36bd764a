"""What an episode causes besides replaying: the history events and effects of new actions and retries.

:class:`Effects` is handed each action the orchestrator asks for beyond the cursor (devhost.core.turn checks
the replayed ones): a TaskScheduled and an activity work item, a SubOrchestrationInstanceCreated and the
child's instance and ExecutionStarted, a TimerCreated and a TimerFired sent to the instance itself. Before the
orchestrator runs, it also does the host's part of the ``-WithRetry`` calls for the delivered events: the
hidden retry timer after a failure and the next attempt when it fires (protocol doc §1.11).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, Callable

from dateutil import parser as dateparser

from devhost.core import entities, events
from devhost.core.actions import WITHOUT_SEQUENCE_ID, ActionType, RetryOptions, describe, signature
from devhost.core.cursor import Cursor, RetryState
from devhost.core.errors import BadRequest
from devhost.core.model import ActivityWorkItem, EventType, HistoryEvent, Instance, Message, RuntimeStatus, TurnCommit
from devhost.core.protocol import HTTP_ACTIVITY_NAME


class EpisodeFailure(Exception):
    """The orchestration fails this turn with ``message`` (already in the extension's wording)."""


class Effects:
    """Turns an episode's new actions and retry events into ``scheduled`` history events and ``commit`` effects."""

    def __init__(
        self,
        instance: Instance,
        cursor: Cursor,
        commit: TurnCommit,
        *,
        now: datetime,
        new_id: Callable[[], str],
        known_orchestrators: Collection[str],
        default_version: str,
        known_entities: Collection[str] | None = None,
        is_active: Callable[[str], bool] = lambda _instance_id: False,
    ) -> None:
        self.instance = instance
        self.cursor = cursor
        self.commit = commit
        self.now = now
        self.new_id = new_id
        self.known_orchestrators = known_orchestrators
        self.default_version = default_version
        self.known_entities = known_entities
        """Registered entity names (lower-cased); None: do not check (the replay checker has no registry)."""
        self.is_active = is_active
        self.scheduled: list[HistoryEvent] = []
        """The history events of what this episode scheduled, in order (after the delivered events)."""

    def before_replay(self, message: Message) -> None:
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

    def new_action(self, action: dict[str, Any]) -> None:
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
            child_id = action.get("instanceId") or self.new_id()
            version = action.get("version") or self.default_version
            self._start_child(seq, action["functionName"], action.get("input"), child_id, version)
            if kind is ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY:
                self._track_retry("suborchestrator", seq, action, child_id, version)
        elif kind is ActionType.CREATE_TIMER:
            # Armed even when already cancelled: the extension creates every CreateTimer action's DTFx timer and
            # only cancels its in-process task (OutOfProcOrchestrationShim.cs lines 127-132), so the TimerFired is
            # still delivered when due and recorded in the history (the SDK ignores it), unless the instance has
            # finished or continued as new by then.
            self._arm_timer(seq, dateparser.isoparse(action["fireAt"]))
            self.cursor.open_timers.append(seq)
        elif kind is ActionType.CALL_HTTP:
            self._schedule_activity(seq, HTTP_ACTIVITY_NAME, json.dumps(action.get("httpRequest")))
        elif kind in (ActionType.CALL_ENTITY, ActionType.SIGNAL_ENTITY, ActionType.SCHEDULED_SIGNAL_ENTITY):
            self._send_to_entity(seq, kind, action)
        else:
            raise EpisodeFailure(f"devhost cannot run {describe(text)} (action type {int(kind)}).")

    def _send_to_entity(self, seq: int, kind: ActionType, action: dict[str, Any]) -> None:
        """An entity call or signal: EventSent{EventId=seq, Name="op", Input=RequestMessage} in the history and
        the request queued for the entity (``DurableOrchestrationContext.CallDurableTaskFunctionAsync``, case
        ``FunctionType.Entity``, and ``SendEntityMessage``). The SDK re-keys a call's task from ``seq`` to the
        request id when it replays that EventSent (``TaskOrchestrationExecutor.process_event``), and the
        entity's answer arrives as EventRaised named by the request id."""
        try:
            target = entities.EntityId.parse(str(action.get("instanceId") or ""))
        except BadRequest as exc:
            raise EpisodeFailure(str(exc)) from None
        if self.known_entities is not None and target.name not in self.known_entities:
            # ThrowIfFunctionDoesNotExist(functionName, FunctionType.Entity) runs in the shim, not in user code.
            raise EpisodeFailure(
                f"The function '{target.name}' doesn't exist, is disabled, or is not an entity function. Additional info: "
                + _known("entity", self.known_entities)
            )
        signal = kind is not ActionType.CALL_ENTITY
        request = entities.request(
            str(action.get("operation") or ""),
            entities.guid(self.new_id()),
            signal=signal,
            input_text=entities.operation_input(action.get("input")),
            parent_instance_id=self.instance.instance_id,
            parent_execution_id=self.instance.execution_id,
        )
        visible_at = self.now
        if kind is ActionType.SCHEDULED_SIGNAL_ENTITY and action.get("fireAt"):
            visible_at = max(self.now, dateparser.isoparse(action["fireAt"]))
        name = entities.REQUEST_EVENT_NAME
        self.scheduled.append(events.event_sent(self.now, seq, target.scheduler_id, name, json.dumps(request)))
        self.commit.new_entity_messages.append(entities.EntityMessage(target.scheduler_id, request, visible_at))

    def _track_retry(self, kind: str, seq: int, action: dict[str, Any], child_id: str | None = None, version: str = "") -> None:
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

    def _schedule_activity(self, seq: int, name: str, input_text: str | None) -> None:
        self.scheduled.append(events.task_scheduled(self.now, seq, name, input_text))
        self.commit.new_activities.append(
            ActivityWorkItem(self.instance.instance_id, self.instance.execution_id, seq, name, input_text)
        )

    def _start_child(self, seq: int, name: str, input_text: str | None, child_id: str | None, version: str) -> None:
        child_id = child_id or self.new_id()
        if child_id == self.instance.instance_id:
            # DurableOrchestrationContext.cs line 600 throws this ArgumentException while the shim replays the
            # actions; it escapes the orchestrator, which fails (TaskOrchestrationShim.cs lines 193-196).
            raise EpisodeFailure(
                "The instance ID of a sub-orchestration must be different than the instance ID of a parent orchestration."
            )
        self.scheduled.append(events.sub_orchestration_created(self.now, seq, name, child_id, input_text, version))
        reason = None
        if name not in self.known_orchestrators:
            reason = f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function."
        elif self.is_active(child_id) or any(child.instance_id == child_id for child in self.commit.new_instances):
            # Deliberate deviation. DTFx drops the child's ExecutionStarted as a "Duplicate start event"
            # (TaskOrchestrationDispatcher.cs, the ExecutionStarted branch of its message loop), so in Azure this
            # call never completes; failing the task instead lets the parent's try/except see the clash.
            reason = (
                f"An orchestration instance with ID '{child_id}' is already running. In Azure the sub-orchestration's "
                "start is dropped as a duplicate and this call never completes; use a unique instance ID."
            )
        if reason is not None:
            failed = events.sub_orchestration_failed(self.now, seq, reason, None)
            self.commit.new_messages.append(self._to_self(failed, self.now))
            return
        execution_id = self.new_id()
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

    def _to_self(self, event: HistoryEvent, visible_at: datetime) -> Message:
        return Message(self.instance.instance_id, event, visible_at, self.instance.execution_id)


def _known(kind: str, names: Collection[str]) -> str:
    if names:
        return f"The following are the known {kind} functions: '" + "', '".join(sorted(names)) + "'."
    return f"No {kind} functions are currently registered!"
