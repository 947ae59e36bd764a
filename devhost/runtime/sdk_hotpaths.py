"""Per-episode costs of the Durable Functions SDK that give the same answer every time, made cheap inside the
host process (part of :mod:`devhost.runtime.sdk_speedups`).

- **A namedtuple class per episode.** Every episode builds a ``TaskOrchestrationExecutor``, whose
  ``__init__`` defines ``SetTaskValuePayload = namedtuple("SetTaskValuePayload", ("is_success",
  "task_id_key"))`` afresh (azure-functions-durable 1.7.0, ``models/TaskOrchestrationExecutor.py`` lines 9 and
  25): building a class is about 6 % of an episode. :func:`class_memo` hands out one class per
  ``(typename, field_names)``, created with the ``module`` the SDK's own call would have given it
  (``namedtuple`` takes ``__module__`` from its caller's frame, which would otherwise be this module). The
  class is used only inside the executor, to hold two values per event type; nothing compares classes of two
  episodes. Calls with other arguments (keywords, unhashable field lists) are passed through.
- **Two TimeSpans per episode.** ``DurableOrchestrationContext.__init__`` parses the context's
  ``maximumShortTimerDuration`` and ``longRunningTimerIntervalDuration`` with a regular expression into a
  ``timedelta`` on every episode (azure-functions-durable 1.7.0, ``models/DurableOrchestrationContext.py`` lines
  67 and 71): the same two texts for the life of the host. :func:`timespan_memo` parses each text once and
  hands out the same ``timedelta`` (immutable); a text it refuses raises again every time.
- **An environment read per JSON call.** ``azure.functions._durable_functions._is_strict_mode`` reads
  ``AZURE_FUNCTIONS_DURABLE_STRICT_TYPING`` with ``os.environ.get`` on every ``df_dumps`` / ``df_loads``
  (azure-functions 1.26.0, ``_durable_functions.py`` line 26), several times per replayed event. When the
  variable is unset (the usual case) ``os.environ.get`` raises and catches a ``KeyError`` inside ``Mapping.get``.
  :func:`strict_mode_reader` reads the same mapping ``os.environ`` reads (``_data``, with its own
  ``encodekey`` / ``decodevalue``), so it follows every change made through ``os.environ`` (``putenv``,
  ``monkeypatch.setenv``, ``mock.patch.dict``) exactly as the original does, without the exception. Were
  ``os.environ`` itself rebound, it falls back to the original function.
- **A JSON encoder or decoder per call.** ``df_dumps`` and ``df_loads`` (the same module, lines 187 and 222) call
  ``json.dumps(value, default=_serialize_custom_object)`` and ``json.loads(s, object_hook=_deserialize_custom_object)``
  for every activity input and result the orchestrator replays; with a hook, ``json`` builds a new
  ``JSONEncoder`` / ``JSONDecoder`` each time (CPython ``json/__init__.py``: ``cls(..., default=default, ...)``,
  ``cls(**kw).decode(s)``), about a quarter of each call. :class:`CodecJson` stands in for the ``json`` module
  in that module only: those two calls, with exactly those hooks, go to one encoder and one decoder per thread
  built with the same arguments; every other call goes to ``json`` itself.
- **Encoding the same activity input again.** ``CallActivityAction`` encodes its input with ``df_dumps`` when
  it is built (azure-functions-durable 1.7.0, ``models/actions/CallActivityAction.py`` line 18), for every
  call the orchestrator replays. An input that is a scalar or an object of scalars gets the text it got last
  time, found by a key that tells apart every two such values JSON writes differently (:func:`_value_key`).
- **Decoding the same activity result again.** ``df_loads`` decodes every result the orchestrator replays on
  every episode (azure-functions-durable 1.7.0, ``models/TaskOrchestrationExecutor.py`` line 194): the same
  text each time. A text (up to :data:`VALUE_MEMO_MAX_TEXT`) that decodes to a scalar, or to an object of
  scalars the hook leaves as it is, is answered from the last :data:`VALUE_MEMO_SIZE` such texts: the scalar
  itself (immutable), the object as a new shallow copy (its values are immutable), so the orchestrator can
  change what it receives as before. Anything else (nested, an envelope, invalid) is decoded every time.
- **Parsing the stored history again.** ``DurableOrchestrationContext.from_json`` parses the whole payload
  (azure-functions-durable 1.7.0, ``models/DurableOrchestrationContext.py`` line 125), every stored event again
  on every episode, only to pass each event's keys to ``HistoryEvent(**event)`` (line 61), which copies them.
  :class:`ContextJson` stands in for ``json`` in that module: a payload devhost built
  (:class:`devhost.core.context.ContextText`) is parsed piece by piece, each stored event text (the same string
  object on every episode) once while it stays among the last :data:`EVENT_MEMO_SIZE`; an event holding a
  nested object or list is parsed afresh every time, so nothing the SDK could change is shared between episodes,
  and so is one longer than :data:`EVENT_MEMO_MAX_TEXT` (a large activity result), which bounds the memory kept.
- **Building the same history events again.** ``HistoryEvent(**event)`` then builds an object per event (line 61):
  about 2 µs each (ten attribute writes and a ``Timestamp`` parse), for every stored event on every episode.
  With :meth:`ContextJson.history_events` bound as that module's ``HistoryEvent``, a stored event of scalars is
  built once and the same object handed on in later episodes (the payload carries it under :data:`BUILT_EVENT`,
  a key no event devhost writes has), while the process's time zone is the one its ``Timestamp`` was parsed in
  (:mod:`devhost.runtime.sdk_timestamps`); anything else is built as before. The SDK only reads these objects
  (azure-functions-durable 1.7.0: nothing assigns to an event's attributes, and ``is_processed``'s setter is never
  called), so it computes the same thing either way. The one difference an orchestrator could see: an attribute
  it *wrote* on an event of ``context.histories`` would still be there in the next episode, where the extension
  would have built a new object. Checking every event for that on every episode cost about 3 % of a turn.

- **A ``typing.Callable`` check per call.** ``call_activity`` and its three siblings ask ``isinstance(name, Callable)``
  with ``typing.Callable`` (azure-functions-durable 1.7.0, ``models/DurableOrchestrationContext.py`` line 195), once
  for every call the orchestrator replays: typing answers through two Python-level methods
  (CPython 3.11 ``typing.py``: ``_BaseGenericAlias.__instancecheck__`` asks ``_SpecialGenericAlias.__subclasscheck__``
  with ``type(obj)``, which asks ``issubclass(type(obj), collections.abc.Callable)``). :class:`CallableCheck`, bound
  as that module's ``Callable`` (used there only in those checks: its annotations were evaluated when it was
  imported), asks that last question directly, so every answer is the same.

``tests/recorded/test_sdk_timestamp_memo.py`` replays recorded histories with and without all of the speedups and
compares everything the orchestrator receives and every answer of the SDK.
"""

