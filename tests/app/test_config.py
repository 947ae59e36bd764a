"""MonitorRequest validation: defaults, bounds, and the 400 body shape."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from job_monitor.config import MAX_BODY_BYTES, MonitorRequest, ValidationError

from .cases import FIELDS, INVALID


def test_empty_body_gives_every_default_and_a_fresh_job_id() -> None:
    request = MonitorRequest.from_body(b"")

    assert re.fullmatch(r"job-[0-9a-f]{32}", request.job_id)
    assert request.to_dict() == {
        "job_id": request.job_id,
        "polling_interval_seconds": 5,
        "timeout_seconds": 30,
        "workflow_type": "data_processing",
        "batch_size": 100,
        "failure_rate": 0.1,
        "enable_monitoring": True,
        "wait_strategy": "activity",
        "simulated_duration_seconds": 15,
        "simulated_outcome": "completed",
        "error_rate_threshold": 0.05,
    }


@pytest.mark.parametrize("body", [b"", b"   \r\n\t", b"{}", b"\xef\xbb\xbf{}"], ids=["empty", "blank", "object", "bom"])
def test_bodies_without_fields_are_accepted(body: bytes) -> None:
    request = MonitorRequest.from_body(body, default_job_id=lambda: "job-default")

    assert request == MonitorRequest(job_id="job-default")


def test_two_requests_without_job_id_get_different_ids() -> None:
    assert MonitorRequest.from_body(b"{}").job_id != MonitorRequest.from_body(b"{}").job_id


def test_every_field_is_read_from_the_body() -> None:
    body = {
        "job_id": "nightly.etl:2030-01-01_run-7",
        "polling_interval_seconds": 2.5,
        "timeout_seconds": 120,
        "workflow_type": "etl",
        "batch_size": 1000,
        "failure_rate": 0,
        "enable_monitoring": False,
        "wait_strategy": "timer",
        "simulated_duration_seconds": 0,
        "simulated_outcome": "stalled",
        "error_rate_threshold": 1,
    }

    request = MonitorRequest.from_body(json.dumps(body).encode())

    assert request.to_dict() == body


@pytest.mark.parametrize(
    "body",
    [
        {"polling_interval_seconds": 1, "timeout_seconds": 1},
        {"polling_interval_seconds": 86400, "timeout_seconds": 604800},
        {"job_id": "a" * 100},
        {"job_id": "0"},
        {"batch_size": 1},
        {"batch_size": 1_000_000},
        {"failure_rate": 1.0, "error_rate_threshold": 0.0},
        {"simulated_duration_seconds": 604800},
        {"workflow_type": "w" * 64},
        {"workflow_type": "tâche nocturne ✓"},
    ],
    ids=lambda b: ",".join(f"{k}={str(v)[:12]}" for k, v in b.items()),
)
def test_values_on_the_bounds_are_accepted(body: dict) -> None:
    request = MonitorRequest.from_body(json.dumps(body).encode())

    for name, value in body.items():
        assert getattr(request, name) == value


def test_integers_are_accepted_where_numbers_are_expected() -> None:
    request = MonitorRequest.from_body(b'{"failure_rate": 1, "error_rate_threshold": 0, "timeout_seconds": 30.5}')

    assert (request.failure_rate, request.error_rate_threshold, request.timeout_seconds) == (1, 0, 30.5)


@pytest.mark.parametrize("case_id, body, field, message", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_bodies_name_the_field_and_rule(case_id: str, body: bytes, field: str | None, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        MonitorRequest.from_body(body)

    assert caught.value.field == field
    assert message in caught.value.rule
    assert caught.value.errors[0].field == field


def test_the_oversized_case_really_exceeds_the_limit() -> None:
    oversized = next(body for case_id, body, _, _ in INVALID if case_id == "oversized")

    assert len(oversized) > MAX_BODY_BYTES


def test_every_problem_is_listed_in_field_order() -> None:
    body = b'{"zzz": 1, "batch_size": 0, "job_id": "", "wait_strategy": null}'

    with pytest.raises(ValidationError) as caught:
        MonitorRequest.from_body(body)

    assert [e.field for e in caught.value.errors] == ["job_id", "batch_size", "wait_strategy", "zzz"]
    assert caught.value.field == "job_id"


def test_interval_versus_timeout_is_not_reported_when_either_is_already_invalid() -> None:
    with pytest.raises(ValidationError) as caught:
        MonitorRequest.from_body(b'{"polling_interval_seconds": 50, "timeout_seconds": "x"}')

    assert [e.field for e in caught.value.errors] == ["timeout_seconds"]


def test_validation_error_renders_the_400_body() -> None:
    with pytest.raises(ValidationError) as caught:
        MonitorRequest.from_body(b'{"batch_size": true, "failure_rate": 2}')

    assert caught.value.to_json() == {
        "error": "invalid_request",
        "field": "batch_size",
        "message": "must be an integer, not a boolean",
        "errors": [
            {"field": "batch_size", "message": "must be an integer, not a boolean"},
            {"field": "failure_rate", "message": "must be between 0 and 1"},
        ],
    }


def test_null_messages_name_the_expected_type() -> None:
    messages = {}
    for name in FIELDS:
        with pytest.raises(ValidationError) as caught:
            MonitorRequest.from_body(json.dumps({name: None}).encode())
        messages[name] = caught.value.rule

    assert messages["polling_interval_seconds"] == "must be a number, not null"
    assert messages["batch_size"] == "must be an integer, not null"
    assert messages["job_id"] == "must be a string, not null"
    assert messages["enable_monitoring"] == "must be a boolean, not null"


def test_from_mapping_can_skip_extra_keys_and_default_the_job_id() -> None:
    data = {"submitted_at": "2030-01-01T00:00:00.000Z", "carry": {}, "batch_size": 7}

    request = MonitorRequest.from_mapping(data, default_job_id=lambda: "instance-1", ignore=("submitted_at", "carry"))

    assert (request.job_id, request.batch_size) == ("instance-1", 7)


# --- property: nothing but ValidationError ever escapes ------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
request_like = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=8)


def _outcome(body: bytes) -> Any:
    try:
        return MonitorRequest.from_body(body)
    except ValidationError as invalid:
        return invalid


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_either_validate_or_raise_validation_error(body: bytes) -> None:
    assert isinstance(_outcome(body), (MonitorRequest, ValidationError))


@settings(max_examples=500, deadline=None)
@given(request_like | json_values)
def test_arbitrary_json_either_validates_or_raises_validation_error(value: Any) -> None:
    result = _outcome(json.dumps(value, allow_nan=True).encode())

    assert isinstance(result, (MonitorRequest, ValidationError))
    if isinstance(result, MonitorRequest):  # whatever passed is within bounds and JSON-clean
        assert 1 <= result.polling_interval_seconds <= result.timeout_seconds <= 604800
        assert json.loads(json.dumps(result.to_dict(), allow_nan=False)) == result.to_dict()
