"""Activity results that a group commit's turns consume before they are stored (``Store.commit_group``).

The engine lets a round's turns see the activity results that arrived since the last commit before those are
stored (:func:`devhost.core.delivery.with_arriving`): a turn consumes such a result under the provisional id
``-work_item_id``. Both stores apply the same plan: every result is recorded as :meth:`Store.complete_activity`
would (its work item deleted and the result queued, unless the work item is gone), and a turn that consumed one
deletes it under the id it was queued with, in the same transaction; a turn that consumed a result that could not
be recorded is rejected whole. A turn that may still be rejected after that (by ``InstanceExists``: it creates
instances) leaves its result queued for the next one. The results the other turns consume are recorded without
being queued (:func:`unqueued`): queuing one only to delete it again in the same transaction is a write of the
queue and its indexes that no reader can ever see.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from devhost.core.errors import ResultNotRecorded
from devhost.core.model import TurnCommit


def claims(commit: TurnCommit) -> list[int]:
    """Work item ids of the results a turn consumed under provisional ids."""
    return [-message_id for message_id in commit.consumed_message_ids if message_id < 0]


def unqueued(turns: Iterable[TurnCommit], recorded: Collection[int]) -> set[int]:
    """Work item ids of the recorded results that turns consume and that need no message: a turn that creates no
    instance and consumed only recorded results is not rejected, so it consumes them for sure. (A turn rejected for
    a result that is gone leaves its other results queued for the next one, as does one that creates instances.)"""
    consumed: set[int] = set()
    for commit in turns:
        claimed = claims(commit)
        if not commit.new_instances and all(work_item_id in recorded for work_item_id in claimed):
            consumed.update(claimed)
    return consumed


def unrecorded(commit: TurnCommit, recorded: Collection[int]) -> ResultNotRecorded | None:
    """The rejection of a turn that consumed a result the group could not record (its work item was gone)."""
    missing = [w for w in claims(commit) if w not in recorded]
    if not missing:
        return None
    return ResultNotRecorded(
        f"turn of {commit.instance.instance_id!r} consumed the result of work item {missing[0]}, which is gone"
    )


def consumed_ids(commit: TurnCommit, queued: Mapping[int, int]) -> list[int]:
    """The turn's consumed message ids, each provisional one replaced by the id its result was queued under."""
    return [i if i > 0 else queued[-i] for i in commit.consumed_message_ids if i > 0 or -i in queued]
