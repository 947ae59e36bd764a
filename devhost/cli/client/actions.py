"""The action commands' shared step: send one Durable HTTP API request, report it in one line."""

from __future__ import annotations

from typing import Any

from devhost.cli.client.http import CommandError, ExitCode, HostClient


def act(
    client: HostClient,
    what: str,
    instance_id: str,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    body: bytes | None = None,
    ok: int = 202,
) -> int:
    response = client.request(method, path, params, body)
    if response.status == 404:
        raise CommandError(f"no instance {instance_id!r} on {client.url}", ExitCode.NOT_FOUND)
    if response.status != ok:
        raise CommandError(f"{what} {instance_id!r} refused: HTTP {response.status}: {response.message()}", ExitCode.REFUSED)
    print(f"{what}: {instance_id} (HTTP {response.status})")
    return ExitCode.OK
