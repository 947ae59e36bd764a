"""App configuration: ``local.settings.json`` values into the environment, ``host.json`` into HostSettings.

Mirrors what ``func start`` and the Durable extension read at startup, and nothing more: the HTTP route
prefix, the task hub name (with ``%SETTING%`` substitution), the concurrency limits, the default
orchestration version with its versioning strategies, the storage provider type (which decides the timer
properties sent to the SDK), the ``logging.logLevel`` categories (applied by :mod:`devhost.runtime.loglevels`),
the Event Grid lifecycle notifications (``notifications.eventGrid``, see :class:`EventGridSettings`) and the CORS
settings of local.settings.json's ``Host`` section.
Every problem is a :class:`~devhost.core.errors.StartupError` with a one-line message.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from devhost.core.context import ReplaySettings
from devhost.core.errors import StartupError
from devhost.core.ncrontab import parse_timespan
from devhost.core.notifications import parse_publish_event_types
from devhost.core.versioning import FailureStrategy, MatchStrategy, Versioning
from devhost.runtime.loglevels import LEVEL_NAMES, LEVELS

STORE_RELATIVE_PATH = Path(".devhost") / "store.sqlite3"
"""Where an app's store lives unless told otherwise, relative to its directory (the host and ``replay``)."""

DEFAULT_HUB_NAME = "TestHubName"
DEFAULT_ROUTE_PREFIX = "api"

# Canonical spellings; host.json matches them case-insensitively (DurableTaskExtension.cs).
_PROVIDERS: tuple[str, ...] = ("AzureStorage", "azureManaged", "mssql", "netherite")

# Protocol §1.7: the Azure Storage provider sends these two TimeSpans (long timers become a chain of
# ≤3-day timers); the other providers leave MaximumDelayTime at TimeSpan.Zero, i.e. "00:00:00",
# which SDK ≥1.3.2 reads as "no long-timer splitting".
_AZURE_STORAGE_TIMERS = ("6.00:00:00", "3.00:00:00")
_NO_LONG_TIMERS = ("00:00:00", "00:00:00")

_SETTING_REF = re.compile(r"%([^%]+)%")

DEFAULT_FUNCTION_TIMEOUT = 30 * 60.0
"""The Functions host's default ``functionTimeout`` outside the Consumption plan (Premium, Dedicated, Flex
Consumption and a local ``func start``): 30 minutes ("host.json reference for Azure Functions 2.x and later",
functionTimeout: "Premium/Dedicated: default 30 minutes, no maximum"; the Consumption plan's default is 5)."""

WORKER_PROCESS_COUNT = "FUNCTIONS_WORKER_PROCESS_COUNT"
_MAX_WORKER_PROCESSES = 10  # the documented maximum of FUNCTIONS_WORKER_PROCESS_COUNT (app settings reference)
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.\d+)?$")


def parse_function_timeout(value: Any) -> float | None:
    """host.json ``functionTimeout`` (a TimeSpan ``hh:mm:ss``, or ``-1`` for no limit) in seconds."""
    if value is None:
        return DEFAULT_FUNCTION_TIMEOUT
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text == "-1":
        return None
    match = _TIMESPAN.match(text or "")
    if match is None:
        raise StartupError(f'host.json: functionTimeout must be a TimeSpan like "00:05:00" or -1, got {json.dumps(value)}')
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if minutes > 59 or seconds > 59:
        raise StartupError(f"host.json: functionTimeout {json.dumps(value)} is not a valid TimeSpan")
    total = float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)
    if total <= 0:
        raise StartupError(f"host.json: functionTimeout must be positive or -1, got {json.dumps(value)}")
    return total


def worker_process_count(env: Mapping[str, str]) -> int:
    """``FUNCTIONS_WORKER_PROCESS_COUNT`` from the app settings: 1 to 10, default 1."""
    text = env.get(WORKER_PROCESS_COUNT, "").strip()
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= _MAX_WORKER_PROCESSES:
        raise StartupError(f"{WORKER_PROCESS_COUNT} must be a whole number from 1 to {_MAX_WORKER_PROCESSES}, got {text!r}")
    return int(text)


def _dedicated_plan_default() -> int:
    # Durable extension default on Dedicated/Premium plans: 10 × processor count (host.json docs, C.2).
    return 10 * (os.cpu_count() or 1)


