"""Instance management: the operations behind the public webhooks and the SDK's RPC base.

Thin by design: each operation validates, reads or writes through the Store, and calls ``notify()`` after a
write that enqueues a message. The engine turns those messages into history; nothing here changes an
instance's runtime status directly (as in DTFx, a terminate or suspend shows once the orchestration
processed it). Results are domain records (:class:`Instance`, :class:`InstanceStatus`); devhost.http.payloads
shapes them into wire JSON. Errors are devhost errors; devhost.http.errors maps them to status codes.

Deviations from the extension, on purpose:
- Starting (or restarting in place) over a Pending/Running/Suspended/ContinuedAsNew instance raises
  InstanceExists (HTTP 409). The extension lets DTFx throw "already exists", answered as a generic 500.
- Suspending a Suspended instance, or resuming one that is not Suspended, raises Conflict (409). The
  extension throws InvalidOperationException there, which becomes a 500.
- Rewinding a non-Failed instance raises BadRequest (400; the extension's InvalidOperationException gives 500).
  A rewind of a Failed instance only enqueues an ExecutionRewound message; the engine decides what it does.
- Orchestrator names resolve case-insensitively (as Functions names do) and the registered spelling is stored.

Purge by filter follows Azure Storage, not intuition: see :func:`purge_statuses`.
"""

from __future__ import annotations

import json
import unicodedata
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Callable

from devhost.clock import Clock
from devhost.core import events, jsontext
from devhost.core.errors import BadRequest, Conflict, Gone, NotFound
from devhost.core.model import TERMINAL_STATUSES, HistoryEvent, Instance, InstanceQuery, Message, RuntimeStatus
from devhost.core.tracecontext import accepted_trace
from devhost.runtime.registry import FunctionRegistry
from devhost.store.base import Store

JSONValue = Any

MAX_INSTANCE_ID_LENGTH = 256
MIN_POLL_INTERVAL_S = 0.1
"""Floor for wait-for-completion polling, so ``pollingInterval=0`` cannot spin the event loop."""

_SUSPENDABLE_STATES = frozenset({RuntimeStatus.RUNNING, RuntimeStatus.PENDING, RuntimeStatus.CONTINUED_AS_NEW})


