"""The app's functions as the host sees them, once indexed (filled by devhost.runtime.loader)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from devhost.core.ncrontab import Schedule


@dataclass(frozen=True)
class OrchestratorFunction:
    name: str
    handle: Callable[[str], str]
    """The SDK's ``handle(context_json) -> state_json`` (raises with ``$OutOfProcData$`` on failure)."""


@dataclass(frozen=True)
class ActivityFunction:
    name: str
    fn: Callable[..., Any]
    """The user's function, unchanged; call with ``**{input_name: value}``. May be ``async def``."""
    input_name: str
    durable_client_args: list[str] = field(default_factory=list)
    """Names of durableClient input bindings declared on the activity: pass each the binding JSON string."""

    @property
    def is_async(self) -> bool:
        """An ``async def`` (runs on the loop) rather than a sync function (runs on a worker thread)."""
        return inspect.iscoroutinefunction(self.fn)


@dataclass(frozen=True)
class EntityFunction:
    name: str
    handle: Callable[..., Any]
    """The SDK's ``Entity.create`` handle: entity context in, ``EntityState`` JSON out (keyword args only)."""
    context_arg: str = "context"
    """The trigger's binding name: the parameter the entity context is passed as."""
    durable_client_args: list[str] = field(default_factory=list)
    """Names of durableClient input bindings declared on the entity: pass each the binding JSON string."""


@dataclass(frozen=True)
class HttpFunction:
    name: str
    fn: Callable[..., Any]
    """The user's function as registered (the durable client middleware included); keyword args only."""
    route: str
    """Route template without the prefix, e.g. ``job_status/{jobId}`` (the function name if unset)."""
    methods: list[str] | None
    """Upper-case method names, or None for all methods."""
    request_arg: str
    durable_client_args: list[str] = field(default_factory=list)
    """Names of durableClient input bindings: pass each the binding JSON string."""
    context_arg: str | None = None
    """Name of a ``context`` parameter (func.Context) if the function declares one."""

    @property
    def is_async(self) -> bool:
        """An ``async def`` (runs on the loop) rather than a sync function (runs on a worker thread)."""
        return inspect.iscoroutinefunction(self.fn)


@dataclass(frozen=True)
class TimerFunction:
    """A timer-triggered function (``@app.timer_trigger``), run by devhost.runtime.timer_triggers."""

    name: str
    fn: Callable[..., Any]
    """The user's function as registered (the durable client middleware included); keyword args only."""
    arg_name: str
    schedule: Schedule
    """The parsed schedule (app-setting references like ``%NAME%`` already resolved)."""
    run_on_startup: bool = False
    use_monitor: bool = True
    """Keep the schedule status across restarts (the extension's default; off for sub-minute schedules)."""
    durable_client_args: list[str] = field(default_factory=list)
    context_arg: str | None = None


@dataclass(frozen=True)
class SkippedFunction:
    """A function whose trigger devhost does not run (queue, blob, Event Hubs, Service Bus, ...)."""

    name: str
    trigger: str


@dataclass
class FunctionRegistry:
    orchestrators: dict[str, OrchestratorFunction] = field(default_factory=dict)
    activities: dict[str, ActivityFunction] = field(default_factory=dict)
    entities: dict[str, EntityFunction] = field(default_factory=dict)
    http: list[HttpFunction] = field(default_factory=list)
    timers: dict[str, TimerFunction] = field(default_factory=dict)
    skipped: list[SkippedFunction] = field(default_factory=list)
