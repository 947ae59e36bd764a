"""host.json ``logging.logLevel`` for devhost's log output, as the Functions host applies it.

The Functions host gives every log line a *category* and keeps it when its level reaches the level configured
for the longest matching category prefix (``Function.check_job_status.User`` → ``Function.check_job_status`` →
``Function`` → ``default``; matching is case-insensitive, on whole dot-separated parts). devhost has Python
loggers instead, so each record is given the category its counterpart in the Functions host would have:

==========================================  ==================================================================
record                                       category
==========================================  ==================================================================
``devhost.invoke`` (Executing/Executed)      ``Function.<name>`` (the host's invocation lines)
app code while function <name> runs          ``Function.<name>.User`` (what the worker's logs are filed under)
app code outside any invocation (import)     ``Function``
``devhost.engine``, ``devhost.service``      ``Host.Triggers.DurableTask`` (the Durable extension's own lines)
``devhost.store``/``clock``/``core``/...     ``DurableTask.Core`` (the durable runtime underneath)
other ``devhost.*`` (server, loader, http)   ``Host.General``
``aiohttp.*``                                ``Microsoft.AspNetCore``
==========================================  ==================================================================

Levels: Trace, Debug, Information, Warning, Error, Critical, None (nothing); the default is Information.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
from collections.abc import Iterator, Mapping

TRACE = 5
LEVELS: dict[str, int] = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "information": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "none": logging.CRITICAL + 10,
}
LEVEL_NAMES = ("Trace", "Debug", "Information", "Warning", "Error", "Critical", "None")
DEFAULT_LEVEL = logging.INFO

_DURABLE_EXTENSION = ("devhost.engine", "devhost.service")
_DURABLE_CORE = ("devhost.store", "devhost.clock", "devhost.core", "devhost.replay")
_INVOCATION_LINE = re.compile(r"'Functions\.([^']+)'")

_current_function: contextvars.ContextVar[str | None] = contextvars.ContextVar("devhost_function", default=None)


@contextlib.contextmanager
def running_function(name: str) -> Iterator[None]:
    """Mark the block (and threads started with a copy of this context) as function ``name``'s code."""
    token = _current_function.set(name)
    try:
        yield
    finally:
        _current_function.reset(token)


def current_function() -> str | None:
    """The function whose code is running in this context (set by :func:`running_function`), or None."""
    return _current_function.get()


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def category(record: logging.LogRecord) -> str:
    """The Functions host category of one record (see the table above)."""
    name = record.name
    if _under(name, ("devhost.invoke",)):
        found = _INVOCATION_LINE.search(record.getMessage())
        return f"Function.{found.group(1)}" if found else "Host.General"
    if _under(name, _DURABLE_EXTENSION):
        return "Host.Triggers.DurableTask"
    if _under(name, _DURABLE_CORE):
        return "DurableTask.Core"
    if _under(name, ("devhost",)):
        return "Host.General"
    if _under(name, ("aiohttp",)):
        return "Microsoft.AspNetCore"
    function = _current_function.get()
    return f"Function.{function}.User" if function else "Function"


class LogLevelFilter(logging.Filter):
    """Keeps a record when its level reaches the level of its category's longest configured prefix."""

    def __init__(self, levels: Mapping[str, int]) -> None:
        super().__init__()
        self._levels = {key.lower(): value for key, value in levels.items()}
        self._default = self._levels.get("default", DEFAULT_LEVEL)

    def threshold(self, category_name: str) -> int:
        parts = category_name.lower().split(".")
        for end in range(len(parts), 0, -1):
            level = self._levels.get(".".join(parts[:end]))
            if level is not None:
                return level
        return self._default

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.threshold(category(record))

    @property
    def lowest(self) -> int:
        """The lowest level any category asks for (loggers must let those records through to the filter)."""
        return min([self._default, *self._levels.values()])


def install(levels: Mapping[str, int], handlers: list[logging.Handler] | None = None) -> LogLevelFilter:
    """Filter the root logger's handlers (or ``handlers``) by ``levels``; lower the root level to match."""
    level_filter = LogLevelFilter(levels)
    root = logging.getLogger()
    for handler in handlers if handlers is not None else root.handlers:
        for old in [f for f in handler.filters if isinstance(f, LogLevelFilter)]:
            handler.removeFilter(old)
        handler.addFilter(level_filter)
    root.setLevel(min(level_filter.lowest, logging.CRITICAL))
    return level_filter
