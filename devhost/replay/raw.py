"""Replaying a raw history (the SDK shape the store keeps): episodes cut at each OrchestratorStarted and
compared strictly (event type, EventId, activity / sub-orchestration name, timer FireAt, final status)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from devhost.core.context import mark_played
from devhost.core.model import EventType, HistoryEvent
from devhost.replay.model import (
    INBOUND,
    Decision,
    Recording,
    RecordingError,
    ReplayResult,
    ReplayTarget,
    commit_decisions,
    event_type,
    is_decision,
    parse_time,
    type_name,
)
from devhost.replay.runner import Runner, failed_result, first_difference, started_event, unconsumed


@dataclass
class Episode:
    """One recorded episode of a raw history: OrchestratorStarted up to OrchestratorCompleted."""

    now: datetime
    events: list[HistoryEvent] = field(default_factory=list)

    @property
    def delivered(self) -> list[HistoryEvent]:
        return [e for e in self.events if event_type(e) in INBOUND]

    @property
    def decisions(self) -> list[HistoryEvent]:
        return [e for e in self.events if is_decision(e)]


def split_episodes(history: Sequence[HistoryEvent]) -> list[Episode]:
    """Cut a raw history at each OrchestratorStarted (events before the first one form their own episode)."""
    episodes: list[Episode] = []
    for event in history:
        kind = event_type(event)
        if kind is EventType.ORCHESTRATOR_STARTED or not episodes:
            now = parse_time(event.get("Timestamp"))
            if now is None:
                raise RecordingError(f"event {type_name(kind)} has no valid Timestamp")
            episodes.append(Episode(now))
        episodes[-1].events.append(event)
    return episodes


def check_raw(recording: Recording, target: ReplayTarget) -> ReplayResult:
    episodes = split_episodes(recording.history)
    runner = Runner(recording, target, started_event(recording.history))
    if any(event_type(e) is EventType.GENERIC_EVENT for e in recording.history) and any(
        event_type(e) is EventType.EXECUTION_REWOUND for e in recording.history
    ):
        # A rewind after the orchestrator threw drops the failed episode's outcome and lets a later wake-up
        # make its decisions: the history no longer says which episode decided what.
        return ReplayResult(
            recording.instance_id,
            recording.name,
            recording.source,
            0,
            skipped="the history was rewritten by a rewind of a throwing orchestrator",
        )
    for number, episode in enumerate(episodes, 1):
        if [event_type(e) for e in episode.delivered] == [EventType.EXECUTION_REWOUND]:
            # The rewind rewrote the history before this marker; replaying it, the instance never failed.
            runner.history.extend(mark_played(episode.events))
            continue
        commit, left = runner.turn(episode.delivered, episode.now)
        expected = [Decision.of(e) for e in episode.decisions]
        actual = [Decision.of(e) for e in commit_decisions(commit)]
        mismatch = first_difference(number, expected, actual)
        if mismatch is None and left:
            mismatch = unconsumed(number, left)
        if mismatch is not None:
            return failed_result(recording, number, mismatch)
        runner.advance(episode.events, commit)
    return ReplayResult(recording.instance_id, recording.name, recording.source, len(episodes))
