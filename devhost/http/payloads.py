"""JSON bodies of the status API: ``StatusResponsePayload`` and the ``historyEvents`` shaping (API notes B.3).

Pure functions, no I/O: management returns records (``Instance``, ``InstanceStatus``), these shape them.
They mirror the extension's ``HttpApiHandler.ConvertFrom`` and
``DurableClient.GetDurableOrchestrationStatusAsync`` / ``ParseToJToken``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from devhost.core.model import HistoryEvent, Instance
from devhost.core.protocol import event_type_name, parse_event_type, status_from_number
from devhost.service.management import InstanceStatus

# Keys holding DateTime values in DTFx events; Newtonsoft writes them round-trip with trailing zeros cut.
_DATE_KEYS = ("Timestamp", "FireAt", "ScheduledTime")


def format_status_time(when: datetime) -> str:
    """``DateTime.ToString("s") + "Z"``: second precision, UTC."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def decode_json_text(text: str | None) -> Any:
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


def status_payload(instance: Instance, *, show_input: bool = True, history: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One ``StatusResponsePayload`` in the extension's key order. ``history`` (already shaped) is added as
    ``historyEvents`` only when given: the .NET property has ``EmitDefaultValue=false``."""
    body: dict[str, Any] = {
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


def status_document(
    status: InstanceStatus | Instance, *, show_input: bool = True, show_history_output: bool = False
) -> dict[str, Any]:
    """The status API's body for what management returned: the payload, with ``historyEvents`` shaped from
    the raw history when there is one."""
    if isinstance(status, Instance):
        return status_payload(status, show_input=show_input)
    history = None
    if status.history is not None:
        history = shape_history(status.history, show_input=show_input, show_history_output=show_history_output)
    return status_payload(status.instance, show_input=show_input, history=history)


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
        text = head + rest[len(digits) :]
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return value
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc)
    fraction = fraction.ljust(7, "0").rstrip("0")
    return when.strftime("%Y-%m-%dT%H:%M:%S") + (f".{fraction}" if fraction else "") + "Z"


def _pop(event: dict[str, Any], *keys: str) -> None:
    for key in keys:
        event.pop(key, None)


def shape_history(
    events: Sequence[HistoryEvent], *, show_input: bool = True, show_history_output: bool = False
) -> list[dict[str, Any]]:
    """The ``historyEvents`` array of ``GET instances/{id}?showHistory=true`` built from the raw history.

    Follows the extension's post-processing step by step: EventType as a name; EventId/IsPlayed dropped;
    Orchestrator{Started,Completed} removed; ExecutionStarted's Name becomes FunctionName (appended last)
    and loses OrchestrationInstance/ParentInstance/Version/Tags; each TaskScheduled (SubOrchestration-
    InstanceCreated) is folded into its completion, which gains ScheduledTime, FunctionName and Input and
    loses TaskScheduledId; unmatched schedules stay minus Version; results only with showHistoryOutput,
    then decoded once; TimerFired loses TimerId; ``showInput=false`` strips every Input.
    """
    shaped: list[dict[str, Any]] = [copy.deepcopy(dict(e)) for e in events]
    scheduled: dict[str, tuple[int, Any, Any, Any]] = {}  # "<Kind>_<EventId>" -> (index, name, time, input)
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


def _event_type_name(raw: Any) -> str | None:
    # Enum.TryParse accepts the number (as the SDK JSON has it) or the name; an unknown number stays a number.
    kind = parse_event_type(raw)
    if kind is not None:
        return event_type_name(kind)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, str) and raw.lstrip("-").isdigit():
        return raw
    return None


def _orchestration_status_name(raw: Any) -> Any:
    # ExecutionCompleted.OrchestrationStatus may be DTFx's number (OrchestrationStatus enum) or already a name.
    status = status_from_number(raw)
    return raw if status is None else status.value
