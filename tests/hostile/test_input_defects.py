"""The five input defects found by 10,000 generated requests (issue: "Reliability at volume"), each fixed where the
input is read, each shown over real HTTP against the unchanged app: once a 500, now a clear 4xx or a success."""

from __future__ import annotations

import base64
import json

import pytest

from devhost.core.errors import BadRequest
from devhost.http.app_routes import RouteTemplate
from devhost.http.params import decode_body, parse_int, parse_statuses
from devhost.store.codec import decode_token

from .conftest import WEBHOOKS, RunningHost

HUGE = "9" * 5000  # past Python's int-string limit (4300 digits), and so past the default URL bound: see ``roomy``


# --- 1. thousands of digits in a query value ------------------------------------------------------------------
def test_a_query_number_with_thousands_of_digits_is_treated_as_absent() -> None:
    assert parse_int(HUGE) is None
    assert parse_int("-" + HUGE) is None
    assert parse_int("0000000042") == 42
    assert parse_statuses([HUGE, "1"]) is not None


@pytest.mark.parametrize("query", [f"top={HUGE}", f"runtimeStatus={HUGE}", f"top=-{HUGE}&runtimeStatus=0,{HUGE}"])
def test_listing_with_a_huge_number_answers_200(roomy: RunningHost, query: str) -> None:
    answer = roomy.request("GET", f"{WEBHOOKS}/instances?{query}")

    assert answer.status == 200, answer.body[:200]
    assert isinstance(answer.json(), list)


def test_purge_by_filter_with_a_huge_status_number_is_not_a_500(roomy: RunningHost) -> None:
    answer = roomy.request("DELETE", f"{WEBHOOKS}/instances?createdTimeFrom=2000-01-01&runtimeStatus={HUGE}")

    assert answer.status == 404  # nothing matched; the number was ignored like any unparsable status


def test_an_int_route_constraint_with_thousands_of_digits_is_no_match() -> None:
    assert RouteTemplate("echo/{id:int}").match("echo/" + HUGE) is None
    assert RouteTemplate("echo/{id:long}").match("echo/0000042") == {"id": "0000042"}


# --- 2. malformed continuation tokens ------------------------------------------------------------------------
def _token(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode("utf-8", "surrogatepass")).decode("ascii")


MALFORMED_TOKENS = {
    "deeply nested JSON": _token("[" * 5000 + "]" * 5000),
    "a date whose UTC conversion overflows": _token(json.dumps(["0001-01-01T00:00:00.000000+05:00", "x"])),
    "a date at the end of the calendar": _token(json.dumps(["9999-12-31T23:59:59.999999-05:00", "x"])),
    "a lone surrogate in the id": _token('["2030-01-01T12:00:00.000000+00:00", "\\ud800"]'),
    "far longer than any token issued": _token(json.dumps(["2030-01-01T12:00:00.000000+00:00", "x" * 20_000])),
}


@pytest.mark.parametrize("token", MALFORMED_TOKENS.values(), ids=MALFORMED_TOKENS.keys())
def test_a_malformed_continuation_token_is_a_bad_request(token: str) -> None:
    with pytest.raises(BadRequest, match="invalid continuation token"):
        decode_token(token)


@pytest.mark.parametrize("token", MALFORMED_TOKENS.values(), ids=MALFORMED_TOKENS.keys())
def test_listing_with_a_malformed_continuation_token_answers_400(roomy: RunningHost, token: str) -> None:
    answer = roomy.request("GET", f"{WEBHOOKS}/instances", headers={"x-ms-continuation-token": token})

    assert answer.status == 400, answer.body[:300]
    assert "continuation token" in answer.json()["ExceptionMessage"]


# --- 3. a body declared in a charset that is no text encoding ---------------------------------------------------
@pytest.mark.parametrize("charset", ["hex", "uu", "base64", "rot13", "punycode", "zlib", "undefined"])
def test_decode_body_never_escapes_with_a_codec_error(charset: str) -> None:
    try:
        text = decode_body(b'{"a": "\xc3\xa9-"}', charset)
    except BadRequest:
        return  # a clear 400 is fine
    assert json.loads(text) == {"a": "é-"}


@pytest.mark.parametrize("charset", ["hex", "uu", "base64", "rot13", "punycode"])
def test_a_start_with_a_non_text_charset_is_not_a_500(roomy: RunningHost, charset: str) -> None:
    before = len(roomy.instances())

    answer = roomy.request(
        "POST",
        f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator",
        body=b'{"job_id": "x"}',
        headers={"Content-Type": f"application/json; charset={charset}"},
    )

    assert answer.status in (202, 400), answer.body[:300]
    assert len(roomy.instances()) == before + (1 if answer.status == 202 else 0)


def test_a_body_that_decodes_to_a_lone_surrogate_is_a_400() -> None:
    with pytest.raises(BadRequest, match="lone surrogate"):
        decode_body(b'"\\ud800"', "unicode_escape")


# --- 4. an escaped lone surrogate in a start input -----------------------------------------------------------------
def test_a_start_input_with_an_escaped_lone_surrogate_is_stored_and_read_back(roomy: RunningHost) -> None:
    answer = roomy.request(
        "POST",
        f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator/surrogate-input",
        body=b'{"note": "\\ud800 and \\udfff"}',
        headers={"Content-Type": "application/json"},
    )

    assert answer.status == 202, answer.body[:300]
    status = roomy.request("GET", f"{WEBHOOKS}/instances/surrogate-input")
    assert status.status in (200, 202)
    assert status.json()["input"] == {"note": "\ud800 and \udfff"}


# --- 5. an invalid Host header ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1:-1", "[::1", "127.0.0.1:99999", "a b", "x:80:80", "[zz]:80", "h@st"])
def test_an_invalid_host_is_a_400_and_starts_nothing(roomy: RunningHost, host: str) -> None:
    before = len(roomy.instances())

    started = roomy.request("POST", f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator", host=host)
    app_start = roomy.request("POST", "/api/start_monitoring_job", host=host)

    assert (started.status, app_start.status) == (400, 400)
    assert "Invalid Host header" in started.json()["Message"]
    assert len(roomy.instances()) == before


@pytest.mark.parametrize("host", ["[::1]:7071", "localhost", "127.0.0.1:", "devbox.example:8080"])
def test_a_valid_host_is_served_and_links_use_it(roomy: RunningHost, host: str) -> None:
    answer = roomy.request("POST", f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator", host=host)

    assert answer.status == 202, answer.body[:300]
    assert answer.json()["statusQueryGetUri"].startswith(f"http://{host.rstrip(':')}/")
