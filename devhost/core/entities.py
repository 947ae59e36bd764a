"""Durable entities, decided purely: ids, the records the store keeps, and one batch as data in and out.

An entity is addressed by its scheduler id ``@<name lower-cased>@<key>`` (extension ``EntityId.cs``
``GetSchedulerId``; SDK ``models/utils/entity_utils.py`` ``get_scheduler_id``). Every operation reaches it as
a request message in the extension's ``RequestMessage`` JSON shape (``EntityScheduler/RequestMessage.cs``:
``op``, ``signal``, ``input``, ``id``, ``parent``, ``parentExecution``), queued per entity in the order sent.

A batch is: the entity's record and its next queued requests in, the SDK's entity payload out (the shape
``EntityTriggerAttributeBindingProvider.EntityContextToString`` builds: ``self``, ``exists``, ``state``,
``batch: [{name, input, isSignal}]``), then the SDK's ``EntityState`` JSON (``entityExists``, ``entityState``,
``results: [{isError, result, duration}]``, ``signals``) in and an :class:`EntityCommit` out: the new state,
a response to each caller that is not a signal (``TaskEntityShim.ExecuteOutOfProcBatch``: ``ResponseMessage``
``{"result", "exceptionType": "Error"}`` sent as an event named by the request id), and the entity's own
signals. The engine commits it in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from devhost.core import events
from devhost.core.errors import BadRequest
from devhost.core.model import Message

REQUEST_EVENT_NAME = "op"
"""``EntityMessageEventNames.RequestMessageEventName``: the ``Name`` of the EventSent an entity call writes."""
ERROR_EXCEPTION_TYPE = "Error"
"""``TaskEntityShim.cs`` sets ``ExceptionType = result.IsError ? "Error" : null`` for out-of-proc results."""
MAX_BATCH = 100
"""Operations per batch at most (the extension's ``MaxEntityOperationBatchSize`` default on consumption)."""

_INVALID_KEY_CHARS = frozenset("/\\?#")


@dataclass(frozen=True)
class EntityId:
    name: str
    """Lower-cased, as the extension's ``EntityId`` constructor stores it."""
    key: str

    @classmethod
    def of(cls, name: str, key: str) -> EntityId:
        """An id from a name and key; BadRequest with the extension's words for an empty name."""
        if not name:
            raise BadRequest("Invalid entity id: entity name must not be a null or empty string.")
        if "@" in name:
            raise BadRequest(f"Invalid entity id: entity name must not contain '@' (got {name!r}).")
        return cls(name.lower(), key)

    @classmethod
    def parse(cls, scheduler_id: str) -> EntityId:
        """``@name@key`` back to an id (``EntityId.GetEntityIdFromSchedulerId``: the key is everything after
        the second ``@``); BadRequest for text that is not a scheduler id."""
        if not scheduler_id.startswith("@") or scheduler_id.find("@", 1) < 0:
            raise BadRequest(f"{scheduler_id!r} is not an entity id (expected '@<name>@<key>')")
        pos = scheduler_id.find("@", 1)
        return cls.of(scheduler_id[1:pos], scheduler_id[pos + 1 :])

    @property
    def scheduler_id(self) -> str:
        return f"@{self.name}@{self.key}"


def check_signal_key(key: str) -> None:
    """``DurableClient.SignalEntityAsyncInternal``: keys with ``/ \\ ? #`` or control characters are refused."""
    if any(c in _INVALID_KEY_CHARS or _is_control(c) for c in key):
        raise BadRequest("Entity keys must not contain /, \\, #, ?, or control characters.")


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F  # .NET char.IsControl


def operation_input(value_json: str | None) -> str | None:
    """The request's ``input``: ``RequestMessage.SetInput`` serializes the caller's object to JSON text. The
    object is the SDK action's ``input`` string (``df_dumps`` of the value), or the HTTP body (a parsed JSON
    token, or the raw text), so the entity gets JSON text of that (protocol doc §1.12, ``json.loads`` then
    ``df_loads`` in ``DurableEntityContext.get_input``)."""
    return None if value_json is None else json.dumps(value_json)


def request(
    operation: str,
    request_id: str,
    *,
    signal: bool,
    input_text: str | None,
    parent_instance_id: str | None = None,
    parent_execution_id: str | None = None,
) -> dict[str, Any]:
    """A ``RequestMessage`` as the extension serializes it (default values left out)."""
    body: dict[str, Any] = {"op": operation}
    if signal:
        body["signal"] = True
    if input_text is not None:
        body["input"] = input_text
    body["id"] = request_id
    if parent_instance_id is not None:
        body["parent"] = parent_instance_id
    if parent_execution_id is not None:
        body["parentExecution"] = parent_execution_id
    return body


def guid(hex_text: str) -> str:
    """A 32-hex-digit id in the ``Guid.ToString()`` form the extension names requests by."""
    h = hex_text.replace("-", "")[:32].ljust(32, "0")
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class EntityMessage:
    """One queued request for an entity (``request`` is the ``RequestMessage`` JSON object)."""

    entity_id: str
    """The scheduler id ``@name@key``."""
    request: dict[str, Any]
    visible_at: datetime
    id: int | None = None


@dataclass
class EntityRecord:
    """An entity that exists: its state as the JSON text the SDK returned, and when an operation last ran."""

    entity_id: str
    state: str | None
    last_modified: datetime


@dataclass
class EntityBatch:
    """What one batch reads: the entity's record (None if it does not exist) and its next requests in order."""

    entity_id: str
    record: EntityRecord | None
    messages: list[EntityMessage]


@dataclass
class EntityCommit:
    """Everything one batch writes, committed by the store in one transaction."""

    entity_id: str
    now: datetime
    consumed_message_ids: list[int] = field(default_factory=list)
    exists: bool = False
    state: str | None = None
    """The new state (JSON text); ignored when ``exists`` is False (the entity is deleted)."""
    responses: list[Message] = field(default_factory=list)
    """``EventRaised`` messages to the orchestrations that called (not signalled) an operation."""
    signals: list[EntityMessage] = field(default_factory=list)


@dataclass
class EntityQuery:
    """Filters of the entity list API (``GET .../entities[/{name}]``). None means no filter."""

    name: str | None = None
    last_modified_from: datetime | None = None
    last_modified_to: datetime | None = None
    top: int | None = None
    continuation_token: str | None = None


# --- one batch --------------------------------------------------------------------------------------
def batch_payload(batch: EntityBatch) -> str:
    """The SDK's entity context JSON for ``batch`` (``EntityContextToString``)."""
    entity = EntityId.parse(batch.entity_id)
    record = batch.record
    return json.dumps(
        {
            "self": {"name": entity.name, "key": entity.key},
            "exists": record is not None,
            "state": None if record is None else record.state,
            "batch": [
                {"name": m.request.get("op"), "input": m.request.get("input"), "isSignal": bool(m.request.get("signal"))}
                for m in batch.messages
            ],
        }
    )


def apply_result(batch: EntityBatch, result_json: str, now: datetime, new_id: Callable[[], str]) -> EntityCommit:
    """The commit for the SDK's answer to ``batch``. An answer that is not the ``EntityState`` shape fails every
    operation of the batch and keeps the state (as the extension's timeout path does), naming the problem."""
    try:
        result = json.loads(result_json)
        results = result["results"]
        if not isinstance(results, list) or len(results) != len(batch.messages):
            raise ValueError(f"{len(batch.messages)} operation results expected")
        outcomes = [(bool(r.get("isError")), _text(r.get("result"))) for r in results]
        exists = bool(result.get("entityExists"))
        state = _text(result.get("entityState")) if exists else None
        signals = [_signal(batch.entity_id, s, now, new_id) for s in result.get("signals") or []]
    except (ValueError, TypeError, KeyError, AttributeError, BadRequest) as exc:
        return failed_batch(batch, now, f"the entity function returned an unusable result: {exc}")
    commit = _commit(batch, now, exists, state, outcomes)
    commit.signals.extend(signals)
    return commit


def _signal(sender: str, signal: dict[str, Any], now: datetime, new_id: Callable[[], str]) -> EntityMessage:
    """A signal the entity sent (``TaskEntityShim``: a RequestMessage with the entity as parent, no execution)."""
    target = EntityId.of(str(signal["target"]["name"]), str(signal["target"]["key"]))
    body = request(str(signal["name"]), guid(new_id()), signal=True, input_text=signal.get("input"), parent_instance_id=sender)
    return EntityMessage(target.scheduler_id, body, now)


def failed_batch(batch: EntityBatch, now: datetime, message: str) -> EntityCommit:
    """Every operation fails with ``message``; the state stays as it was."""
    record = batch.record
    outcomes = [(True, json.dumps(message)) for _ in batch.messages]
    return _commit(batch, now, record is not None, None if record is None else record.state, outcomes)


def _commit(batch: EntityBatch, now: datetime, exists: bool, state: str | None, outcomes: list[tuple[bool, str]]) -> EntityCommit:
    commit = EntityCommit(batch.entity_id, now, exists=exists, state=state)
    for message, (is_error, result_text) in zip(batch.messages, outcomes):
        if message.id is not None:
            commit.consumed_message_ids.append(message.id)
        req = message.request
        parent = req.get("parent")
        if req.get("signal") or not parent or str(parent).startswith("@"):
            continue  # a signal (from a client, an orchestration or an entity): nobody waits for an answer
        response: dict[str, Any] = {"result": result_text}
        if is_error:
            response["exceptionType"] = ERROR_EXCEPTION_TYPE
        event = events.event_raised(now, str(req.get("id")), json.dumps(response))
        commit.responses.append(Message(str(parent), event, now, req.get("parentExecution")))
    return commit


def _text(value: Any) -> str:
    """A result or state as JSON text: the SDK sends ``df_dumps`` text; anything else is serialized."""
    if value is None:
        return "null"
    return value if isinstance(value, str) else json.dumps(value)
