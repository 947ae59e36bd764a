"""The app's functions as the host sees them, once indexed (filled by devhost.runtime.loader)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional


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

    @property
    def is_async(self) -> bool:
        """An ``async def`` (runs on the loop) rather than a sync function (runs on a worker thread)."""
        return inspect.iscoroutinefunction(self.fn)


@dataclass(frozen=True)
class EntityFunction:
    name: str
    handle: Callable[[str], str]


@dataclass(frozen=True)
class HttpFunction:
    name: str
    fn: Callable[..., Any]
    """The user's function as registered (the durable client middleware included); keyword args only."""
    route: str
    """Route template without the prefix, e.g. ``job_status/{jobId}`` (the function name if unset)."""
    methods: Optional[List[str]]
    """Upper-case method names, or None for all methods."""
    request_arg: str
    durable_client_args: List[str] = field(default_factory=list)
    """Names of durableClient input bindings: pass each the binding JSON string."""
    context_arg: Optional[str] = None
    """Name of a ``context`` parameter (func.Context) if the function declares one."""

    @property
    def is_async(self) -> bool:
        """An ``async def`` (runs on the loop) rather than a sync function (runs on a worker thread)."""
        return inspect.iscoroutinefunction(self.fn)


@dataclass
class FunctionRegistry:
    orchestrators: Dict[str, OrchestratorFunction] = field(default_factory=dict)
    activities: Dict[str, ActivityFunction] = field(default_factory=dict)
    entities: Dict[str, EntityFunction] = field(default_factory=dict)
    http: List[HttpFunction] = field(default_factory=list)
