"""Read-only views for the dashboard and the CLI: instance summaries, filtered pages, the instance detail, and
the helpers (parsing filters, formatting times and values) that :mod:`devhost.service.history_view` shares.
Everything is read through the :class:`~devhost.store.base.Store` interface.

Paging stays cheap with many instances: a page reads the store in chunks (its own continuation tokens)
and stops once the page is full or :data:`SCAN_BUDGET` rows were examined, so a filter the store cannot
apply (orchestrator name, custom-status text) never reads 10,000 rows in one request. The cursor handed
out is the store's token of the chunk plus how many rows of it were already consumed.

A list row never carries the instance's input or output; the instance detail does (the page collapses them).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from devhost.core.errors import BadRequest, NotFound
from devhost.core.model import (
    Instance,
    InstanceQuery,
    RuntimeStatus,
)
from devhost.store.base import Store

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
SCAN_BUDGET = 2_000
"""Most rows one list request examines when a filter has to be applied here rather than in the store."""
HISTORY_SCAN_BUDGET = 200
"""The same, when the filter reads each row's history (``waiting_on``)."""
WAITING_KINDS = ("timer", "activity", "suborchestration")
_MAY_WAIT = frozenset({RuntimeStatus.RUNNING, RuntimeStatus.SUSPENDED})

PendingKinds = Callable[[Instance], "frozenset[str]"]
"""The kinds of work (:data:`WAITING_KINDS`) an instance has pending: see history_view.pending_kinds."""
PREVIEW_CHARS = 120


@dataclass(frozen=True)
class ListFilter:
    """What the list page and ``devhost list`` filter on. Store-side: statuses, id prefix, created range;
    here: orchestrator name (case-insensitive, exact) and a case-insensitive text in the custom status."""

    statuses: frozenset[RuntimeStatus] = frozenset()
    name: str | None = None
    id_prefix: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    custom_text: str | None = None
    waiting_on: str | None = None
    """One of :data:`WAITING_KINDS`: only instances with that kind of work pending (needs their history)."""

    @property
    def needs_scan(self) -> bool:
        return bool(self.name or self.custom_text or self.waiting_on)

    def matches(self, instance: Instance, pending: PendingKinds | None = None) -> bool:
        if self.name and instance.name.lower() != self.name.lower():
            return False
        if self.custom_text and self.custom_text.lower() not in (instance.custom_status or "").lower():
            return False
        if self.waiting_on:
            return pending is not None and self.waiting_on in pending(instance)
        return True


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    scanned: int
    complete: bool = field(default=True)
    """False when the scan budget ran out before the page filled (more may match further on)."""


def parse_status(text: str) -> RuntimeStatus:
    for status in RuntimeStatus:
        if status.value.lower() == text.strip().lower():
            return status
    raise BadRequest(f"unknown runtime status {text!r}; expected one of {', '.join(s.value for s in RuntimeStatus)}")


