"""The SDK speedups beside the timestamp memo (devhost.runtime.sdk_hotpaths) answer exactly as what they replace.

The executor's ``namedtuple`` hands out one class per (name, fields), with the module the SDK's own call gives it;
the strict-mode read follows every change of the environment as ``os.environ.get`` does; and the timestamp memo's
derived misses are dateutil's values, in every kind of zone.
"""

from __future__ import annotations

import collections
import collections.abc
import importlib
import json
import os
import pickle
import time
import typing
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import partial
from typing import Any
from unittest import mock

import pytest
from azure.durable_functions.models.history.HistoryEvent import HistoryEvent
from dateutil import parser as dateparser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.core.context import ContextText, ReplaySettings, build_context
from devhost.core.model import Instance, RuntimeStatus, event_json
from devhost.runtime import sdk_hotpaths, sdk_speedups, sdk_timestamps

CODEC = importlib.import_module(sdk_hotpaths.CODEC_MODULE)
EXECUTOR = importlib.import_module(sdk_hotpaths.EXECUTOR_MODULE)
CONTEXT = importlib.import_module(sdk_hotpaths.CONTEXT_MODULE)
TIMESPANS = importlib.import_module(sdk_hotpaths.TIMESPAN_MODULE)


def test_the_executor_gets_one_class_per_name_and_fields_from_its_own_module() -> None:
    memo = sdk_hotpaths.class_memo(collections.namedtuple, sdk_hotpaths.EXECUTOR_MODULE)

    first = memo("SetTaskValuePayload", ("is_success", "task_id_key"))
    again = memo("SetTaskValuePayload", ("is_success", "task_id_key"))
    other = memo("SetTaskValuePayload", ("is_success",))

    assert first is again and other is not first
    assert first.__module__ == sdk_hotpaths.EXECUTOR_MODULE and first.__qualname__ == "SetTaskValuePayload"
    assert first._fields == ("is_success", "task_id_key") and first(True, "TimerId").task_id_key == "TimerId"


def test_other_namedtuple_calls_are_passed_through_every_time() -> None:
    memo = sdk_hotpaths.class_memo(collections.namedtuple, sdk_hotpaths.EXECUTOR_MODULE)

    with_defaults = [memo("Point", ("x", "y"), defaults=(0,)) for _ in range(2)]
    from_text = [memo("Point", "x y") for _ in range(2)]
    own_module = memo("Point", ["x"], module="elsewhere")

    assert with_defaults[0] is not with_defaults[1] and with_defaults[0](1).y == 0
    assert from_text[0] is not from_text[1] and from_text[0].__module__ == sdk_hotpaths.EXECUTOR_MODULE
    assert own_module.__module__ == "elsewhere"