from __future__ import annotations

import collections.abc
import functools
import json
import os
import threading
import typing
from types import ModuleType
from typing import Any, Callable

from devhost.core.context import ContextText
from devhost.runtime import sdk_timestamps

HISTORY_EVENT_MODULE = "azure.durable_functions.models.history.HistoryEvent"
"""The SDK module defining ``HistoryEvent``, whose ``dt_parse`` global parses every history event's Timestamp."""

EXECUTOR_MODULE = "azure.durable_functions.models.TaskOrchestrationExecutor"
"""The SDK module whose ``namedtuple`` global builds a class per episode."""

CONTEXT_MODULE = "azure.durable_functions.models.DurableOrchestrationContext"
"""The SDK module whose ``from_json`` parses each episode's payload."""

TIMESPAN_MODULE = "azure.durable_functions.models.utils.json_utils"
"""The SDK module that defines ``parse_timespan_attrib``."""

EVENT_MEMO_SIZE = 16_384
"""Parsed stored events kept (about 1.1 KB each, the built ``HistoryEvent`` included): every event of 200 instances
80 events long."""

EVENT_MEMO_MAX_TEXT = 1_024
"""Longer stored event texts are parsed on every episode: at most about 30 MB is kept however large the results."""

BUILT_EVENT = "\x00devhost:built-event"
"""The payload key that carries an event built in an earlier episode to :meth:`ContextJson.history_events` (a
control character: no event text devhost writes has such a key)."""

