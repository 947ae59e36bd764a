"""The real host reads its sockets through the reused buffer (devhost/http/reads.py: why, and the figures)."""

from __future__ import annotations

import json

from devhost.http.reads import ReusedBufferSite

from .conftest import WEBHOOKS, RunningHost


def test_the_host_listens_through_a_site_whose_connections_read_into_its_one_buffer(served: RunningHost) -> None:
    runner = served.host._runner
    assert runner is not None

    sites = list(runner.sites)

    assert [type(site) for site in sites] == [ReusedBufferSite]
    assert served.request("GET", "/admin/host/status").status == 200


def test_a_start_input_larger_than_one_read_is_stored_byte_for_byte(served: RunningHost) -> None:
    text = "".join(chr(0x41 + n % 26) for n in range(300_000))  # well past one 256 KiB read
    body = json.dumps({"note": text}).encode()

    started = served.request(
        "POST", f"{WEBHOOKS}/orchestrators/monitoring_job_orchestrator", body=body, headers={"Content-Type": "application/json"}
    )
    status = served.request("GET", f"{WEBHOOKS}/instances/{started.json()['id']}?showInput=true")

    assert started.status == 202
    assert status.json()["input"] == {"note": text}
