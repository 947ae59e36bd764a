"""URL templates of the Durable HTTP API: management links, the 202 check-status body, the client binding JSON.

The shapes follow the extension's ``HttpApiHandler.GetClientResponseLinks`` / ``GetInstanceCreationLinks`` and
``BindingHelper.DurableOrchestrationClientToString`` (protocol doc §3.1, API notes B.2). ``base_url`` is always
the public webhook base, e.g. ``http://127.0.0.1:7071/runtime/webhooks/durabletask`` (no trailing slash).
"""

from __future__ import annotations

import json
from urllib.parse import quote_plus

INSTANCE_ID_PLACEHOLDER = "INSTANCEID"
"""What ``managementUrls`` carry instead of an id; the SDK replaces the value of ``managementUrls["id"]``."""

DEFAULT_CONNECTION = "Storage"


def _url_encode(value: str) -> str:
    # .NET WebUtility.UrlEncode: form encoding (space -> '+'), leaving only letters, digits and -_.!*() alone.
    return quote_plus(value, safe="!*()")


def _query_suffix(hub: str, connection: str) -> str:
    # Locally there is no system key, so nothing follows connection= (Azure appends &code=...).
    return f"taskHub={_url_encode(hub)}&connection={_url_encode(connection)}"


def management_urls(
    base_url: str,
    hub: str,
    connection: str = DEFAULT_CONNECTION,
    instance_id: str = INSTANCE_ID_PLACEHOLDER,
    *,
    return_internal_server_error_on_failure: bool = False,
) -> dict[str, str]:
    """The 9 ``HttpManagementPayload`` properties in declaration order (``id`` first, ``rewindPostUri`` included)."""
    prefix = f"{base_url.rstrip('/')}/instances/{_url_encode(instance_id)}"
    q = _query_suffix(hub, connection)
    status_uri = f"{prefix}?{q}"
    if return_internal_server_error_on_failure:
        status_uri += "&returnInternalServerErrorOnFailure=true"
    # {eventName} and {text} are literal placeholders for the caller to fill in.
    return {
        "id": instance_id,
        "statusQueryGetUri": status_uri,
        "sendEventPostUri": f"{prefix}/raiseEvent/{{eventName}}?{q}",
        "terminatePostUri": f"{prefix}/terminate?reason={{text}}&{q}",
        "rewindPostUri": f"{prefix}/rewind?reason={{text}}&{q}",
        "purgeHistoryDeleteUri": f"{prefix}?{q}",
        "restartPostUri": f"{prefix}/restart?{q}",
        "suspendPostUri": f"{prefix}/suspend?reason={{text}}&{q}",
        "resumePostUri": f"{prefix}/resume?reason={{text}}&{q}",
    }


def check_status_payload(base_url: str, hub: str, instance_id: str, connection: str = DEFAULT_CONNECTION) -> dict[str, str]:
    """The .NET ``CreateCheckStatusResponse`` body: 8 keys, no ``rewindPostUri`` (B.2)."""
    urls = management_urls(base_url, hub, connection, instance_id)
    del urls["rewindPostUri"]
    return urls


def creation_urls(base_url: str) -> dict[str, str]:
    """``HttpCreationPayload``. Locally the universal query string is empty, so the extension leaves a bare
    trailing ``?`` / ``&`` on these templates; we keep them byte-for-byte."""
    prefix = f"{base_url.rstrip('/')}/orchestrators/{{functionName}}[/{{instanceId}}]"
    return {
        "createNewInstancePostUri": f"{prefix}?",
        "createAndWaitOnNewInstancePostUri": f"{prefix}?timeout={{timeoutInSeconds}}&pollingInterval={{intervalInSeconds}}&",
    }


def client_binding_json(base_url: str, rpc_base_url: str, hub: str) -> str:
    """The ``durableClient`` input binding value an HTTP starter receives (a JSON string).

    azure-functions-durable 1.7.0 requires ``taskHubName``, ``creationUrls`` and ``managementUrls``, and joins
    paths straight onto ``rpcBaseUrl``, which must therefore end with ``/``.
    """
    if not rpc_base_url.endswith("/"):
        rpc_base_url += "/"
    payload = {
        "taskHubName": hub,
        "creationUrls": creation_urls(base_url),
        "managementUrls": management_urls(base_url, hub),
        "baseUrl": base_url.rstrip("/"),
        "requiredQueryStringParameters": "",
        "rpcBaseUrl": rpc_base_url,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