TIMESPAN_MEMO_SIZE = 64
"""TimeSpan texts kept: the context carries two, set once per host."""

CODEC_MODULE = "azure.functions._durable_functions"
"""The azure-functions module whose ``_is_strict_mode`` reads the environment on every Durable JSON call."""

VALUE_MEMO_SIZE = 4_096
"""Codec texts kept each way (decoded results, encoded inputs): each of a scalar or an object of scalars."""

VALUE_MEMO_MAX_TEXT = 1_024
"""Longer texts are decoded (or encoded) on every call: at most a few MB is kept."""

_SCALARS = frozenset({str, int, float, bool, type(None)})
_ENVELOPE = frozenset({"__class__", "__module__", "__data__"})
"""The keys of the codec's custom-object envelope: an object holding all three goes through its hook every time."""
_SCALAR, _FLAT, _OTHER = 0, 1, 2


def _flat(value: Any) -> bool:
    """Whether a decoded value is an object of scalars only: nothing in it anyone could change in place."""
    return type(value) is dict and all(type(item) in _SCALARS for item in value.values())


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


def timespan_memo(parse: Callable[[str], Any], maxsize: int = TIMESPAN_MEMO_SIZE) -> Callable[[str], Any]:
    """A drop-in for ``parse_timespan_attrib`` that parses each TimeSpan text once (a refused one every time)."""
    remembered = functools.lru_cache(maxsize)(parse)

    def memo_timespan(from_str: str) -> Any:
        return remembered(from_str) if type(from_str) is str else parse(from_str)

    memo_timespan.__wrapped__ = parse  # type: ignore[attr-defined]
    return memo_timespan


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


class _JsonStandIn:
    """A stand-in for the ``json`` module inside one SDK module: what it does not speed up is ``json``'s own."""

    def __init__(self, real: ModuleType) -> None:
        self._json = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._json, name)


