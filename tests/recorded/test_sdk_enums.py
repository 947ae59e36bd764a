"""The enum views (devhost.runtime.sdk_enums) answer as the SDK's enums do, where the SDK's modules ask them.

A view must give the very member objects and every class attribute its enum gives, and answer the enum's class-level
protocol by asking the enum; and every module it is bound in must use the name only in those ways. The replay of
recorded histories with and without every speedup is in ``test_sdk_timestamp_memo.py``.
"""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import operator
from typing import Any

import pytest
from azure.durable_functions.models.actions.ActionType import ActionType
from azure.durable_functions.models.history.HistoryEventType import HistoryEventType
from azure.durable_functions.models.ReplaySchema import ReplaySchema
from azure.durable_functions.models.Task import TaskState

from devhost.runtime import sdk_enums, sdk_speedups

ENUMS = [HistoryEventType, TaskState, ReplaySchema, ActionType]
HOOKED = sdk_enums.hook_costs(HistoryEventType)
"""Whether this interpreter's EnumType reads attributes through ``__getattr__`` (CPython 3.11; not 3.12 and later)."""


def outcome(call: Any, *args: Any) -> tuple[str, Any]:
    """What ``call(*args)`` gives: ("value", its value) or ("raises", the exception's type and text)."""
    try:
        return "value", call(*args)
    except Exception as exc:  # noqa: BLE001 - the point is to compare whatever is raised
        return "raises", (type(exc), str(exc))


@pytest.mark.parametrize("enum_class", ENUMS, ids=lambda e: e.__name__)
def test_a_view_reads_every_attribute_as_its_enum_does(enum_class: type[enum.Enum]) -> None:
    view = sdk_enums.members_view(enum_class)
    names = sdk_enums.class_attributes(enum_class) | set(enum_class.__members__) | {"NOT_A_MEMBER", "name", "value"}

    for name in sorted(names):
        kind, value = outcome(getattr, enum_class, name)
        if kind == "raises":  # AttributeError from both; the enum's __getattr__ words it differently
            with pytest.raises(value[0]):
                getattr(view, name)
        else:
            assert getattr(view, name) == value, name
    for name, member in enum_class.__members__.items():
        assert getattr(view, name) is member
    for name in ("__name__", "__qualname__", "__module__", "__doc__", "__members__"):
        assert getattr(view, name) == getattr(enum_class, name), name


@pytest.mark.parametrize("enum_class", ENUMS, ids=lambda e: e.__name__)
def test_a_view_answers_the_enum_class_protocol_by_asking_the_enum(enum_class: type[enum.Enum]) -> None:
    view: Any = sdk_enums.members_view(enum_class)
    first = next(iter(enum_class))
    probes = [first.value, 10_000, "x", None]

    for value in probes:
        assert outcome(view, value) == outcome(enum_class, value), value
        assert outcome(operator.contains, view, value) == outcome(operator.contains, enum_class, value), value
    assert view(first.value) is first and first in view
    assert list(view) == list(enum_class) and list(reversed(view)) == list(reversed(enum_class))
    assert len(view) == len(enum_class) and bool(view)
    assert view[first.name] is first
    assert outcome(operator.getitem, view, "NOT_A_MEMBER") == outcome(operator.getitem, enum_class, "NOT_A_MEMBER")
    assert isinstance(first, view) and not isinstance(first.value if type(first.value) is not int else "x", view)
    assert issubclass(enum_class, view) and not issubclass(int, view)
    assert repr(view) == repr(enum_class) and dir(view) == dir(enum_class)


def test_views_are_bound_where_the_sdk_imports_an_enum_never_where_it_is_defined_or_reexported(memo_state: None) -> None:
    sdk_speedups.uninstall()

    sites = sdk_enums.sites()

    if not HOOKED:
        assert sites == []
        return
    found = {(module.__name__, name) for module, name, _ in sites}
    assert {
        ("azure.durable_functions.models.TaskOrchestrationExecutor", "HistoryEventType"),
        ("azure.durable_functions.models.TaskOrchestrationExecutor", "TaskState"),
        ("azure.durable_functions.models.DurableOrchestrationContext", "HistoryEventType"),
        ("azure.durable_functions.models.DurableOrchestrationContext", "ReplaySchema"),
        ("azure.durable_functions.models.actions.CallActivityAction", "ActionType"),
    } <= found
    for module, _, enum_class in sites:
        assert module.__name__ != enum_class.__module__ and not hasattr(module, "__path__")
        assert module.__name__.startswith(sdk_enums.MODELS_PACKAGE + ".")


