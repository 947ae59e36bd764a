"""Turns an app directory into a FunctionRegistry: imports ``function_app.py`` and indexes its functions.

Indexing follows the Python worker (find the one ``FunctionRegister`` among the module's globals, call
``get_functions()`` once — a second call raises "does not have a unique function name", protocol §2.3)
and the Durable extension's naming (orchestrators, activities and entities are registered under the
trigger's alias when one is given, protocol §2.1). Every failure is an AppLoadError with one line.

Every function is checked as the Python worker checks it (:mod:`devhost.runtime.bindings`). Timer triggers
are indexed with their parsed schedule; functions with triggers devhost does not run (queue, blob, Event Hubs,
...) are listed in ``registry.skipped`` with a one-line warning.
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import logging
import os
import sys
import traceback
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from azure.functions import FunctionRegister
from azure.functions.decorators.function_app import Function

from devhost.core.errors import AppLoadError
from devhost.runtime import bindings, sdk_speedups, timepatch
from devhost.runtime.registry import (
    ActivityFunction,
    EntityFunction,
    FunctionRegistry,
    HttpFunction,
    OrchestratorFunction,
    SkippedFunction,
)

log = logging.getLogger("devhost.loader")

APP_MODULE = "function_app"
APP_FILE = "function_app.py"

_load_counter = itertools.count(1)
# Modules (name -> module) that earlier load_app calls imported from their app directories.
_app_modules: dict[str, ModuleType] = {}


def load_app(app_dir: Path) -> FunctionRegistry:
    """Import ``app_dir/function_app.py`` and index its functions."""
    module = import_app_module(app_dir)
    app = find_function_register(module)
    try:
        functions = app.get_functions()
    except Exception as exc:  # the SDK's own validation (missing trigger, duplicate names)
        raise AppLoadError(f"cannot index {APP_FILE}: {_describe(exc)}") from None
    return build_registry(functions)


def import_app_module(app_dir: Path) -> ModuleType:
    """Import the app's ``function_app.py`` as module ``function_app``, fresh on every call.

    The module keeps the name ``function_app`` (as under the Python worker: logger names and the
    ``__module__`` of classes that df_dumps puts into payloads depend on it) and is registered under that
    name while it executes, so the app's own modules can ``import function_app``. Modules that an earlier
    load imported from its app directory are evicted first, so sibling modules with the same name (e.g.
    ``shared.py`` in two test apps) come from the right directory. Modules imported before (devhost,
    tests, the SDK) are never evicted, even when the app directory contains them.
    """
    app_dir = Path(app_dir).resolve()
    if not app_dir.is_dir():
        raise AppLoadError(f"app directory {app_dir} does not exist")
    path = app_dir / APP_FILE
    if not path.is_file():
        raise missing_app_error(app_dir)

    # Before the import, so `from time import sleep` in the app binds the clock-aware wrapper.
    timepatch.install()
    sdk_speedups.install()  # memoized history timestamps: the SDK's replay, several times faster
    _forget_app_modules()
    _evict_shadowed_modules(app_dir)
    before = set(sys.modules)
    app_path = str(app_dir)
    if app_path in sys.path:
        sys.path.remove(app_path)
    sys.path.insert(0, app_path)

    spec = importlib.util.spec_from_file_location(APP_MODULE, path)
    if spec is None or spec.loader is None:
        raise AppLoadError(f"cannot import {APP_FILE} from {app_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[APP_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:  # SystemExit/KeyboardInterrupt from app code must not kill the host with a traceback
        if sys.modules.get(APP_MODULE) is module:
            del sys.modules[APP_MODULE]
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise AppLoadError(f"cannot import {APP_FILE}: {_describe(exc)}{_location(exc, app_dir)}") from None
    finally:
        # Remember what this load imported from the app directory (even on failure) for the next load.
        for name in set(sys.modules) - before:
            loaded = sys.modules.get(name)
            if loaded is not None and _module_in(loaded, app_dir):
                _app_modules[name] = loaded
                timepatch.rebind_module(loaded)
    # A private alias keeps this app's module alive after another app takes the name `function_app`.
    sys.modules[f"_devhost_app_{next(_load_counter)}"] = module
    timepatch.rebind_module(module)
    return module


def missing_app_error(app_dir: Path) -> AppLoadError:
    """No ``function_app.py``: say so, or that the directory is a v1-model app (``<name>/function.json`` folders)."""
    v1_functions = sorted(p.parent.name for p in Path(app_dir).glob("*/function.json"))
    if v1_functions:
        shown = ", ".join(v1_functions[:3]) + (", ..." if len(v1_functions) > 3 else "")
        return AppLoadError(
            f"{app_dir} is a v1 programming model app (function.json folders: {shown}); the v1 programming model "
            f"is not supported: devhost runs Python v2 apps (a {APP_FILE} with decorators)"
        )
    return AppLoadError(f"no {APP_FILE} in {app_dir}")


def find_function_register(module: ModuleType) -> FunctionRegister:
    """The single FunctionApp/DFApp instance among the module's globals (the worker's rule)."""
    registers: list[FunctionRegister] = []
    for value in vars(module).values():
        if isinstance(value, FunctionRegister) and not any(value is seen for seen in registers):
            registers.append(value)
    if not registers:
        raise AppLoadError(f"{APP_FILE} defines no function app (expected a module-level func.FunctionApp or df.DFApp)")
    if len(registers) > 1:
        raise AppLoadError(f"{APP_FILE} defines more than one function app instance")
    return registers[0]


def build_registry(functions: Iterable[Function]) -> FunctionRegistry:
    """Classify indexed functions by trigger type. Unsupported triggers are skipped with a warning."""
    registry = FunctionRegistry()
    for function in functions:
        trigger = function.get_trigger()
        kind = trigger.get_binding_name() if trigger is not None else None
        function_name = function.get_function_name() or function.get_user_function().__name__
        user_fn = function.get_user_function()
        bindings.check_parameters(function, function_name)
        if kind not in _RUN_TRIGGERS:
            log.warning("function '%s': trigger '%s' is not supported by devhost; the function is not run", function_name, kind)
            registry.skipped.append(SkippedFunction(name=function_name, trigger=str(kind)))
            continue
        bindings.warn_unprovided(function, function_name)
        if kind == "orchestrationTrigger":
            name = getattr(trigger, "orchestration", None) or function_name
            _check_unique(registry.orchestrators, name, "orchestrator")
            registry.orchestrators[name] = OrchestratorFunction(name=name, handle=user_fn)
        elif kind == "activityTrigger":
            assert trigger is not None  # the kind was read from it
            name = getattr(trigger, "activity", None) or function_name
            _check_unique(registry.activities, name, "activity")
            registry.activities[name] = ActivityFunction(
                name=name, fn=user_fn, input_name=trigger.name, durable_client_args=bindings.client_args(function)
            )
        elif kind == "entityTrigger":
            name = getattr(trigger, "entity_name", None) or function_name
            # Entity names are case-insensitive (the scheduler id is lower-cased, protocol §2.1).
            _check_unique(registry.entities, name.lower(), "entity")
            assert trigger is not None  # the kind was read from it
            registry.entities[name.lower()] = EntityFunction(
                name=name, handle=user_fn, context_arg=trigger.name, durable_client_args=bindings.client_args(function)
            )
        elif kind == "timerTrigger":
            registry.timers[function_name] = bindings.timer_function(function, function_name)
        else:
            registry.http.append(_http_function(function, function_name))
    return registry


_RUN_TRIGGERS = frozenset({"orchestrationTrigger", "activityTrigger", "entityTrigger", "timerTrigger", "httpTrigger"})


def _http_function(function: Function, function_name: str) -> HttpFunction:
    trigger: Any = function.get_trigger()
    user_fn = function.get_user_function()
    methods = trigger.methods
    client_args = bindings.client_args(function)
    # The worker hands a Context to any function declaring a parameter named `context`.
    # inspect.signature follows the SDK's functools.wraps to the user's own parameters.
    context_arg = "context" if "context" in inspect.signature(user_fn).parameters else None
    return HttpFunction(
        name=function_name,
        fn=user_fn,
        route=trigger.route if trigger.route is not None else function_name,
        methods=None if methods is None else sorted({_method_name(m) for m in methods}),
        request_arg=trigger.name,
        durable_client_args=client_args,
        context_arg=context_arg,
    )


def _method_name(method: Any) -> str:
    return str(method.value if isinstance(method, Enum) else method).upper()


def _check_unique(existing: dict, name: str, kind: str) -> None:
    if name in existing:
        raise AppLoadError(f"{APP_FILE} declares two {kind} functions named '{name}'")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"{type(exc).__name__}: {exc.msg}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _location(exc: BaseException, app_dir: Path) -> str:
    """`` (file.py:line)`` of the innermost frame inside the app directory, if any."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return f" ({_relative(exc.filename, app_dir)}:{exc.lineno})"
    found: str | None = None
    tb: TracebackType | None = exc.__traceback__
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if _path_in(filename, app_dir):
            found = f" ({_relative(filename, app_dir)}:{lineno})"
    return found or ""