@dataclass(frozen=True)
class EventGridSettings:
    """host.json ``extensions.durableTask.notifications.eventGrid`` as the extension reads it
    (EventGridNotificationOptions.cs; EventGridLifeCycleNotificationHelper.cs:29-129)."""

    topic_endpoint: str
    """The topic URL, ``%SETTING%`` resolved (TryResolveWholeString, helper :52-55)."""
    key_setting_name: str
    key: str
    """The app setting's value, sent as the ``aeg-sas-key`` header (helper :49, :143)."""
    publish_statuses: frozenset[str]
    """Runtime statuses to publish (``publishEventTypes``; empty or absent: all)."""
    retry_count: int = 0
    """``publishRetryCount``: attempts after the first (HttpRetryMessageHandler loops while count >= tries, :436)."""
    retry_interval: timedelta = timedelta(minutes=5)
    """``publishRetryInterval`` (TimeSpan text; default 5 minutes, more than 0 and at most 60)."""
    retry_statuses: frozenset[int] = frozenset()
    """``publishRetryHttpStatus``: failing statuses that are retried; 503 always is (helper :419)."""


@dataclass
class HostSettings:
    route_prefix: str = DEFAULT_ROUTE_PREFIX
    hub_name: str = DEFAULT_HUB_NAME
    max_concurrent_activities: int = field(default_factory=_dedicated_plan_default)
    max_concurrent_orchestrations: int = field(default_factory=_dedicated_plan_default)
    default_version: str = ""
    storage_provider_type: str = "AzureStorage"
    max_short_timer: str | None = _AZURE_STORAGE_TIMERS[0]
    """``maximumShortTimerDuration`` sent in the orchestrator context (TimeSpan text)."""
    long_timer_interval: str | None = _AZURE_STORAGE_TIMERS[1]
    """``longRunningTimerIntervalDuration`` sent in the orchestrator context (TimeSpan text)."""
    event_grid: EventGridSettings | None = None
    """Lifecycle notifications, when host.json configures a topic endpoint."""
    versioning: Versioning | None = None
    """Worker versioning; None (no ``defaultVersion`` nor strategy in host.json) runs every version."""
    log_levels: dict[str, int] = field(default_factory=dict)
    """host.json ``logging.logLevel``: category (``default``, ``Function``, ``Function.<name>``, ...) → Python level."""
    function_timeout: float | None = DEFAULT_FUNCTION_TIMEOUT
    """host.json ``functionTimeout`` in seconds; None for ``-1`` (no limit). See DEFAULT_FUNCTION_TIMEOUT."""
    worker_process_count: int = 1
    """``FUNCTIONS_WORKER_PROCESS_COUNT``: how many language-worker processes run the app (default 1, as in Azure)."""
    cors_origins: tuple[str, ...] = ()
    """local.settings.json ``Host.CORS``: the origins allowed to call the host from a browser (``*``: any)."""
    cors_credentials: bool = False
    """local.settings.json ``Host.CORSCredentials``: allow cookies and the Authorization header cross-origin."""

    def replay_settings(self) -> ReplaySettings:
        """The timer values sent with every episode (None, an unset TimeSpan, is sent as ``00:00:00``)."""
        return ReplaySettings(
            maximum_short_timer_duration=self.max_short_timer or "00:00:00",
            long_running_timer_interval_duration=self.long_timer_interval or "00:00:00",
        )


