"""The dashboard's read model (devhost.service.queries) over a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from devhost.core.errors import BadRequest
from devhost.core.model import RuntimeStatus
from devhost.service import queries
from devhost.service.queries import ListFilter
from devhost.store.sqlite import SqliteStore

from .builders import T0, add_instance


@pytest.fixture
def store() -> Iterator[SqliteStore]:
    with SqliteStore(None) as opened:
        yield opened


def all_pages(store: SqliteStore, flt: ListFilter, size: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = queries.list_page(store, flt, size, cursor)
        pages.append([row["instanceId"] for row in page.items])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def test_paging_returns_every_instance_once_in_created_order(store: SqliteStore) -> None:
    for i in range(23):
        add_instance(store, f"i-{i:02d}", seconds=i)

    pages = all_pages(store, ListFilter(), 5)

    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert sum(pages, []) == [f"i-{i:02d}" for i in range(23)]


def test_name_and_custom_text_filters_page_without_losing_or_repeating_rows(store: SqliteStore) -> None:
    for i in range(40):
        add_instance(
            store,
            f"i-{i:02d}",
            seconds=i,
            name="monitor" if i % 3 == 0 else "other",
            custom={"status": "critical" if i % 2 == 0 else "fine"},
        )

    by_name = sum(all_pages(store, ListFilter(name="MONITOR"), 4), [])
    by_text = sum(all_pages(store, ListFilter(custom_text="CRIT"), 7), [])

    assert by_name == [f"i-{i:02d}" for i in range(40) if i % 3 == 0]
    assert by_text == [f"i-{i:02d}" for i in range(40) if i % 2 == 0]


def test_store_side_filters_status_prefix_and_created_range_apply(store: SqliteStore) -> None:
    add_instance(store, "a-1", seconds=1, status=RuntimeStatus.FAILED)
    add_instance(store, "a-2", seconds=2, status=RuntimeStatus.COMPLETED)
    add_instance(store, "b-1", seconds=3, status=RuntimeStatus.FAILED)
    add_instance(store, "a-3", seconds=4, status=RuntimeStatus.FAILED)

    failed_a = queries.list_page(store, ListFilter(statuses=frozenset({RuntimeStatus.FAILED}), id_prefix="a-"))
    in_range = queries.list_page(store, ListFilter(created_from=T0 + timedelta(seconds=2), created_to=T0 + timedelta(seconds=3)))

    assert [r["instanceId"] for r in failed_a.items] == ["a-1", "a-3"]
    assert [r["instanceId"] for r in in_range.items] == ["a-2", "b-1"]


def test_a_page_stops_at_the_scan_budget_and_says_it_was_cut_short(store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "SCAN_BUDGET", 10)
    for i in range(30):
        add_instance(store, f"i-{i:02d}", seconds=i, name="needle" if i == 25 else "hay")

    first = queries.list_page(store, ListFilter(name="needle"), 5)
    found = sum(all_pages(store, ListFilter(name="needle"), 5), [])

    assert first.items == [] and first.complete is False and first.next_cursor is not None and first.scanned == 10
    assert found == ["i-25"]


def test_summary_carries_progress_alerts_and_a_one_line_custom_status(store: SqliteStore) -> None:
    custom = {
        "status": "Running",
        "check_count": 3,
        "progress_percent": 45,
        "alerts": [{"name": "low_success_rate", "severity": "critical", "message": "m"}],
    }
    add_instance(store, "m", custom=custom)

    row = queries.list_page(store, ListFilter()).items[0]

    assert row["progressPercent"] == 45.0
    assert row["alerts"] == [{"name": "low_success_rate", "severity": "critical"}]
    assert row["customStatusSummary"] == "Running · check 3 · 45% · 1 alert"
    assert row["createdTime"] == "2030-01-01T00:00:00.000Z"


@pytest.mark.parametrize("cursor", ["garbage!", "eyJ4IjoxfQ", "eyJ0IjpudWxsLCJzIjotMX0"])
def test_a_cursor_this_host_did_not_issue_is_a_bad_request(store: SqliteStore, cursor: str) -> None:
    with pytest.raises(BadRequest, match="cursor"):
        queries.list_page(store, ListFilter(), 5, cursor)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: queries.parse_status("Sleeping"), "unknown runtime status"),
        (lambda: queries.parse_time("yesterday", "from"), "not an ISO 8601 time"),
        (lambda: queries.parse_page_size("0", 50, 500), "between 1 and 500"),
        (lambda: queries.parse_page_size("ten", 50, 500), "not a whole number"),
    ],
)
def test_bad_filter_values_are_bad_requests_naming_the_problem(call: object, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        call()  # type: ignore[operator]


def test_times_without_an_offset_are_utc_and_statuses_ignore_case() -> None:
    assert queries.parse_time("2030-01-01T00:00:05", "from") == T0 + timedelta(seconds=5)
    assert queries.parse_time("2030-01-01T00:00:05Z", "from") == T0 + timedelta(seconds=5)
    assert queries.parse_status("failed") is RuntimeStatus.FAILED


def test_the_waiting_filter_asks_only_running_and_suspended_rows_within_a_smaller_budget(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "HISTORY_SCAN_BUDGET", 3)
    add_instance(store, "done", seconds=0, status=RuntimeStatus.COMPLETED)
    for i in range(5):
        add_instance(store, f"run-{i}", seconds=1 + i, status=RuntimeStatus.SUSPENDED if i == 4 else RuntimeStatus.RUNNING)
    asked: list = []

    def pending(instance: object) -> frozenset:
        asked.append(instance.instance_id)  # type: ignore[attr-defined]
        return frozenset({"timer"}) if instance.instance_id in ("run-1", "run-4") else frozenset({"activity"})  # type: ignore[attr-defined]

    first = queries.list_page(store, ListFilter(waiting_on="timer"), 10, pending=pending)
    rest = queries.list_page(store, ListFilter(waiting_on="timer"), 10, first.next_cursor, pending=pending)
    terminal_only = queries.list_page(
        store, ListFilter(waiting_on="timer", statuses=frozenset({RuntimeStatus.COMPLETED})), 10, pending=pending
    )

    assert [r["instanceId"] for r in first.items] == ["run-1"] and first.complete is False
    assert [r["instanceId"] for r in rest.items] == ["run-4"]
    assert asked == ["run-0", "run-1", "run-2", "run-3", "run-4"]
    assert terminal_only.items == [] and terminal_only.next_cursor is None
