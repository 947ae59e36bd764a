"""The replay checker: does the current orchestrator code still make the decisions a recorded history shows?

A recorded execution is replayed episode by episode through the engine's own :func:`decide_turn`, so it is
judged exactly as the host would judge it on its next turn: each episode's inbound events (ExecutionStarted,
TaskCompleted, TimerFired, EventRaised, ...) are delivered as messages at that episode's time, and the
decisions in the resulting commit (TaskScheduled, TimerCreated, SubOrchestrationInstanceCreated,
ExecutionCompleted, continue-as-new) are compared with the recorded ones. The history then grows by the
*recorded* episode, and the cursor comes from the commit, as in the engine.

Two recording shapes are replayed (:mod:`devhost.replay.sources` reads them from files and stores;
the records are in :mod:`devhost.replay.model`):

- a raw history (the SDK shape the store keeps; :mod:`devhost.replay.raw`): episodes are cut at each
  OrchestratorStarted and compared strictly (event type, EventId, activity / sub-orchestration name, timer
  FireAt, final status);
- a status document's ``historyEvents`` (API notes B.3): no EventIds, no Orchestrator{Started,Completed},
  TaskScheduled folded into its completion. Episodes are rebuilt around the inbound events and the folded
  schedules are claimed by the decisions the current code makes (:mod:`devhost.replay.status`), so
  EventIds are not compared there and times are compared within a tolerance.

Sub-orchestration instance ids are random in the engine: only names are compared.
"""

from __future__ import annotations

from datetime import timedelta

from devhost.replay.model import STATUS_TIME_TOLERANCE, Recording, RecordingError, ReplayResult, ReplayTarget
from devhost.replay.raw import check_raw
from devhost.replay.status import check_status


def check(recording: Recording, target: ReplayTarget, *, time_tolerance: timedelta = STATUS_TIME_TOLERANCE) -> ReplayResult:
    """Replay one recording against ``target``; never raises for a bad recording (it becomes ``error``).

    ``time_tolerance`` only applies to status documents; raw histories compare times exactly.
    """
    if recording.skip_reason is not None:
        return ReplayResult(recording.instance_id, recording.name, recording.source, 0, skipped=recording.skip_reason)
    try:
        if recording.timeline is not None:
            return check_status(recording, target, time_tolerance)
        return check_raw(recording, target)
    except RecordingError as exc:
        return ReplayResult(recording.instance_id, recording.name, recording.source, 0, error=str(exc))
    except Exception as exc:  # an event the core cannot digest (a missing key, an odd value): report, go on
        text = str(exc).splitlines()[0] if str(exc) else ""
        return ReplayResult(
            recording.instance_id, recording.name, recording.source, 0, error=f"cannot replay: {type(exc).__name__}: {text}"
        )
