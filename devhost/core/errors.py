"""The one error tree of devhost. HTTP status codes are assigned in devhost.http.errors, nowhere else."""

from __future__ import annotations


class DevhostError(Exception):
    """Base of every error devhost raises on purpose."""


class BadRequest(DevhostError):
    """The caller sent something invalid (an argument, a body, a query value)."""


class NotFound(DevhostError):
    """No such instance, function or route."""


class Gone(DevhostError):
    """The instance exists but is in a state that no longer accepts the operation (410)."""


class Conflict(DevhostError):
    """The operation clashes with the instance's current state (e.g. starting over a running instance)."""


class UnsupportedMediaType(BadRequest):
    """A body that must be JSON came with another content type."""


class InstanceExists(Conflict):
    """An instance with this id is already running (Pending, Running, Suspended)."""


class ResultNotRecorded(Conflict):
    """A turn of a group commit consumed an activity result that could not be recorded (its work item was gone:
    the instance was purged, restarted or rewound meanwhile); the turn is written nothing and decided again."""


class StoreUnavailable(DevhostError):
    """The store cannot do its work right now (disk full, I/O error, database locked); nothing was written.
    Clients get a 503; the engine retries."""


class StartupError(DevhostError):
    """The host cannot start: bad flags, a missing or broken app, a busy port. Printed as one line."""


class StoreInUse(StartupError):
    """The store file is locked by another devhost process (one process per store)."""


class AppLoadError(StartupError):
    """``function_app.py`` is missing, fails to import, or declares invalid functions."""


class TurnAborted(DevhostError):
    """The orchestrator could not finish its turn for a reason outside the app's code (its language worker died
    or timed out): nothing of the turn is committed, and the host runs it again (DTFx abandons the work item)."""
