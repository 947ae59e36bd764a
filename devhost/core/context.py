"""Building the orchestration trigger payload the SDK's ``handle(context)`` reads (protocol doc §1.2)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from devhost.core.model import HistoryEvent, Instance, event_json

_ENCODER = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True)
class ReplaySettings:
    """Values sent with every episode; the timer properties depend on the storage provider (§1.7)."""

    maximum_short_timer_duration: str = "00:00:00"
    long_running_timer_interval_duration: str = "00:00:00"


def context_input(instance: Instance) -> Any:
    """The ``input`` field: JSON text or a dict, never another JSON type (§1.12).

    The stored input is the JSON body value as the extension keeps it: a str for SDK-client starts (their
    body is double-encoded) and for continue-as-new and sub-orchestrations, an object for curl posts. A dict
    is re-dumped by the SDK; any other value would reach ``df_loads(non-str)`` and raise, so send its text.
    """
    return _input_value(instance.input)


def _input_value(input_text: str | None) -> Any:
    if input_text is None:
        return None
    value = json.loads(input_text)
    if value is None or isinstance(value, (str, dict)):
        return value
    return json.dumps(value)


class ContextText(str):
    """The payload text, still knowing the pieces it was joined from (:attr:`parts`): the history's event texts,
    stored and new, and the rest of the payload after its history (without the opening brace).

    Parsing the text gives ``{"history": [each event text parsed, in order], **rest parsed}``: JSON values
    compose. A reader in this process may parse the pieces instead, and so parse a stored event's text once for
    all the episodes that replay it (:mod:`devhost.runtime.sdk_hotpaths`). Pickled (to a worker process) it
    travels as its pieces and is joined again there, pieces included.
    """

    parts: tuple[Sequence[str], Sequence[str], str]

    def __reduce__(self) -> tuple[Callable[..., ContextText], tuple[Sequence[str], Sequence[str], str]]:
        return (join_context, self.parts)


def join_context(played_json: Sequence[str], new_json: Sequence[str], rest: str) -> ContextText:
    """The payload of these stored and new event texts and this rest (see :class:`ContextText`)."""
    text = ContextText('{"history":[' + ",".join([*played_json, *new_json]) + "]," + rest)
    text.parts = (played_json, new_json, rest)
    return text


def build_context(
    instance: Instance, played_json: Sequence[str], new: Sequence[HistoryEvent], settings: ReplaySettings
) -> ContextText:
    """The payload text: ``played_json`` (stored event texts, already ``IsPlayed``) then ``new`` as history.

    The stored texts are spliced in as they are rather than parsed and serialised again (that work grows with
    every episode of an instance). The result is the text ``json.dumps`` gives for the whole payload with
    compact separators, since each stored text is exactly :func:`event_json` of its event.
    """
    rest = _rest_json(instance.input, instance.instance_id, instance.parent_instance_id, settings)
    return join_context(played_json, list(map(event_json, new)), rest)


@functools.lru_cache(maxsize=8)
def _rest_json(input_text: str | None, instance_id: str, parent_instance_id: str | None, settings: ReplaySettings) -> str:
    """The payload after its history (without the opening brace): the same for every episode of an execution, so
    an instance's consecutive turns build it once (its input is parsed and serialised again otherwise)."""
    rest: dict[str, Any] = {
        "input": _input_value(input_text),
        "instanceId": instance_id,
        "isReplaying": False,
        "parentInstanceId": parent_instance_id,
        # The extension sends V2 and V3 side by side so SDKs that only know V2 still parse it (§1.6).
        "upperSchemaVersion": 1,
        "upperSchemaVersionNew": 2,
        "maximumShortTimerDuration": settings.maximum_short_timer_duration,
        "longRunningTimerIntervalDuration": settings.long_running_timer_interval_duration,
        "defaultHttpAsyncRequestSleepTimeMillseconds": 30000,
    }
    return _ENCODER.encode(rest)[1:]


def mark_played(events: list[HistoryEvent]) -> list[HistoryEvent]:
    """Copies of ``events`` flagged as played, the form in which they are stored for later episodes."""
    return [dict(event, IsPlayed=True) for event in events]
