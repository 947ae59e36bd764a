"""The counter entity app (tests/apps/entity_counter) on the test kit's virtual clock: the samples' counter
entity, an orchestration that signals, calls and catches a failing operation, the SDK client's
``signal_entity``/``read_entity_state``, and the entity HTTP API's codes and shapes (HttpApiHandler.cs)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from devhost.testing import durable_app as run_app
from devhost.testing.replay import assert_replays, save_history

APP = Path(__file__).resolve().parent.parent / "apps" / "entity_counter"
START = datetime(2030, 1, 1, tzinfo=timezone.utc)
ENTITIES = "/runtime/webhooks/durabletask/entities"


def test_an_orchestration_signals_calls_and_catches_a_failing_operation(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    status = app.wait_for_completion(app.start("counter_orchestrator", {"key": "k1"}))

    # TaskEntityShim.cs: a failed operation answers ExceptionType "Error"; the SDK raises it in the caller only.
    assert status["runtimeStatus"] == "Completed"
    assert status["output"] == {"value": 3, "caught": "cannot fail a counter at 3", "after": 7}
    assert app.entity_state("Counter", "k1") == 7


def test_call_entity_writes_event_sent_and_gets_its_answer_as_event_raised(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)
    instance_id = app.start("counter_orchestrator", {"key": "k2"})
    app.wait_for_completion(instance_id)

    history = app.history(instance_id)

    sent = [e for e in history if e["EventType"] == 14]
    raised = [e for e in history if e["EventType"] == 15]
    assert [(e["Name"], e["InstanceId"]) for e in sent] == [("op", "@counter@k2")] * 4
    assert [e["Name"] for e in raised] == [json.loads(e["Input"])["id"] for e in sent[1:]]


def test_an_uncaught_failing_operation_fails_the_orchestration_with_its_message(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    status = app.wait_for_completion(app.start("uncaught_entity_failure"))

    assert status["runtimeStatus"] == "Failed"
    assert status["output"] == "Orchestrator function 'uncaught_entity_failure' failed: cannot fail a counter at 0"
    assert app.entity_state("Counter", "broken") is None  # get_state without set_state: the entity never existed


def test_signals_from_one_sender_run_in_the_order_sent(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    app.signal_entity("Counter", "ordered", "add", 5)
    app.signal_entity("Counter", "ordered", "reset")
    app.signal_entity("Counter", "ordered", "add", 2)

    assert app.entity_state("Counter", "ordered") == 2


def test_the_sdk_client_signals_and_reads_entity_state(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    assert app.http.post("/api/counter/c1/add", data=b"5").status == 202
    app.advance(0)
    found = app.http.get("/api/counter/c1").json()
    missing = app.http.get("/api/counter/none").json()

    assert found == {"exists": True, "state": 5}
    assert missing == {"exists": False, "state": None}


def test_get_answers_200_with_the_state_and_404_without_a_body_for_an_unknown_entity(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)
    app.signal_entity("Counter", "g", "add", 4)
    app.advance(0)

    found = app.http.get(f"{ENTITIES}/Counter/g")
    missing = app.http.get(f"{ENTITIES}/Counter/nobody")

    assert (found.status, found.json()) == (200, 4)
    assert (missing.status, missing.text) == (404, "")


def test_post_signals_with_op_and_answers_202_and_delete_signals_the_delete_operation(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    # No Content-Type: the body is the input as a string (HandlePostEntityOperationRequestAsync), "4" -> 4.
    posted = app.http.post(f"{ENTITIES}/Counter/p", params={"op": "add"}, data=b"4")
    app.advance(0)
    state = app.entity_state("Counter", "p")
    deleted = app.http.delete(f"{ENTITIES}/Counter/p")

    assert (posted.status, posted.text) == (202, "")
    assert state == 4
    assert deleted.status == 202 and app.entity_state("Counter", "p") is None


def test_bad_input_to_entity_routes_gets_a_400_naming_the_problem(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    unknown = app.http.post(f"{ENTITIES}/Nope/k", params={"op": "add"})
    bad_json = app.http.post(
        f"{ENTITIES}/Counter/k", params={"op": "add"}, data=b"{bad", headers={"Content-Type": "application/json"}
    )
    bad_key = app.http.post(f"{ENTITIES}/Counter/a%23b", params={"op": "add"})
    no_name = app.http.post(f"{ENTITIES}/")

    assert unknown.status == 400 and "is not an entity function" in unknown.json()["ExceptionMessage"]
    assert bad_json.status == 400 and bad_json.json()["Message"].startswith("Could not parse JSON content:")
    assert bad_key.status == 400 and "Entity keys must not contain" in bad_key.json()["ExceptionMessage"]
    assert no_name.status == 400 and "entity name must not be" in no_name.json()["ExceptionMessage"]


def test_listing_filters_by_name_pages_and_fetches_state_on_request(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)
    for key in ("a", "b", "c"):
        app.signal_entity("Counter", key, "add", 1)
    app.advance(0)

    first = app.http.get(f"{ENTITIES}/counter", params={"top": "2", "fetchState": "true"})
    token = first.headers["x-ms-continuation-token"]
    rest = app.http.get(f"{ENTITIES}/counter", headers={"x-ms-continuation-token": token})
    none = app.http.get(f"{ENTITIES}/other")

    assert [e["entityId"] for e in first.json()] == [{"name": "counter", "key": "a"}, {"name": "counter", "key": "b"}]
    assert [e["state"] for e in first.json()] == [1, 1]
    assert first.json()[0]["lastOperationTime"] == "2030-01-01T00:00:00Z"
    assert ([e["entityId"]["key"] for e in rest.json()], rest.json()[0]["state"]) == (["c"], None)
    assert rest.headers["x-ms-continuation-token"] == ""
    assert none.json() == []


def test_purging_an_entity_by_its_instance_id_deletes_its_state(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)
    app.signal_entity("Counter", "gone", "add", 1)
    app.advance(0)

    purged = app.http.delete("/runtime/webhooks/durabletask/instances/@counter@gone")
    again = app.http.delete("/runtime/webhooks/durabletask/instances/@counter@gone")

    assert (purged.status, purged.json()) == (200, {"instancesDeleted": 1})
    assert again.status == 404
    assert app.entity_state("Counter", "gone") is None


def test_the_replay_checker_replays_histories_with_entity_calls_and_signals(durable_app: Any, tmp_path: Path) -> None:
    app = durable_app(APP, start_time=START)
    caught = app.start("counter_orchestrator", {"key": "replayed"})
    failed = app.start("uncaught_entity_failure")
    app.wait_for_completion(caught)
    app.wait_for_completion(failed)
    paths = [save_history(app, caught, tmp_path / "caught.json"), save_history(app, failed, tmp_path / "failed.json")]

    results = assert_replays(APP, paths)

    assert [r.episodes for r in results] == [4, 2]


def test_signals_sent_in_an_episode_that_continues_as_new_are_delivered(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    status = app.wait_for_completion(app.start("eternal_adder", 3))

    # DTFx sends an episode's SendEvent messages after its continue-as-new loop (TaskOrchestrationDispatcher.cs:717).
    assert status["runtimeStatus"] == "Completed"
    assert app.entity_state("Counter", "eternal") == 3


def test_entity_state_survives_a_restart_on_the_same_store(tmp_path: Path) -> None:
    with run_app(APP, store_dir=tmp_path, start_time=START) as first:
        first.signal_entity("Counter", "kept", "add", 6)
        assert first.entity_state("Counter", "kept") == 6

    with run_app(APP, store_dir=tmp_path, start_time=START) as second:
        second.signal_entity("Counter", "kept", "add", 1)
        state = second.entity_state("Counter", "kept")

    assert state == 7


def test_a_batch_that_fails_as_a_whole_fails_its_operations_and_keeps_the_state(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)
    app.signal_entity("Counter", "crashy", "add", 2)

    status = app.wait_for_completion(app.start("entity_errors"))

    assert status["output"] == ["RuntimeError: SystemExit: the entity process went away", 2]
    assert app.entity_state("Counter", "crashy") == 2


def test_calling_an_entity_that_is_not_registered_fails_the_orchestration(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    status = app.wait_for_completion(app.start("calls_unknown_entity"))

    # ThrowIfFunctionDoesNotExist runs in the extension's shim, so the orchestrator cannot catch it.
    assert status["runtimeStatus"] == "Failed"
    assert status["output"].startswith(
        "Orchestrator function 'calls_unknown_entity' failed: The function 'nobody' doesn't exist, is disabled, "
        "or is not an entity function. Additional info: The following are the known entity functions: 'counter'."
    )


def test_more_signals_than_one_batch_holds_all_run_in_order(durable_app: Any) -> None:
    app = durable_app(APP, start_time=START)

    for _ in range(130):
        app.signal_entity("Counter", "many", "add", 1)
    app.signal_entity("Counter", "many", "add", 1000)

    assert app.entity_state("Counter", "many") == 1130
