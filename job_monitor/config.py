"""The monitoring request: its fields, defaults and bounds, validated once at the edge.

:meth:`MonitorRequest.from_body` turns the raw HTTP body into a frozen, fully validated request
or raises :class:`ValidationError` listing every problem. Nothing downstream re-checks types or
ranges. The same rules (:meth:`MonitorRequest.from_mapping`) read the orchestration input, so an
instance started some other way (e.g. the Durable HTTP API) fails loudly instead of misbehaving.

Pure: no I/O, no clock. A new ``job_id`` is only drawn when the caller asks for a default.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Callable

MAX_BODY_BYTES = 64 * 1024
JOB_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
JOB_ID_MAX_LENGTH = 100  # Durable Task Scheduler's instance-id limit; the job id is the instance id.
MAX_POLLING_INTERVAL_SECONDS = 86_400
MAX_TIMEOUT_SECONDS = 604_800  # 7 days
MAX_SIMULATED_DURATION_SECONDS = 604_800
MAX_BATCH_SIZE = 1_000_000
WAIT_STRATEGIES = ("activity", "timer")
OUTCOMES = ("completed", "failed", "stalled")


@dataclass(frozen=True)
class FieldError:
    field: str | None
    """The offending field, or None when the body as a whole is wrong."""
    message: str


class ValidationError(ValueError):
    """The request is invalid. ``field``/``rule`` describe the first problem, ``errors`` all of them."""

    def __init__(self, field: str | None, rule: str, *, errors: Iterable[FieldError] = ()) -> None:
        self.field = field
        self.rule = rule
        self.errors: tuple[FieldError, ...] = tuple(errors) or (FieldError(field, rule),)
        super().__init__(f"{field}: {rule}" if field else rule)

    @classmethod
    def of(cls, errors: list[FieldError]) -> ValidationError:
        return cls(errors[0].field, errors[0].message, errors=errors)

    def to_json(self) -> dict[str, Any]:
        """The 400 response body."""
        return {
            "error": "invalid_request",
            "field": self.field,
            "message": self.rule,
            "errors": [{"field": e.field, "message": e.message} for e in self.errors],
        }


class _Rule(Exception):
    """A single field broke a rule (internal; collected into ValidationError)."""


Check = Callable[[Any], Any]


def _number(low: float, high: float, *, integer: bool = False) -> Check:
    kind = "an integer" if integer else "a number"

    def check(value: Any) -> Any:
        if value is None:
            raise _Rule(f"must be {kind}, not null")
        # bool is a subclass of int in Python, but `true` is not a number in JSON.
        if isinstance(value, bool):
            raise _Rule(f"must be {kind}, not a boolean")
        if integer and not isinstance(value, int):
            raise _Rule("must be an integer")
        if not isinstance(value, (int, float)):
            raise _Rule(f"must be {kind}")
        if isinstance(value, float) and not math.isfinite(value):
            raise _Rule("must be a finite number")
        if not low <= value <= high:
            raise _Rule(f"must be between {_fmt(low)} and {_fmt(high)}")
        return value

    return check


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
"""C0 control characters, DEL and surrogates (a string from JSON can hold an unpaired one)."""


def _string(max_length: int, pattern: re.Pattern[str] | None = None, *, describe: str = "") -> Check:
    def check(value: Any) -> Any:
        if value is None:
            raise _Rule("must be a string, not null")
        if not isinstance(value, str):
            raise _Rule("must be a string")
        if not 1 <= len(value) <= max_length:
            raise _Rule(f"must be 1 to {max_length} characters long")
        if pattern is not None and not pattern.fullmatch(value):
            raise _Rule(describe)
        if _UNPRINTABLE.search(value):
            # Lone surrogates cannot be stored or logged as UTF-8; control characters break logs.
            raise _Rule("must not contain control characters or unpaired surrogates")
        return value

    return check


def _choice(options: tuple[str, ...]) -> Check:
    listed = ", ".join(f"'{o}'" for o in options)

    def check(value: Any) -> Any:
        if value is None:
            raise _Rule(f"must be one of {listed}, not null")
        if not isinstance(value, str) or value not in options:
            raise _Rule(f"must be one of {listed}")
        return value

    return check


def _boolean(value: Any) -> Any:
    if value is None:
        raise _Rule("must be a boolean, not null")
    if not isinstance(value, bool):
        raise _Rule("must be a boolean (true or false)")
    return value


def _fmt(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


_JOB_ID_RULE = "must start with a letter or digit and contain only letters, digits, '.', '_', ':' or '-'"

# Field name -> check. Order = order of the error list. Defaults live on the dataclass.
_CHECKS: dict[str, Check] = {
    "job_id": _string(JOB_ID_MAX_LENGTH, JOB_ID_PATTERN, describe=_JOB_ID_RULE),
    "polling_interval_seconds": _number(1, MAX_POLLING_INTERVAL_SECONDS),
    "timeout_seconds": _number(1, MAX_TIMEOUT_SECONDS),
    "workflow_type": _string(64),
    "batch_size": _number(1, MAX_BATCH_SIZE, integer=True),
    "failure_rate": _number(0, 1),
    "enable_monitoring": _boolean,
    "wait_strategy": _choice(WAIT_STRATEGIES),
    "simulated_duration_seconds": _number(0, MAX_SIMULATED_DURATION_SECONDS),
    "simulated_outcome": _choice(OUTCOMES),
    "error_rate_threshold": _number(0, 1),
}


def new_job_id() -> str:
    """The default job id: ``job-`` + 32 hex digits."""
    return "job-" + uuid.uuid4().hex


@dataclass(frozen=True)
class MonitorRequest:
    """A validated request to monitor one (simulated) job. Field names = JSON field names."""

    job_id: str
    polling_interval_seconds: float = 5
    timeout_seconds: float = 30
    workflow_type: str = "data_processing"
    batch_size: int = 100
    failure_rate: float = 0.1
    enable_monitoring: bool = True
    wait_strategy: str = "activity"
    simulated_duration_seconds: float = 15
    simulated_outcome: str = "completed"
    error_rate_threshold: float = 0.05

    @classmethod
    def from_body(cls, body: bytes, *, default_job_id: Callable[[], str] = new_job_id) -> MonitorRequest:
        """Validate a raw HTTP body. Empty (or blank) means "all defaults"."""
        if len(body) > MAX_BODY_BYTES:
            raise ValidationError(None, f"request body must be at most {MAX_BODY_BYTES} bytes")
        if not body.strip():
            return cls.from_mapping({}, default_job_id=default_job_id)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(None, "request body must be UTF-8 encoded JSON") from None
        try:
            data = json.loads(text.lstrip("\ufeff"), object_pairs_hook=_reject_duplicate_keys)
        except _DuplicateKey as dup:
            raise ValidationError(dup.key, "duplicate field") from None
        except (ValueError, RecursionError) as exc:
            # ValueError covers JSONDecodeError and over-long integer literals; RecursionError
            # covers absurdly deep nesting. Neither may escape as a 500.
            raise ValidationError(None, f"request body must be valid JSON ({_short(exc)})") from None
        if not isinstance(data, dict):
            raise ValidationError(None, "request body must be a JSON object")
        return cls.from_mapping(data, default_job_id=default_job_id)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        default_job_id: Callable[[], str] = new_job_id,
        ignore: Iterable[str] = (),
    ) -> MonitorRequest:
        """Validate already-decoded JSON. Keys in ``ignore`` are skipped (not "unknown")."""
        errors: list[FieldError] = []
        values: dict[str, Any] = {}
        for name, check in _CHECKS.items():
            if name not in data:
                continue
            try:
                values[name] = check(data[name])
            except _Rule as rule:
                errors.append(FieldError(name, str(rule)))
        skipped = set(ignore)
        for name in data:
            if name not in _CHECKS and name not in skipped:
                errors.append(FieldError(str(name)[:100], "unknown field"))
        timing_ok = not any(e.field in ("polling_interval_seconds", "timeout_seconds") for e in errors)
        interval = values.get("polling_interval_seconds", cls.polling_interval_seconds)
        timeout = values.get("timeout_seconds", cls.timeout_seconds)
        if timing_ok and interval > timeout:
            errors.append(FieldError("polling_interval_seconds", f"must not be greater than timeout_seconds ({_fmt(timeout)})"))
        if errors:
            raise ValidationError.of(errors)
        if "job_id" not in values:
            values["job_id"] = default_job_id()
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The request as a flat JSON object (same keys as the HTTP body)."""
        return asdict(self)


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key[:100]


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "..."
