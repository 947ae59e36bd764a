"""The SDK's one-line property getters read in C on Python 3.11 (one of :mod:`devhost.runtime.sdk_speedups`).

Many of the SDK's properties only return an attribute: ``HistoryEvent.event_type`` is ``return self._event_type``
(azure-functions-durable 1.7.0, ``models/history/HistoryEvent.py`` line 28), read about five times per history
event per episode (``TaskOrchestrationExecutor.process_event``, ``_find_new_events_start_index``,
``DurableOrchestrationContext.__init__``). CPython 3.11 runs such a getter as a full Python call; 3.12 specialises
property reads in the interpreter (``LOAD_ATTR_PROPERTY``), which a C getter would forgo, so nothing is replaced
there.

:func:`trivial_getters` finds, in the classes of the modules an episode runs, every ``property`` whose getter's
code is exactly "load the first argument, load one attribute of it, return it", and makes for each a ``property``
with the same setter, deleter and doc whose getter is ``operator.attrgetter(<that attribute>)``: the same read of
the same attribute, so the same value, or the same ``AttributeError``, every time.
"""

from __future__ import annotations

import dis
import importlib
import operator
import sys
from types import FunctionType
from typing import Any

from devhost.runtime import sdk_hotpaths

REPLAY_MODULES = (
    sdk_hotpaths.HISTORY_EVENT_MODULE,
    sdk_hotpaths.CONTEXT_MODULE,
    "azure.durable_functions.models.Task",
    sdk_hotpaths.EXECUTOR_MODULE,
    "azure.durable_functions.models.OrchestratorState",
)
"""The SDK modules whose classes an episode reads: the history events, the context, the tasks, the executor and the
state it answers (the client's and the entities' classes are left as they are)."""

_SKIPPED = frozenset({"RESUME", "CACHE", "NOP"})
"""Opcodes that do nothing a getter's answer depends on."""


def returned_attribute(getter: Any) -> str | None:
    """The attribute name when ``getter`` is a plain function whose body is only ``return <first argument>.<name>``."""
    if type(getter) is not FunctionType or getter.__code__.co_argcount != 1 or getter.__closure__:
        return None
    code = [ins for ins in dis.get_instructions(getter) if ins.opname not in _SKIPPED]
    if [ins.opname for ins in code] != ["LOAD_FAST", "LOAD_ATTR", "RETURN_VALUE"] or code[0].arg != 0:
        return None
    name = code[1].argval
    return name if isinstance(name, str) else None


def trivial_getters() -> list[tuple[type, str, property]]:
    """Each class defined in :data:`REPLAY_MODULES`, name of a property of it with a one-line getter, and that
    property's C-getter twin; none on an interpreter that specialises property reads (3.12 and later)."""
    if sys.version_info >= (3, 12):
        return []
    found = []
    for module_name in REPLAY_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # another SDK version
            continue
        for klass in list(vars(module).values()):
            if not isinstance(klass, type) or klass.__module__ != module_name:
                continue
            for name, value in list(vars(klass).items()):
                if type(value) is not property:
                    continue
                attribute = returned_attribute(value.fget)
                if attribute is not None:
                    found.append((klass, name, _twin(value, attribute)))
    return found


def _twin(original: property, attribute: str) -> property:
    twin = property(operator.attrgetter(attribute), original.fset, original.fdel)
    twin.__doc__ = original.__doc__  # as given: property() would take attrgetter's own doc for a getter without one
    return twin
