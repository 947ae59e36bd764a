"""CORS from local.settings.json as ``func start`` applies it, and the refusal of cross-site state changes: a page on
another site cannot terminate (or start, or purge) instances, while curl-like clients and the SDK keep working."""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devhost.core.errors import StartupError
from devhost.core.model import RuntimeStatus
from devhost.runtime.config import load_cors_settings

from .conftest import APP_DIR, WEBHOOKS, RunningHost, start_host, stop_host

EVIL = "https://evil.example"
ALLOWED = "http://localhost:3000"


def _write_settings(app_dir: Path, host_section: object, values: dict[str, str] | None = None) -> None:
    settings = {"IsEncrypted": False, "Values": values or {}, "Host": host_section}
    (app_dir / "local.settings.json").write_text(json.dumps(settings))


# --- reading Host.CORS / Host.CORSCredentials ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ({}, ((), False)),
        ({"CORS": ""}, ((), False)),
        ({"CORS": "http://a.test,,https://b.test"}, (("http://a.test", "https://b.test"), False)),
        ({"CORS": "http://a.test", "CORSCredentials": True}, (("http://a.test",), True)),
        ({"CORS": "http://a.test", "CORSCredentials": "true"}, (("http://a.test",), True)),
        ({"CORSCredentials": True}, ((), False)),  # credentials without origins: no CORS at all, as in Core Tools
        ({"CORS": "*"}, (("*",), False)),
    ],
)
def test_cors_settings_are_read_as_core_tools_reads_them(tmp_path: Path, section: object, expected: object) -> None:
    _write_settings(tmp_path, section)

    assert load_cors_settings(tmp_path) == expected


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"CORS": "*", "CORSCredentials": True}, "wildcard"),
        ({"CORS": ["http://a.test"]}, "Host.CORS must be a string"),
        ({"CORS": "http://a.test", "CORSCredentials": "yes"}, "CORSCredentials must be true or false"),
        ("not an object", "'Host' must be an object"),
    ],
)
def test_bad_cors_settings_stop_the_host_with_one_line(tmp_path: Path, section: object, message: str) -> None:
    _write_settings(tmp_path, section)

    with pytest.raises(StartupError, match=message):
        load_cors_settings(tmp_path)


# --- the host with CORS configured -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cors_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """The unchanged app, copied with a local.settings.json that allows one origin with credentials."""
    app_dir = tmp_path_factory.mktemp("cors-app")
    shutil.copy(APP_DIR / "function_app.py", app_dir)
    shutil.copy(APP_DIR / "host.json", app_dir)
    shutil.copytree(APP_DIR / "job_monitor", app_dir / "job_monitor", ignore=shutil.ignore_patterns("__pycache__"))
    values = json.loads((APP_DIR / "local.settings.json").read_text())["Values"]
    _write_settings(app_dir, {"CORS": ALLOWED, "CORSCredentials": True}, values)
    loop, host = start_host(app_dir, app_dir=app_dir)
    yield RunningHost(loop, host)
    stop_host(loop, host)


