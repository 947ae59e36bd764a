"""Management links, the check-status body and the client binding JSON, checked against the real SDK."""

from __future__ import annotations

import json

import azure.functions as func
from azure.durable_functions import DurableOrchestrationClient

from devhost.http.links import (
    check_status_payload,
    client_binding_json,
    creation_urls,
    management_urls,
)

BASE = "http://127.0.0.1:7071/runtime/webhooks/durabletask"
RPC = "http://127.0.0.1:7071/durabletask/"
HUB = "TestHubName"
Q = "taskHub=TestHubName&connection=Storage"


def test_management_urls_have_the_nine_properties_in_declaration_order() -> None:
    urls = management_urls(BASE, HUB, instance_id="abc")

    assert list(urls) == [
        "id",
        "statusQueryGetUri",
        "sendEventPostUri",
        "terminatePostUri",
        "rewindPostUri",
        "purgeHistoryDeleteUri",
        "restartPostUri",
        "suspendPostUri",
        "resumePostUri",
    ]
    assert urls["id"] == "abc"
    assert urls["statusQueryGetUri"] == f"{BASE}/instances/abc?{Q}"
    assert urls["sendEventPostUri"] == f"{BASE}/instances/abc/raiseEvent/{{eventName}}?{Q}"
    assert urls["terminatePostUri"] == f"{BASE}/instances/abc/terminate?reason={{text}}&{Q}"
    assert urls["rewindPostUri"] == f"{BASE}/instances/abc/rewind?reason={{text}}&{Q}"
    assert urls["purgeHistoryDeleteUri"] == f"{BASE}/instances/abc?{Q}"
    assert urls["restartPostUri"] == f"{BASE}/instances/abc/restart?{Q}"
    assert urls["suspendPostUri"] == f"{BASE}/instances/abc/suspend?reason={{text}}&{Q}"
    assert urls["resumePostUri"] == f"{BASE}/instances/abc/resume?reason={{text}}&{Q}"


def test_check_status_payload_is_the_dotnet_eight_key_body_without_rewind() -> None:
    payload = check_status_payload(BASE, HUB, "abc")

    assert list(payload) == [
        "id",
        "statusQueryGetUri",
        "sendEventPostUri",
        "terminatePostUri",
        "purgeHistoryDeleteUri",
        "restartPostUri",
        "suspendPostUri",
        "resumePostUri",
    ]


def test_links_url_encode_the_instance_id_like_webutility() -> None:
    urls = management_urls(BASE, "my hub", instance_id="a b+c")

    assert urls["id"] == "a b+c"
    assert urls["statusQueryGetUri"] == f"{BASE}/instances/a+b%2Bc?taskHub=my+hub&connection=Storage"


def test_status_link_can_ask_for_500_on_failure() -> None:
    urls = management_urls(BASE, HUB, instance_id="abc", return_internal_server_error_on_failure=True)

    assert urls["statusQueryGetUri"].endswith("&returnInternalServerErrorOnFailure=true")


def test_creation_urls_keep_the_extension_placeholders() -> None:
    urls = creation_urls(BASE)

    assert urls["createNewInstancePostUri"] == f"{BASE}/orchestrators/{{functionName}}[/{{instanceId}}]?"
    assert urls["createAndWaitOnNewInstancePostUri"] == (
        f"{BASE}/orchestrators/{{functionName}}[/{{instanceId}}]?timeout={{timeoutInSeconds}}"
        "&pollingInterval={intervalInSeconds}&"
    )


def test_client_binding_json_has_the_keys_the_extension_sends() -> None:
    binding = json.loads(client_binding_json(BASE, RPC, HUB))

    assert list(binding) == [
        "taskHubName",
        "creationUrls",
        "managementUrls",
        "baseUrl",
        "requiredQueryStringParameters",
        "rpcBaseUrl",
    ]
    assert binding["taskHubName"] == HUB
    assert binding["managementUrls"]["id"] == "INSTANCEID"
    assert binding["baseUrl"] == BASE
    assert binding["requiredQueryStringParameters"] == ""
    assert binding["rpcBaseUrl"] == RPC


def test_client_binding_json_adds_the_trailing_slash_the_sdk_needs() -> None:
    binding = json.loads(client_binding_json(BASE, RPC.rstrip("/"), HUB))

    assert binding["rpcBaseUrl"] == RPC


def test_sdk_client_builds_management_payload_from_the_binding() -> None:
    client = DurableOrchestrationClient(client_binding_json(BASE, RPC, HUB))

    payload = client.create_http_management_payload("job-42")

    assert payload == management_urls(BASE, HUB, instance_id="job-42")


def test_sdk_check_status_response_rewrites_origin_to_the_request() -> None:
    client = DurableOrchestrationClient(client_binding_json(BASE, RPC, HUB))
    request = func.HttpRequest("POST", "http://localhost:7071/api/start_job", body=b"")

    response = client.create_check_status_response(request, "job-42")

    body = json.loads(response.get_body())
    assert response.status_code == 202
    assert body["id"] == "job-42"
    assert body["statusQueryGetUri"] == f"http://localhost:7071/runtime/webhooks/durabletask/instances/job-42?{Q}"
    assert response.headers["Location"] == body["statusQueryGetUri"]
    assert response.headers["Retry-After"] == "10"
    assert len(body) == 9  # the SDK copies every managementUrls entry, rewindPostUri included
