"""What the Python worker checks and provides per binding: the parameter/binding rule, the durable client,
warnings for bindings devhost cannot fill, and timer-trigger settings.

Used by :mod:`devhost.runtime.loader` while indexing; every failure is an AppLoadError with one line.
"""

from __future__ import annotations

import inspect
import logging
import os
import typing
from enum import Enum
from typing import Any

from azure.functions.decorators.core import BindingDirection
from azure.functions.decorators.function_app import Function

from devhost.core.errors import AppLoadError
from devhost.core.ncrontab import ScheduleError, parse_schedule
from devhost.runtime.registry import TimerFunction

log = logging.getLogger("devhost.loader")

# Bindings devhost fills in besides the trigger: the durable client, and the HTTP response ($return) of HTTP functions.
_PROVIDED_BINDINGS = frozenset({"durableClient", "http"})


def check_parameters(function: Function, function_name: str) -> None:
    """Refuse a function whose parameters don't match its bindings, as the Python worker does at indexing.

    azure-functions-python-worker (7e6acf3) ``azure_functions_worker/functions.py``: ``add_indexed_function``
    (lines 413-454) binds every binding but ``$return`` (``get_explicit_and_implicit_return``, 64-79), rejects
    "inout" bindings and a ``$return`` that is not "out" (``validate_binding_direction``, 99-112), lets a
    ``context`` parameter through if no binding has that name but requires it to be annotated
    ``azure.functions.Context`` if annotated (``is_context_required``, 114-131), then compares the two name
    sets (``validate_function_params``, 133-146). ``FunctionLoadError`` (41-45) prefixes "cannot load the
    <name> function: ".
    """
    user_fn = function.get_user_function()
    try:
        params = dict(inspect.signature(user_fn).parameters)
    except (TypeError, ValueError):
        return
    bound: dict[str, Any] = {}
    for binding in function.get_bindings():
        # The built function holds the direction as the int the worker compares with protos.BindingInfo.
        direction = getattr(binding, "direction", None)
        direction = direction.value if isinstance(direction, Enum) else direction
        if direction == BindingDirection.INOUT.value:
            raise _load_error(function_name, '"inout" bindings are not supported')
        if binding.name == "$return":
            if direction != BindingDirection.OUT.value:
                raise _load_error(function_name, '"$return" binding must have direction set to "out"')
            continue
        bound[binding.name] = binding
    if "context" in params and "context" not in bound:
        params.pop("context")
        annotation = _annotations(user_fn).get("context")
        if annotation is not None and (not isinstance(annotation, type) or annotation.__name__ != "Context"):
            raise _load_error(
                function_name, f'the "context" parameter is expected to be of type azure.functions.Context, got {annotation!r}'
            )
    if set(params) - set(bound):
        raise _load_error(
            function_name,
            f"the following parameters are declared in Python but not in function.json: {set(params) - set(bound)!r}",
        )
    if set(bound) - set(params):
        raise _load_error(
            function_name,
            f"the following parameters are declared in function.json but not in Python: {set(bound) - set(params)!r}",
        )


def _load_error(function_name: str, message: str) -> AppLoadError:
    return AppLoadError(f"FunctionLoadError: cannot load the {function_name} function: {message}")


def _annotations(fn: Any) -> dict[str, Any]:
    try:
        return dict(typing.get_type_hints(fn))
    except Exception:  # unresolvable forward references: the worker would fail on them too; do not guess
        return {}


def client_args(function: Function) -> list[str]:
    return [b.name for b in function.get_bindings() if getattr(b, "type", None) == "durableClient"]


def warn_unprovided(function: Function, function_name: str) -> None:
    trigger = function.get_trigger()
    for binding in function.get_bindings():
        kind = getattr(binding, "type", None)
        if binding is not trigger and kind not in _PROVIDED_BINDINGS:
            log.warning(
                "function '%s': binding '%s' (%s) is not supported by devhost and gets no value",
                function_name,
                binding.name,
                kind,
            )


def timer_function(function: Function, function_name: str) -> TimerFunction:
    trigger: Any = function.get_trigger()
    declared = str(trigger.schedule)
    try:
        schedule = parse_schedule(_resolve_app_setting(declared, function_name))
    except ScheduleError as exc:
        raise AppLoadError(f"function '{function_name}': {exc}") from None
    use_monitor = True if trigger.use_monitor is None else bool(trigger.use_monitor)
    context_arg = "context" if "context" in inspect.signature(function.get_user_function()).parameters else None
    return TimerFunction(
        name=function_name,
        fn=function.get_user_function(),
        arg_name=trigger.name,
        schedule=schedule,
        run_on_startup=bool(trigger.run_on_startup),
        use_monitor=use_monitor,
        durable_client_args=client_args(function),
        context_arg=context_arg if trigger.name != "context" else None,
    )


def _resolve_app_setting(schedule: str, function_name: str) -> str:
    """``%NAME%`` is the app setting NAME (the extension's ``nameResolver.ResolveWholeString``, TimerSchedule.cs:67)."""
    text = schedule.strip()
    if len(text) > 2 and text.startswith("%") and text.endswith("%"):
        name = text[1:-1]
        value = os.environ.get(name)
        if value is None:
            raise AppLoadError(f"function '{function_name}': the schedule names app setting '{name}', which is not set")
        return value
    return schedule
