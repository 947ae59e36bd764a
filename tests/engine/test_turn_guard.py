"""A turn decided while HTTP handlers could run (in a worker process) is applied only to the instance it was
loaded from: purged or replaced meanwhile, the engine drops it (``TurnDecider.still_current``)."""

from __future__ import annotations

from devhost.clock import VirtualClock
from devhost.runtime.config import HostSettings
from devhost.runtime.invoker import Invoker
from devhost.runtime.registry import FunctionRegistry
from devhost.runtime.turns import PreparedTurn, TurnDecider
from devhost.store.memory import MemoryStore
from tests.store_contract import FAR, at, make_instance, message, start, start_message


def prepared_turn(store: MemoryStore) -> tuple[TurnDecider, PreparedTurn]:
    clock = VirtualClock()
    decider = TurnDecider(store, clock, FunctionRegistry(), HostSettings(), Invoker(clock), None)
    start(store, "i1")
    store.send_message(message("i1", Name="go"))
    turn = store.load_turn("i1", FAR)
    assert turn is not None
    return decider, PreparedTurn(turn)


def test_a_turn_of_an_untouched_instance_is_still_current() -> None:
    store = MemoryStore()
    decider, prepared = prepared_turn(store)

    assert decider.still_current(prepared)


def test_a_turn_of_a_purged_instance_is_not_current() -> None:
    store = MemoryStore()
    decider, prepared = prepared_turn(store)

    store.purge_instance("i1")

    assert not decider.still_current(prepared)


def test_a_turn_of_an_instance_replaced_under_the_same_id_is_not_current() -> None:
    store = MemoryStore()
    decider, prepared = prepared_turn(store)

    store.purge_instance("i1")
    store.create_instance(make_instance("i1", execution_id="e2", created=at(5)), start_message("i1", at(5)))

    assert not decider.still_current(prepared)