def _uses(source: str, name: str) -> list[str]:
    """Every way ``source`` loads ``name`` that a view might not answer as the enum: none is the contract."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    annotations = {id(sub) for node in ast.walk(tree) for annotation in _annotations(node) for sub in ast.walk(annotation)}
    odd = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents[node]
        if id(node) in annotations:
            continue
        if isinstance(parent, ast.Attribute) and parent.value is node:
            continue  # Enum.MEMBER, or another class attribute: the view has them all
        if isinstance(parent, ast.Call) and parent.func is node:
            continue  # Enum(value): asked of the enum
        if isinstance(parent, (ast.comprehension, ast.For)) and parent.iter is node:
            continue  # iterating: asked of the enum
        if (
            isinstance(parent, ast.Call)
            and isinstance(parent.func, ast.Name)
            and parent.func.id in ("isinstance", "issubclass")
            and parent.args[1:2] == [node]
        ):
            continue
        odd.append(f"line {node.lineno}: {ast.unparse(parent)}")
    return odd


def _annotations(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.arg) and node.annotation is not None:
        return [node.annotation]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns is not None:
        return [node.returns]
    if isinstance(node, ast.AnnAssign):
        return [node.annotation]
    return []


@pytest.mark.skipif(not HOOKED, reason="no views on an interpreter whose EnumType has no __getattr__")
def test_every_module_given_a_view_uses_the_name_only_in_ways_the_view_answers_as_the_enum(memo_state: None) -> None:
    sdk_speedups.uninstall()
    sites = sdk_enums.sites()

    odd = {f"{module.__name__}.{name}": _uses(inspect.getsource(module), name) for module, name, _ in sites}

    assert len(sites) >= 5
    assert {site: uses for site, uses in odd.items() if uses} == {}


def test_the_check_finds_a_use_a_view_would_answer_differently() -> None:
    source = (
        "import enum\nclass E(enum.Enum):\n    A = 1\n"
        "def f(x: E) -> E:\n    return E(x) if isinstance(x, E) else E.A\n"
        "odd = type(E.A) is E\n"
    )

    assert _uses(source, "E") == ["line 6: type(E.A) is E"]


def test_only_an_enum_read_through_a_metaclass_getattr_counts_as_costly() -> None:
    class PlainMeta(type):
        pass

    class Plain(metaclass=PlainMeta):
        A = 1

    assert not sdk_enums.hook_costs(Plain)
    assert sdk_enums.hook_costs(HistoryEventType) is ("__getattr__" in vars(enum.EnumType))


@pytest.mark.skipif(not HOOKED, reason="no views on an interpreter whose EnumType has no __getattr__")
def test_install_binds_the_views_and_uninstall_gives_every_enum_back(memo_state: None) -> None:
    executor = importlib.import_module("azure.durable_functions.models.TaskOrchestrationExecutor")
    task_module = importlib.import_module("azure.durable_functions.models.Task")

    sdk_speedups.uninstall()
    sites = sdk_enums.sites()
    sdk_speedups.install()

    assert sdk_speedups.ENUM_MEMBERS in sdk_speedups.active()
    assert isinstance(executor.HistoryEventType, sdk_enums.MembersView)
    assert executor.HistoryEventType.TASK_COMPLETED is HistoryEventType.TASK_COMPLETED
    assert task_module.TaskState is TaskState  # the module defining it keeps the enum itself
    sdk_speedups.uninstall()
    assert all(getattr(module, name) is enum_class for module, name, enum_class in sites)
    assert executor.HistoryEventType is HistoryEventType
