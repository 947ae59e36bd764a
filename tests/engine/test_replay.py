"""Replay as the SDK sees it on devhost: stable ids and times across episodes, and the replay flag."""

from __future__ import annotations

from tests.engine.conftest import SAFETY_TIMEOUT


def test_values_from_earlier_episodes_are_reproduced_exactly_on_replay(app):
    start = app.now
    instance_id = app.start("replay_facts")

    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    output = status["output"]
    # new_uuid() hashes the instance id and the first OrchestratorStarted time: the id the activity got in
    # the first episode is the one the final replay computes again.
    assert output["echoed"] == output["first_id"]
    assert output["second_id"] != output["first_id"]
    assert output["started"] == start.isoformat()
    assert output["instance_id"] == instance_id


def test_is_replaying_is_true_for_old_steps_and_false_for_the_newest_one(app):
    status = app.wait_for_completion(app.start("replay_facts"), timeout=SAFETY_TIMEOUT)

    assert status["output"]["flags"] == [True, True, False]
