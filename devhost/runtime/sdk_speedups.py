"""Faster replay for the Durable Functions SDK inside the host process, without changing one value it computes.

The SDK replays an orchestration's whole history on every episode (the protocol: there are no extended
sessions for out-of-process languages), and a few of its per-event costs are pure functions of their input
that it recomputes every time. :func:`install` (called by the loader for every app, in the host and in each
worker process) replaces seven of them with equivalents that remember, and answers three questions more directly:

- ``dt_parse`` of every history event's ``Timestamp`` (:mod:`devhost.runtime.sdk_timestamps`): the largest;
- the parsing of every stored history event of the payload, and the building of its ``HistoryEvent``,
- the ``namedtuple`` class the executor builds per episode,
- the two TimeSpan texts of the context, parsed per episode,
- the environment read behind every ``df_dumps`` / ``df_loads``,
- the JSON encoder and decoder those two build per call, and the encoding of an input and decoding of a result
  each replays again, and
- the ``typing.Callable`` check of every replayed ``call_activity`` (the last six: :mod:`devhost.runtime.sdk_hotpaths`),
- the enum member reads of the replay loop, which Python 3.11 answers through a hook (:mod:`devhost.runtime.sdk_enums`),
- the one-line property getters (``return self._x``) it reads per event, which Python 3.11 runs as Python calls
  (:mod:`devhost.runtime.sdk_getters`).

Each is installed only when the SDK binds exactly what it replaces (another SDK version is left as it is),
and :func:`uninstall` gives everything back (for measuring the unpatched SDK, and for tests).
``tests/recorded/test_sdk_timestamp_memo.py`` replays recorded histories with and without them and compares
everything the orchestrator receives and every answer of the SDK.
"""

from __future__ import annotations

import collections
import importlib
import logging
import threading
from types import ModuleType
from typing import Any, Callable

from devhost.runtime import sdk_enums, sdk_getters, sdk_hotpaths, sdk_timestamps
from devhost.runtime.sdk_timestamps import MemoInfo

log = logging.getLogger("devhost.sdk_speedups")

HISTORY_EVENT_MODULE = sdk_hotpaths.HISTORY_EVENT_MODULE

(
    TIMESTAMPS,
    EVENTS,
    EVENT_OBJECTS,
    CLASSES,
    TIMESPANS,
    STRICT_MODE,
    CODECS,
    CALLABLE_CHECKS,
    ENUM_MEMBERS,
    TRIVIAL_GETTERS,
) = (
    "timestamps",
    "events",
    "event-objects",
    "classes",
    "timespans",
    "strict-mode",
    "codecs",
    "callable-checks",
    "enum-members",
    "trivial-getters",
)
"""The speedups' names (:func:`active`)."""

_lock = threading.Lock()
Replacement = tuple[Any, str, Any]
"""A module or class, one of its attributes, and what to bind there (or, once bound, what was there before)."""

_replaced: dict[str, list[Replacement]] = {}
"""Each active speedup: the module globals (or class attributes) it rebound, each with what it was before."""


def _module(name: str) -> ModuleType:
    # import_module returns the module itself; attribute access on a package can find a class of the same name
    # (models/history/__init__.py re-exports HistoryEvent).
    return importlib.import_module(name)


def _timestamps() -> list[Replacement]:
    from dateutil import parser

    module = _module(HISTORY_EVENT_MODULE)
    parse: Callable[..., Any] = parser.parse
    if getattr(module, "dt_parse", None) is not parse:
        log.debug("%s.dt_parse is not dateutil.parser.parse; timestamp memo not installed", HISTORY_EVENT_MODULE)
        return []
    return [(module, "dt_parse", sdk_timestamps.memo(parse))]


def _classes() -> list[Replacement]:
    module = _module(sdk_hotpaths.EXECUTOR_MODULE)
    if getattr(module, "namedtuple", None) is not collections.namedtuple:
        return []
    return [(module, "namedtuple", sdk_hotpaths.class_memo(collections.namedtuple, sdk_hotpaths.EXECUTOR_MODULE))]


def _timespans() -> list[Replacement]:
    module = _module(sdk_hotpaths.CONTEXT_MODULE)
    original = getattr(module, "parse_timespan_attrib", None)
    if original is None or getattr(original, "__module__", None) != sdk_hotpaths.TIMESPAN_MODULE:
        return []
    return [(module, "parse_timespan_attrib", sdk_hotpaths.timespan_memo(original))]


