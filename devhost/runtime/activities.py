"""The activities the engine runs: their tasks, the results they reported that no round has committed yet, and
whether the store may hold work items no task runs yet (so a round looks for them only then).

An activity's result is committed with the next dispatch round's turns (group commit, ``Store.commit_group``);
until then it is acknowledged to nobody, and a crash before that commit runs the activity again (at-least-once,
as in Azure). A work item whose result is waiting here keeps its row in the store and is never started twice.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from devhost.clock import Clock
from devhost.core.model import ActivityWorkItem, Message, TurnCommit
from devhost.core.protocol import HTTP_ACTIVITY_NAME
from devhost.core.results import activity_failure, activity_result
from devhost.runtime.http_activity import call_http
from devhost.runtime.invoker import ActivityFailed, Invoker
from devhost.runtime.registry import FunctionRegistry
from devhost.store.base import Store


class Activities:
    """Starts activity work items (at most ``limit`` at a time) and keeps what they report for the next commit."""

    def __init__(
        self, store: Store, clock: Clock, registry: FunctionRegistry, invoker: Invoker, limit: int, notify: Callable[[], None]
    ) -> None:
        self.store = store
        self.clock = clock
        self.registry = registry
        self.invoker = invoker
        self.limit = max(1, limit)
        self.notify = notify
        self.tasks: dict[int, asyncio.Task[None]] = {}
        """Running activities, by work item id."""
        self.results: list[tuple[int, Message]] = []
        """Results reported and not yet committed: the next round's transaction takes them."""
        self.inside_invoker = 0
        """Running activities that are inside the Invoker (the idle check counts only those: a built-in HTTP call
        in flight is work the clock cannot see, so it keeps the engine busy)."""
        self._unstarted = True
        """The store may hold work items no task runs yet: true at start (a restart's leftovers) and after a round
        committed turns that scheduled some; false once a look found fewer than there was room for."""

    def committed(self, commit: TurnCommit) -> None:
        """A turn was committed: if it scheduled activities, there is work to start."""
        self._unstarted = self._unstarted or bool(commit.new_activities)

    def arriving(self) -> dict[str, list[tuple[int, Message]]]:
        """The results not committed yet, by instance (in the order they came)."""
        by_instance: dict[str, list[tuple[int, Message]]] = {}
        for work_item_id, message in self.results:
            by_instance.setdefault(message.instance_id, []).append((work_item_id, message))
        return by_instance

    def left_queued(self, commits: list[TurnCommit]) -> bool:
        """Whether some result waiting is consumed by none of these turns (the commit queues it as a message)."""
        consumed = {-i for commit in commits for i in commit.consumed_message_ids if i < 0}
        return any(work_item_id not in consumed for work_item_id, _ in self.results)

    def take_results(self) -> list[tuple[int, Message]]:
        results, self.results = self.results, []
        return results

    def give_back(self, results: list[tuple[int, Message]]) -> None:
        """Results whose commit failed (nothing was written): kept, ahead of newer ones, for the next attempt."""
        self.results[:0] = results

    def start_waiting(self) -> None:
        """Start as many waiting work items as there is room for (reading the store only if some may wait)."""
        free = self.limit - len(self.tasks)
        if free <= 0 or not self._unstarted:
            return
        # A result reported but not yet committed keeps its work item in the store: never start it again.
        running = [*self.tasks, *(work_item_id for work_item_id, _ in self.results)]
        items = self.store.pending_activities(free, exclude=running)
        self._unstarted = len(items) == free  # room was short: more may wait
        for item in items:
            assert item.id is not None
            self.tasks[item.id] = asyncio.create_task(self._run(item))

    async def _run(self, item: ActivityWorkItem) -> None:
        assert item.id is not None
        try:
            result = await self._call(item)
            message = activity_result(item, self.clock.now(), result)
        except ActivityFailed as failure:
            message = activity_failure(item, self.clock.now(), failure.reason, failure.details)
        except asyncio.CancelledError:
            raise  # shutting down: the work item stays and runs again on the next start
        except BaseException:
            self._unstarted = True  # no result to record: its work item stays in the store and is started again
            self.notify()
            raise
        finally:
            self.tasks.pop(item.id, None)
        self.results.append((item.id, message))
        self.notify()

    async def _call(self, item: ActivityWorkItem) -> str | None:
        if item.name == HTTP_ACTIVITY_NAME:
            return await call_http(item.input)
        function = self.registry.activities.get(item.name)
        if function is None:
            raise ActivityFailed(f"The function '{item.name}' doesn't exist, is disabled, or is not an activity function.", None)
        self.inside_invoker += 1
        try:
            return await self.invoker.call_activity(
                function, item.input, trace_parent=item.trace_parent, trace_state=item.trace_state
            )
        finally:
            self.inside_invoker -= 1
