"""The SDK's one-line property getters read in C (devhost.runtime.sdk_getters) answer as the Python getters they replace.

Only a getter that is exactly ``return self.<name>`` is replaced, by a property reading that same attribute with the
same setter, deleter and doc. The replay of recorded histories with and without every speedup is in
``test_sdk_timestamp_memo.py``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest
from azure.durable_functions.models.history.HistoryEvent import HistoryEvent

from devhost.runtime import sdk_getters, sdk_speedups

SPECIALISED = sys.version_info >= (3, 12)
"""Whether this interpreter specialises property reads itself (then nothing is replaced)."""


class Sample:
    def __init__(self) -> None:
        self._x = 1

    def plain(self) -> int:
        return self._x

    def chained(self) -> Any:
        return self._x.real

    def computed(self) -> Any:
        return self._x or None

    def two_steps(self) -> int:
        value = self._x
        return value

    def other(self, other: Any) -> Any:
        return other._x


def test_only_a_getter_returning_one_attribute_of_its_argument_counts_as_trivial() -> None:
    def closure() -> Any:
        captured = 1

        def getter(self: Any) -> Any:
            return captured

        return getter

    assert sdk_getters.returned_attribute(Sample.plain) == "_x"
    assert sdk_getters.returned_attribute(lambda self: self.name) == "name"
    for getter in (Sample.chained, Sample.computed, Sample.two_steps, Sample.other, closure(), len, None):
        assert sdk_getters.returned_attribute(getter) is None, getter


@pytest.mark.skipif(SPECIALISED, reason="3.12 and later specialise property reads: nothing is replaced")
def test_every_twin_reads_what_its_getter_reads_and_keeps_its_setter_deleter_and_doc(memo_state: None) -> None:
    sdk_speedups.uninstall()
    twins = sdk_getters.trivial_getters()

    names = {f"{klass.__name__}.{name}" for klass, name, _ in twins}
    assert {"HistoryEvent.event_type", "HistoryEvent.timestamp", "DurableOrchestrationContext.is_replaying"} <= names
    for klass, name, twin in twins:
        original = vars(klass)[name]
        attribute = sdk_getters.returned_attribute(original.fget)
        assert attribute is not None
        assert (twin.fset, twin.fdel, twin.__doc__) == (original.fset, original.fdel, original.__doc__)
        probe = object.__new__(klass)
        with pytest.raises(AttributeError):
            original.fget(probe)
        with pytest.raises(AttributeError):
            twin.fget(probe)
        marker = object()
        vars(probe)[attribute] = marker
        assert twin.fget(probe) is original.fget(probe) is marker, f"{klass.__name__}.{name}"


def test_the_replay_modules_define_the_classes_replaced_and_no_client_class_is_touched(memo_state: None) -> None:
    sdk_speedups.uninstall()

    owners = {klass.__module__ for klass, _, _ in sdk_getters.trivial_getters()}

    assert owners <= set(sdk_getters.REPLAY_MODULES)
    if not SPECIALISED:
        assert "azure.durable_functions.models.history.HistoryEvent" in owners


@pytest.mark.skipif(SPECIALISED, reason="3.12 and later specialise property reads: nothing is replaced")
def test_install_replaces_the_getters_and_uninstall_gives_the_originals_back(memo_state: None) -> None:
    sdk_speedups.uninstall()
    original = vars(HistoryEvent)["event_type"]
    event = HistoryEvent(EventType=4, EventId=-1, IsPlayed=False, Timestamp="2031-05-06T07:08:09.1234567Z")

    sdk_speedups.install()
    replaced = vars(HistoryEvent)["event_type"]
    sdk_speedups.uninstall()

    assert sdk_speedups.TRIVIAL_GETTERS not in sdk_speedups.active()
    assert replaced is not original and vars(HistoryEvent)["event_type"] is original
    assert replaced.fget(event) == original.fget(event) == 4
    context_module = importlib.import_module("azure.durable_functions.models.DurableOrchestrationContext")
    assert type(vars(context_module.DurableOrchestrationContext)["is_replaying"].fget).__name__ == "function"