def _relative(filename: str, app_dir: Path) -> str:
    try:
        return Path(filename).resolve().relative_to(app_dir).as_posix()
    except ValueError:
        return filename


def _path_in(filename: str | None, directory: Path) -> bool:
    return bool(filename) and Path(os.path.realpath(str(filename))).is_relative_to(directory)


def _module_in(module: ModuleType | None, directory: Path) -> bool:
    """The module's file is the app's own code (not a package installed into a venv inside the app dir)."""
    filename = getattr(module, "__file__", None)
    if not _path_in(filename, directory):
        return False
    parts = Path(str(filename)).parts
    return "site-packages" not in parts and "dist-packages" not in parts


def _evict_shadowed_modules(app_dir: Path) -> None:
    """Drop imported modules that the app directory's own code shadows: a package of the same name imported
    from elsewhere (e.g. the repo's ``job_monitor`` when loading a modified copy of the app)."""
    own = {p.stem for p in app_dir.glob("*.py")} | {p.parent.name for p in app_dir.glob("*/__init__.py")}
    own -= {APP_MODULE, "devhost"}  # never the running host itself
    for name in list(sys.modules):
        module = sys.modules.get(name)
        filename = str(getattr(module, "__file__", None) or "")
        installed = "site-packages" in filename or "dist-packages" in filename
        if name.partition(".")[0] in own and filename and not installed and not _module_in(module, app_dir):
            del sys.modules[name]


def _forget_app_modules() -> None:
    for name, module in list(_app_modules.items()):
        if sys.modules.get(name) is module:
            del sys.modules[name]
    _app_modules.clear()
    sys.modules.pop(APP_MODULE, None)