@pytest.mark.parametrize("value", [None, "", "1", "true", " TRUE ", "Yes", "0", "false", "on", "truthy"])
def test_strict_mode_reads_the_environment_as_the_sdk_does(
    memo_state: None, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    sdk_speedups.uninstall()
    original = CODEC._is_strict_mode
    reader = sdk_hotpaths.strict_mode_reader(original, CODEC._STRICT_ENV_VAR, CODEC._TRUTHY)
    if value is None:
        monkeypatch.delenv(CODEC._STRICT_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(CODEC._STRICT_ENV_VAR, value)

    assert reader() is original()

    monkeypatch.setenv(CODEC._STRICT_ENV_VAR, "1")  # a change after the reader was made is seen at once
    assert reader() is original() is True


def test_strict_mode_falls_back_when_os_environ_is_replaced(memo_state: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk_speedups.uninstall()
    original = CODEC._is_strict_mode
    reader = sdk_hotpaths.strict_mode_reader(original, CODEC._STRICT_ENV_VAR, CODEC._TRUTHY)
    monkeypatch.delenv(CODEC._STRICT_ENV_VAR, raising=False)

    monkeypatch.setattr(os, "environ", {CODEC._STRICT_ENV_VAR: "yes"})

    assert reader() is True


def test_install_replaces_each_and_uninstall_gives_each_back(memo_state: None) -> None:
    sdk_speedups.uninstall()

    def bound() -> tuple[Any, ...]:
        return (
            EXECUTOR.namedtuple,
            CODEC._is_strict_mode,
            CODEC.json,
            CONTEXT.json,
            CONTEXT.parse_timespan_attrib,
            CONTEXT.HistoryEvent,
            CONTEXT.Callable,
        )

    before = bound()
    sdk_speedups.install()
    during = bound()
    sdk_speedups.uninstall()

    assert during[0].__wrapped__ is collections.namedtuple and during[1].__wrapped__ is before[1]
    assert before[2] is before[3] is json
    assert isinstance(during[2], sdk_hotpaths.CodecJson) and isinstance(during[3], sdk_hotpaths.ContextJson)
    assert during[4].__wrapped__ is before[4] is TIMESPANS.parse_timespan_attrib
    assert during[5].__wrapped__ is before[5] is HistoryEvent
    assert before[6] is typing.Callable and during[6] is sdk_hotpaths.CallableCheck
    assert bound() == before and not sdk_speedups.active()


class _CallableInstance:
    def __call__(self) -> None:
        return None


class _ClaimsToBeAFunction:
    """An object whose ``__class__`` claims a callable type its real type is not (as some proxies do)."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(len)


def _a_function() -> None:
    return None


@pytest.mark.parametrize(
    "value",
    [
        "check_job_status", b"name", 0, None, [], {}, _a_function, lambda: None, len, partial(len, "x"), print,
        _CallableInstance(), _CallableInstance, object(), type, mock.Mock(), mock.NonCallableMock(),
        _ClaimsToBeAFunction(), HistoryEvent,
    ],
)  # fmt: skip
def test_the_callable_check_answers_as_typing_callable(value: Any) -> None:
    assert isinstance(value, sdk_hotpaths.CallableCheck) is isinstance(value, typing.Callable)


def test_the_callable_check_is_left_alone_when_the_module_binds_something_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CONTEXT, "Callable", collections.abc.Callable)

    assert sdk_hotpaths.callable_check(CONTEXT) is None
    monkeypatch.setattr(CONTEXT, "Callable", typing.Callable)
    assert sdk_hotpaths.callable_check(CONTEXT) is sdk_hotpaths.CallableCheck


@pytest.mark.parametrize("text", ["00:00:00", "1.02:03:04.5000000", "-6.00:00:00", "3.00:00:00", "1:2:3", "", "x"])
def test_a_timespan_parsed_again_answers_as_the_sdk_does(text: str) -> None:
    memo = sdk_hotpaths.timespan_memo(TIMESPANS.parse_timespan_attrib)

    for _ in range(2):
        assert answer(memo, text) == answer(TIMESPANS.parse_timespan_attrib, text)


class Money:
    """A custom object as the SDK's codec round-trips it (``to_json`` / ``from_json``)."""

    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __repr__(self) -> str:
        return f"Money({self.cents})"

    def to_json(self) -> dict[str, int]:
        return {"cents": self.cents}

    @classmethod
    def from_json(cls, data: dict[str, int]) -> Money:
        return cls(data["cents"])


def codecs() -> sdk_hotpaths.CodecJson:
    """The codec module's stand-in for ``json`` (built afresh: the loader may have installed one already)."""
    return sdk_hotpaths.CodecJson(json, CODEC._serialize_custom_object, CODEC._deserialize_custom_object)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.builds(Money, st.integers()),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def answer(call: Any, *args: Any, **kwargs: Any) -> tuple[str, Any]:
    """What a caller sees of a call: its value (NaN made comparable), or the error's type and text."""
    try:
        return ("value", repr(call(*args, **kwargs)))
    except Exception as exc:  # noqa: BLE001 - the error is the answer compared
        return ("error", f"{type(exc).__name__}: {exc}")


# The codec's hook warns once per process about custom objects without a declared type (a DeprecationWarning).
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES)
def test_the_codecs_encode_and_decode_as_json_does(value: Any) -> None:
    shim = codecs()
    text = json.dumps(value, default=CODEC._serialize_custom_object)

    assert answer(shim.dumps, value, default=CODEC._serialize_custom_object) == ("value", repr(text))
    assert answer(shim.loads, text, object_hook=CODEC._deserialize_custom_object) == answer(
        json.loads, text, object_hook=CODEC._deserialize_custom_object
    )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(
    "text",
    ["", "{", '{"a": 1} x', "\ufeff{}", b'{"a": [1, 2]}', bytearray(b"[]"), 17, "NaN"]
    + ['{"__class__": "Nope", "__module__": "x"}', '{"__class__": "Money", "__module__": "nowhere", "__data__": {}}'],
)
def test_the_codecs_refuse_and_accept_what_json_does(text: Any) -> None:
    shim = codecs()
    hook = CODEC._deserialize_custom_object

    assert answer(shim.loads, text, object_hook=hook) == answer(json.loads, text, object_hook=hook)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES)
def test_a_text_decoded_again_answers_as_json_does_and_as_a_new_object(value: Any) -> None:
    shim = codecs()
    hook = CODEC._deserialize_custom_object
    text = json.dumps(value, default=CODEC._serialize_custom_object)

    first = answer(shim.loads, text, object_hook=hook)
    again = shim.loads(text, object_hook=hook) if first[0] == "value" else None
    plain = shim.loads(text)

    assert first == answer(json.loads, text, object_hook=hook)
    assert answer(shim.loads, text, object_hook=hook) == first
    assert repr(plain) == repr(json.loads(text))
    if isinstance(again, (dict, list)):  # the caller may change what it receives: never what the next one gets
        again.clear()
        assert answer(shim.loads, text, object_hook=hook) == first


TRICKY = st.sampled_from([0, 0.0, -0.0, 1, 1.0, True, False, None, float("nan"), float("inf"), "1", "", 2**70])
FLAT_VALUES = TRICKY | st.dictionaries(st.text(max_size=3) | st.sampled_from([1, True]), TRICKY | st.text(max_size=3), max_size=4)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(FLAT_VALUES | JSON_VALUES, max_size=12))
def test_an_input_encoded_again_is_written_as_json_writes_it(values: list[Any]) -> None:
    shim = codecs()
    default = CODEC._serialize_custom_object

    for value in values + values[::-1]:  # each value after the others, equal in Python or not
        assert answer(shim.dumps, value, default=default) == answer(json.dumps, value, default=default)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (0.0, -0.0), (1, 1.0), (1, True), (0, False), ({"n": 0.0}, {"n": -0.0}), ({"n": 1}, {"n": 1.0}),
        ({"n": 1}, {"n": True}), ({1: "x"}, {True: "x"}), ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ],
)  # fmt: skip
def test_values_equal_in_python_but_written_differently_get_their_own_text(first: Any, second: Any) -> None:
    shim = codecs()
    default = CODEC._serialize_custom_object

    texts = [shim.dumps(value, default=default) for value in (first, second, first)]

    assert texts == [json.dumps(value, default=default) for value in (first, second, first)]
    assert texts[0] != texts[1]


