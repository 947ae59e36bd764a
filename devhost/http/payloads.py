"""JSON bodies of the status API: ``StatusResponsePayload`` and the ``historyEvents`` shaping (API notes B.3).

Pure functions, no I/O. They mirror the extension's ``HttpApiHandler.ConvertFrom`` and
``DurableClient.GetDurableOrchestrationStatusAsync`` / ``ParseToJToken``.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from devhost.core.model import EventType, HistoryEvent, Instance

_EVENT_TYPE_NAMES: Dict[int, str] = {
    int(t): "".join(part.capitalize() for part in t.name.split("_")) for t in EventType
}
# ExecutionCompleted.OrchestrationStatus may be DTFx's number (OrchestrationStatus enum) or already a name.
_ORCHESTRATION_STATUS_NAMES = (
    "Running", "Completed", "ContinuedAsNew", "Failed", "Canceled", "Terminated", "Pending", "Suspended",
)
# Keys holding DateTime values in DTFx events; Newtonsoft writes them round-trip with trailing zeros cut.
_DATE_KEYS = ("Timestamp", "FireAt", "ScheduledTime")


def format_status_time(when: datetime) -> str:
    """``DateTime.ToString("s") + "Z"``: second precision, UTC."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def decode_json_text(text: Optional[str]) -> Any:
    """The extension's ``ParseToJToken``: None stays null, blank becomes ``""``, non-JSON stays the raw
    (trimmed) string — the fallback matters for terminate reasons stored as plain text."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return ""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def status_payload(
    instance: Instance, *, show_input: bool = True, history: Optional[List[Dict[str, Any]]] = None
) -> Dict[str, Any]:
    """One ``StatusResponsePayload`` in the extension's key order. ``history`` (already shaped) is added as
    ``historyEvents`` only when given: the .NET property has ``EmitDefaultValue=false``."""
    body: Dict[str, Any] = {
        "name": instance.name,
        "instanceId": instance.instance_id,
        "runtimeStatus": instance.runtime_status.value,
        "input": decode_json_text(instance.input) if show_input else None,
        "customStatus": decode_json_text(instance.custom_status),
        "output": decode_json_text(instance.output),
        "createdTime": format_status_time(instance.created_time),
        "lastUpdatedTime": format_status_time(instance.last_updated_time),
    }
    if history is not None:
        body["historyEvents"] = history
    return body


def dotnet_datetime(value: Any) -> Any:
    """Re-write a stored timestamp the way Newtonsoft serializes a UTC DateTime: ``yyyy-MM-ddTHH:mm:ss``,
    then up to 7 fractional digits with trailing zeros cut (none if zero), then ``Z``. Non-timestamps pass."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    fraction = ""
    head, dot, rest = text.partition(".")
    if dot:
        digits = ""
        for ch in rest:
            if not ch.isdigit():
                break
            digits += ch
        fraction = digits[:7]
        text = head + rest[len(digits):]
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return value
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    fraction = fraction.ljust(7, "0").rstrip("0")
    return when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def _pop(event: Dict[str, Any], *keys: str) -> None:
    for key in keys:
        event.pop(key, None)


def shape_history(
    events: Sequence[HistoryEvent], *, show_input: bool = True, show_history_output: bool = False
) -> List[Dict[str, Any]]:
    """The ``historyEvents`` array of ``GET instances/{id}?showHistory=true`` built from the raw history.

    Follows the extension's post-processing step by step: EventType as a name; EventId/IsPlayed dropped;
    Orchestrator{Started,Completed} removed; ExecutionStarted's Name becomes FunctionName (appended last)
    and loses OrchestrationInstance/ParentInstance/Version/Tags; each TaskScheduled (SubOrchestration-
    InstanceCreated) is folded into its completion, which gains ScheduledTime, FunctionName and Input and
    loses TaskScheduledId; unmatched schedules stay minus Version; results only with showHistoryOutput,
    then decoded once; TimerFired loses TimerId; ``showInput=false`` strips every Input.
    """
    shaped: List[Dict[str, Any]] = [copy.deepcopy(dict(e)) for e in events]
    scheduled: Dict[str, Tuple[int, Any, Any, Any]] = {}  # "<Kind>_<EventId>" -> (index, name, time, input)
    removed: set[int] = set()

    for index, event in enumerate(shaped):
        raw_type = event.get("EventType")
        type_name = _event_type_name(raw_type)
        if type_name is None:
            continue  # the extension leaves events whose type it cannot parse untouched
        event["EventType"] = type_name
        if type_name in ("TaskScheduled", "SubOrchestrationInstanceCreated"):
            # Dictionary.Add in .NET: a duplicate key would throw; keep the first like a lookup would.
            scheduled.setdefault(
                f"{type_name}_{event.get('EventId')}",
                (index, event.get("Name"), event.get("Timestamp"), event.get("Input")),
            )
            _pop(event, "Version")
        elif type_name in ("TaskCompleted", "TaskFailed", "SubOrchestrationInstanceCompleted", "SubOrchestrationInstanceFailed"):
            kind = "TaskScheduled" if type_name.startswith("Task") else "SubOrchestrationInstanceCreated"
            match = scheduled.get(f"{kind}_{event.get('TaskScheduledId')}")
            if match is not None:
                sched_index, name, when, input_text = match
                event["ScheduledTime"] = when
                event["FunctionName"] = name
                if show_input:
                    event["Input"] = input_text
                removed.add(sched_index)
            _pop(event, "TaskScheduledId")
            has_result = type_name in ("TaskCompleted", "SubOrchestrationInstanceCompleted")
            if has_result:
                if show_history_output:
                    event["Result"] = decode_json_text(event.get("Result"))
                else:
                    _pop(event, "Result")
        elif type_name == "ExecutionStarted":
            name = event.pop("Name", None)
            event["FunctionName"] = name
            _pop(event, "OrchestrationInstance", "ParentInstance", "Version", "Tags")
        elif type_name == "ExecutionCompleted":
            event["OrchestrationStatus"] = _orchestration_status_name(event.get("OrchestrationStatus"))
            if show_history_output:
                event["Result"] = decode_json_text(event.get("Result"))
            else:
                _pop(event, "Result")
        elif type_name == "TimerFired":
            _pop(event, "TimerId")
        elif type_name in ("OrchestratorStarted", "OrchestratorCompleted"):
            removed.add(index)
        if not show_input:
            _pop(event, "Input")
        _pop(event, "EventId", "IsPlayed")
        for key in _DATE_KEYS:
            if key in event:
                event[key] = dotnet_datetime(event[key])

    return [event for index, event in enumerate(shaped) if index not in removed]


def _event_type_name(raw: Any) -> Optional[str]:
    # Enum.TryParse accepts the number (as the SDK JSON has it) or the name.
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return _EVENT_TYPE_NAMES.get(raw, str(raw))
    if isinstance(raw, str):
        if raw in _EVENT_TYPE_NAMES.values():
            return raw
        if raw.lstrip("-").isdigit():
            return _EVENT_TYPE_NAMES.get(int(raw), raw)
    return None


def _orchestration_status_name(raw: Any) -> Any:
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < len(_ORCHESTRATION_STATUS_NAMES):
        return _ORCHESTRATION_STATUS_NAMES[raw]
    if isinstance(raw, str) and raw.isdigit() and int(raw) < len(_ORCHESTRATION_STATUS_NAMES):
        return _ORCHESTRATION_STATUS_NAMES[int(raw)]
    return raw
