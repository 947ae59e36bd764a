"""``createdTimeFrom`` / ``createdTimeTo`` in the forms a .NET ``DateTime.TryParse`` reads and clients send.

The extension reads both with ``DateTime.TryParse`` (HttpApiHandler.cs line 750: list at lines 465-473, purge at
lines 573-584). devhost accepts ISO 8601 (with ``Z``, offsets, 7-digit fractions, a space for ``T``), RFC 1123
(JavaScript ``toUTCString()``, .NET ``"R"``) and the invariant culture's month-first slashed dates; a value it
cannot read is a 400 naming the parameter (the extension silently drops it: a deliberate deviation, since a
typo there lists everything or purges up to now).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from devhost.http.params import parse_datetime
from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2030-01-31T12:00:00Z", datetime(2030, 1, 31, 12, tzinfo=UTC)),
        ("2030-01-31 12:00:00", datetime(2030, 1, 31, 12, tzinfo=UTC)),  # Python str(datetime)
        ("2030-01-31 12:00:00.123456+00:00", datetime(2030, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)),
        ("2030-01-31T13:00:00.1234567+01:00", datetime(2030, 1, 31, 12, 0, 0, 123456, tzinfo=UTC)),  # Get-Date -f o
        ("2030-01-31T13:00:00+0100", datetime(2030, 1, 31, 12, tzinfo=UTC)),
        ("2030-01-31T07:00-05", datetime(2030, 1, 31, 12, tzinfo=UTC)),
        ("Thu, 31 Jan 2030 12:00:00 GMT", datetime(2030, 1, 31, 12, tzinfo=UTC)),  # toUTCString(), .NET "R"
        ("Thu, 31 Jan 2030 13:00:00 +0100", datetime(2030, 1, 31, 12, tzinfo=UTC)),  # date -R
        ("31 Jan 2030", datetime(2030, 1, 31, tzinfo=UTC)),
        ("01/31/2030", datetime(2030, 1, 31, tzinfo=UTC)),  # invariant culture: month first
        ("1/31/2030 12:00:00 PM", datetime(2030, 1, 31, 12, tzinfo=UTC)),  # en-US DateTime.ToString()
        ("1/31/2030 12:00:00 AM", datetime(2030, 1, 31, 0, tzinfo=UTC)),
        ("2030/01/31 12:00", datetime(2030, 1, 31, 12, tzinfo=UTC)),
    ],
)
def test_dates_clients_send_are_read_as_dotnet_reads_them(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    "text", ["yesterday", "31/01/2030", "20300131T120000Z", "1900000000", "2030-01-31T25:00:00Z", "1/31/2030 13:00 PM"]
)
def test_other_text_is_not_a_date(text: str) -> None:
    assert parse_datetime(text) is None


def test_list_filters_by_an_rfc_1123_date(app):
    early = app.start("chain", {"city": "a"}, instance_id="early")
    app.wait_for_completion(early, timeout=SAFETY_TIMEOUT)
    app.advance(timedelta(hours=1))
    late = app.start("chain", {"city": "b"}, instance_id="late")
    app.wait_for_completion(late, timeout=SAFETY_TIMEOUT)
    since = (app.now - timedelta(minutes=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")

    response = app.http.get(f"{WEBHOOKS}/instances", params={"createdTimeFrom": since})

    assert response.status == 200
    assert [i["instanceId"] for i in response.json()] == ["late"]


@pytest.mark.parametrize("name", ["createdTimeFrom", "createdTimeTo"])
def test_list_with_a_date_it_cannot_read_is_a_400_naming_the_parameter(app, name):
    response = app.http.get(f"{WEBHOOKS}/instances", params={name: "last tuesday"})

    assert response.status == 400
    assert name in response.json()["ExceptionMessage"]


def test_purge_with_an_unreadable_created_time_to_is_a_400_not_a_purge_up_to_now(app):
    instance_id = app.start("chain", {"city": "a"})
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    response = app.http.delete(f"{WEBHOOKS}/instances", params={"createdTimeFrom": "01/01/2000", "createdTimeTo": "end of month"})

    assert response.status == 400
    assert "createdTimeTo" in response.json()["ExceptionMessage"]
    assert app.http.get(f"{WEBHOOKS}/instances/{instance_id}").status == 200


def test_purge_reads_a_slashed_created_time_from(app):
    instance_id = app.start("chain", {"city": "a"})
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    response = app.http.delete(f"{WEBHOOKS}/instances", params={"createdTimeFrom": "01/01/2000 00:00:00"})

    assert (response.status, response.json()) == (200, {"instancesDeleted": 1})
