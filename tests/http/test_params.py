"""Query and body parsing with .NET TryParse semantics: bad values fall back, they never raise a 500."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from devhost.core.errors import BadRequest
from devhost.core.model import RuntimeStatus
from devhost.http.errors import InvalidJsonContent
from devhost.http.params import (
    decode_body,
    parse_bool,
    parse_datetime,
    parse_int,
    parse_json,
    parse_seconds,
    parse_statuses,
)

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, default, expected",
    [
        ("true", False, True),
        ("True", False, True),
        (" FALSE ", True, False),
        ("yes", True, True),
        ("1", False, False),
        (None, True, True),
        ("", False, False),
    ],
)
def test_parse_bool_is_case_insensitive_and_falls_back_to_default(text: object, default: bool, expected: bool) -> None:
    assert parse_bool(text, default) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("10", 10),
        (" -3 ", -3),
        ("+7", 7),
        ("2147483647", 2147483647),
        ("2147483648", None),
        ("1_0", None),
        ("1.5", None),
        ("abc", None),
        (None, None),
        ("", None),
    ],
)
def test_parse_int_accepts_only_32_bit_integers(text: object, expected: object) -> None:
    assert parse_int(text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2030-01-01T00:00:00Z", datetime(2030, 1, 1, tzinfo=UTC)),
        ("2030-01-01T00:00:00.123456Z", datetime(2030, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2030-01-01T00:00:00.1234567Z", datetime(2030, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2030-01-01T02:00:00+02:00", datetime(2030, 1, 1, tzinfo=UTC)),
        ("2030-01-01T02:00:00 02:00", datetime(2030, 1, 1, tzinfo=UTC)),  # '+' decoded as a space
        ("2030-01-01", datetime(2030, 1, 1, tzinfo=UTC)),
        ("2030-01-01T05:00:00", datetime(2030, 1, 1, 5, tzinfo=UTC)),
        ("yesterday", None),
        ("2030-13-01", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_datetime_reads_iso_8601_as_utc(text: object, expected: object) -> None:
    assert parse_datetime(text) == expected  # type: ignore[arg-type]


def test_parse_statuses_drops_unknown_names_and_reads_numbers() -> None:
    assert parse_statuses(["Running,Bogus", "Completed", "6"]) == frozenset(
        {RuntimeStatus.RUNNING, RuntimeStatus.COMPLETED, RuntimeStatus.PENDING}
    )


def test_parse_statuses_is_case_sensitive_and_none_valid_means_no_filter() -> None:
    assert parse_statuses(["running,COMPLETED"]) is None
    assert parse_statuses([]) is None


@pytest.mark.parametrize("text, expected", [("10", 10.0), ("0.5", 0.5), ("1e1", 10.0), ("x", None), (None, None)])
def test_parse_seconds_reads_doubles(text: object, expected: object) -> None:
    assert parse_seconds(text, "timeout") == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e300"])
def test_parse_seconds_rejects_values_a_timespan_cannot_hold(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_seconds(text, "timeout")


def test_decode_body_drops_a_utf8_bom_and_honours_the_charset() -> None:
    assert decode_body("\ufeff{}".encode("utf-8"), None) == "{}"
    assert decode_body('"é"'.encode("latin-1"), "iso-8859-1") == '"é"'


def test_decode_body_rejects_invalid_utf8_as_invalid_json() -> None:
    with pytest.raises(InvalidJsonContent):
        decode_body(b"\xff\xfe\xfa", None)


@pytest.mark.parametrize("text", ["{bad", "NaN", "[1] 2", "[" * 100000, ""])
def test_parse_json_is_strict(text: str) -> None:
    with pytest.raises(InvalidJsonContent) as caught:
        parse_json(text)

    assert caught.value.body["Message"] == "Invalid JSON content"
    assert caught.value.body["ExceptionType"] == "Newtonsoft.Json.JsonReaderException"
