"""The dashboard in a real browser (headless Chromium) on the unchanged monitoring app, on the virtual clock.

The host runs in-process; virtual time moves only when a test calls ``advance``. The page refreshes itself
every 2 s of real time, so expectations poll the page up to a deadline (:data:`conftest.WAIT_MS`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devhost.core import events
from devhost.core.model import Instance, Message, RuntimeStatus, TurnCommit
from devhost.testing import DurableAppFactory, DurableAppHandle

from .conftest import WAIT_MS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REPO = Path(__file__).resolve().parents[2]
MONITOR = {"polling_interval_seconds": 10, "timeout_seconds": 600, "simulated_duration_seconds": 200}


@pytest.fixture
def app(durable_app: DurableAppFactory) -> DurableAppHandle:
    handle = durable_app()
    assert isinstance(handle, DurableAppHandle)
    return handle


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    errors: list = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def start_monitor(app: DurableAppHandle, job_id: str, **changes: Any) -> str:
    response = app.http.post("/api/start_monitoring_job", json_body={"job_id": job_id, **MONITOR, **changes})
    assert response.status == 202, response.text
    return job_id


def progress_of(page: Any, instance_id: str) -> float:
    value = page.locator(f'tr[data-instance-id="{instance_id}"] [role=progressbar]').get_attribute("aria-valuenow")
    return float(value)


def test_the_list_shows_running_monitors_whose_progress_moves_with_virtual_time(app: DurableAppHandle, page: Any) -> None:
    from playwright.sync_api import expect

    start_monitor(app, "job-a")
    start_monitor(app, "job-b")
    app.advance(25)

    page.goto(app.base_url + "/_devhost/")
    row = page.locator('tr[data-instance-id="job-a"]')
    expect(row).to_contain_text("Running")
    expect(page.locator("#host-clock")).to_contain_text("virtual time")
    expect(page.locator("#host-now")).to_have_text(app.now.strftime("%Y-%m-%d %H:%M:%S UTC"))
    before = progress_of(page, "job-a")

    app.advance(60)

    expect(page.locator("#host-now")).to_have_text(app.now.strftime("%Y-%m-%d %H:%M:%S UTC"))
    page.wait_for_function(
        "([id, before]) => Number(document.querySelector(`tr[data-instance-id='${id}'] [role=progressbar]`)"
        ".getAttribute('aria-valuenow')) > before",
        arg=["job-a", before],
        timeout=WAIT_MS,
    )
    expect(row.locator(".summary")).to_contain_text("check 9")
    page.screenshot(path=str(Path(app.store_path or ".").parent / "list.png"))


def test_the_instance_page_shows_custom_status_history_and_timeline(app: DurableAppHandle, page: Any) -> None:
    from playwright.sync_api import expect

    start_monitor(app, "job-a")
    app.advance(35)
    page.goto(app.base_url + "/_devhost/")

    page.get_by_role("link", name="job-a").click()

    expect(page).to_have_url(re.compile(r"/_devhost/instances/job-a$"))
    expect(page.locator("#instance-status")).to_have_text("Running")
    expect(page.locator("#custom-status")).to_contain_text('"check_count": 4')
    expect(page.locator("#custom-status")).to_contain_text('"progress_percent"')
    expect(page.locator("#waiting")).to_contain_text("Waiting on: activity wait_for_interval")
    expect(page.locator("#history tbody tr[data-type=TaskScheduled]").first).to_contain_text("check_job_status")
    expect(page.locator("#history-count")).to_have_text(re.compile(r"\d+ events"))
    expect(page.locator("#timeline svg rect.bar-activity").first).to_be_attached()
    expect(page.locator("#input")).not_to_contain_text("job_id")  # the input stays hidden until asked
    page.locator("#show-input").click()
    expect(page.locator("#input")).to_contain_text('"job_id": "job-a"')
    first_input = page.locator("#history tbody tr[data-type=TaskScheduled] [data-expand]").first
    first_input.click()
    expect(page.locator("#history [data-full] pre").first).to_contain_text('"check_number": 1')


def test_terminate_asks_first_then_the_api_shows_the_instance_terminated(app: DurableAppHandle, page: Any) -> None:
    from playwright.sync_api import expect

    start_monitor(app, "keep")
    start_monitor(app, "stop-me")
    app.advance(15)
    page.goto(app.base_url + "/_devhost/instances/stop-me")
    expect(page.locator("#instance-status")).to_have_text("Running")

    page.get_by_role("button", name="Terminate").click()
    dialog = page.locator("dialog.confirm")
    expect(dialog).to_contain_text("Terminate stop-me?")
    dialog.get_by_role("button", name="Cancel").click()
    assert app.status("stop-me")["runtimeStatus"] == "Running"  # cancelled: nothing was sent
    page.get_by_role("button", name="Terminate").click()
    dialog.locator("input[name=reason]").fill("seen enough")
    dialog.get_by_role("button", name="Confirm").click()

    expect(page.locator("#toast")).to_contain_text("Accepted (HTTP 202)")
    final = app.wait_for_status("stop-me", "Terminated")
    assert final["output"] == "seen enough"
    expect(page.locator("#instance-status")).to_have_text("Terminated")
    expect(page.get_by_role("button", name="Purge")).to_be_enabled()
    assert app.status("keep")["runtimeStatus"] == "Running"


def test_raise_event_reaches_an_orchestration_waiting_for_it(durable_app: DurableAppFactory, page: Any) -> None:
    from playwright.sync_api import expect

    app = durable_app(REPO / "tests" / "apps" / "engine_features")
    instance_id = app.start("wait_event", instance_id="waiting")
    app.advance(0)
    page.goto(app.base_url + f"/_devhost/instances/{instance_id}")
    expect(page.locator("#instance-status")).to_have_text("Running")

    page.get_by_role("button", name="Raise event").click()
    dialog = page.locator("dialog.confirm")
    dialog.locator("textarea[name=data]").fill("{not json")
    dialog.locator("input[name=event]").fill("Approval")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.locator(".dialog-error")).to_contain_text("Not valid JSON")
    dialog.locator("textarea[name=data]").fill('{"approved": true}')
    dialog.get_by_role("button", name="Confirm").click()

    final = app.wait_for_completion(instance_id)
    assert final["output"]["value"] == {"approved": True}
    expect(page.locator("#instance-status")).to_have_text("Completed")
    expect(page.locator("#history tbody tr[data-type=EventRaised]")).to_contain_text("Approval")


def test_suspend_resume_restart_purge_and_rewind_call_the_api(durable_app: DurableAppFactory, page: Any) -> None:
    from playwright.sync_api import expect

    app = durable_app(REPO / "tests" / "apps" / "engine_features")
    app.start("wait_event", instance_id="acts")
    app.start("boom", instance_id="broken")
    app.advance(0)
    dialog = page.locator("dialog.confirm")

    def act(button: str) -> None:
        page.get_by_role("button", name=button, exact=True).click()
        dialog.get_by_role("button", name="Confirm").click()
        expect(page.locator("#toast")).to_contain_text(f"{button}: Accepted")

    page.goto(app.base_url + "/_devhost/instances/acts")
    expect(page.locator("#instance-status")).to_have_text("Running")
    act("Suspend")
    app.wait_for_status("acts", "Suspended")
    expect(page.get_by_role("button", name="Resume")).to_be_enabled()
    act("Resume")
    app.wait_for_status("acts", "Running")
    act("Restart")
    restarted = page.locator("#toast a").get_attribute("href").rsplit("/", 1)[-1]
    assert app.status(restarted)["name"] == "wait_event"
    app.terminate("acts")
    app.wait_for_status("acts", "Terminated")
    expect(page.get_by_role("button", name="Purge")).to_be_enabled()
    act("Purge")
    assert app.http.get("/runtime/webhooks/durabletask/instances/acts").status == 404
    expect(page.locator("#instance-status")).to_have_text("not found")
    expect(page.locator("#missing")).to_have_text("No instance with id acts (purged, or never started).")

    page.goto(app.base_url + "/_devhost/instances/broken")
    expect(page.locator("#instance-status")).to_have_text("Failed")
    expect(page.locator("#failure")).to_contain_text("kaput")
    act("Rewind")


def test_list_filters_live_in_the_url_show_as_chips_and_clear(app: DurableAppHandle, page: Any) -> None:
    from playwright.sync_api import expect

    start_monitor(app, "job-long")
    start_monitor(app, "quick-1", timeout_seconds=10)
    app.advance(30)
    page.goto(app.base_url + "/_devhost/")
    rows = page.locator("#instances tbody tr")
    expect(rows).to_have_count(2)

    page.locator("#f-status").select_option("Running")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-instance-id", "job-long")
    assert "status=Running" in page.url
    expect(page.locator(".chip[data-filter=status]")).to_contain_text("status: Running")

    page.goto(app.base_url + "/_devhost/?prefix=quick")  # a shared link keeps its filters
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-instance-id", "quick-1")
    expect(page.locator("#f-prefix")).to_have_value("quick")

    page.get_by_role("button", name="Waiting on a timer").click()
    expect(page.locator("#empty")).to_be_visible()  # both wait on an activity (the default strategy) or ended
    assert "waiting=timer" in page.url
    expect(page.locator(".chip[data-filter=waiting]")).to_contain_text("waiting on: timer")
    page.get_by_role("button", name="remove waiting on filter").click()

    page.get_by_role("button", name="Failed only").click()
    expect(page.locator("#empty")).to_be_visible()
    assert "status=Failed" in page.url and "prefix=quick" in page.url

    page.get_by_role("button", name="remove status filter").click()
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="Clear filters").click()
    expect(rows).to_have_count(2)
    expect(page.locator("#active-filters")).to_be_hidden()
    assert "?" not in page.url

    page.goto(app.base_url + "/_devhost/?status=Sleeping")
    expect(page.locator("#toast")).to_contain_text("unknown runtime status 'Sleeping'")


def test_start_from_the_list_validates_the_input_and_starts_an_instance(app: DurableAppHandle, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(app.base_url + "/_devhost/")
    page.get_by_role("button", name="Start…").click()
    page.locator("#start-id").fill("from-ui")
    page.locator("#start-input").fill("{oops")
    page.locator("#start-submit").click()
    expect(page.locator("#start-error")).to_contain_text("Not valid JSON")
    page.locator("#start-input").fill(json.dumps({"job_id": "from-ui", **MONITOR}))
    page.locator("#start-submit").click()

    expect(page.locator("#toast")).to_contain_text("Started from-ui")
    expect(page.locator('tr[data-instance-id="from-ui"]')).to_be_visible()
    app.advance(15)
    assert app.status("from-ui")["customStatus"]["check_count"] == 2


def test_a_5000_event_history_is_paged_and_its_values_stay_collapsed(app: DurableAppHandle, page: Any) -> None:
    from playwright.sync_api import expect

    write_long_history(app, "long", activities=2_500)
    page.goto(app.base_url + "/_devhost/instances/long")

    expect(page.locator("#history-count")).to_have_text("5,001 events")
    expect(page.locator("#h-range")).to_have_text("4902–5001 of 5,001")
    expect(page.locator("#history tbody tr")).to_have_count(100)
    expect(page.locator("#timeline-note")).to_have_text("(the latest 1000 of 2500)")
    page.get_by_role("button", name="« First").click()
    expect(page.locator("#h-range")).to_have_text("1–100 of 5,001")
    expect(page.locator("#history tbody tr").nth(1)).to_contain_text("show (2,012 chars)")


def write_long_history(app: DurableAppHandle, instance_id: str, *, activities: int) -> None:
    """An instance whose history holds ``activities`` activity round trips, each with a 2 kB input."""
    now = app.now
    store = app.host.store
    instance = Instance(instance_id, "monitoring_job_orchestrator", "e1", RuntimeStatus.PENDING, now, now)
    started = events.execution_started(now, instance_id=instance_id, execution_id="e1", name=instance.name, input_text=None)
    store.create_instance(instance, Message(instance_id, started, visible_at=now, execution_id="e1"))
    big = json.dumps({"blob": "x" * 2_000})
    history = [started]
    for task in range(activities):
        history += [events.task_scheduled(now, task, "check_job_status", big), events.task_completed(now, task, '"ok"')]
    done = Instance(instance_id, instance.name, "e1", RuntimeStatus.COMPLETED, now, now, output='"done"')
    store.commit_turn(TurnCommit(instance=done, new_history=history, clear_pending=True))


def test_on_a_real_clock_host_the_pages_show_no_virtual_badge_and_no_empty_values(
    page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from playwright.sync_api import expect

    from ..cli.hostproc import Host

    host = Host(Path(tmp_path_factory.mktemp("real-clock-host")))
    try:
        instance_id = host.start_monitor("real-clock-job", polling_interval_seconds=60, timeout_seconds=600)

        page.goto(host.url + "/_devhost/")
        expect(page.locator('tr[data-instance-id="real-clock-job"]')).to_contain_text("Running")
        expect(page.locator("#host-now")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
        expect(page.locator("#host-clock")).not_to_contain_text("virtual time")
        expect(page.locator("#host-clock")).not_to_contain_text("null")

        page.goto(host.url + f"/_devhost/instances/{instance_id}")
        expect(page.locator("#progress-row")).to_contain_text("check 1")
        expect(page.locator("#progress-row")).not_to_contain_text("null")
    finally:
        host.close()
