"""A tiny in-memory driver for devhost.core.turn: applies TurnCommits to plain lists, runs activities inline.

It exists to test the pure core against the real SDK without a store or an event loop; the engine's own
tests run the same apps on the real SqliteStore.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List

from devhost.core import events
from devhost.core.model import Instance, Message, RuntimeStatus, Turn
from devhost.core.results import activity_failure, activity_result
from devhost.core.turn import TurnEnv, decide_turn

T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


def handles(app: Any) -> Dict[str, Callable[[str], str]]:
    out = {}
    for function in app.get_functions():
        trigger = function.get_trigger()
        if trigger.get_binding_name() == "orchestrationTrigger":
            out[function.get_function_name()] = function.get_user_function()
    return out


@dataclass
class Driver:
    orchestrators: Dict[str, Callable[[str], str]]
    activities: Dict[str, Callable[[Any], Any]]
    now: datetime = T0
    instances: Dict[str, Instance] = field(default_factory=dict)
    histories: Dict[str, List[dict]] = field(default_factory=dict)
    messages: List[Message] = field(default_factory=list)
    ids: Any = field(default_factory=lambda: itertools.count(1))

    def start(self, name: str, input_value: Any = None, instance_id: str = "i1") -> str:
        execution_id = f"e{next(self.ids)}"
        text = None if input_value is None else json.dumps(json.dumps(input_value))
        self.instances[instance_id] = Instance(instance_id, name, execution_id, RuntimeStatus.PENDING, self.now, self.now, input=text)
        self.histories[instance_id] = []
        start = events.execution_started(self.now, instance_id=instance_id, execution_id=execution_id, name=name, input_text=text)
        self._send(Message(instance_id, start, self.now, execution_id))
        return instance_id

    def raise_event(self, instance_id: str, name: str, data: Any) -> None:
        self._send(Message(instance_id, events.event_raised(self.now, name, json.dumps(data)), self.now))

    def _send(self, message: Message) -> None:
        message.id = next(self.ids)
        self.messages.append(message)

    def turn(self, instance_id: str):
        instance = self.instances[instance_id]
        ready = [m for m in self.messages if m.instance_id == instance_id and m.visible_at <= self.now
                 and (m.execution_id in (None, instance.execution_id))]
        ready.sort(key=lambda m: (m.visible_at, m.id))
        env = TurnEnv(now=self.now, orchestrator=self.orchestrators.get(instance.name),
                      known_orchestrators=self.orchestrators.keys(), new_id=lambda: f"x{next(self.ids)}")
        commit = decide_turn(Turn.of_events(replace(instance), self.histories[instance_id], ready), env)
        consumed = set(commit.consumed_message_ids)
        self.messages = [m for m in self.messages if m.id not in consumed]
        if commit.replace_history:
            self.histories[instance_id] = list(commit.new_history)
            self.messages = [m for m in self.messages if not (m.instance_id == instance_id and m.execution_id == instance.execution_id)]
        else:
            self.histories[instance_id].extend(commit.new_history)
        self.messages = [m for m in self.messages if not (
            m.instance_id == instance_id and m.event["EventType"] == 11 and m.event.get("TimerId") in commit.cancelled_timer_ids)]
        if commit.clear_pending:
            self.messages = [m for m in self.messages if m.instance_id != instance_id]
        self.instances[instance_id] = commit.instance
        for child in commit.new_instances:
            self.instances[child.instance_id] = child
            self.histories[child.instance_id] = []
        for message in commit.new_messages:
            if message.instance_id in self.instances:
                self._send(message)
        for item in commit.new_activities:
            try:
                result = self.activities[item.name](json.loads(item.input) if item.input else None)
                self._send(activity_result(item, self.now, json.dumps(result)))
            except Exception as exc:  # the activity's failure, reported like the extension does
                self._send(activity_failure(item, self.now, f"Activity function '{item.name}' failed: {exc}", type(exc).__name__))
        return commit

    def run(self, max_turns: int = 500) -> None:
        """Run turns until nothing is deliverable, skipping time to the next message."""
        for _ in range(max_turns):
            ready = sorted({m.instance_id for m in self.messages if m.visible_at <= self.now})
            if ready:
                for instance_id in ready:
                    self.turn(instance_id)
                continue
            if not self.messages:
                return
            self.now = min(m.visible_at for m in self.messages)
        raise AssertionError("did not settle")

    def history(self, instance_id: str = "i1") -> List[dict]:
        return self.histories[instance_id]

    def status(self, instance_id: str = "i1") -> Instance:
        return self.instances[instance_id]