def _strict_mode() -> list[Replacement]:
    try:
        module = _module(sdk_hotpaths.CODEC_MODULE)
    except ImportError:  # an azure-functions without the Durable codec
        return []
    original, name, truthy = (getattr(module, attr, None) for attr in ("_is_strict_mode", "_STRICT_ENV_VAR", "_TRUTHY"))
    if not (callable(original) and isinstance(name, str) and isinstance(truthy, frozenset)):
        return []
    return [(module, "_is_strict_mode", sdk_hotpaths.strict_mode_reader(original, name, truthy))]


def _codecs() -> list[Replacement]:
    try:
        module = _module(sdk_hotpaths.CODEC_MODULE)
    except ImportError:
        return []
    shim = sdk_hotpaths.codec_json(module)
    return [] if shim is None else [(module, "json", shim)]


def _events() -> list[Replacement]:
    module = _module(sdk_hotpaths.CONTEXT_MODULE)
    shim = sdk_hotpaths.context_json(module)
    return [] if shim is None else [(module, "json", shim)]


def _event_objects() -> list[Replacement]:
    # After _events (the order of _SPEEDUPS): the shim it installed builds the events it hands on.
    module = _module(sdk_hotpaths.CONTEXT_MODULE)
    shim = getattr(module, "json", None)
    event_class = getattr(_module(HISTORY_EVENT_MODULE), "HistoryEvent", None)
    if getattr(module, "HistoryEvent", None) is not event_class or not isinstance(event_class, type):
        return []  # the context module builds its events with something else
    if not isinstance(shim, sdk_hotpaths.ContextJson):
        return []
    return [(module, "HistoryEvent", shim.history_events(event_class))]


def _callable_checks() -> list[Replacement]:
    module = _module(sdk_hotpaths.CONTEXT_MODULE)
    check = sdk_hotpaths.callable_check(module)
    return [] if check is None else [(module, "Callable", check)]


def _enum_members() -> list[Replacement]:
    return [(module, name, sdk_enums.members_view(enum_class)) for module, name, enum_class in sdk_enums.sites()]


def _trivial_getters() -> list[Replacement]:
    return list(sdk_getters.trivial_getters())


_SPEEDUPS = {
    TIMESTAMPS: _timestamps,
    EVENTS: _events,
    EVENT_OBJECTS: _event_objects,
    CLASSES: _classes,
    TIMESPANS: _timespans,
    STRICT_MODE: _strict_mode,
    CODECS: _codecs,
    CALLABLE_CHECKS: _callable_checks,
    ENUM_MEMBERS: _enum_members,
    TRIVIAL_GETTERS: _trivial_getters,
}
ALL = frozenset(_SPEEDUPS)
"""Every speedup's name: what :func:`active` answers once :func:`install` found the SDK it was written for."""


def install() -> bool:
    """Install every speedup this SDK allows (idempotent, thread-safe); whether the timestamp memo is active."""
    with _lock:
        for name, make in _SPEEDUPS.items():
            if name in _replaced:
                continue
            made = make()
            if not made:
                continue
            _replaced[name] = [(module, attribute, getattr(module, attribute)) for module, attribute, _ in made]
            for module, attribute, replacement in made:
                setattr(module, attribute, replacement)
        return TIMESTAMPS in _replaced


def uninstall() -> None:
    """Give the SDK back what each speedup replaced."""
    with _lock:
        for replaced in _replaced.values():
            for module, attribute, original in replaced:
                setattr(module, attribute, original)
        _replaced.clear()


def installed() -> bool:
    """Whether the timestamp memo (the speedup that matters most) is active."""
    return TIMESTAMPS in _replaced


def active() -> frozenset[str]:
    """The names of the active speedups."""
    with _lock:
        return frozenset(_replaced)


def cache_info() -> MemoInfo | None:
    """Statistics of the active timestamp memo (hits, misses, maxsize, currsize), or None."""
    with _lock:
        if TIMESTAMPS not in _replaced:
            return None
        ((module, attribute, _),) = _replaced[TIMESTAMPS]
        info: MemoInfo = getattr(module, attribute).cache_info()
        return info
