"""Status bodies and the historyEvents shaping (pure functions), including golden histories."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from devhost.core.model import Instance, RuntimeStatus
from devhost.http.payloads import decode_json_text, dotnet_datetime, format_status_time, shape_history, status_payload

GOLDEN = sorted((Path(__file__).parent / "golden").glob("*.json"))
UTC = timezone.utc


def _instance(**overrides: object) -> Instance:
    fields = dict(
        instance_id="job-1",
        name="monitoring_job_orchestrator",
        execution_id="e1",
        runtime_status=RuntimeStatus.RUNNING,
        created_time=datetime(2030, 1, 1, 12, 0, 0, 999999, tzinfo=UTC),
        last_updated_time=datetime(2030, 1, 1, 13, 0, 5, tzinfo=timezone(timedelta(hours=2))),
        input='"{\\"jobId\\": \\"j1\\"}"',
        output=None,
        custom_status='{"polls": 3}',
    )
    fields.update(overrides)
    return Instance(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", GOLDEN, ids=[p.stem for p in GOLDEN])
def test_shape_history_matches_golden(path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))

    shaped = shape_history(case["history"], show_input=case["show_input"], show_history_output=case["show_history_output"])

    # Compare as JSON text so key order (JObject insertion order) is checked too.
    assert json.dumps(shaped) == json.dumps(case["expected"])


def test_shape_history_leaves_its_input_untouched() -> None:
    case = json.loads(GOLDEN[0].read_text(encoding="utf-8"))
    before = json.dumps(case["history"])

    shape_history(case["history"])

    assert json.dumps(case["history"]) == before


def test_status_payload_has_extension_key_order_and_second_precision_utc_times() -> None:
    body = status_payload(_instance())

    assert list(body) == [
        "name",
        "instanceId",
        "runtimeStatus",
        "input",
        "customStatus",
        "output",
        "createdTime",
        "lastUpdatedTime",
    ]
    assert body["createdTime"] == "2030-01-01T12:00:00Z"
    assert body["lastUpdatedTime"] == "2030-01-01T11:00:05Z"


def test_status_payload_decodes_stored_json_once() -> None:
    body = status_payload(_instance(output='["a", 1]'))

    assert body["input"] == '{"jobId": "j1"}'  # an SDK start_new input stays a JSON string, as in Azure
    assert body["customStatus"] == {"polls": 3}
    assert body["output"] == ["a", 1]
    assert body["runtimeStatus"] == "Running"


def test_status_payload_hides_input_when_asked() -> None:
    assert status_payload(_instance(), show_input=False)["input"] is None


def test_status_payload_adds_history_events_only_when_given() -> None:
    assert "historyEvents" not in status_payload(_instance())
    assert status_payload(_instance(), history=[])["historyEvents"] == []


@pytest.mark.parametrize(
    "text, expected",
    [(None, None), ("  ", ""), ("42", 42), ('"x"', "x"), ("not json", "not json"), (" raw reason ", "raw reason")],
)
def test_decode_json_text_follows_parse_to_jtoken(text: object, expected: object) -> None:
    assert decode_json_text(text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "stored, expected",
    [
        ("2030-01-01T12:00:00.0000000Z", "2030-01-01T12:00:00Z"),
        ("2030-01-01T12:00:00.5000000Z", "2030-01-01T12:00:00.5Z"),
        ("2030-01-01T12:00:00.1234567Z", "2030-01-01T12:00:00.1234567Z"),
        ("2030-01-01T14:00:00.25+02:00", "2030-01-01T12:00:00.25Z"),
        ("not a date", "not a date"),
    ],
)
def test_dotnet_datetime_trims_fraction_like_newtonsoft(stored: str, expected: str) -> None:
    assert dotnet_datetime(stored) == expected


def test_format_status_time_truncates_to_seconds() -> None:
    assert format_status_time(datetime(2030, 5, 6, 7, 8, 9, 999999, tzinfo=UTC)) == "2030-05-06T07:08:09Z"
