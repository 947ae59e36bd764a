"""Event Grid lifecycle notifications: what a turn owes (into the outbox, with the turn) and the sender.

The engine asks :meth:`Notifier.owed` for the notifications of a turn's transitions (decided by
:mod:`devhost.core.notifications`) and commits them in the turn's transaction, then calls :meth:`Notifier.wake`.
The sender drains the store's outbox after commit: one POST per notification to the topic endpoint with the
``aeg-sas-key`` header (EventGridLifeCycleNotificationHelper.cs:143, :164), deleting it once answered. So a
host killed between the transition and the send sends it after restart; a host killed after the receiver
answered but before the delete sends it again (at-least-once, with the same event id for the receiver to
de-duplicate).

Retries follow the extension's HttpRetryMessageHandler (helper :389-447): a 2xx ends it; a failing status
other than 503 that is not in ``publishRetryHttpStatus`` ends it (logged); 503, a listed status or a connection
error is tried again after ``publishRetryInterval``, up to ``publishRetryCount`` more times. The wait is on
the host's clock and the attempt count is kept in the store, so retries survive a restart too.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import aiohttp

from devhost.clock import Clock
from devhost.core.model import Notification, RuntimeStatus, Turn, TurnCommit
from devhost.core.notifications import event_grid_body, turn_transitions
from devhost.runtime.config import EventGridSettings
from devhost.store.base import Store

log = logging.getLogger("devhost.notifications")

SEND_TIMEOUT_S = 100.0
"""Per attempt, as .NET's HttpClient default timeout."""
_BATCH = 32
_ALWAYS_RETRIED = 503  # HttpRetryMessageHandler retries ServiceUnavailable whatever the list says (:419)


class Notifier:
    """Decides the notifications a turn owes and delivers the outbox (one asyncio task on the host's loop)."""

    def __init__(self, store: Store, clock: Clock, settings: EventGridSettings, hub_name: str) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.hub_name = hub_name
        self.sent = 0
        """Notifications delivered (answered 2xx) since start."""
        self.given_up = 0
        """Notifications dropped after a final failure since start."""
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # --- deciding (called by the engine before it commits a turn) -------------------------------------
    def owed(self, turn: Turn, commit: TurnCommit, *, orchestrator_ran: bool) -> list[Notification]:
        """The outbox entries for the transitions ``commit`` makes, filtered by ``publishEventTypes``."""
        before: RuntimeStatus = turn.instance.runtime_status
        transitions = turn_transitions(before, commit, orchestrator_ran=orchestrator_ran, first_episode=not turn.history_json)
        instance = commit.instance
        now = self.clock.now()
        return [
            Notification(
                instance.instance_id,
                event_grid_body(
                    event_id=str(uuid.uuid4()),
                    hub_name=self.hub_name,
                    function_name=instance.name,
                    instance_id=instance.instance_id,
                    transition=transition,
                    event_time=now,
                ),
                now,
            )
            for transition in transitions
            if transition.status in self.settings.publish_statuses
        ]

    # --- sending -------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._wake.set()  # drain what a previous run left in the outbox
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT_S))
        self._task = asyncio.create_task(self._run(), name="devhost-notifications")

    async def stop(self) -> None:
        """Stop sending. A notification not yet answered stays in the outbox for the next start."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    def wake(self) -> None:
        """New notifications were committed (call on the loop's thread)."""
        if self._wake is not None:
            self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                due = self.store.due_notifications(self.clock.now(), _BATCH)
                for notification in due:
                    await self._deliver(notification)
                if len(due) == _BATCH:
                    continue
                await self._wait()
            except Exception:  # a store that failed (disk full, I/O error): the outbox keeps it, try again later
                log.exception("Sending lifecycle notifications failed; trying again in %s", self.settings.retry_interval)
                await self.clock.sleep_until(self.clock.now() + self.settings.retry_interval)

    async def _wait(self) -> None:
        assert self._wake is not None
        next_at = self.store.next_notification_at()
        waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
        if next_at is not None:
            waits.append(asyncio.ensure_future(self.clock.sleep_until(next_at)))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()
            await asyncio.gather(*waits, return_exceptions=True)

    async def _deliver(self, notification: Notification) -> None:
        assert notification.id is not None and self._session is not None
        failure: str
        retryable: bool
        try:
            async with self._session.post(
                self.settings.topic_endpoint,
                data=notification.body.encode("utf-8"),
                headers={"aeg-sas-key": self.settings.key, "Content-Type": "application/json; charset=utf-8"},
            ) as response:
                body = await response.text(errors="replace")
                if 200 <= response.status < 300:
                    self.store.delete_notification(notification.id)
                    self.sent += 1
                    log.debug("Event Grid notification for %s sent (%d)", notification.instance_id, response.status)
                    return
                failure = f"HTTP {response.status}: {body[:200]}"
                retryable = response.status == _ALWAYS_RETRIED or response.status in self.settings.retry_statuses
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            failure = f"{type(exc).__name__}: {exc}"
            retryable = True
        if retryable and notification.attempts < self.settings.retry_count:
            self.store.retry_notification(notification.id, self.clock.now() + self.settings.retry_interval)
            log.info("Event Grid notification for %s failed (%s); retrying", notification.instance_id, failure)
            return
        self.store.delete_notification(notification.id)
        self.given_up += 1
        log.warning("Event Grid notification for %s not delivered: %s", notification.instance_id, failure)
