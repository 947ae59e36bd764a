"""Two per-episode costs of the Durable Functions SDK that give the same answer every time, made cheap inside the
host process (part of :mod:`devhost.runtime.sdk_speedups`).

- **A namedtuple class per episode.** Every episode builds a ``TaskOrchestrationExecutor``, whose
  ``__init__`` defines ``SetTaskValuePayload = namedtuple("SetTaskValuePayload", ("is_success",
  "task_id_key"))`` afresh (azure-functions-durable 1.7.0, ``models/TaskOrchestrationExecutor.py`` lines 9 and
  25): building a class is about 6 % of an episode. :func:`class_memo` hands out one class per
  ``(typename, field_names)``, created with the ``module`` the SDK's own call would have given it
  (``namedtuple`` takes ``__module__`` from its caller's frame, which would otherwise be this module). The
  class is used only inside the executor, to hold two values per event type; nothing compares classes of two
  episodes. Calls with other arguments (keywords, unhashable field lists) are passed through.
- **An environment read per JSON call.** ``azure.functions._durable_functions._is_strict_mode`` reads
  ``AZURE_FUNCTIONS_DURABLE_STRICT_TYPING`` with ``os.environ.get`` on every ``df_dumps`` / ``df_loads``
  (azure-functions 1.26.0, ``_durable_functions.py`` line 26), several times per replayed event. When the
  variable is unset (the usual case) ``os.environ.get`` raises and catches a ``KeyError`` inside ``Mapping.get``.
  :func:`strict_mode_reader` reads the same mapping ``os.environ`` reads (``_data``, with its own
  ``encodekey`` / ``decodevalue``), so it follows every change made through ``os.environ`` (``putenv``,
  ``monkeypatch.setenv``, ``mock.patch.dict``) exactly as the original does, without the exception. Were
  ``os.environ`` itself rebound, it falls back to the original function.

``tests/recorded/test_sdk_timestamp_memo.py`` replays recorded histories with and without all of the speedups and
compares everything the orchestrator receives and every answer of the SDK.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

EXECUTOR_MODULE = "azure.durable_functions.models.TaskOrchestrationExecutor"
"""The SDK module whose ``namedtuple`` global builds a class per episode."""

CODEC_MODULE = "azure.functions._durable_functions"
"""The azure-functions module whose ``_is_strict_mode`` reads the environment on every Durable JSON call."""


def class_memo(namedtuple: Callable[..., type], module: str) -> Callable[..., type]:
    """A drop-in for ``namedtuple`` as called from ``module``: one class per ``(typename, field_names)``."""
    classes: dict[tuple[str, tuple[str, ...]], type] = {}
    lock = threading.Lock()

    def memo_namedtuple(typename: Any, field_names: Any, *args: Any, **kwargs: Any) -> type:
        if args or kwargs or type(typename) is not str or type(field_names) is not tuple:
            return namedtuple(typename, field_names, *args, **{"module": module, **kwargs})
        key = (typename, field_names)
        found = classes.get(key)
        if found is None:
            with lock:
                found = classes.get(key)
                if found is None:
                    found = classes[key] = namedtuple(typename, field_names, module=module)
        return found

    memo_namedtuple.__wrapped__ = namedtuple  # type: ignore[attr-defined]
    return memo_namedtuple


def strict_mode_reader(original: Callable[[], bool], name: str, truthy: frozenset[str]) -> Callable[[], bool]:
    """A drop-in for ``_is_strict_mode``: whether ``name`` is set to one of ``truthy`` (stripped, lower-cased)."""
    environ = os.environ
    data = environ._data  # type: ignore[attr-defined]  # the mapping _Environ.__getitem__ reads
    key = environ.encodekey(name)
    decode = environ.decodevalue

    def is_strict_mode() -> bool:
        if os.environ is not environ:  # someone rebound os.environ: read it as the SDK would
            return original()
        raw = data.get(key)
        return raw is not None and decode(raw).strip().lower() in truthy

    is_strict_mode.__wrapped__ = original  # type: ignore[attr-defined]
    return is_strict_mode
