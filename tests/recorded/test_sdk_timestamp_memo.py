"""The host's speedups of the SDK (devhost.runtime.sdk_speedups: the timestamp memo, the executor's namedtuple
class, the strict-mode environment read) change nothing the app sees.

Every recorded history is replayed episode by episode (each episode's context built as the host builds it)
through the real SDK twice, as published and with every speedup, around a spy that wraps the
monitoring orchestrator unchanged. The spy writes down everything the orchestrator receives at each step
(``current_utc_datetime``, ``is_replaying``, the values and exceptions sent into the generator, the SDK's
history event objects with every attribute) as type-tagged descriptions, plus how each event time compares
and subtracts against the others; the two runs must agree on all of it, and on the SDK's answers.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Generator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import azure.durable_functions as df
import pytest
from azure.durable_functions.models.history.HistoryEventType import HistoryEventType as SdkEventType
from dateutil import parser as dateparser

from devhost.core.context import ReplaySettings, build_context
from devhost.core.events import format_timestamp
from devhost.core.model import EventType, HistoryEvent, Instance, RuntimeStatus, event_json
from devhost.replay.model import INBOUND
from devhost.runtime import sdk_enums, sdk_hotpaths, sdk_speedups
from devhost.runtime.loader import load_app

ROOT = Path(__file__).resolve().parents[2]
HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))
ORCHESTRATOR = "monitoring_job_orchestrator"
SETTINGS = ReplaySettings("6.00:00:00", "3.00:00:00")
SDK_MODULE = "azure.durable_functions.models.history.HistoryEvent"


def describe(value: Any) -> Any:
    """A comparable, type-tagged description of a value the orchestrator can receive."""
    if isinstance(value, datetime):
        zone = value.tzinfo
        return (
            "datetime",
            type(value).__qualname__,
            value.isoformat(),
            value.fold,
            repr(zone),
            type(zone).__module__ + "." + type(zone).__qualname__,
            value.utcoffset(),
            value.tzname(),
            value.dst(),
            hash(value),
        )
    if isinstance(value, dict):
        return (type(value).__qualname__, [(describe(k), describe(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__qualname__, [describe(item) for item in value])
    if isinstance(value, BaseException):
        return ("exception", type(value).__qualname__, str(value))
    if isinstance(value, (str, int, float, bool, type(None))):
        return (type(value).__qualname__, value)
    public = {name: item for name, item in vars(value).items() if not callable(item)} if hasattr(value, "__dict__") else {}
    return (type(value).__module__ + "." + type(value).__qualname__, describe(public))


def time_relations(times: list[datetime]) -> list[tuple[Any, ...]]:
    """How each time orders against and subtracts from its neighbours and the episode's current time
    (Python treats a shared tzinfo object differently from equal ones, so this is where sharing would show)."""
    now = times[0]
    pairs = list(zip(times, times[1:])) + [(t, now) for t in times]
    return [(a < b, a == b, a > b, a - b, b - a) for a, b in pairs]


def spy(orchestrator: Callable[[Any], Generator[Any, Any, Any]], seen: list[Any]) -> Callable[[Any], Any]:
    """The orchestrator unchanged, writing down what it is given at every step."""

    def snapshot(context: df.DurableOrchestrationContext, what: str, value: Any) -> None:
        histories = context.histories
        seen.append(
            (
                what,
                describe(value),
                describe(context.current_utc_datetime),
                context.is_replaying,
                context.instance_id,
                [describe(event) for event in histories],
                time_relations([context.current_utc_datetime] + [e.timestamp for e in histories]),
            )
        )

    def spied(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Any]:
        generator = orchestrator(context)
        snapshot(context, "start", None)
        outcome: tuple[str, Any] = ("send", None)
        while True:
            try:
                task = generator.send(outcome[1]) if outcome[0] == "send" else generator.throw(outcome[1])
            except StopIteration as stop:
                snapshot(context, "return", stop.value)
                return stop.value
            try:
                outcome = ("send", (yield task))
            except Exception as exc:  # a failed task: the SDK throws it into the generator
                outcome = ("throw", exc)
            snapshot(context, outcome[0], outcome[1])

    return spied


def episodes(recording: dict[str, Any]) -> list[str]:
    """The context JSON of every episode of a recorded history, as the host builds it."""
    history: list[HistoryEvent] = recording["history"]
    instance = Instance(
        recording["instanceId"],
        recording["name"],
        "recorded",
        RuntimeStatus.RUNNING,
        datetime(2030, 1, 1, tzinfo=timezone.utc),
        datetime(2030, 1, 1, tzinfo=timezone.utc),
        input=recording["input"],
    )
    contexts = []
    for start, event in enumerate(history):
        if event["EventType"] != EventType.ORCHESTRATOR_STARTED:
            continue
        end = start + 1
        while end < len(history) and history[end]["EventType"] in INBOUND:
            end += 1
        played = [event_json(dict(e, IsPlayed=True)) for e in history[:start]]
        new = [dict(e, IsPlayed=False) for e in history[start:end]]
        contexts.append(build_context(instance, played, new, SETTINGS))
    return contexts


def replay(recording: dict[str, Any], memo: bool) -> tuple[list[Any], list[str]]:
    raw = load_app(ROOT).orchestrators[ORCHESTRATOR].handle.orchestrator_function  # (installs the memo)
    (sdk_speedups.install if memo else sdk_speedups.uninstall)()
    assert sdk_speedups.installed() is memo and bool(sdk_speedups.active()) is memo
    seen: list[Any] = []
    handle = df.Orchestrator.create(spy(raw, seen))
    answers = [handle(context) for context in episodes(recording)]
    return seen, answers


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
def test_orchestrator_receives_identical_values_with_and_without_the_speedups(memo_state: None, path: Path) -> None:
    recording = json.loads(path.read_text())

    seen_plain, answers_plain = replay(recording, memo=False)
    seen_memo, answers_memo = replay(recording, memo=True)

    # Two have nothing to do on 3.12 and later: EnumType reads members without a hook, property reads are specialised.
    idle = set() if sdk_enums.hook_costs(SdkEventType) else {sdk_speedups.ENUM_MEMBERS}
    idle |= set() if sys.version_info < (3, 12) else {sdk_speedups.TRIVIAL_GETTERS}
    assert sdk_speedups.active() == sdk_speedups.ALL - idle
    info = sdk_speedups.cache_info()
    assert info is not None and info.hits > 0, "the memo was not used: the comparison would prove nothing"
    events = importlib.import_module(sdk_hotpaths.CONTEXT_MODULE).json.cache_info()
    assert events.hits > 0, "no stored event was parsed once: the comparison would prove nothing"
    assert len(seen_plain) > 2 * len(episodes(recording))
    assert seen_memo == seen_plain
    assert answers_memo == answers_plain
    assert all(json.loads(answer).get("actions") is not None for answer in answers_memo)


def test_loading_an_app_installs_the_memo(memo_state: None) -> None:
    sdk_speedups.uninstall()

    load_app(ROOT)

    assert sdk_speedups.installed()
    module = importlib.import_module(SDK_MODULE)
    assert module.dt_parse is not dateparser.parse
    assert module.dt_parse.__wrapped__ is dateparser.parse


def test_memo_returns_what_dateutil_returns_for_the_hosts_timestamps(memo_state: None) -> None:
    sdk_speedups.install()
    memo = importlib.import_module(SDK_MODULE).dt_parse
    text = format_timestamp(datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=timezone.utc))

    first, second, plain = memo(text), memo(text), dateparser.parse(text)

    assert first is second
    assert (type(first), first, type(first.tzinfo), first.tzinfo, first.utcoffset()) == (
        type(plain),
        plain,
        type(plain.tzinfo),
        plain.tzinfo,
        plain.utcoffset(),
    )


@pytest.mark.parametrize(
    "text",
    [
        "2031-05-06",
        "2031-05-06T07:08:09Z",
        "2031-05-06T07:08:09.123Z",
        "2031-05-06T07:08:09.1234567+00:00",
        "2031-05-06 07:08:09.1234567Z",
        "２０３１-05-06T07:08:09.1234567Z",
    ],
)
def test_other_shapes_are_parsed_by_dateutil_every_time(memo_state: None, text: str) -> None:
    sdk_speedups.install()
    memo = importlib.import_module(SDK_MODULE).dt_parse
    before = sdk_speedups.cache_info()

    try:
        results = [memo(text), memo(text)]
    except (ValueError, OverflowError) as exc:
        with pytest.raises(type(exc)):
            dateparser.parse(text)
        results = []

    assert sdk_speedups.cache_info() == before
    if results:
        assert results[0] is not results[1] and results[0] == dateparser.parse(text)


def test_an_impossible_date_of_the_right_shape_raises_as_dateutil_does_every_time(memo_state: None) -> None:
    sdk_speedups.install()
    memo = importlib.import_module(SDK_MODULE).dt_parse
    text = "2031-02-30T00:00:00.0000000Z"

    with pytest.raises(ValueError) as plain:
        dateparser.parse(text)
    for _ in range(2):
        with pytest.raises(ValueError) as memoized:
            memo(text)
        assert str(memoized.value) == str(plain.value)


def test_changing_the_process_time_zone_parses_again(memo_state: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk_speedups.install()
    memo = importlib.import_module(SDK_MODULE).dt_parse
    text = "2031-07-01T12:00:00.0000000Z"
    # dateutil answers "Z" with tzlocal() when "UTC" is a local zone name and with tz.UTC otherwise.
    zones = ["UTC0", "CET-1CEST,M3.5.0,M10.5.0/3", "UTC0"]
    try:
        seen = []
        for zone in zones:
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            result, plain = memo(text), dateparser.parse(text)
            assert (result, type(result.tzinfo), result.tzinfo) == (plain, type(plain.tzinfo), plain.tzinfo)
            seen.append(type(result.tzinfo).__name__)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert seen[0] != seen[1] and seen[0] == seen[2]


def test_uninstall_gives_the_sdk_dateutils_parse_back_and_install_is_idempotent(memo_state: None) -> None:
    module = importlib.import_module(SDK_MODULE)

    sdk_speedups.uninstall()
    sdk_speedups.uninstall()
    assert module.dt_parse is dateparser.parse and not sdk_speedups.installed()
    assert sdk_speedups.cache_info() is None

    assert sdk_speedups.install() and sdk_speedups.install()
    memo = module.dt_parse
    assert memo is not dateparser.parse and memo.__wrapped__ is dateparser.parse
    sdk_speedups.install()
    assert module.dt_parse is memo


def test_an_sdk_that_parses_differently_is_left_alone(memo_state: None, monkeypatch: pytest.MonkeyPatch) -> None:
    sdk_speedups.uninstall()
    module = importlib.import_module(SDK_MODULE)

    def other_parse(text: str) -> datetime:
        return datetime.fromisoformat(text)

    monkeypatch.setattr(module, "dt_parse", other_parse)

    assert sdk_speedups.install() is False
    assert module.dt_parse is other_parse and not sdk_speedups.installed()
    assert sdk_speedups.TIMESTAMPS not in sdk_speedups.active()


def test_the_test_kit_runs_apps_with_the_memo(memo_state: None, durable_app: Any) -> None:
    sdk_speedups.uninstall()

    app = durable_app(ROOT)
    instance_id = app.http.post("/api/start_monitoring_job", json_body={"job_id": "memo-kit"}).json()["id"]
    app.wait_for_completion(instance_id)

    assert sdk_speedups.installed()
    assert app.status(instance_id)["runtimeStatus"] == "Completed"