def parse_time(text: str, what: str) -> datetime:
    """An ISO 8601 time (a date alone means midnight UTC; no offset means UTC)."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{what}: {text!r} is not an ISO 8601 time (e.g. 2026-11-28T00:59:10Z)") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def parse_page_size(text: str | None, default: int, maximum: int) -> int:
    if text is None or text == "":
        return default
    try:
        size = int(text)
    except ValueError:
        raise BadRequest(f"page size {text!r} is not a whole number") from None
    if not 1 <= size <= maximum:
        raise BadRequest(f"page size must be between 1 and {maximum}, got {size}")
    return size


# --- instances -----------------------------------------------------------------------------------------
def summary(instance: Instance) -> dict[str, Any]:
    """One list row: the columns, plus what the progress bar and the alert badges need."""
    custom = decode(instance.custom_status)
    row: dict[str, Any] = {
        "instanceId": instance.instance_id,
        "name": instance.name,
        "runtimeStatus": instance.runtime_status.value,
        "createdTime": iso(instance.created_time),
        "lastUpdatedTime": iso(instance.last_updated_time),
        "customStatusSummary": one_line(instance.custom_status),
        "progressPercent": None,
        "alerts": [],
    }
    if isinstance(custom, dict):
        progress = custom.get("progress_percent")
        if isinstance(progress, (int, float)) and not isinstance(progress, bool):
            row["progressPercent"] = max(0.0, min(100.0, float(progress)))
        alerts = custom.get("alerts")
        if isinstance(alerts, list):
            row["alerts"] = [
                {"name": str(a.get("name", "")), "severity": str(a.get("severity", ""))} for a in alerts if isinstance(a, dict)
            ]
        if isinstance(custom.get("check_count"), int):
            row["checkCount"] = custom["check_count"]
    return row


def list_page(
    store: Store,
    flt: ListFilter,
    page_size: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
    pending: PendingKinds | None = None,
) -> Page:
    """One page of summaries in the store's order (created time, then id), at most ``page_size`` rows.
    ``pending`` answers the ``waiting_on`` filter (only Running and Suspended instances can match it)."""
    token, skip = _decode_cursor(cursor)
    chunk = max(page_size, 200) if flt.needs_scan else page_size
    budget = HISTORY_SCAN_BUDGET if flt.waiting_on else SCAN_BUDGET
    statuses = flt.statuses or None
    if flt.waiting_on:
        statuses = (flt.statuses or _MAY_WAIT) & _MAY_WAIT
    items: list[dict[str, Any]] = []
    scanned = 0
    if statuses is not None and not statuses:  # e.g. waiting_on with only terminal statuses: nothing can match
        return Page([], None, 0)
    while True:
        query = InstanceQuery(
            created_from=flt.created_from,
            created_to=flt.created_to,
            statuses=statuses,
            instance_id_prefix=flt.id_prefix or None,
            top=chunk,
            continuation_token=token,
        )
        rows, next_token = store.query_instances(query)
        for index in range(skip, len(rows)):
            scanned += 1
            if flt.matches(rows[index], pending):
                items.append(summary(rows[index]))
            if len(items) == page_size or scanned >= budget:
                if index + 1 < len(rows):
                    following: str | None = _encode_cursor(token, index + 1)
                else:  # the chunk is used up: the next page starts at the store's next token
                    following = _encode_cursor(next_token, 0) if next_token is not None else None
                return Page(items, following, scanned, len(items) == page_size)
        if next_token is None:
            return Page(items, None, scanned)
        token, skip = next_token, 0


def instance_detail(store: Store, instance_id: str, now: datetime) -> dict[str, Any]:
    """The instance page's header: every field, values decoded (the client collapses large ones)."""
    instance = store.get_instance(instance_id)
    if instance is None:
        raise NotFound(f"no instance with id {instance_id!r}")
    detail = summary(instance)
    detail.update(
        {
            "executionId": instance.execution_id,
            "version": instance.version,
            "parentInstanceId": instance.parent_instance_id,
            "input": decode_input(instance.input),
            "output": decode(instance.output),
            "customStatus": decode(instance.custom_status),
            "failure": decode(instance.output) if instance.runtime_status is RuntimeStatus.FAILED else None,
            "now": iso(now),
        }
    )
    return detail


# --- helpers -------------------------------------------------------------------------------------------
def decode(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def decode_input(text: str | None) -> Any:
    """An input as the orchestrator sees it: the SDK's ``start_new`` sends its input JSON-encoded as a JSON
    string (protocol doc §1.12), so a string holding a JSON object or array is decoded once more."""
    value = decode(text)
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        inner = decode(value)
        return inner if not isinstance(inner, str) else value
    return value


def one_line(text: str | None, limit: int = PREVIEW_CHARS) -> str:
    """The custom status as one short line: ``status · check N · P% · k alerts`` for a monitor's status,
    else the compact JSON, cut at ``limit`` characters."""
    value = decode(text)
    if value is None:
        return ""
    if isinstance(value, dict) and ("status" in value or "progress_percent" in value):
        parts = [str(value["status"])] if value.get("status") is not None else []
        if isinstance(value.get("check_count"), int):
            parts.append(f"check {value['check_count']}")
        if isinstance(value.get("progress_percent"), (int, float)):
            parts.append(f"{value['progress_percent']}%")
        if isinstance(value.get("alerts"), list) and value["alerts"]:
            parts.append(f"{len(value['alerts'])} alert{'s' if len(value['alerts']) != 1 else ''}")
        if value.get("final_status"):
            parts.append(f"final {value['final_status']}")
        line = " · ".join(parts)
    else:
        line = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def iso(when: datetime) -> str:
    """UTC, millisecond precision, ``Z`` (what browsers' Date.parse reads everywhere)."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_ms(text: Any) -> datetime | None:
    if not isinstance(text, str) or len(text) < 19:
        return None
    head, _, fraction = text.rstrip("Zz").partition(".")
    try:
        parsed = datetime.fromisoformat(head).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    digits = (fraction + "000000")[:6]
    return parsed.replace(microsecond=int(digits)) if digits.isdigit() else parsed


def _encode_cursor(token: str | None, skip: int) -> str:
    raw = json.dumps({"t": token, "s": skip}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> tuple[str | None, int]:
    if not cursor:
        return None, 0
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        token, skip = data["t"], data["s"]
        if (token is not None and not isinstance(token, str)) or not isinstance(skip, int) or skip < 0:
            raise ValueError(cursor)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BadRequest(f"page cursor {cursor[:40]!r} is not one this host issued") from None
    return token, skip
