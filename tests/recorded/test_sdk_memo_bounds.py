"""How the SDK timestamp memo (devhost.runtime.sdk_timestamps) keeps its bound and its zone rule.

The memo is exercised directly over a counting fake of dateutil's ``parse`` (it forwards to the real one),
so the tests see which texts are parsed again and which are answered from the memo.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
from dateutil import parser as dateparser

from devhost.core.events import format_timestamp
from devhost.runtime import sdk_timestamps

START = datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc)


class CountingParse:
    """dateutil's parse, counting the texts it was asked for."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, text: str, *args: Any, **kwargs: Any) -> datetime:
        self.calls.append(text)
        return dateparser.parse(text, *args, **kwargs)


def texts(count: int, offset: int = 0) -> list[str]:
    return [format_timestamp(START + timedelta(seconds=offset + n)) for n in range(count)]


@pytest.fixture
def counted() -> Iterator[tuple[CountingParse, Callable[..., datetime]]]:
    parse = CountingParse()
    yield parse, sdk_timestamps.memo(parse, size=8, derive=False)  # every miss parsed: the bounds show in the calls


def test_a_repeated_timestamp_is_parsed_once(counted: tuple[CountingParse, Callable[..., datetime]]) -> None:
    parse, memo = counted
    text = texts(1)[0]

    answers = [memo(text) for _ in range(5)]

    assert parse.calls == [text]
    assert all(answer is answers[0] for answer in answers)
    assert answers[0] == dateparser.parse(text)
    assert memo.cache_info()[:2] == (4, 1)  # type: ignore[attr-defined]


def test_the_memo_never_holds_more_than_its_size(counted: tuple[CountingParse, Callable[..., datetime]]) -> None:
    parse, memo = counted
    sizes = []

    for text in texts(50):
        assert memo(text) == dateparser.parse(text)
        sizes.append(memo.cache_info().currsize)  # type: ignore[attr-defined]

    assert max(sizes) == 8 and memo.cache_info().maxsize == 8  # type: ignore[attr-defined]
    assert len(parse.calls) == 50


def test_a_timestamp_in_use_stays_while_newer_ones_come_and_go(counted: tuple[CountingParse, Callable[..., datetime]]) -> None:
    parse, memo = counted
    kept = texts(1)[0]
    first = memo(kept)

    for text in texts(40, offset=1):
        memo(text)
        assert memo(kept) is first

    assert parse.calls.count(kept) == 1
    assert memo.cache_info().currsize <= 8  # type: ignore[attr-defined]


def test_a_dropped_timestamp_is_parsed_again_to_the_same_value(counted: tuple[CountingParse, Callable[..., datetime]]) -> None:
    parse, memo = counted
    old = texts(1)[0]
    first = memo(old)
    for text in texts(20, offset=1):
        memo(text)

    again = memo(old)

    assert parse.calls.count(old) == 2
    assert (again, type(again.tzinfo)) == (first, type(first.tzinfo))


def test_a_zone_change_parses_afresh_in_each_zone(
    counted: tuple[CountingParse, Callable[..., datetime]], monkeypatch: pytest.MonkeyPatch
) -> None:
    parse, memo = counted
    text = texts(1)[0]
    zones = ["UTC0", "UTC0", "CET-1CEST,M3.5.0,M10.5.0/3", "CET-1CEST,M3.5.0,M10.5.0/3", "UTC0"]
    try:
        for zone in zones:
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            result, plain = memo(text), dateparser.parse(text)
            assert (result, type(result.tzinfo), result.tzinfo) == (plain, type(plain.tzinfo), plain.tzinfo)
    finally:
        monkeypatch.undo()
        time.tzset()

    # Once per change of zone: a tzset to the zone already in force keeps the memo.
    assert parse.calls == [text] * 3
