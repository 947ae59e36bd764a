"""The frames host and worker exchange over one duplex pipe (``multiprocessing.Connection``, pickled tuples).

Host → worker: ``(CALL, call_id, kind, payload, now)``, ``(WOKE, sleep_id, now)``, ``(STOP,)``.
Worker → host: ``(READY, pid)``, ``(LOAD_FAILED, message)``, ``(DONE, call_id, outcome)``,
``(SLEEP, sleep_id, seconds)``, ``(LOG, logger, level, message, function or None)``.

``now`` is the host clock's time (POSIX seconds) or None on the real clock: while anything runs, virtual
time stands still, so the time a function sees is the time its call started or its last sleep ended.
Payloads and outcomes are plain tuples, dicts, str and bytes: cheap to pickle, nothing app-defined.
"""

from __future__ import annotations

from typing import Any

CALL = "call"
WOKE = "woke"
STOP = "stop"
READY = "ready"
LOAD_FAILED = "load-failed"
DONE = "done"
SLEEP = "sleep"
LOG = "log"

# Call kinds.
ACTIVITY = "activity"
ORCHESTRATOR = "orchestrator"
ENTITY = "entity"
HTTP = "http"
TIMER = "timer"

# Outcome tags.
OK = "ok"
FAILED = "failed"

Frame = tuple[Any, ...]
