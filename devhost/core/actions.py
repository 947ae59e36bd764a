"""Reading the SDK's OrchestratorState: flattening the cumulative action list (protocol doc §1.4, §1.5, §1.11).

The SDK re-emits every action it ever scheduled, in scheduling order, on every replay. Compound actions
(WhenAll/WhenAny, and the WhenAll that wraps every ``-WithRetry`` call and long timer) only group them, so
the host works on the depth-first flattening: the k-th flattened action is the same action in every
episode, and every flattened action except WaitForExternalEvent and ContinueAsNew took the next sequence id.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class ActionType(enum.IntEnum):
    CALL_ACTIVITY = 0
    CALL_ACTIVITY_WITH_RETRY = 1
    CALL_SUB_ORCHESTRATOR = 2
    CALL_SUB_ORCHESTRATOR_WITH_RETRY = 3
    CONTINUE_AS_NEW = 4
    CREATE_TIMER = 5
    WAIT_FOR_EXTERNAL_EVENT = 6
    CALL_ENTITY = 7
    CALL_HTTP = 8
    SIGNAL_ENTITY = 9
    SCHEDULED_SIGNAL_ENTITY = 10
    WHEN_ANY = 11
    WHEN_ALL = 12


COMPOUND = (ActionType.WHEN_ANY, ActionType.WHEN_ALL)
_ACTION_TYPES: dict[Any, ActionType] = {int(kind): kind for kind in ActionType}
"""``ActionType(n)`` by lookup: the enum call is slow, and every action so far is checked on every episode."""
WITHOUT_SEQUENCE_ID = (ActionType.WAIT_FOR_EXTERNAL_EVENT, ActionType.CONTINUE_AS_NEW)


def flatten(actions: Any) -> list[dict[str, Any]]:
    """Depth-first list of the atomic actions in ``actions`` (``[[...]]`` in V2/V3, list of lists in V1)."""
    flat: list[dict[str, Any]] = []
    _walk(_as_list(actions), flat)
    return flat


def _walk(nodes: list[Any], out: list[dict[str, Any]]) -> None:
    # Appends rather than yields, and calls itself only for a nested list or a compound action: the list is every
    # action so far, walked on every episode.
    for node in nodes:
        if isinstance(node, list):
            _walk(node, out)
        elif isinstance(node, dict):
            if node.get("actionType") in COMPOUND:
                _walk(_as_list(node.get("compoundActions") or []), out)
            else:
                out.append(node)


def _as_list(node: Any) -> list[Any]:
    return node if isinstance(node, list) else [node]


def signature(action: dict[str, Any]) -> str:
    """A short, stable description of what an action asks for, compared across replays."""
    kind = _ACTION_TYPES.get(action["actionType"])
    if kind is None:
        kind = ActionType(action["actionType"])  # raises ValueError for an unknown type, as before
    if kind in (ActionType.CALL_ACTIVITY, ActionType.CALL_ACTIVITY_WITH_RETRY):
        return f"activity:{action.get('functionName')}"
    if kind in (ActionType.CALL_SUB_ORCHESTRATOR, ActionType.CALL_SUB_ORCHESTRATOR_WITH_RETRY):
        return f"suborchestrator:{action.get('functionName')}"
    if kind is ActionType.CREATE_TIMER:
        return "timer"
    if kind is ActionType.WAIT_FOR_EXTERNAL_EVENT:
        return f"event:{action.get('externalEventName')}"
    if kind in (ActionType.CALL_ENTITY, ActionType.SIGNAL_ENTITY):
        return f"entity:{action.get('instanceId')}:{action.get('operation')}"
    if kind is ActionType.CALL_HTTP:
        request = action.get("httpRequest") or {}
        return f"http:{request.get('method')} {request.get('uri')}"
    return kind.name.lower()


def describe(signature_text: str | None) -> str:
    """Human wording of a signature for error messages."""
    if signature_text is None:
        return "nothing"
    kind, _, rest = signature_text.partition(":")
    return {
        "activity": f"activity '{rest}'",
        "suborchestrator": f"sub-orchestration '{rest}'",
        "timer": "a durable timer",
        "event": f"a wait for external event '{rest}'",
        "entity": f"entity operation '{rest}'",
        "http": f"HTTP call '{rest}'",
    }.get(kind, signature_text)


@dataclass(frozen=True)
class RetryOptions:
    first_retry_interval_ms: int
    max_attempts: int

    @classmethod
    def from_action(cls, action: dict[str, Any]) -> RetryOptions:
        options = action.get("retryOptions") or {}
        return cls(
            first_retry_interval_ms=int(options.get("firstRetryIntervalInMilliseconds") or 0),
            max_attempts=int(options.get("maxNumberOfAttempts") or 1),
        )