class CountingHook:
    """The codec's object hook, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, obj: dict[str, Any]) -> Any:
        self.calls += 1
        return CODEC._deserialize_custom_object(obj)


@pytest.mark.parametrize(
    ("text", "hooked_per_call"),
    [
        ('{"status": "Running", "progress_percent": 40, "ratio": 0.5, "eta": null}', 0),  # remembered
        ('"done"', 0),
        ('{"a": {"b": 1}}', 2),  # nested: decoded every time
        (json.dumps({"__class__": "Money", "__module__": __name__, "__data__": 5}), 1),  # an envelope, ditto
        (json.dumps({"x": "y" * sdk_hotpaths.VALUE_MEMO_MAX_TEXT}), 1),  # too long to keep
    ],
)
def test_only_short_texts_of_scalars_or_flat_objects_skip_the_decoder(text: str, hooked_per_call: int) -> None:
    hook = CountingHook()
    shim = sdk_hotpaths.CodecJson(json, CODEC._serialize_custom_object, hook)

    for _ in range(3):
        answer(shim.loads, text, object_hook=hook)  # the envelope's from_json refuses 5: still one hook call

    assert hook.calls == 3 * hooked_per_call


def test_other_json_calls_of_the_codec_module_go_to_json_itself() -> None:
    shim = codecs()
    value = {"b": 1, "a": [Money(5)]}

    assert shim.dumps({"b": 1, "a": 2}, sort_keys=True) == json.dumps({"b": 1, "a": 2}, sort_keys=True)
    assert answer(shim.dumps, value) == answer(json.dumps, value)  # no default: json's TypeError
    assert shim.loads('{"x": 1.5}', parse_float=str) == {"x": "1.5"}
    assert shim.JSONDecodeError is json.JSONDecodeError


def test_the_codecs_are_left_alone_when_the_module_is_not_the_one_expected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CODEC, "json", object())

    assert sdk_hotpaths.codec_json(CODEC) is None


class CountingParse:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str, *args: Any, **kwargs: Any) -> datetime:
        self.calls += 1
        return dateparser.parse(text, *args, **kwargs)


def outcome(parse: Any, text: str) -> tuple[Any, ...]:
    """Everything a caller can tell of a parse: the value's fields, zone and offsets, or the error."""
    try:
        value = parse(text)
    except (ValueError, OverflowError) as exc:
        return ("error", type(exc).__name__, str(exc))
    zone = value.tzinfo
    # The wall time as fields: two equal times in a zone's repeated hour compare unequal when their tzinfo objects
    # differ (PEP 495), and two parses by dateutil itself give two tzlocal objects.
    wall = value.replace(tzinfo=None)
    return ("value", wall, value.fold, type(zone).__qualname__, zone, value.utcoffset(), value.tzname(), value.dst())


