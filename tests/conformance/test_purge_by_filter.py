"""Purge by filter deletes instances of every status in the time range, as Azure Storage does.

The extension's HttpApiHandler.cs ``HandleDeleteHistoryWithFiltersRequestAsync`` (lines 569-596) passes the time
range and the parsed ``runtimeStatus`` list (empty when absent, ``TryGetIEnumerableQueryParameterValue`` line 722) to
``DurableClient.PurgeInstanceHistoryAsync``. DurableTask.AzureStorage ``AzureTableTrackingStore.cs``
``PurgeInstanceHistoryAsync(createdTimeFrom, createdTimeTo, runtimeStatus)`` keeps only the terminal statuses of that
list, and ``OrchestrationInstanceStatusQueryCondition.ToOData`` filters by status only when the list is non-empty
— so without ``runtimeStatus`` (or with only live ones) Running and Pending instances go too.
"""

from __future__ import annotations

from datetime import timedelta

from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS


def _iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _instances(app) -> set[str]:
    return {i["instanceId"] for i in app.http.get(f"{WEBHOOKS}/instances").json()}


def _one_running_one_done(app) -> tuple[str, str]:
    running = app.start("wait_event")
    app.wait_for_status(running, "Running", timeout=SAFETY_TIMEOUT)
    done = app.start("chain", {"city": "a"})
    app.wait_for_completion(done, timeout=SAFETY_TIMEOUT)
    return running, done


def test_purge_without_runtime_status_deletes_running_instances_too(app):
    since = _iso(app.now - timedelta(seconds=1))
    _one_running_one_done(app)

    response = app.http.delete(f"{WEBHOOKS}/instances", params={"createdTimeFrom": since})

    assert (response.status, response.json()) == (200, {"instancesDeleted": 2})
    assert _instances(app) == set()


def test_purge_naming_only_live_statuses_deletes_every_status(app):
    since = _iso(app.now - timedelta(seconds=1))
    _one_running_one_done(app)

    response = app.http.delete(f"{WEBHOOKS}/instances", params={"createdTimeFrom": since, "runtimeStatus": "Running"})

    assert (response.status, response.json()) == (200, {"instancesDeleted": 2})


def test_purge_with_a_terminal_status_keeps_the_others(app):
    since = _iso(app.now - timedelta(seconds=1))
    running, _ = _one_running_one_done(app)

    response = app.http.delete(f"{WEBHOOKS}/instances", params={"createdTimeFrom": since, "runtimeStatus": "Completed,Running"})

    assert (response.status, response.json()) == (200, {"instancesDeleted": 1})
    assert _instances(app) == {running}


def test_a_purged_running_instance_gets_no_further_turns(app):
    since = _iso(app.now - timedelta(seconds=1))
    running = app.start("sleeper", {"seconds": 600})
    app.wait_for_status(running, "Running", timeout=SAFETY_TIMEOUT)

    app.http.delete(f"{WEBHOOKS}/instances", params={"createdTimeFrom": since})
    app.advance(timedelta(hours=1))

    assert app.http.get(f"{WEBHOOKS}/instances/{running}").status == 404
