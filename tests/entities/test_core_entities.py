"""devhost.core.entities with plain values: the SDK payload of a batch and the commit made of its answer
(shapes from EntityTriggerAttributeBindingProvider.EntityContextToString and TaskEntityShim.ExecuteOutOfProcBatch)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from devhost.core import entities
from devhost.core.entities import EntityBatch, EntityId, EntityMessage, EntityRecord
from devhost.core.errors import BadRequest

NOW = datetime(2030, 1, 1, tzinfo=timezone.utc)


def _batch() -> EntityBatch:
    call = entities.request("get", "r-call", signal=False, input_text=None, parent_instance_id="orch", parent_execution_id="e1")
    signal = entities.request("add", "r-sig", signal=True, input_text='"3"', parent_instance_id="orch")
    return EntityBatch(
        "@counter@k",
        EntityRecord("@counter@k", "2", NOW),
        [EntityMessage("@counter@k", signal, NOW, 1), EntityMessage("@counter@k", call, NOW, 2)],
    )


def test_scheduler_ids_lower_case_the_name_and_keep_the_key() -> None:
    assert EntityId.of("Counter", "MyKey").scheduler_id == "@counter@MyKey"
    assert EntityId.parse("@counter@a@b") == EntityId("counter", "a@b")
    with pytest.raises(BadRequest):
        EntityId.parse("counter")


def test_the_payload_carries_self_state_and_the_operations_in_order() -> None:
    payload = json.loads(entities.batch_payload(_batch()))

    assert payload == {
        "self": {"name": "counter", "key": "k"},
        "exists": True,
        "state": "2",
        "batch": [{"name": "add", "input": '"3"', "isSignal": True}, {"name": "get", "input": None, "isSignal": False}],
    }


def test_only_calls_get_responses_and_a_failed_operation_carries_exception_type_error() -> None:
    answer = {
        "entityExists": True,
        "entityState": "5",
        "results": [{"isError": False, "result": "null"}, {"isError": True, "result": '"boom"'}],
        "signals": [],
    }

    commit = entities.apply_result(_batch(), json.dumps(answer), NOW, lambda: "0" * 32)

    assert (commit.exists, commit.state, commit.consumed_message_ids) == (True, "5", [1, 2])
    [response] = commit.responses
    assert (response.instance_id, response.execution_id, response.event["Name"]) == ("orch", "e1", "r-call")
    assert json.loads(response.event["Input"]) == {"result": '"boom"', "exceptionType": "Error"}


def test_an_unusable_answer_fails_every_operation_and_keeps_the_state() -> None:
    commit = entities.apply_result(_batch(), json.dumps({"results": []}), NOW, lambda: "0" * 32)

    assert (commit.exists, commit.state) == (True, "2")
    assert json.loads(commit.responses[0].event["Input"])["exceptionType"] == "Error"


def test_signal_keys_with_reserved_characters_are_refused() -> None:
    for key in ("a/b", "a?b", "a#b", "a\\b", "a\nb"):
        with pytest.raises(BadRequest):
            entities.check_signal_key(key)
    entities.check_signal_key("plain key")


def test_signals_an_entity_sends_are_queued_for_their_targets_and_answer_nobody() -> None:
    signal = entities.request("add", "r1", signal=True, input_text='"1"', parent_instance_id="@counter@k")
    batch = EntityBatch("@counter@k", None, [EntityMessage("@counter@k", signal, NOW, 7)])
    answer = {
        "entityExists": True,
        "entityState": "1",
        "results": [{"isError": False, "result": "null"}],
        "signals": [{"target": {"name": "Other", "key": "x"}, "name": "ping", "input": '"2"'}],
    }

    commit = entities.apply_result(batch, json.dumps(answer), NOW, lambda: "ab" * 16)

    assert commit.responses == []
    [sent] = commit.signals
    assert sent.entity_id == "@other@x"
    assert sent.request == {"op": "ping", "signal": True, "input": '"2"', "id": entities.guid("ab" * 16), "parent": "@counter@k"}


def test_a_batch_that_deletes_the_entity_commits_no_state() -> None:
    answer = {"entityExists": False, "entityState": "null", "results": [{"isError": False, "result": "null"}] * 2}

    commit = entities.apply_result(_batch(), json.dumps(answer), NOW, lambda: "0" * 32)

    assert (commit.exists, commit.state) == (False, None)


def test_a_signal_to_an_unusable_target_fails_the_batch_instead_of_the_host() -> None:
    answer = {
        "entityExists": True,
        "entityState": "9",
        "results": [{"isError": False, "result": "null"}] * 2,
        "signals": [{"target": {"name": "", "key": "x"}, "name": "ping"}],
    }

    commit = entities.apply_result(_batch(), json.dumps(answer), NOW, lambda: "0" * 32)

    assert (commit.state, commit.signals) == ("2", [])
    assert "unusable result" in json.loads(json.loads(commit.responses[0].event["Input"])["result"])