class _Missing:
    """Type of :data:`MISSING`: "no input at all" (no request body), as opposed to a JSON null."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


def purge_statuses(requested: frozenset[RuntimeStatus] | None) -> frozenset[RuntimeStatus] | None:
    """The statuses a purge by filter deletes, as DurableTask.AzureStorage decides them.

    ``AzureTableTrackingStore.PurgeInstanceHistoryAsync(createdTimeFrom, createdTimeTo, runtimeStatus)`` keeps only
    the terminal statuses of the request (Completed, Terminated, Canceled, Failed), and
    ``OrchestrationInstanceStatusQueryCondition`` adds a status condition only when that list is non-empty
    (``RuntimeStatus != null && RuntimeStatus.Any()``). So no ``runtimeStatus`` — the extension's HttpApiHandler
    passes an empty list then — deletes instances of *every* status in the time range, Running and Pending
    included, and so does a ``runtimeStatus`` naming only live statuses. None means "no status filter"."""
    terminal = TERMINAL_STATUSES & requested if requested else frozenset()
    return terminal or None


@dataclass(frozen=True)
class InstanceStatus:
    """One instance as the status API reports it: its row and, when asked for, its raw history."""

    instance: Instance
    history: list[HistoryEvent] | None = None
    """None when not asked for, and always for a Pending instance (the extension shows none there)."""


class Management:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        registry: FunctionRegistry,
        notify: Callable[[], None],
        *,
        hub_name: str,
        default_version: str = "",
    ) -> None:
        self.store = store
        self.clock = clock
        self.registry = registry
        self.notify = notify
        self.hub_name = hub_name
        self.default_version = default_version

    # --- start / restart -------------------------------------------------------------------------
    def start(
        self,
        name: str,
        instance_id: str | None = None,
        input_value: JSONValue | _Missing = MISSING,
        version: str | None = None,
        *,
        trace_parent: str | None = None,
        trace_state: str | None = None,
    ) -> str:
        """Create an instance of orchestrator ``name`` and enqueue its ExecutionStarted; return its id.

        ``input_value`` is the parsed request body. It is stored as JSON text (protocol doc §1.12): an SDK
        ``start_new`` sends a JSON string, so the orchestrator and the status API see that string.
        MISSING and None both mean "no input" (the extension's ``input = null``).

        ``trace_parent``/``trace_state``: the W3C trace context of the starting request (the SDK client sends
        its current context on ``start_new``); kept with the instance when well-formed, ignored otherwise.
        """
        input_text = None if isinstance(input_value, _Missing) or input_value is None else _dumps(input_value)
        return self._create(name, instance_id, input_text, version, accepted_trace(trace_parent, trace_state))

    def restart(
        self, instance_id: str, *, new_instance_id: bool = True, trace_parent: str | None = None, trace_state: str | None = None
    ) -> str:
        """Start the orchestrator of ``instance_id`` again with the same input, under a new id (default) or
        the same one (which must then be terminal). Raises BadRequest for an unknown instance."""
        old = self.store.get_instance(instance_id)
        if old is None:
            # The extension's (typo included) ArgumentException text.
            raise BadRequest(f"An orchestrastion with the instanceId {instance_id} was not found.")
        trace = accepted_trace(trace_parent, trace_state)
        return self._create(old.name, None if new_instance_id else old.instance_id, old.input, None, trace)

    def _create(
        self,
        name: str,
        instance_id: str | None,
        input_text: str | None,
        version: str | None,
        trace: tuple[str | None, str | None] = (None, None),
    ) -> str:
        name = self._orchestrator_name(name)
        if not instance_id:
            instance_id = uuid.uuid4().hex
        else:
            validate_instance_id(instance_id)
        now = self.clock.now()
        execution_id = uuid.uuid4().hex
        version = version if version is not None else (self.default_version or "")
        instance = Instance(
            instance_id=instance_id,
            name=name,
            execution_id=execution_id,
            runtime_status=RuntimeStatus.PENDING,
            created_time=now,
            last_updated_time=now,
            input=input_text,
            version=version,
            trace_parent=trace[0],
            trace_state=trace[1],
        )
        started = events.execution_started(
            now,
            instance_id=instance_id,
            execution_id=execution_id,
            name=name,
            input_text=input_text,
            version=version,
        )
        # InstanceExists (a Conflict) propagates when a non-terminal instance holds the id.
        self.store.create_instance(instance, Message(instance_id, started, visible_at=now, execution_id=execution_id))
        self.notify()
        return instance_id

    def _orchestrator_name(self, name: str) -> str:
        if name in self.registry.orchestrators:
            return name
        for registered in self.registry.orchestrators:
            if registered.lower() == name.lower():
                return registered
        message = f"The function '{name}' doesn't exist, is disabled, or is not an orchestrator function. Additional info: "
        if self.registry.orchestrators:
            message += "The following are the known orchestrator functions: '" + "', '".join(self.registry.orchestrators) + "'."
        else:
            message += "No orchestrator functions are currently registered!"
        raise BadRequest(message)

    # --- reads -----------------------------------------------------------------------------------
    def get_instance(self, instance_id: str) -> Instance:
        instance = self.store.get_instance(instance_id)
        if instance is None:
            raise NotFound(f"No instance with ID '{instance_id}' was found.")
        return instance

    def get_status(self, instance_id: str, *, show_history: bool = False) -> InstanceStatus:
        """One instance and, with ``show_history``, its history (raises NotFound). History is never produced
        for a Pending instance, as in the extension."""
        instance = self.get_instance(instance_id)
        history: list[HistoryEvent] | None = None
        if show_history and instance.runtime_status is not RuntimeStatus.PENDING:
            history = self.store.get_history(instance_id)
        return InstanceStatus(instance, history)

    def list_instances(self, query: InstanceQuery) -> tuple[list[Instance], str | None]:
        """One page of instances and the next page's continuation token (None on the last page)."""
        return self.store.query_instances(query)

    def check_active(self, instance_id: str) -> Instance:
        """The instance if it still takes events/terminate: NotFound if unknown, Gone if terminal."""
        instance = self.get_instance(instance_id)
        if instance.runtime_status.is_terminal:
            raise Gone(f"Instance {instance_id} is {instance.runtime_status.value}.")
        return instance

    # --- messages to a running instance ----------------------------------------------------------
    def raise_event(self, instance_id: str, name: str, input_text: str | None) -> None:
        """Enqueue an EventRaised. ``input_text`` is the event's JSON text exactly as it arrived (the SDK
        client double-encodes, so an orchestrator gets a str — protocol doc §1.12, issue #295)."""
        if not name:
            raise BadRequest("Value cannot be null. (Parameter 'eventName')")
        if input_text is not None:
            _require_json(input_text)
        self.check_active(instance_id)
        self._send(instance_id, events.event_raised(self.clock.now(), name, input_text))

    def terminate(self, instance_id: str, reason: str | None) -> None:
        self.check_active(instance_id)
        self._send(instance_id, events.execution_terminated(self.clock.now(), reason))

    def suspend(self, instance_id: str, reason: str | None) -> None:
        instance = self.check_active(instance_id)
        if instance.runtime_status not in _SUSPENDABLE_STATES:
            raise Conflict(
                f"Cannot suspend the orchestration instance {instance_id} because instance is in the "
                f"{instance.runtime_status.value} state."
            )
        self._send(instance_id, events.execution_suspended(self.clock.now(), reason))

    def resume(self, instance_id: str, reason: str | None) -> None:
        instance = self.check_active(instance_id)
        if instance.runtime_status is not RuntimeStatus.SUSPENDED:
            raise Conflict(
                f"Cannot resume the orchestration instance {instance_id} because instance is in the "
                f"{instance.runtime_status.value} state."
            )
        self._send(instance_id, events.execution_resumed(self.clock.now(), reason))

    def rewind(self, instance_id: str, reason: str | None) -> None:
        """Ask the engine to rewind a Failed instance (an ExecutionRewound message, EventType 21)."""
        instance = self.get_instance(instance_id)
        status = instance.runtime_status
        if status in (RuntimeStatus.COMPLETED, RuntimeStatus.TERMINATED, RuntimeStatus.CANCELED):
            raise Gone(f"Instance {instance_id} is {status.value}.")
        if status is not RuntimeStatus.FAILED:
            raise BadRequest("The rewind operation is only supported on failed orchestration instances.")
        self._send(instance_id, events.execution_rewound(self.clock.now(), reason))

    def _send(self, instance_id: str, event: HistoryEvent) -> None:
        # No execution id: these go to whatever execution is current (DTFx clears it for the same reason).
        self.store.send_message(Message(instance_id, event, visible_at=self.clock.now()))
        self.notify()

    # --- purge -----------------------------------------------------------------------------------
    def purge(self, instance_id: str) -> int:
        """Delete one instance and everything it owns; 1, or NotFound."""
        deleted = self.store.purge_instance(instance_id)
        if deleted == 0:
            raise NotFound(f"No instance with ID '{instance_id}' was found.")
        self.notify()  # whoever waits on the instance's status must read it again
        return deleted

    def purge_by(self, query: InstanceQuery) -> int:
        """Delete the instances matching ``query``, statuses narrowed as Azure Storage does (:func:`purge_statuses`);
        returns how many (possibly 0)."""
        deleted = self.store.purge_instances(replace(query, statuses=purge_statuses(query.statuses)))
        if deleted:
            self.notify()  # whoever waits on a purged instance's status must read it again
        return deleted

    # --- waiting ---------------------------------------------------------------------------------
    async def wait_for_completion(self, instance_id: str, timeout_s: float, interval_s: float) -> Instance | None:
        """Poll until the instance is Completed/Failed/Terminated/Canceled (return it) or ``timeout_s``
        passes on the Clock (return None). Polls every ``interval_s`` (at least 0.1 s), never past the
        deadline, and always reads at least once — the extension's loop."""
        if interval_s > timeout_s:
            raise BadRequest(
                f"Total timeout {_seconds_text(timeout_s)} should be bigger than retry timeout {_seconds_text(interval_s)}"
            )
        interval = timedelta(seconds=max(interval_s, MIN_POLL_INTERVAL_S))
        deadline = self.clock.now() + timedelta(seconds=max(timeout_s, 0.0))
        while True:
            instance = self.store.get_instance(instance_id)
            if instance is not None and instance.runtime_status.is_terminal:
                return instance
            now = self.clock.now()
            if now >= deadline:
                return None
            await self.clock.sleep_until(min(now + interval, deadline))


def validate_instance_id(instance_id: str) -> None:
    """The extension's checks on caller-chosen ids (texts kept; the first two have their ArgumentException
    arguments swapped in the extension, hence the odd wording)."""
    if instance_id.startswith("@"):
        raise BadRequest("instanceId (Parameter 'Orchestration instance ids must not start with @.')")
    if any(ch in "/\\?#" or unicodedata.category(ch) == "Cc" for ch in instance_id):
        raise BadRequest(
            "instanceId (Parameter 'Orchestration instance ids must not contain /, \\, #, ?, or control characters.')"
        )
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise BadRequest(f"Instance ID lengths must not exceed {MAX_INSTANCE_ID_LENGTH} characters.")


def _dumps(value: JSONValue) -> str:
    # Newtonsoft style: compact, non-ASCII kept as is, an escaped lone surrogate kept escaped (see jsontext).
    return jsontext.compact(value)


def _require_json(text: str) -> None:
    try:
        json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"Event data is not valid JSON: {exc}") from exc


def _seconds_text(value: float) -> str:
    # .NET prints TimeSpan.TotalSeconds without a trailing ".0".
    return str(int(value)) if float(value).is_integer() else repr(value)