FIELDS = st.tuples(
    st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32), st.integers(0, 24), st.integers(0, 60),
    st.integers(0, 60), st.integers(0, 9_999_999),
)  # fmt: skip


def text_of(fields: tuple[int, ...]) -> str:
    year, month, day, hour, minute, second, fraction = fields
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{fraction:07d}Z"


@pytest.fixture(params=["UTC0", "CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0", "UTC0UTC,M3.5.0,M10.5.0/3"])
def zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """A process zone named UTC (no daylight saving time), two with it, and one named UTC with it."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # the zone stays
@given(fields=st.lists(FIELDS, min_size=1, max_size=20))
def test_derived_misses_are_what_dateutil_returns_in_every_zone(zone: str, fields: list[tuple[int, ...]]) -> None:
    memo = sdk_timestamps.memo(dateparser.parse)
    memo("2031-05-06T07:08:09.1234567Z")  # the zone's template

    for text in map(text_of, fields):
        assert outcome(memo, text) == outcome(dateparser.parse, text)


def test_a_zone_named_utc_with_daylight_saving_time_parses_every_miss(zone: str) -> None:
    parse = CountingParse()
    memo = sdk_timestamps.memo(parse)

    for minute in range(10):
        memo(f"2031-05-06T07:{minute:02d}:09.1234567Z")

    derives = zone != "UTC0UTC,M3.5.0,M10.5.0/3"
    assert parse.calls == (1 if derives else 10)


EVENT_VALUES = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
EVENTS = st.lists(
    st.fixed_dictionaries(
        {"EventType": st.integers(0, 20), "EventId": st.integers(-1, 50), "IsPlayed": st.booleans()},
        optional={
            "Name": st.text(max_size=8),
            "Result": EVENT_VALUES,
            "ParentInstance": st.dictionaries(st.text(max_size=4), EVENT_VALUES, max_size=2),
            "Tags": st.lists(EVENT_VALUES, max_size=2),
        },
    ),
    max_size=8,
)


def instance(input_text: str | None) -> Instance:
    moment = datetime(2030, 1, 1, tzinfo=timezone.utc)
    return Instance("id-1", "orchestrator", "execution", RuntimeStatus.RUNNING, moment, moment, input=input_text)


@settings(max_examples=200, deadline=None)
@given(played=EVENTS, new=EVENTS, input_text=st.none() | st.sampled_from(['"text"', '{"a": [1, 2]}', "17", "null"]))
def test_a_payload_parsed_by_its_pieces_equals_the_whole_text_parsed(
    played: list[dict[str, Any]], new: list[dict[str, Any]], input_text: str | None
) -> None:
    shim = sdk_hotpaths.ContextJson(json)
    payload = build_context(instance(input_text), [event_json(e) for e in played], new, ReplaySettings())

    for _ in range(2):  # the second time from the memo
        parsed = shim.loads(payload)
        assert parsed == json.loads(str(payload))
        assert list(parsed) == list(json.loads(str(payload)))  # the same keys in the same order


def test_stored_events_are_parsed_once_and_nested_ones_every_time() -> None:
    shim = sdk_hotpaths.ContextJson(json)
    flat = event_json({"EventType": 4, "EventId": 0, "IsPlayed": True, "Name": "check"})
    nested = event_json({"EventType": 0, "EventId": -1, "IsPlayed": True, "ParentInstance": {"InstanceId": "p"}})
    new = [{"EventType": 12, "EventId": -1, "IsPlayed": False}]

    first = shim.loads(build_context(instance(None), [flat, nested], new, ReplaySettings()))
    second = shim.loads(build_context(instance(None), [flat, nested], new, ReplaySettings()))

    assert first["history"][0] is second["history"][0]  # parsed once
    assert first["history"][1] == second["history"][1] and first["history"][1] is not second["history"][1]
    assert first["history"][1]["ParentInstance"] is not second["history"][1]["ParentInstance"]
    assert first["history"][2] is not second["history"][2]  # this episode's new events: parsed afresh


def test_a_long_stored_event_is_parsed_every_time_and_not_kept() -> None:
    shim = sdk_hotpaths.ContextJson(json)
    long = event_json({"EventType": 5, "EventId": -1, "IsPlayed": True, "Result": "x" * sdk_hotpaths.EVENT_MEMO_MAX_TEXT})
    new = [{"EventType": 12, "EventId": -1, "IsPlayed": False}]

    first = shim.loads(build_context(instance(None), [long], new, ReplaySettings()))
    second = shim.loads(build_context(instance(None), [long], new, ReplaySettings()))

    assert first == second and first["history"][0] is not second["history"][0]
    assert shim.cache_info().currsize == 0


def test_other_texts_are_parsed_by_json_itself_and_a_payload_pickles_with_its_pieces() -> None:
    shim = sdk_hotpaths.ContextJson(json)
    payload = build_context(instance(None), [], [{"EventType": 12, "EventId": -1, "IsPlayed": False}], ReplaySettings())

    assert shim.loads(str(payload)) == json.loads(str(payload)) and shim.cache_info().currsize == 0
    assert shim.loads('{"x": 1.5}', parse_float=str) == {"x": "1.5"}
    assert answer(shim.loads, "\ufeff{}") == answer(json.loads, "\ufeff{}")
    assert shim.dumps({"a": 1}) == json.dumps({"a": 1})
    unpickled = pickle.loads(pickle.dumps(payload))
    assert type(unpickled) is ContextText and unpickled == payload and shim.loads(unpickled) == json.loads(payload)
