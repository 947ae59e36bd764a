"""Worker versioning: which orchestration versions this host runs (host.json ``versionMatchStrategy`` and
``versionFailureStrategy`` beside ``defaultVersion``), as DTFx's TaskOrchestrationDispatcher decides it.

DurableTask.Core ``TaskOrchestrationDispatcher.cs`` lines 399-432 check every work item before the orchestrator
runs: ``Strict`` refuses a version other than the worker's, ``CurrentOrOlder`` one that compares greater
(``VersioningSettings.CompareVersions``), ``None`` nothing. On a refusal, ``Fail`` completes the orchestration as
Failed with FailureDetails ``VersionMismatch: Orchestration version did not comply with Worker Versioning``, and
``Reject`` abandons the work item: nothing changes and the messages come back later (for a compatible worker).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from devhost.core import events
from devhost.core.context import mark_played
from devhost.core.lifecycle import notify_parent_failed
from devhost.core.model import Instance, Message, RuntimeStatus, TurnCommit

MISMATCH_ERROR_TYPE = "VersionMismatch"
MISMATCH_MESSAGE = "Orchestration version did not comply with Worker Versioning"
REJECT_RETRY_DELAY = timedelta(minutes=1)
"""How long a rejected work item's messages stay invisible before the next try (DTFx abandons it; the queue
makes it visible again after a back-off)."""

_DOTNET_VERSION = re.compile(r"^\s*\d+(\.\d+){1,3}\s*$")


class MatchStrategy(Enum):
    NONE = "None"
    STRICT = "Strict"
    CURRENT_OR_OLDER = "CurrentOrOlder"


class FailureStrategy(Enum):
    REJECT = "Reject"
    FAIL = "Fail"


@dataclass(frozen=True)
class Versioning:
    """The worker's version and strategies (documented defaults: CurrentOrOlder, Reject)."""

    version: str
    match: MatchStrategy = MatchStrategy.CURRENT_OR_OLDER
    failure: FailureStrategy = FailureStrategy.REJECT

    def accepts(self, orchestration_version: str | None) -> bool:
        if self.match is MatchStrategy.STRICT:
            return (orchestration_version or "") == self.version
        if self.match is MatchStrategy.CURRENT_OR_OLDER:
            return compare_versions(orchestration_version or "", self.version) <= 0
        return True


def compare_versions(source: str, other: str) -> int:
    """``VersioningSettings.CompareVersions``: empty equals empty and is older than anything; two
    ``System.Version`` texts compare by component; anything else by case-insensitive ordinal text."""
    if not source.strip() and not other.strip():
        return 0
    if not source.strip():
        return -1
    if not other.strip():
        return 1
    if _DOTNET_VERSION.match(source) and _DOTNET_VERSION.match(other):
        left, right = _components(source), _components(other)
        return (left > right) - (left < right)
    a, b = source.upper(), other.upper()  # OrdinalIgnoreCase compares upper-cased code units
    return (a > b) - (a < b)


def _components(text: str) -> tuple[int, ...]:
    # System.Version: an unset build/revision (-1) sorts before 0, so "1.0" < "1.0.0".
    parts = [int(p) for p in text.strip().split(".")]
    return tuple(parts + [-1] * (4 - len(parts)))


def refuse(instance: Instance, messages: list[Message], versioning: Versioning, now: datetime) -> TurnCommit:
    """The commit for a work item this worker's versioning refuses."""
    consumed = [m.id for m in messages if m.id is not None]
    if versioning.failure is FailureStrategy.REJECT:
        later = now + REJECT_RETRY_DELAY
        retry = [Message(m.instance_id, m.event, max(m.visible_at, later), m.execution_id) for m in messages]
        return TurnCommit(instance=instance, consumed_message_ids=consumed, new_messages=retry)
    reason = f"{MISMATCH_ERROR_TYPE}: {MISMATCH_MESSAGE}"  # FailureDetails.ToString(), the status output
    instance.runtime_status = RuntimeStatus.FAILED
    instance.output = json.dumps(reason)
    instance.last_updated_time = now
    history = [events.orchestrator_started(now), *(dict(m.event) for m in messages)]
    history += [
        events.execution_completed(now, RuntimeStatus.FAILED, instance.output, reason),
        events.orchestrator_completed(now),
    ]
    return TurnCommit(
        instance=instance,
        consumed_message_ids=consumed,
        new_history=mark_played(history),
        new_messages=notify_parent_failed(instance, now, reason),
        clear_pending=True,
    )