def test_a_preflight_from_an_allowed_origin_is_answered_with_the_allow_headers(cors_host: RunningHost) -> None:
    answer = cors_host.request(
        "OPTIONS",
        "/api/start_monitoring_job",
        headers={"Origin": ALLOWED, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )

    assert answer.status == 204
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert answer.headers["access-control-allow-methods"] == "POST"
    assert answer.headers["access-control-allow-headers"] == "content-type"
    assert answer.headers["access-control-allow-credentials"] == "true"


def test_a_preflight_from_another_origin_gets_no_allow_headers(cors_host: RunningHost) -> None:
    answer = cors_host.request(
        "OPTIONS", "/api/start_monitoring_job", headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"}
    )

    assert answer.status == 204
    assert "access-control-allow-origin" not in answer.headers


def test_an_allowed_origin_can_read_app_and_api_answers(cors_host: RunningHost) -> None:
    app_answer = cors_host.request("GET", "/api/job_status/nobody", headers={"Origin": ALLOWED})
    api_answer = cors_host.request("GET", f"{WEBHOOKS}/instances", headers={"Origin": ALLOWED})

    for answer in (app_answer, api_answer):
        assert answer.headers["access-control-allow-origin"] == ALLOWED
        assert answer.headers["vary"] == "Origin"


def test_an_allowed_origin_may_change_state(cors_host: RunningHost) -> None:
    answer = cors_host.request(
        "POST", f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator/from-allowed", headers={"Origin": ALLOWED}
    )

    assert answer.status == 202


def test_another_origin_gets_no_cors_headers(cors_host: RunningHost) -> None:
    answer = cors_host.request("GET", f"{WEBHOOKS}/instances", headers={"Origin": EVIL})

    assert answer.status == 200
    assert "access-control-allow-origin" not in answer.headers


# --- cross-site state changes (no CORS configured: the app's own local.settings.json) ----------------------------
def _running(served: RunningHost, instance_id: str) -> None:
    answer = served.request("POST", f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator/{instance_id}")
    assert answer.status == 202


VICTIMS = itertools.count(1)
STATE_CHANGES = [
    ("POST", WEBHOOKS + "/instances/{id}/terminate?reason=pwned"),
    ("POST", WEBHOOKS + "/instances/{id}/suspend"),
    ("POST", WEBHOOKS + "/instances/{id}/raiseEvent/x"),
    ("DELETE", WEBHOOKS + "/instances/{id}"),
    ("POST", "/durabletask/instances/{id}/terminate"),
    ("POST", WEBHOOKS + "/orchestrators/monitoring_job_orchestrator/{id}-new"),
    ("DELETE", WEBHOOKS + "/instances?createdTimeFrom=2000-01-01"),
]


@pytest.mark.parametrize(("method", "template"), STATE_CHANGES)
@pytest.mark.parametrize(
    "browser_headers",
    [{"Origin": EVIL}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://127.0.0.1:1"}],
    ids=["other-site", "opaque-origin", "fetch-metadata-only", "other-port"],
)
def test_a_cross_site_state_change_is_refused_and_changes_nothing(
    served: RunningHost, method: str, template: str, browser_headers: dict[str, str]
) -> None:
    victim = f"victim-{next(VICTIMS)}"
    _running(served, victim)
    before = {i.instance_id for i in served.instances()}

    answer = served.request(
        method, template.format(id=victim), body=b'"x"', headers={**browser_headers, "Content-Type": "application/json"}
    )

    assert answer.status == 403
    assert answer.json()["Message"].startswith("Cross-origin request refused")
    after = {i.instance_id: i.runtime_status for i in served.instances()}
    assert set(after) == before  # nothing created, nothing purged
    assert after[victim] in (RuntimeStatus.PENDING, RuntimeStatus.RUNNING)  # not terminated nor suspended


def test_a_dashboard_action_from_another_site_is_refused(served: RunningHost) -> None:
    answer = served.request("POST", "/_devhost/api/instances/x/terminate", headers={"Origin": EVIL})

    assert answer.status == 403


def test_curl_and_same_origin_pages_may_terminate(served: RunningHost) -> None:
    _running(served, "curl-victim")
    _running(served, "page-victim")

    by_curl = served.request("POST", f"{WEBHOOKS}/instances/curl-victim/terminate")
    by_page = served.request(
        "POST",
        f"{WEBHOOKS}/instances/page-victim/terminate",
        headers={"Origin": f"http://{served.authority}", "Sec-Fetch-Site": "same-origin"},
    )

    assert (by_curl.status, by_page.status) == (202, 202)


def test_reads_from_another_site_are_not_refused(served: RunningHost) -> None:
    answer = served.request("GET", f"{WEBHOOKS}/instances", headers={"Origin": EVIL})

    assert answer.status == 200
    assert "access-control-allow-origin" not in answer.headers  # no CORS configured: the page cannot read it


def test_app_routes_are_left_to_the_app(served: RunningHost) -> None:
    answer = served.request("POST", "/api/start_monitoring_job", body=b"{}", headers={"Origin": EVIL})

    assert answer.status == 202  # as under func start: the Functions host does not guard the app's own routes


def test_a_dns_rebinding_page_cannot_change_state_on_a_loopback_host(served: RunningHost) -> None:
    # evil.example re-pointed at 127.0.0.1: the browser sends the page's own name as Host and Origin.
    _running(served, "rebind-victim")
    port = served.authority.rsplit(":", 1)[1]
    rebound = f"evil.example:{port}"

    answer = served.request(
        "POST",
        f"{WEBHOOKS}/instances/rebind-victim/terminate",
        headers={"Origin": f"http://{rebound}", "Sec-Fetch-Site": "same-origin"},
        host=rebound,
    )

    assert answer.status == 403
    assert "DNS-rebinding" in answer.json()["Message"]
    assert {i.instance_id: i.runtime_status for i in served.instances()}["rebind-victim"] in (
        RuntimeStatus.PENDING,
        RuntimeStatus.RUNNING,
    )


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "app.localhost"])
def test_loopback_names_are_this_machine(name: str) -> None:
    from devhost.http.cors import is_loopback_name

    assert is_loopback_name(name)


@pytest.mark.parametrize("name", ["evil.example", "0.0.0.0", "10.0.0.1", "localhost.evil.example", ""])
def test_other_names_are_not_this_machine(name: str) -> None:
    from devhost.http.cors import is_loopback_name

    assert not is_loopback_name(name)