def default_store_path(app_dir: Path) -> Path:
    """The store file of the app in ``app_dir`` when no other is given."""
    return Path(app_dir) / STORE_RELATIVE_PATH


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # func accepts files saved with a BOM
    except OSError as exc:
        raise StartupError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StartupError(f"{path.name} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict):
        raise StartupError(f"{path.name} must contain a JSON object")
    return data


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def load_local_settings(app_dir: Path, environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Read ``local.settings.json``'s ``Values`` and apply them to ``environ`` (``os.environ`` by default).

    Like ``func``, variables already present in the environment win. A missing file means no values.
    Returns the file's values (as strings), whether or not they were applied.
    """
    target = os.environ if environ is None else environ
    path = Path(app_dir) / "local.settings.json"
    if not path.is_file():
        return {}
    values = _read_json(path).get("Values") or {}
    if not isinstance(values, dict):
        raise StartupError("local.settings.json: 'Values' must be an object")
    settings = {str(key): _setting_text(value) for key, value in values.items() if value is not None}
    for key, value in settings.items():
        target.setdefault(key, value)
    return settings


# ASP.NET Core's CorsPolicyBuilder.Build() refuses this combination with this text, so func start fails on it.
_INSECURE_CORS = (
    "The CORS protocol does not allow specifying a wildcard (any) origin and credentials at the same time. "
    "Configure the CORS policy by listing individual origins if credentials needs to be supported."
)


def load_cors_settings(app_dir: Path) -> tuple[tuple[str, ...], bool]:
    """``Host.CORS`` and ``Host.CORSCredentials`` of local.settings.json, as ``func start`` reads them.

    Core Tools deserialises the ``Host`` section into ``HostStartSettings`` (``CORS`` a string, ``CORSCredentials``
    a bool) and splits ``CORS`` on commas, dropping empty entries but not trimming blanks (its ``--cors`` help:
    "A comma separated list of CORS origins with no spaces"); credentials count only when origins are given
    (azure-functions-core-tools, src/Azure.Functions.Cli/Actions/HostActions/Startup.cs, the constructor).
    """
    path = Path(app_dir) / "local.settings.json"
    if not path.is_file():
        return (), False
    host = _read_json(path).get("Host") or {}
    if not isinstance(host, dict):
        raise StartupError("local.settings.json: 'Host' must be an object")
    cors = host.get("CORS") or ""
    if not isinstance(cors, str):
        raise StartupError("local.settings.json: Host.CORS must be a string of comma-separated origins")
    credentials = host.get("CORSCredentials", False)
    if isinstance(credentials, str) and credentials.strip().lower() in ("true", "false"):
        credentials = credentials.strip().lower() == "true"  # Newtonsoft reads "true"/"false" strings as bools
    if not isinstance(credentials, bool):
        raise StartupError(f"local.settings.json: Host.CORSCredentials must be true or false, got {json.dumps(credentials)}")
    origins = tuple(origin for origin in cors.split(",") if origin)
    if not origins:
        return (), False
    if credentials and "*" in origins:
        raise StartupError(f"local.settings.json: Host.CORS: {_INSECURE_CORS}")
    return origins, credentials


def _resolve_settings(text: str, env: Mapping[str, str], where: str) -> str:
    """Replace every ``%NAME%`` with the app setting NAME (the host's INameResolver.ResolveWholeString)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise StartupError(f"host.json: {where} refers to app setting '{name}', which is not set")
        return env[name]

    return _SETTING_REF.sub(replace, text)


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise StartupError(f"host.json: {where} must be a positive integer, got {json.dumps(value)}")
    return value


def _object(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key) or {}
    if not isinstance(value, dict):
        raise StartupError(f"host.json: {where} must be an object")
    return value


def _log_levels(section: dict[str, Any]) -> dict[str, int]:
    """``logging.logLevel`` as the host reads it: level names in any case (LogLevel enum parsing)."""
    levels: dict[str, int] = {}
    for category, name in section.items():
        level = LEVELS.get(name.lower()) if isinstance(name, str) else None
        if not category.strip() or level is None:
            raise StartupError(
                f"host.json: logging.logLevel.{category} must be one of {', '.join(LEVEL_NAMES)}, got {json.dumps(name)}"
            )
        levels[category] = level
    return levels


def load_host_settings(app_dir: Path, env: Mapping[str, str] | None = None) -> HostSettings:
    """Read ``host.json`` (missing file → defaults). ``env`` resolves ``%SETTING%`` references."""
    env = os.environ if env is None else env
    path = Path(app_dir) / "host.json"
    root = _read_json(path) if path.is_file() else {}
    extensions = _object(root, "extensions", "extensions")
    http = _object(extensions, "http", "extensions.http")
    durable = _object(extensions, "durableTask", "extensions.durableTask")
    provider = _object(durable, "storageProvider", "extensions.durableTask.storageProvider")

    settings = HostSettings()
    settings.log_levels = _log_levels(_object(_object(root, "logging", "logging"), "logLevel", "logging.logLevel"))
    settings.function_timeout = parse_function_timeout(root.get("functionTimeout"))
    settings.worker_process_count = worker_process_count(env)

    prefix = http.get("routePrefix", DEFAULT_ROUTE_PREFIX)
    if not isinstance(prefix, str):
        raise StartupError("host.json: extensions.http.routePrefix must be a string")
    settings.route_prefix = prefix.strip("/")

    hub = durable.get("hubName", DEFAULT_HUB_NAME)
    if not isinstance(hub, str):
        raise StartupError("host.json: extensions.durableTask.hubName must be a string")
    hub = _resolve_settings(hub, env, "extensions.durableTask.hubName").strip()
    if not hub:
        raise StartupError("host.json: extensions.durableTask.hubName is empty")
    settings.hub_name = hub

    if "maxConcurrentActivityFunctions" in durable:
        settings.max_concurrent_activities = _positive_int(
            durable["maxConcurrentActivityFunctions"], "extensions.durableTask.maxConcurrentActivityFunctions"
        )
    if "maxConcurrentOrchestratorFunctions" in durable:
        settings.max_concurrent_orchestrations = _positive_int(
            durable["maxConcurrentOrchestratorFunctions"], "extensions.durableTask.maxConcurrentOrchestratorFunctions"
        )

    version = durable.get("defaultVersion", "")
    if not isinstance(version, str):
        raise StartupError("host.json: extensions.durableTask.defaultVersion must be a string")
    settings.default_version = _resolve_settings(version, env, "extensions.durableTask.defaultVersion")
    settings.versioning = _versioning(durable, settings.default_version)

    kind = provider.get("type") or "AzureStorage"
    canonical = {name.lower(): name for name in _PROVIDERS}.get(str(kind).lower())
    if canonical is None:
        # The extension's own startup error text (DurableTaskExtension.cs).
        raise StartupError(f"Storage provider type ({kind}) was not found. Available storage providers: {', '.join(_PROVIDERS)}.")
    settings.storage_provider_type = canonical
    settings.max_short_timer, settings.long_timer_interval = (
        _AZURE_STORAGE_TIMERS if canonical == "AzureStorage" else _NO_LONG_TIMERS
    )
    notifications = _object(durable, "notifications", "extensions.durableTask.notifications")
    settings.event_grid = _event_grid(_object(notifications, "eventGrid", _EVENT_GRID), env)
    settings.cors_origins, settings.cors_credentials = load_cors_settings(app_dir)
    return settings


def _versioning(durable: Mapping[str, Any], version: str) -> Versioning | None:
    """``versionMatchStrategy`` (None, Strict, CurrentOrOlder; default CurrentOrOlder) and ``versionFailureStrategy``
    (Reject, Fail; default Reject), names matched case-insensitively as .NET binds enums. Versioning applies once
    ``defaultVersion`` or either strategy is set, so an app that uses none of them runs every version."""
    keys = ("versionMatchStrategy", "versionFailureStrategy")
    if not version and not any(key in durable for key in keys):
        return None
    match = _strategy(durable, keys[0], MatchStrategy, MatchStrategy.CURRENT_OR_OLDER)
    failure = _strategy(durable, keys[1], FailureStrategy, FailureStrategy.REJECT)
    return Versioning(version, match, failure)


def _strategy(durable: Mapping[str, Any], key: str, kind: Any, default: Any) -> Any:
    if key not in durable:
        return default
    value = durable[key]
    found = {member.value.lower(): member for member in kind}.get(str(value).lower()) if isinstance(value, str) else None
    if found is None:
        names = ", ".join(member.value for member in kind)
        raise StartupError(f"host.json: extensions.durableTask.{key} must be one of {names}, not {json.dumps(value)}")
    return found


_EVENT_GRID = "extensions.durableTask.notifications.eventGrid"
_NOT_STARTED = "Failed to start lifecycle notification feature."


def _event_grid(section: dict[str, Any], env: Mapping[str, str]) -> EventGridSettings | None:
    """The Event Grid settings, None when no topic endpoint is configured (the extension then sends nothing)."""
    endpoint = section.get("topicEndpoint") or ""
    key_setting = section.get("keySettingName") or ""
    if not isinstance(endpoint, str) or not isinstance(key_setting, str):
        raise StartupError(f"host.json: {_EVENT_GRID}.topicEndpoint and keySettingName must be strings")
    endpoint = _resolve_settings(endpoint, env, f"{_EVENT_GRID}.topicEndpoint").strip()
    if not endpoint:
        return None
    if not key_setting:  # the extension's ArgumentException texts (helper :121, :126)
        raise StartupError(f"{_NOT_STARTED} Please check the configuration values for {endpoint} and {key_setting}.")
    key = env.get(key_setting, "")
    if not key:
        raise StartupError(f"{_NOT_STARTED} Please check the configuration values for {key_setting} on AppSettings.")
    if not endpoint.lower().startswith(("http://", "https://")):
        raise StartupError(f"host.json: {_EVENT_GRID}.topicEndpoint must be an http(s) URL, got {endpoint!r}")
    types = section.get("publishEventTypes") or []
    if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
        raise StartupError(f"host.json: {_EVENT_GRID}.publishEventTypes must be a list of strings")
    try:
        statuses = parse_publish_event_types(types)
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    count = section.get("publishRetryCount", 0)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise StartupError(f"host.json: {_EVENT_GRID}.publishRetryCount must be a non-negative integer, got {json.dumps(count)}")
    interval_text = section.get("publishRetryInterval", "00:05:00")
    interval = parse_timespan(interval_text) if isinstance(interval_text, str) else None
    if interval is None:
        raise StartupError(f"host.json: {_EVENT_GRID}.publishRetryInterval must be a TimeSpan like 00:05:00")
    if interval <= timedelta(0) or interval > timedelta(minutes=60):  # EventGridNotificationOptions.Validate
        raise StartupError("PublishRetryInterval must be non-negative and no more than 60 minutes.")
    codes = section.get("publishRetryHttpStatus") or []
    if not isinstance(codes, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in codes):
        raise StartupError(f"host.json: {_EVENT_GRID}.publishRetryHttpStatus must be a list of HTTP status codes")
    return EventGridSettings(
        topic_endpoint=endpoint,
        key_setting_name=key_setting,
        key=key,
        publish_statuses=statuses,
        retry_count=count,
        retry_interval=interval,
        retry_statuses=frozenset(c for c in codes if 100 <= c <= 599),  # Enum.IsDefined(HttpStatusCode) filter, :63-67
    )