class CodecJson(_JsonStandIn):
    """The ``json`` module as the Durable codec module sees it: :meth:`dumps` with ``default=`` the codec's own
    serializer and :meth:`loads` of a ``str`` with ``object_hook=`` its own deserializer reuse one encoder and one
    decoder (per thread: a decoder's C scanner keeps per-call state), and :meth:`loads` answers a text it decoded
    recently to a scalar or a flat object from memory (module doc); anything else is ``json``'s own call."""

    def __init__(
        self,
        real: ModuleType,
        default: Callable[[Any], Any],
        object_hook: Callable[[dict[str, Any]], Any],
        maxsize: int = VALUE_MEMO_SIZE,
    ) -> None:
        super().__init__(real)
        self._default = default
        self._object_hook = object_hook
        # json.dumps(obj, default=f) is JSONEncoder(skipkeys=False, ensure_ascii=True, check_circular=True,
        # allow_nan=True, indent=None, separators=None, default=f, sort_keys=False).encode(obj): these defaults.
        self._encode = real.JSONEncoder(default=default).encode
        self._local = threading.local()
        self._value = functools.lru_cache(maxsize)(self._shape)
        self._texts: dict[tuple[Any, ...], str] = {}
        self._maxsize = maxsize

    def _shape(self, text: str) -> tuple[int, Any]:
        """What ``text`` decodes to without the hook, when the hook cannot change it: a scalar (the hook runs only
        on objects), or an object of scalars that is not the codec's custom-object envelope (the hook returns
        such an object itself: azure-functions 1.26.0, ``_durable_functions.py`` line 131); else nothing kept."""
        try:
            value = self._json.loads(text)
        except ValueError:
            return _OTHER, None  # decoded (and refused) again with the hook, as json would
        kind = type(value)
        if kind in _SCALARS:
            return _SCALAR, value
        if _flat(value) and not _ENVELOPE <= value.keys():
            return _FLAT, value
        return _OTHER, None

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if len(kwargs) == 1 and kwargs.get("default") is self._default:
            key = _value_key(obj)
            if key is None:
                return self._encode(obj)
            text = self._texts.get(key)
            if text is None:
                text = self._encode(obj)
                if len(text) <= VALUE_MEMO_MAX_TEXT:
                    if len(self._texts) >= self._maxsize:
                        self._texts.clear()  # bounded, and simple: the inputs in use come back within an episode
                    self._texts[key] = text
            return text
        return self._json.dumps(obj, **kwargs)

    def loads(self, s: Any, **kwargs: Any) -> Any:
        # json.loads refuses a str that starts with a BOM before decoding, and decodes bytes first: both are
        # left to it, as is every other combination of arguments.
        hooked = len(kwargs) == 1 and kwargs.get("object_hook") is self._object_hook
        if (hooked or not kwargs) and type(s) is str and s[:1] != "\ufeff":
            if len(s) <= VALUE_MEMO_MAX_TEXT:
                shape, value = self._value(s)
                if shape == _FLAT:
                    return value.copy()  # a new object every time, as decoding gives: the caller may change it
                if shape == _SCALAR:
                    return value
            if hooked:
                decode = getattr(self._local, "decode", None)
                if decode is None:
                    decode = self._local.decode = self._json.JSONDecoder(object_hook=self._object_hook).decode
                return decode(s)
        return self._json.loads(s, **kwargs)


def codec_json(module: ModuleType) -> CodecJson | None:
    """A :class:`CodecJson` for the codec module, or None when it is not the module this was written for (its
    ``json`` global is not the json module, or its hooks are missing)."""
    default = getattr(module, "_serialize_custom_object", None)
    object_hook = getattr(module, "_deserialize_custom_object", None)
    if getattr(module, "json", None) is not json or not callable(default) or not callable(object_hook):
        return None
    return CodecJson(json, default, object_hook)


_KEY_MAX_ITEMS = 32


def _value_key(value: Any) -> tuple[Any, ...] | None:
    """A key equal for two values exactly when ``json.dumps`` writes them alike: a scalar, or an object of at most
    :data:`_KEY_MAX_ITEMS` scalars under ``str`` names (in order); None for anything else. Types are part of it
    (``1``, ``1.0`` and ``True`` are equal in Python, not in JSON), and a float is keyed by its ``hex()`` (``0.0``
    and ``-0.0`` are equal in Python and written differently; every NaN is written ``NaN``)."""
    kind = type(value)
    if kind is dict:
        if len(value) > _KEY_MAX_ITEMS:
            return None
        key: list[Any] = []
        add = key.append
        for name, item in value.items():
            item_kind = type(item)
            if type(name) is not str or item_kind not in _SCALARS:
                return None
            add(name)
            add(item_kind)
            add(item.hex() if item_kind is float else item)
        return tuple(key)
    if kind in _SCALARS:
        return (kind, value.hex() if kind is float else value)
    return None


