"""Alert routing: the webhook payload of a newly raised alert, and its delivery by HTTP POST.

When the app setting ``ALERT_WEBHOOK_URL`` is set at start, the HTTP starter puts
``"alert_routing": {"status_url": ...}`` into the orchestration input; the orchestrator then hands each alert,
the first time it is raised, to the ``deliver_alert`` activity with :data:`RETRY` (the orchestrator stays
deterministic: the payload is built from the check record, the POST happens in the activity). The activity
reads the URL when it runs, so rotating the URL needs no restart of running monitors, and the URL (which for
Teams and Slack is a secret) never lands in the orchestration history.

Payload (one JSON POST per alert per monitor)::

    {"text": "<one actionable line>", "job_id", "instance_id", "alert": {"name", "severity", "message"},
     "check_number", "metrics", "status_url"}

``text`` makes it readable as-is by Teams and Slack incoming webhooks.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import azure.durable_functions as df

from .alerts import Alert

WEBHOOK_SETTING = "ALERT_WEBHOOK_URL"
INPUT_KEY = "alert_routing"
REQUEST_TIMEOUT_SECONDS = 10.0
RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=5_000, max_number_of_attempts=4)
"""Up to 4 POSTs, 5 s apart (durable timers, so nothing is held while waiting): a receiver that fails a few
times still gets the alert; one that is down for good costs the monitor nothing but a logged, counted failure."""


@dataclass(frozen=True)
class AlertRouting:
    """What a monitor needs to route its alerts (part of the orchestration input)."""

    status_url: str

    def to_dict(self) -> dict[str, Any]:
        return {"status_url": self.status_url}

    @classmethod
    def from_input(cls, raw: Any) -> AlertRouting | None:
        if not isinstance(raw, Mapping):
            return None
        return cls(status_url=str(raw.get("status_url") or ""))


def webhook_url(environ: Mapping[str, str]) -> str | None:
    """The configured webhook URL, or None when the setting is missing or blank."""
    url = (environ.get(WEBHOOK_SETTING) or "").strip()
    return url or None


def status_url(request_url: str, start_route: str, job_status_route: str, job_id: str) -> str:
    """The app's own ``GET job_status/{jobId}`` URL, next to the start route the request came in on.

    Not the Durable ``statusQueryGetUri``: in Azure that one carries the extension's system key (``code=``),
    which must not travel to a chat channel.
    """
    base = request_url.split("?", 1)[0].rstrip("/")
    if base.endswith("/" + start_route):
        base = base[: -len(start_route)].rstrip("/")
    return f"{base}/{job_status_route.replace('{jobId}', urllib.parse.quote(job_id, safe=''))}"


def payload(
    routing: AlertRouting, *, job_id: str, instance_id: str, alert: Alert, check_number: int, metrics: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The webhook body for one alert (pure: built in the orchestrator from the check's record)."""
    text = (
        f"[{alert.severity.upper()}] {alert.name} on job {job_id} (check #{check_number}): {alert.message}. "
        f"Status: {routing.status_url}"
    )
    return {
        "text": text,
        "job_id": job_id,
        "instance_id": instance_id,
        "alert": alert.to_dict(),
        "check_number": check_number,
        "metrics": dict(metrics or {}),
        "status_url": routing.status_url,
    }


class DeliveryFailed(RuntimeError):
    """The receiver did not accept the alert (the retry policy tries again)."""


def post(url: str, body: Mapping[str, Any], timeout: float = REQUEST_TIMEOUT_SECONDS) -> int:
    """POST ``body`` as JSON; returns the 2xx status, raises DeliveryFailed otherwise."""
    data = json.dumps(body).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json", "User-Agent": "job-monitor"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:  # it holds the open response: close the connection before giving up on this attempt
            raise DeliveryFailed(f"the alert webhook answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryFailed(f"the alert webhook could not be reached: {reason}") from None
