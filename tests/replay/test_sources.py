"""Reading recordings: format detection, the stored input, store files (from the real host)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devhost.core.errors import StartupError
from devhost.replay.check import check
from devhost.replay.model import RecordingError
from devhost.replay.runner import input_from_started
from devhost.replay.sources import history_files, load_file, load_paths, load_store, parse_document, save_recording
from devhost.store.sqlite import SqliteStore
from tests.replay.apps import record, write_app
from tests.replay.host import record_store


@pytest.fixture(scope="module")
def host_store(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("host")
    app_dir = write_app(root / "app")
    store = root / "store.sqlite3"
    record_store(app_dir, store, root / "status")
    return app_dir, store, root / "status"


def test_saved_recording_round_trips(base_registry, base_target, tmp_path):
    recorded, _ = record(base_registry, "greet", "Ann")
    path = save_recording(tmp_path / "r.json", recorded.name, recorded.instance_id, recorded.input, recorded.history)

    loaded = load_file(path)

    assert (loaded.instance_id, loaded.name, loaded.input, loaded.history) == (
        recorded.instance_id,
        recorded.name,
        recorded.input,
        recorded.history,
    )
    assert loaded.source == str(path)
    assert check(loaded, base_target).ok


def test_raw_history_list_takes_name_id_and_input_from_execution_started(base_registry, base_target):
    recorded, _ = record(base_registry, "greet", "Ann", instance_id="g7")

    loaded = parse_document(json.loads(json.dumps(list(recorded.history))))

    assert (loaded.instance_id, loaded.name, loaded.input) == ("g7", "greet", recorded.input)
    assert check(loaded, base_target).ok


def test_raw_history_of_a_continued_execution_replays_with_the_guessed_input(base_registry, base_target):
    recorded, _ = record(base_registry, "counter", 0)

    loaded = parse_document(list(recorded.history))

    assert check(loaded, base_target).ok


def test_saved_input_may_be_the_stored_text_or_a_plain_value():
    history = [{"EventType": 0, "EventId": -1, "Timestamp": "2030-01-01T00:00:00Z", "Name": "greet", "Input": None}]

    as_text = parse_document({"name": "greet", "instanceId": "a", "input": '"\\"Ann\\""', "history": history})
    as_value = parse_document({"name": "greet", "instanceId": "a", "input": {"who": "Ann"}, "history": history})
    not_json = parse_document({"name": "greet", "instanceId": "a", "input": "Ann", "history": history})

    assert as_text.input == '"\\"Ann\\""'
    assert as_value.input == '{"who": "Ann"}'
    assert not_json.input == '"Ann"'


@pytest.mark.parametrize(
    "started, stored",
    [
        ({"Input": None}, None),
        ({"Input": '"\\"Ann\\""'}, '"\\"Ann\\""'),  # SDK start_new: double-encoded, stored as is
        ({"Input": '{"a": 1}'}, '{"a": 1}'),  # a curl body
        ({"Input": '"Ann"'}, '"\\"Ann\\""'),  # continue-as-new with a string: stored json.dumps(text)
        ({"Input": '"x"', "ParentInstance": {"OrchestrationInstance": {"InstanceId": "p"}}}, '"\\"x\\""'),
    ],
)
def test_input_guessed_from_execution_started(started, stored):
    assert input_from_started(started) == stored


@pytest.mark.parametrize(
    "document, message",
    [
        ({"foo": 1}, "not a recorded history"),
        ({"name": "x", "history": [{"EventType": 12, "Timestamp": "2030-01-01T00:00:00Z"}]}, "no ExecutionStarted"),
        ({"name": "x", "history": [1, 2]}, "list of events"),
        ({"historyEvents": [{"EventType": "Nonsense", "Timestamp": "2030-01-01T00:00:00Z"}]}, "unknown EventType"),
    ],
)
def test_unreadable_documents_are_refused_in_one_line(document, message):
    with pytest.raises(RecordingError, match=message) as caught:
        parse_document(document)
    assert "\n" not in str(caught.value)


def test_empty_history_is_skipped(base_target):
    assert check(parse_document({"name": "chain", "instanceId": "e", "history": []}), base_target).skipped


def test_directories_are_searched_for_json_files_and_bad_files_are_listed(base_registry, tmp_path):
    recorded, _ = record(base_registry, "chain")
    save_recording(tmp_path / "a" / "one.json", "chain", "one", recorded.input, recorded.history)
    save_recording(tmp_path / "b" / "two.json", "chain", "two", recorded.input, recorded.history)
    (tmp_path / "b" / "broken.json").write_text("{nope", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")

    recordings, errors = load_paths([tmp_path, tmp_path / "missing.json"])

    assert [r.instance_id for r in recordings] == ["one", "two"]
    assert [(Path(e.source).name, e.message.split(":")[0]) for e in errors] == [
        ("broken.json", "not valid JSON"),
        ("missing.json", "no such file or directory"),
    ]
    assert history_files(tmp_path / "a" / "one.json") == [tmp_path / "a" / "one.json"]


def test_store_file_of_the_real_host_replays_every_instance(host_store):
    app_dir, store, _ = host_store
    from devhost.replay.sources import open_target

    recordings = load_store(store)
    results = {r.instance_id: check(r, open_target(app_dir)) for r in recordings}

    assert sorted(results) == ["h-chain", "h-counter", "h-greet", "h-sleeper", "h-waiting"]
    assert all(r.ok and r.skipped is None for r in results.values()), [r.line() for r in results.values()]
    assert results["h-waiting"].episodes == 1


def test_status_documents_from_the_real_http_api_replay(host_store):
    app_dir, _, status_dir = host_store
    from devhost.replay.sources import open_target

    recordings, errors = load_paths([status_dir])

    assert errors == [] and len(recordings) == 4
    target = open_target(app_dir)
    assert all(check(r, target).ok for r in recordings), [check(r, target).line() for r in recordings]


def test_store_can_be_narrowed_to_instances(host_store):
    _, store, _ = host_store

    assert [r.instance_id for r in load_store(store, ["h-greet"])] == ["h-greet"]
    with pytest.raises(StartupError, match="has no instance nope"):
        load_store(store, ["nope"])


def test_store_in_use_by_a_devhost_is_reported_in_one_line(host_store):
    _, store, _ = host_store
    holder = SqliteStore(store)
    try:
        with pytest.raises(StartupError, match="in use by a running devhost") as caught:
            load_store(store)
    finally:
        holder.close()
    assert "\n" not in str(caught.value)


def test_missing_store_file_is_reported_without_creating_one(tmp_path):
    with pytest.raises(StartupError, match="no store file at"):
        load_store(tmp_path / "none.sqlite3")
    assert not (tmp_path / "none.sqlite3").exists()
