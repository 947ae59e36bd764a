"""Builds orchestration histories in the wire format the Durable extension sends to the Python SDK.

DTFx ``HistoryEvent`` objects as Newtonsoft writes them: PascalCase keys, **integer**
``EventType``, the four common fields on every event, a ``Version`` key on ExecutionStarted
(SDK >= 1.3.3 needs it), ``OrchestratorStarted`` first. Events of earlier episodes are marked
``IsPlayed: true``; the SDK also treats everything before the last OrchestratorStarted as replay.
The context JSON announces replay schema V2/V3 (``upperSchemaVersion: 1``,
``upperSchemaVersionNew: 2``) like the real extension, without long-timer properties (DTS).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

# DTFx EventType numbers (azure/durable_functions/models/history/HistoryEventType.py).
EXECUTION_STARTED = 0
TASK_SCHEDULED = 4
TASK_COMPLETED = 5
TASK_FAILED = 6
TIMER_CREATED = 10
TIMER_FIRED = 11
ORCHESTRATOR_STARTED = 12
ORCHESTRATOR_COMPLETED = 13


def wire_time(moment: datetime) -> str:
    """.NET-style UTC timestamp with 7 fractional digits."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


class History:
    """One execution's history, appended episode by episode."""

    def __init__(self, instance_id: str, orchestrator: str, input_text: Optional[str], started: datetime) -> None:
        self.instance_id = instance_id
        self.input_text = input_text
        self.events: List[Dict[str, Any]] = []
        self._played = 0  # events before this index belong to finished episodes
        self.orchestrator_started(started)
        self._add(EXECUTION_STARTED, started,
                  OrchestrationInstance={"InstanceId": instance_id, "ExecutionId": f"exec-{started.timestamp()}"},
                  ParentInstance=None, Name=orchestrator, Version="",
                  Input=None if input_text is None else json.dumps(input_text), Tags=None)

    def _add(self, event_type: int, at: datetime, event_id: int = -1, **fields: Any) -> None:
        self.events.append({"EventType": event_type, "EventId": event_id, "IsPlayed": False,
                            "Timestamp": wire_time(at), **fields})

    def orchestrator_started(self, at: datetime) -> None:
        """Open a new episode: everything before it becomes replay."""
        self._played = len(self.events)
        self._add(ORCHESTRATOR_STARTED, at)

    def orchestrator_completed(self, at: datetime) -> None:
        self._add(ORCHESTRATOR_COMPLETED, at)

    def task_scheduled(self, event_id: int, name: str, input_text: str, at: datetime) -> None:
        self._add(TASK_SCHEDULED, at, event_id, Name=name, Version="", Input=input_text)

    def task_completed(self, scheduled_id: int, result_text: str, at: datetime) -> None:
        self._add(TASK_COMPLETED, at, TaskScheduledId=scheduled_id, Result=result_text)

    def task_failed(self, scheduled_id: int, reason: str, details: str, at: datetime) -> None:
        self._add(TASK_FAILED, at, TaskScheduledId=scheduled_id, Reason=reason, Details=details)

    def timer_created(self, event_id: int, fire_at: str, at: datetime) -> None:
        self._add(TIMER_CREATED, at, event_id, FireAt=fire_at)

    def timer_fired(self, timer_id: int, fire_at: str, at: datetime) -> None:
        self._add(TIMER_FIRED, at, TimerId=timer_id, FireAt=fire_at)

    def context_json(self) -> str:
        """The orchestration trigger payload for the current episode."""
        events = [dict(e, IsPlayed=i < self._played) for i, e in enumerate(self.events)]
        return json.dumps({
            "history": events,
            "input": self.input_text,
            "instanceId": self.instance_id,
            "isReplaying": self._played > 0,
            "parentInstanceId": None,
            "upperSchemaVersion": 1,
            "upperSchemaVersionNew": 2,
        })
