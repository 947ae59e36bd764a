"""Orchestration lifecycle notifications, decided purely: which transitions a turn reports, and the event.

Follows the Durable extension's ``EventGridLifeCycleNotificationHelper`` (azure-functions-durable-extension,
src/WebJobs.Extensions.DurableTask/EventGridLifeCycleNotificationHelper.cs) and where the out-of-process
middleware calls it (OutOfProcMiddleware.cs):

- **Running** when an execution's orchestrator runs for the first time (``isReplaying =
  runtimeState.PastEvents.Any()`` is false, OutOfProcMiddleware.cs:92 and :104-111). That holds for every
  execution, so a ``continue_as_new`` generation reports Running again.
- **Completed** when the orchestrator finishes, also when it continued as new (OutOfProcMiddleware.cs:203-223:
  ``OrchestratorCompletedAsync(..., context.ContinuedAsNew, ...)``; the helper ignores that flag, :235-259).
- **Failed** when the orchestrator fails, with the failure message as ``reason`` (OutOfProcMiddleware.cs:249).
- **Terminated** when a terminate is applied, with its reason (the helper's OrchestratorTerminatedAsync, :287-310).

Nothing is reported for a replay: a transition is a change of committed state, and a turn that does not commit
(a host killed mid-turn) reports nothing; its rerun reports it once. The event is the helper's
``CreateEventGridEvent`` (:312-337) as Newtonsoft serialises it: properties in declaration order (:360-387),
``topic`` and ``metadataVersion`` never set, hence null.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from devhost.core.model import RuntimeStatus, TurnCommit

RUNNING = RuntimeStatus.RUNNING.value
COMPLETED = RuntimeStatus.COMPLETED.value
FAILED = RuntimeStatus.FAILED.value
TERMINATED = RuntimeStatus.TERMINATED.value
LIFECYCLE_STATUSES: tuple[str, ...] = (RUNNING, COMPLETED, FAILED, TERMINATED)

# publishEventTypes: "Started" means Running (helper :75-79); any other name must parse as a runtime status
# (Enum.TryParse, case-sensitive) other than Pending, ContinuedAsNew and Canceled (:81-104).
_EVENT_TYPE_ALIASES = {"Started": RUNNING}
UNSUPPORTED_EVENT_TYPES = (
    "Failed to start lifecycle notification feature. Unsupported event types detected in 'EventGridPublishEventTypes'. "
    "You may only specify one or more of the following 'Started', 'Completed', 'Failed', 'Terminated'."
)


def parse_publish_event_types(names: Sequence[str]) -> frozenset[str]:
    """The statuses to publish for host.json ``publishEventTypes`` (empty: all). ValueError with the
    extension's message for a name it rejects."""
    if not names:
        return frozenset(LIFECYCLE_STATUSES)
    statuses: set[str] = set()
    for name in names:
        status = _EVENT_TYPE_ALIASES.get(name, name)
        if status not in LIFECYCLE_STATUSES:
            raise ValueError(UNSUPPORTED_EVENT_TYPES)
        statuses.add(status)
    return frozenset(statuses)


@dataclass(frozen=True)
class Transition:
    """One lifecycle transition a turn committed: the status the event names, and its reason text."""

    status: str
    reason: str = ""


def turn_transitions(
    before: RuntimeStatus, commit: TurnCommit, *, orchestrator_ran: bool, first_episode: bool
) -> list[Transition]:
    """The transitions ``commit`` makes of an instance that was ``before``, in the order the extension reports them.

    ``orchestrator_ran``: the turn invoked the orchestrator function (not a terminate, suspend, resume or
    rewind turn, and the function exists: the middleware returns before any notification when it does not,
    OutOfProcMiddleware.cs:72-79). ``first_episode``: the execution had no history before this turn.
    """
    after = commit.instance.runtime_status
    found: list[Transition] = []
    if orchestrator_ran and first_episode:
        found.append(Transition(RUNNING))
    if after is before:
        return found
    if after is RuntimeStatus.TERMINATED:
        found.append(Transition(TERMINATED, _reason(commit.instance.output)))
    elif orchestrator_ran and after in (RuntimeStatus.COMPLETED, RuntimeStatus.CONTINUED_AS_NEW):
        found.append(Transition(COMPLETED))
    elif orchestrator_ran and after is RuntimeStatus.FAILED:
        found.append(Transition(FAILED, _reason(commit.instance.output)))
    return found


def _reason(output: str | None) -> str:
    """The reason text a Failed/Terminated instance keeps as its output (a JSON string), or ``""``."""
    if output is None:
        return ""
    try:
        value = json.loads(output)
    except ValueError:
        return output
    return value if isinstance(value, str) else ("" if value is None else json.dumps(value))


def event_grid_body(
    *, event_id: str, hub_name: str, function_name: str, instance_id: str, transition: Transition, event_time: datetime
) -> str:
    """The request body the extension posts: a JSON array of one Event Grid event (helper :155, :312-337)."""
    event = {
        "id": event_id,
        "topic": None,
        "subject": f"durable/orchestrator/{transition.status}",
        "data": {
            "hubName": hub_name,
            "functionName": function_name,
            "instanceId": instance_id,
            "reason": transition.reason,
            "runtimeStatus": transition.status,
        },
        "eventType": "orchestratorEvent",
        "eventTime": _dotnet_utc(event_time),
        "metadataVersion": None,
        "dataVersion": "1.0",
    }
    return json.dumps([event], separators=(",", ":"), ensure_ascii=False)


def _dotnet_utc(when: datetime) -> str:
    """A UTC DateTime as Newtonsoft writes it (ISO 8601, 7 fractional digits, ``Z``)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"
