"""Feeding recorded episodes to the engine's own :func:`decide_turn`, and comparing what comes out.

:class:`Runner` keeps the replayed instance, history and cursor between episodes the way the engine does;
the rest are helpers both replays (:mod:`devhost.replay.raw`, :mod:`devhost.replay.status`) share.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from devhost.core import events
from devhost.core.context import mark_played
from devhost.core.model import EventType, HistoryEvent, Instance, Message, RuntimeStatus, Turn, TurnCommit
from devhost.core.turn import TurnEnv, decide_turn
from devhost.replay.model import (
    Decision,
    Mismatch,
    Recording,
    RecordingError,
    ReplayResult,
    ReplayTarget,
    event_type,
    parse_time,
    type_name,
)


class Runner:
    """Feeds episodes to :func:`decide_turn` the way the engine does, keeping history and cursor between them."""

    def __init__(self, recording: Recording, target: ReplayTarget, started: HistoryEvent) -> None:
        self.target = target
        self.ids = itertools.count(1)
        self.history: list[HistoryEvent] = []
        origin = started.get("OrchestrationInstance") or {}
        parent = started.get("ParentInstance") or {}
        parent_instance = parent.get("OrchestrationInstance") or {}
        created = parse_time(started.get("Timestamp")) or datetime(1970, 1, 1, tzinfo=timezone.utc)
        self.instance = Instance(
            instance_id=recording.instance_id,
            name=recording.name,
            execution_id=str(origin.get("ExecutionId") or "replay"),
            runtime_status=RuntimeStatus.PENDING,
            created_time=created,
            last_updated_time=created,
            input=recording.input,
            version=started.get("Version") or "",
            parent_instance_id=parent_instance.get("InstanceId"),
            parent_execution_id=parent_instance.get("ExecutionId"),
            parent_task_id=parent.get("TaskScheduleId"),
        )

    def turn(self, delivered: Sequence[HistoryEvent], now: datetime) -> tuple[TurnCommit, list[HistoryEvent]]:
        """One episode; returns the commit and the delivered events it did not consume."""
        placeholder = not delivered
        if placeholder:
            # An episode whose only message was not deliverable (a TimerFired of a timer no longer open):
            # a TimerFired for no open timer reproduces it.
            delivered = [events.timer_fired(now, -1, now)]
        messages = [
            Message(self.instance.instance_id, _inbound(event), now, self.instance.execution_id, id=next(self.ids))
            for event in delivered
        ]
        registry = self.target.registry
        function = registry.orchestrators.get(self.instance.name)
        env = TurnEnv(
            now=now,
            orchestrator=function.handle if function is not None else None,
            known_orchestrators=registry.orchestrators.keys(),
            new_id=lambda: f"replay-{next(self.ids)}",
            settings=self.target.settings,
            default_version=self.target.default_version,
        )
        commit = decide_turn(Turn.of_events(replace(self.instance), self.history, messages), env)
        consumed = set(commit.consumed_message_ids)
        left = [] if placeholder else [m.event for m in messages if m.id not in consumed]
        return commit, left

    def advance(self, recorded: Sequence[HistoryEvent], commit: TurnCommit) -> None:
        """The history grows by the *recorded* episode; the bookkeeping comes from the commit."""
        self.history.extend(mark_played(list(recorded)))
        self.instance = commit.instance


def _inbound(event: HistoryEvent) -> HistoryEvent:
    copy = dict(event)
    copy["IsPlayed"] = False
    return copy


def input_from_started(started: HistoryEvent) -> str | None:
    """Best guess of the stored input from ExecutionStarted.Input alone.

    The host stores a top-level start's input text as is (ExecutionStarted.Input == Instance.input) but a
    sub-orchestration's or continue-as-new's as ``json.dumps(text)`` (devhost.core.turn). A parent marks a
    sub-orchestration; otherwise a JSON string holding JSON is an SDK client's double-encoded start, and a
    JSON string holding plain text can only be a continue-as-new string. Other values decode the same
    either way. (A continue-as-new string that is itself valid JSON, e.g. "123", is guessed wrong: save the
    input with the history to avoid guessing.)
    """
    text = started.get("Input")
    if text is None:
        return None
    text = str(text)
    if started.get("ParentInstance"):
        return json.dumps(text)
    try:
        value = json.loads(text)
    except ValueError:
        return json.dumps(text)
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return json.dumps(text)
    return text


def started_event(history: Iterable[HistoryEvent]) -> HistoryEvent:
    for event in history:
        if event_type(event) is EventType.EXECUTION_STARTED:
            return event
    raise RecordingError("the history has no ExecutionStarted event")


def unconsumed(episode: int, left: Sequence[HistoryEvent]) -> Mismatch:
    """The recording delivered ``left`` in this episode, but the engine would hold it back (retry events
    are delivered alone, devhost.core.turn ``_batch``)."""
    return Mismatch(
        episode,
        0,
        None,
        None,
        note=(
            f"the recording delivers {type_name(event_type(left[0]))} in this episode, but the current code would "
            "take it in a later one (was a retry policy added or removed?)"
        ),
    )


def first_difference(
    episode: int, expected: Sequence[Decision], actual: Sequence[Decision], tolerance: timedelta = timedelta(0)
) -> Mismatch | None:
    for index in range(max(len(expected), len(actual))):
        want = expected[index] if index < len(expected) else None
        got = actual[index] if index < len(actual) else None
        if want is None or got is None or not want.matches(got, tolerance):
            return Mismatch(episode, index, want, got)
    return None


def failed_result(recording: Recording, episodes: int, mismatch: Mismatch) -> ReplayResult:
    return ReplayResult(recording.instance_id, recording.name, recording.source, episodes, mismatch=mismatch)
