"""The Store interface: everything the engine and the HTTP API persist, one transaction per call.

Two implementations: :class:`devhost.store.sqlite.SqliteStore` (a file, durable) and
:class:`devhost.store.memory.MemoryStore` (``--in-memory``). Which queued messages an instance may receive
is :mod:`devhost.core.delivery`'s rule, applied by both.

Every method that writes commits before it returns: once a caller acknowledges a state change to a
client, it is on disk. Implementations must pass tests/store_contract.py. Times are timezone-aware UTC
datetimes, given by the caller (the store never reads a clock).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from devhost.core.entities import EntityBatch, EntityCommit, EntityMessage, EntityQuery, EntityRecord
from devhost.core.errors import Conflict
from devhost.core.model import (
    ActivityWorkItem,
    HistoryEvent,
    Instance,
    InstanceQuery,
    Message,
    Notification,
    Turn,
    TurnCommit,
)


class Store(Protocol):
    # --- instances -------------------------------------------------------------------------------
    def create_instance(self, instance: Instance, start: Message) -> None:
        """Create ``instance`` with an empty history and enqueue ``start`` (its ExecutionStarted).

        If an instance with that id exists and is terminal, it is replaced: old history, messages and
        work items go. If it exists and is not terminal (Pending, Running, Suspended, ContinuedAsNew),
        raise :class:`devhost.core.errors.InstanceExists` and change nothing.
        """

    def get_instance(self, instance_id: str) -> Instance | None:
        """The instance row, or None."""

    def get_history(self, instance_id: str) -> list[HistoryEvent]:
        """The current execution's history events in order (empty if unknown)."""

    def query_instances(self, query: InstanceQuery) -> tuple[list[Instance], str | None]:
        """Instances matching ``query`` ordered by (created_time, instance_id), at most ``query.top``
        (default 100) of them, starting after ``query.continuation_token``. Returns the page and the
        token of the next page (None when this page is the last).

        ``created_from``/``created_to`` are inclusive; an empty ``statuses`` set means no status filter
        (as the extension treats an empty runtimeStatus list); ``instance_id_prefix`` is case-sensitive
        and literal. A ``top`` below 1 or a token this store did not issue raises
        :class:`devhost.core.errors.BadRequest`."""

    def purge_instance(self, instance_id: str) -> int:
        """Delete the instance, its history, messages and work items. Returns 1, or 0 if unknown."""

    def purge_instances(self, query: InstanceQuery) -> int:
        """Delete every instance matching ``query``, whatever its status (ignoring top/token); return the count.
        An empty or absent ``query.statuses`` means no status filter. Which statuses a purge request may
        touch is the caller's rule (devhost.service.management follows Azure Storage's)."""

    @property
    def lifecycle_version(self) -> int:
        """A number that changes whenever an instance is created, replaced or purged through
        :meth:`create_instance`, :meth:`purge_instance` or :meth:`purge_instances` (whether or not a row matched).
        Whoever holds a turn loaded earlier compares it to know whether its instance may have been replaced."""

    # --- messages --------------------------------------------------------------------------------
    def send_message(self, message: Message) -> int:
        """Enqueue a message for an existing instance; returns its id. Raises
        :class:`devhost.core.errors.NotFound` if the instance does not exist."""

    def ready_instances(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[str]:
        """Ids of up to ``limit`` instances that have a deliverable message (``visible_at <= now``),
        oldest message first, skipping ``exclude``. A Suspended instance is ready only for
        ExecutionResumed (20) and ExecutionTerminated (3) messages. A message whose ``execution_id``
        is not the instance's current one is never deliverable (and may be deleted)."""

    def next_visible_at(self) -> datetime | None:
        """The earliest ``visible_at`` of any deliverable message (same suspension rule) or queued entity
        request, or None."""

    def load_turn(self, instance_id: str, now: datetime) -> Turn | None:
        """The instance, its history, and its deliverable messages (``visible_at <= now``, same
        suspension rule), ordered by (visible_at, id). None if the instance does not exist.

        The history is returned unparsed, as ``Turn.history_json``: one JSON text per event, in order, each
        exactly :func:`devhost.core.model.event_json` of the event ``commit_turn`` was given (the engine
        splices these texts into the SDK's payload as they are)."""

    def commit_turn(self, commit: TurnCommit) -> None:
        """Apply one orchestration turn atomically (see :class:`TurnCommit` for each field):
        replace the instance row; delete consumed messages; append (or, with ``replace_history``,
        replace) history, keeping each event as its :func:`~devhost.core.model.event_json` text; on
        ``replace_history`` also delete messages and work items tied to the old execution id; insert new
        instances, messages and activity work items and entity requests (``new_entity_messages``); with
        ``clear_pending`` delete all remaining messages and work items of the instance; add ``notifications``
        to the outbox. Messages for instances that do not exist (a purged parent), or tied to an execution id
        the addressee no longer runs, are dropped silently.
        A new instance replaces a terminal one of the same id; over a non-terminal one it raises
        :class:`devhost.core.errors.InstanceExists` and nothing of the turn is written. If the turn's own
        instance no longer exists (purged while the turn ran), the purge wins: nothing is written."""

    def commit_group(
        self, turns: Sequence[TurnCommit], activity_results: Sequence[tuple[int, Message]] = ()
    ) -> list[Conflict | None]:
        """Group commit: apply the activity results (each as :meth:`complete_activity`), then the turns in
        order (each as :meth:`commit_turn`), all in ONE transaction, durable when this returns and not
        visible to any reader before. Each turn stays all-or-nothing: a turn that would raise
        :class:`devhost.core.errors.InstanceExists` writes nothing and the others are still applied; the answer
        holds, per turn, that error or None. Any other failure writes nothing of the group and raises.

        A turn may consume one of the group's results before it was stored, under the provisional message id
        ``-work_item_id`` (:func:`devhost.core.delivery.with_arriving`; at most one turn per result): that result
        is then consumed with the turn, never left queued. If its work item is gone (the result is not recorded,
        as :meth:`complete_activity` would not), that turn writes nothing and its answer is
        :class:`devhost.core.errors.ResultNotRecorded`."""

    # --- activity work items ---------------------------------------------------------------------
    def pending_activities(self, limit: int, exclude: Collection[int] = ()) -> list[ActivityWorkItem]:
        """Up to ``limit`` activity work items in creation order, skipping ids in ``exclude``."""

    def complete_activity(self, work_item_id: int, result: Message) -> bool:
        """Atomically delete the work item and enqueue its result message. If the work item is gone
        (instance purged, completed or restarted meanwhile) do nothing and return False."""

    # --- the lifecycle-notification outbox --------------------------------------------------------
    # Written by commit_turn with the state change they report; independent of their instance afterwards
    # (purging the instance does not cancel a notification already owed).
    def due_notifications(self, now: datetime, limit: int) -> list[Notification]:
        """Up to ``limit`` notifications with ``due_at <= now``, ordered by (due_at, id)."""

    def next_notification_at(self) -> datetime | None:
        """The earliest ``due_at`` in the outbox, or None when it is empty."""

    def delete_notification(self, notification_id: int) -> bool:
        """Remove a notification (delivered, or given up). False if it was not there."""

    def retry_notification(self, notification_id: int, due_at: datetime) -> bool:
        """Make a notification due again at ``due_at`` and count one more attempt. False if it is gone."""

    # --- entities (devhost.core.entities) ----------------------------------------------------------
    def send_entity_message(self, message: EntityMessage) -> int:
        """Queue a request for an entity (which need not exist yet); returns its id. Requests of one entity
        are delivered in id order, which is the order they were sent in."""

    def ready_entities(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[str]:
        """Scheduler ids of up to ``limit`` entities with a request visible at ``now``, the entity with the
        oldest such request first, skipping ``exclude``."""

    def load_entity_batch(self, entity_id: str, now: datetime, limit: int) -> EntityBatch:
        """The entity's record (None if it does not exist) and up to ``limit`` of its visible requests in order."""

    def commit_entity_batch(self, commit: EntityCommit) -> None:
        """Apply one entity batch atomically: delete the consumed requests; write the state (or delete the
        record when ``exists`` is False) with ``now`` as its last-modified time; enqueue the responses (a
        response for an orchestration that is gone or runs another execution is dropped) and the signals."""

    def get_entity(self, entity_id: str) -> EntityRecord | None:
        """The entity's record, or None if it does not exist."""

    def query_entities(self, query: EntityQuery) -> tuple[list[EntityRecord], str | None]:
        """Existing entities matching ``query`` in scheduler-id order, at most ``query.top`` (default 100),
        after ``query.continuation_token``; returns the page and the next page's token (None on the last).
        ``name`` matches case-insensitively; the last-modified bounds are inclusive. A ``top`` below 1 or a
        token this store did not issue raises :class:`devhost.core.errors.BadRequest`."""

    def purge_entity(self, entity_id: str) -> int:
        """Delete the entity's record and its queued requests. Returns 1, or 0 if it did not exist."""

    # --- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the database. Further calls are errors."""
