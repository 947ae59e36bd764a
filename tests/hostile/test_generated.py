"""Generated hostile requests across every route the host serves (table read from the running host, so routes added
later — the dashboard's, the entities' — are covered too): never a 5xx the client did not cause, never a hang, and a
refused request changes nothing."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.core.model import RuntimeStatus

from .conftest import RunningHost
from .generate import Route, hostile_request, route_table, router_paths

MARKED = (RuntimeStatus.TERMINATED, RuntimeStatus.SUSPENDED)
"""Statuses only a client request can give an instance: a refused request must not have given one."""


@pytest.fixture(scope="module")
def routes(served: RunningHost) -> list[Route]:
    runner = served.host._runner
    assert runner is not None and served.host.registry is not None and served.host.settings is not None
    return route_table(router_paths(runner.app), served.host.registry, served.host.settings.route_prefix)


def test_the_route_table_covers_every_surface(routes: list[Route]) -> None:
    templates = " ".join(route.template for route in routes)

    surfaces = ("/runtime/webhooks/durabletask/", "/durabletask/", "/admin/host/status", "/api/start_monitoring_job", "/_devhost")
    for surface in surfaces:
        assert surface in templates


def _state(served: RunningHost) -> tuple[set[str], set[str]]:
    instances = served.instances()
    return {i.instance_id for i in instances}, {i.instance_id for i in instances if i.runtime_status in MARKED}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rng=st.randoms(use_true_random=False))
def test_generated_hostile_requests_are_answered_without_a_5xx(
    served: RunningHost, routes: list[Route], rng: random.Random
) -> None:
    request = hostile_request(rng, routes)
    before = _state(served)

    answer = served.send(request.wire(served.authority), head_only=request.method == "HEAD")

    described = f"{request.method} {request.target[:200]!r} {request.headers} -> {answer.raw[:300]!r}"
    assert answer.status > 0, f"no answer: {described}"
    # The one 500 a client asks for: the status of a Failed instance with returnInternalServerErrorOnFailure.
    asked_for = answer.status == 500 and b'"runtimeStatus":"Failed"' in answer.body
    assert answer.status < 500 or asked_for, described
    if answer.status >= 400:
        assert _state(served) == before, f"a refused request changed the store: {described}"
