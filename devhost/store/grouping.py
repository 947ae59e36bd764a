"""Activity results that a group commit's turns consume before they are stored (``Store.commit_group``).

The engine lets a round's turns see the activity results that arrived since the last commit before those are
stored (:func:`devhost.core.delivery.with_arriving`): a turn consumes such a result under the provisional id
``-work_item_id``. Both stores apply the same plan: every result is recorded as :meth:`Store.complete_activity`
would (queued, unless its work item is gone), and a turn that consumed one deletes it under the id it was queued
with, in the same transaction; a turn that consumed a result that could not be recorded is rejected whole.
Queuing a result only to delete it again costs a little, but keeps one way of recording results (a turn that is
rejected, say by ``InstanceExists``, leaves its result queued for the next one).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from devhost.core.errors import ResultNotRecorded
from devhost.core.model import TurnCommit


def claims(commit: TurnCommit) -> list[int]:
    """Work item ids of the results a turn consumed under provisional ids."""
    return [-message_id for message_id in commit.consumed_message_ids if message_id < 0]


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
