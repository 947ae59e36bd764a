"""Memoized history-timestamp parsing for the Durable Functions SDK inside the host process (one of
:mod:`devhost.runtime.sdk_speedups`).

On every episode the SDK rebuilds the whole history and parses each event's ``Timestamp`` with dateutil
(azure-functions-durable 1.7.0, ``azure/durable_functions/models/history/HistoryEvent.py`` line 2
``from dateutil.parser import parse as dt_parse`` and line 15 ``self._timestamp = dt_parse(Timestamp)``).
That parse is most of the SDK's replay time, and an instance's timestamps are parsed again on every later
episode: O(K²) parses for K episodes. :func:`devhost.runtime.sdk_speedups.install` rebinds that module's
``dt_parse`` to :func:`memo`.

What is memoized, and why the results are the ones the SDK would have computed:

- Only full timestamps of the round-trip shape ``YYYY-MM-DDTHH:MM:SS.fffffffZ`` (seven fractional digits
  and ``Z``: what :func:`devhost.core.events.format_timestamp` writes, as the extension does). Every field
  is present, so dateutil's ``default`` (today's date) never shows through. Any other text is passed to
  dateutil as it is, every time.
- dateutil's answer for ``Z`` is not a function of the text alone: it gives ``tzlocal()`` when "UTC" is
  one of ``time.tzname`` (a machine on UTC) and ``tz.UTC`` otherwise (``dateutil/parser/_parser.py``,
  ``_build_tzaware``), and a ``tzlocal`` freezes the zone's offsets when it is built. So every memoized value
  belongs to the process's zone it was parsed in (``time.tzname``, ``timezone``, ``altzone``, ``daylight``),
  and each call compares that zone with the current one: after a ``time.tzset()`` to another zone the memo
  starts empty and texts are parsed afresh. (Changing ``TZ`` without ``time.tzset()`` is not followed, as
  Python itself does not update ``time.tzname`` then.)
- The memo hands out the very ``datetime`` dateutil returned, so value, type and ``tzinfo`` type are the
  same. Datetimes are immutable; the one difference is that events with the *same* text now share one object
  (and its tzinfo) where each had its own equal copy. Python compares and subtracts datetimes whose tzinfo
  is the same object by their fields, and others via ``utcoffset()``; for equal fields and equal zones both
  give the same answer. Neither the SDK nor the app tests tzinfo identity (the SDK only compares timestamps
  with ``>`` in ``TaskOrchestrationExecutor.py`` line 138 and hands them on as ``current_utc_datetime``).
  ``tests/recorded/test_sdk_timestamp_memo.py`` replays recorded histories with and without the memo and compares
  everything the orchestrator receives.
- Exceptions are not memoized: an invalid date of the right shape raises the same error every time.
- A miss is derived, not parsed, once the zone has a *template*: the first full timestamp dateutil parsed in
  that zone. For this shape dateutil takes every field literally (``_parsems`` truncates the seventh
  fractional digit: ``int(f.ljust(6, "0")[:6])``) and builds ``naive.replace(tzinfo=...)`` with a zone chosen
  by ``_build_tzaware``. When that choice cannot depend on the date -- ``tz.UTC`` (the zone does not call
  itself UTC), or a ``tzlocal()`` of a zone without daylight saving time (no fold, no ambiguous hour) --
  ``template.replace(<the text's fields>)`` is the value dateutil would return, with the template's tzinfo
  object shared as above. A zone with daylight saving time that calls itself UTC is always parsed. A date
  ``datetime`` refuses (Feb 30, hour 24) goes to dateutil, which raises its own error.

The memo is read on every history event of every episode (millions of times in a long monitor), so a hit is
one zone comparison and one dict lookup; the shape check and the bookkeeping run only on a miss. It is bounded
by two generations of at most ``CACHE_SIZE // 2`` texts each: a full recent generation becomes the old one
(the previous old one is dropped), and a text found in the old generation moves back into the recent one. So
the texts in use stay, and at most ``CACHE_SIZE`` are kept.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import datetime
from typing import Any, Callable, NamedTuple

from dateutil import tz

CACHE_SIZE = 1 << 15
"""Distinct timestamps kept (two generations of half as many each, see the module docstring). An entry (a
datetime with its own tzinfo, the key text and the dict slot) takes about 0.8 KB, so the memo stays under
~26 MB. A turn stamps its events with one or two times, so this holds the live histories of e.g. 200
instances of 80 turns each."""

FULL_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{7}Z")
"""The only shape memoized (fullmatch; ASCII digits only)."""

ZoneState = tuple[tuple[str, str], int, int, int]


class MemoInfo(NamedTuple):
    """The memo's statistics (the fields of ``functools.lru_cache``'s ``cache_info()``)."""

    hits: int
    misses: int
    maxsize: int
    currsize: int


def current_zone() -> ZoneState:
    """The process's time zone as dateutil's parse depends on it (module docstring)."""
    return (time.tzname, time.timezone, time.altzone, time.daylight)


def _template(value: datetime, zone: ZoneState) -> datetime | None:
    """``value`` (dateutil's parse of a full timestamp in ``zone``) when every other full timestamp's parse in that
    zone is ``value.replace(<its fields>)``: its tzinfo and fold cannot depend on the date (module docstring)."""
    if value.fold == 0 and (value.tzinfo is tz.UTC or (type(value.tzinfo) is tz.tzlocal and zone[3] == 0)):
        return value
    return None


def _derive(template: datetime, text: str) -> datetime | None:
    """The full timestamp ``text`` as dateutil reads it, on the template's tzinfo; None when ``datetime`` refuses it."""
    try:
        return template.replace(
            year=int(text[0:4]),
            month=int(text[5:7]),
            day=int(text[8:10]),
            hour=int(text[11:13]),
            minute=int(text[14:16]),
            second=int(text[17:19]),
            microsecond=int(text[20:26]),
        )
    except ValueError:
        return None


def memo(parse: Callable[..., Any], size: int = CACHE_SIZE, derive: bool = True) -> Callable[..., datetime]:
    """A drop-in for ``parse`` that answers full timestamps from a memo of at most ``size`` texts; with ``derive``, a
    miss is computed from the zone's template instead of parsed, where that gives dateutil's value."""
    generation = max(1, size // 2)
    zone = current_zone()
    template: datetime | None = None  # see _template(); for ``zone`` only
    recent: dict[str, datetime] = {}  # only full timestamps, each parsed in ``zone``
    older: dict[str, datetime] = {}
    hits = misses = 0
    lock = threading.Lock()  # for the miss path's bookkeeping; a hit only reads

    def memo_parse(timestr: Any, *args: Any, **kwargs: Any) -> datetime:
        nonlocal hits
        # ``zone`` is rebound after the dicts (under the lock), so a matching zone means these dicts are its own.
        if (time.tzname, time.timezone, time.altzone, time.daylight) == zone and type(timestr) is str and not (args or kwargs):
            found = recent.get(timestr)
            if found is not None:
                hits += 1  # statistics only: a count lost to a thread switch changes no answer
                return found
        return miss(timestr, args, kwargs)

    def miss(timestr: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> datetime:
        nonlocal zone, template, recent, older, hits, misses
        if args or kwargs or type(timestr) is not str or not FULL_TIMESTAMP.fullmatch(timestr):
            return parse(timestr, *args, **kwargs)
        current = current_zone()
        with lock:
            if current != zone:  # another zone: nothing parsed in the old one may be answered
                recent, older, template = {}, {}, None
                zone = current
            found = recent.get(timestr)
            if found is None:
                found = older.pop(timestr, None)
                if found is not None:
                    keep(timestr, found)
            if found is not None:
                hits += 1
                return found
            derived = _derive(template, timestr) if template is not None else None
        # outside the lock: dateutil takes ~0.1 ms; raises (and keeps nothing) when invalid
        value = derived if derived is not None else parse(timestr)
        with lock:
            misses += 1
            if zone == current:
                keep(timestr, value)
                if derive and template is None:
                    template = _template(value, current)
        return value

    def keep(timestr: str, value: datetime) -> None:
        """Put a text into the recent generation (under the lock): each generation holds at most ``generation``."""
        nonlocal recent, older
        if len(recent) >= generation:
            older, recent = recent, {}
        recent[timestr] = value

    def cache_info() -> MemoInfo:
        with lock:
            return MemoInfo(hits, misses, 2 * generation, len(recent) + len(older))

    def cache_clear() -> None:
        nonlocal recent, older, template, hits, misses
        with lock:
            recent, older, template = {}, {}, None
            hits = misses = 0

    memo_parse.__wrapped__ = parse  # type: ignore[attr-defined]
    memo_parse.cache_info = cache_info  # type: ignore[attr-defined]
    memo_parse.cache_clear = cache_clear  # type: ignore[attr-defined]
    return memo_parse