class ContextJson(_JsonStandIn):
    """The ``json`` module as the SDK's context module sees it: :meth:`loads` of a payload devhost built parses its
    pieces, and hands on stored events already built when :meth:`history_events` is bound as the module's
    ``HistoryEvent`` (module doc); anything else is ``json``'s own call."""

    def __init__(self, real: ModuleType, maxsize: int = EVENT_MEMO_SIZE, module: ModuleType | None = None) -> None:
        super().__init__(real)
        self._event = functools.lru_cache(maxsize)(self._parse_event)
        self._module = module
        self._event_class: Callable[..., Any] | None = None
        self._factory: Callable[..., Any] | None = None
        self._zone = sdk_timestamps.current_zone()

    def _parse_event(self, text: str) -> dict[str, Any] | None:
        """A stored event text as kept: its object of scalars, or (when the SDK's class is bound) that object's
        event, built once, under :data:`BUILT_EVENT`; None when anything in it is nested."""
        value = self._json.loads(text)
        if not _flat(value):
            return None
        build = self._event_class
        if build is None:
            return value
        try:
            return {BUILT_EVENT: build(**value)}
        except Exception:  # refused: left to the SDK's own call, which raises it
            return value

    def loads(self, s: Any, **kwargs: Any) -> Any:
        if kwargs or type(s) is not ContextText:
            return self._json.loads(s, **kwargs)
        if self._event_class is not None:
            self._check_events()
        played, new, rest = s.parts
        loads = self._json.loads
        event = self._event
        history = []
        for text in played:
            # Nested or long: parsed afresh, so nothing the SDK could change is shared and the memory kept is bounded.
            kept = event(text) if len(text) <= EVENT_MEMO_MAX_TEXT else None
            history.append(loads(text) if kept is None else kept)
        history.extend(map(loads, new))
        # Key order as json.loads of the whole text gives it: "history" first, then the rest in order.
        payload = {"history": history}
        payload.update(loads("{" + rest))
        return payload

    def history_events(self, event_class: Callable[..., Any]) -> Callable[..., Any]:
        """A drop-in for the SDK's ``HistoryEvent`` class in the context module: an event this shim built in an
        earlier episode is handed on; any other call builds one with ``event_class``."""

        def history_event(*args: Any, **kwargs: Any) -> Any:
            if not args and len(kwargs) == 1:
                built = kwargs.get(BUILT_EVENT)
                if built is not None:
                    return built
            return event_class(*args, **kwargs)

        history_event.__wrapped__ = event_class  # type: ignore[attr-defined]
        self._event_class, self._factory = event_class, history_event
        self._zone = sdk_timestamps.current_zone()
        self._event.cache_clear()  # what was kept until now are plain objects
        return history_event

    def _check_events(self) -> None:
        """Forget the events built so far when they may no longer be what the SDK would build: the context module
        no longer calls :meth:`history_events` (then keep plain objects from now on), or the time zone changed."""
        if self._module is None or getattr(self._module, "HistoryEvent", None) is not self._factory:
            self._event_class = self._factory = None
        elif self._zone == sdk_timestamps.current_zone():
            return
        self._zone = sdk_timestamps.current_zone()
        self._event.cache_clear()

    def cache_info(self) -> Any:
        return self._event.cache_info()


def context_json(module: ModuleType) -> ContextJson | None:
    """A :class:`ContextJson` for the SDK's context module, or None when its ``json`` global is not the json module."""
    return ContextJson(json, module=module) if getattr(module, "json", None) is json else None


_CALLABLE_ABC: Any = collections.abc.Callable  # a class at run time; typed as a special form


class _CallableCheckType(type):
    def __instancecheck__(cls, instance: object) -> bool:
        # typing.Callable's answer (module doc): only the object's type counts, not a __class__ it claims.
        return issubclass(type(instance), _CALLABLE_ABC)


class CallableCheck(metaclass=_CallableCheckType):
    """A drop-in for ``typing.Callable`` in ``isinstance`` checks (module doc): ``isinstance(x, CallableCheck)`` is
    ``isinstance(x, typing.Callable)``, asked without typing's layers."""


def callable_check(module: ModuleType) -> type | None:
    """:class:`CallableCheck` for the SDK's context module, or None when its ``Callable`` is not ``typing.Callable``."""
    return CallableCheck if getattr(module, "Callable", None) is typing.Callable else None
