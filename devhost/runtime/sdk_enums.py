"""Enum member reads in the SDK's replay without Python 3.11's per-read hook (one of :mod:`devhost.runtime.sdk_speedups`).

CPython 3.11's ``enum.EnumType`` defines ``__getattr__`` (``Lib/enum.py``; 3.12 dropped it), and a class whose
metaclass defines ``__getattr__`` answers every attribute read through ``slot_tp_getattr_hook``
(``Objects/typeobject.c``), which calls ``type.__getattribute__`` as a method first: ``HistoryEventType.TASK_COMPLETED``
takes about 75 ns where a plain class attribute takes 18. The SDK's replay reads such members several times per
history event and per task (azure-functions-durable 1.7.0: ``TaskOrchestrationExecutor.process_event``, lines
135-146, compares each event's type with up to four ``HistoryEventType`` members; ``resume_user_code``, lines
248-277, reads ``TaskState`` members; ``DurableOrchestrationContext.__init__``, line 79, one per event;
``_add_to_actions``, lines 757-759, ``ReplaySchema``; every action's ``action_type`` an ``ActionType``): about a
tenth of an episode's instructions.

:func:`members_view` makes, for one enum, a stand-in class whose attributes are the enum's own, read the plain
way: the members themselves (the same objects) and every other class attribute the enum answers when the view is
made (Enum classes do not change after they are built). Its other class-level operations are the enum's: calling
it, iterating, ``reversed``, ``len``, ``in``, indexing by name, ``isinstance`` / ``issubclass``, ``repr``,
``__members__``. What differs: the view's own identity (``view is not enum``), and the wording of the
``AttributeError`` for a name neither has (the enum's comes from its ``__getattr__``).

:func:`sites` finds where to bind views: every module of the SDK's ``models`` package that imports one of
:data:`ENUMS` under its own name, except the module defining it and the packages (``__init__``), which are the
import paths an app would use (``from azure.durable_functions.models.Task import TaskState`` still gives the enum).
``tests/recorded/test_sdk_enums.py`` checks that those modules use the name only in ways the view answers as the
enum does (a member or attribute read, a call, iterating, an ``isinstance`` check, an annotation).
"""

from __future__ import annotations

import enum
import importlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

MODELS_PACKAGE = "azure.durable_functions.models"
"""The SDK package whose modules read enum members while replaying."""

ENUMS = {
    "HistoryEventType": "azure.durable_functions.models.history.HistoryEventType",
    "TaskState": "azure.durable_functions.models.Task",
    "ReplaySchema": "azure.durable_functions.models.ReplaySchema",
    "ActionType": "azure.durable_functions.models.actions.ActionType",
}
"""The enums the replay reads, by name, with the module defining each."""

_OWN = ("__doc__", "__module__", "__qualname__")
"""The dunders a view copies (its name is the enum's too); the other class-level dunders are MembersView's."""


class MembersView(type):
    """The metaclass of a view: the class-level operations of the enum it stands for (``__wrapped__``), asked of it.

    It defines no ``__getattr__``: that is the point (module doc)."""

    __wrapped__: type[enum.Enum]

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls.__wrapped__(*args, **kwargs)

    def __iter__(cls) -> Iterator[Any]:
        return iter(cls.__wrapped__)

    def __reversed__(cls) -> Iterator[Any]:
        return reversed(cls.__wrapped__)

    def __len__(cls) -> int:
        return len(cls.__wrapped__)

    def __contains__(cls, value: object) -> bool:
        enum_class: Any = cls.__wrapped__  # typeshed's EnumMeta.__contains__ takes only members
        return value in enum_class

    def __getitem__(cls, name: str) -> Any:
        return cls.__wrapped__[name]

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, cls.__wrapped__)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls.__wrapped__)

    def __repr__(cls) -> str:
        return repr(cls.__wrapped__)

    def __dir__(cls) -> list[str]:
        return dir(cls.__wrapped__)

    @property
    def __members__(cls) -> Any:
        return cls.__wrapped__.__members__


def members_view(enum_class: type[enum.Enum]) -> MembersView:
    """A view of ``enum_class`` (module doc): its class attributes read as a plain class's, the rest asked of it."""
    namespace: dict[str, Any] = {name: getattr(enum_class, name) for name in _OWN}
    for name in class_attributes(enum_class):
        try:
            namespace[name] = getattr(enum_class, name)
        except AttributeError:  # e.g. Enum's ``name`` and ``value``: a class answers them only for a member so named
            continue
    namespace.update(enum_class.__members__)  # aliases included
    namespace["__wrapped__"] = enum_class
    return MembersView(enum_class.__name__, (), namespace)


def class_attributes(enum_class: type[enum.Enum]) -> set[str]:
    """The names, dunders aside, an attribute read on ``enum_class`` can find: in its classes and its metaclasses."""
    meta: type = type(enum_class)
    classes = [*enum_class.__mro__, *meta.__mro__]
    return {
        name
        for klass in classes
        if klass not in (type, object)
        for name in vars(klass)
        if not (name.startswith("__") and name.endswith("__"))
    }


def hook_costs(enum_class: type) -> bool:
    """Whether reading ``enum_class``'s attributes goes through a metaclass ``__getattr__`` (Python 3.11's EnumType)."""
    meta: type = type(enum_class)
    return any("__getattr__" in vars(klass) for klass in meta.__mro__ if klass is not type)


def sites() -> list[tuple[ModuleType, str, type[enum.Enum]]]:
    """Each loaded module of the SDK's ``models`` package (not a package, not the defining module) that binds one of
    :data:`ENUMS` itself under its name (not a view: none once installed), with that name and the enum; none when the
    enums cost no hook to read."""
    enums: dict[str, type[enum.Enum]] = {}
    for name, module_name in ENUMS.items():
        try:
            found: Any = getattr(importlib.import_module(module_name), name, None)
        except ImportError:  # another SDK version
            continue
        if isinstance(found, type) and issubclass(found, enum.Enum) and hook_costs(found):
            enums[name] = found
    found_sites = []
    for module_name, module in sorted(list(sys.modules.items()), key=lambda item: item[0]):
        if not module_name.startswith(MODELS_PACKAGE + ".") or module is None or hasattr(module, "__path__"):
            continue
        for name, enum_class in enums.items():
            if getattr(module, name, None) is enum_class and module_name != ENUMS[name]:
                found_sites.append((module, name, enum_class))
    return found_sites
