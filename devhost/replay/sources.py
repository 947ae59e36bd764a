"""Where replay recordings come from: history JSON files, status documents, a devhost store; and the app.

File formats (detected from the content):

- the save format ``{"name": ..., "instanceId": ..., "input": ..., "history": [raw events]}`` written by
  :func:`save_recording` (``input`` is the instance's stored input *text*, e.g. ``"\\"abc\\""`` for an SDK
  ``start_new("...", client_input="abc")``; a non-string value is taken as the input value itself);
- a bare raw history list (integer ``EventType``), as the pytest handle's ``history()`` returns;
- a status document from ``GET .../instances/{id}?showHistory=true&showHistoryOutput=true`` (API notes B.3),
  or its bare ``historyEvents`` list (``EventType`` names).

Status documents are read by :mod:`devhost.replay.status` (the extension's shaping is undone there).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from devhost.core.errors import StartupError, StoreInUse
from devhost.core.model import EventType, HistoryEvent, InstanceQuery
from devhost.core.protocol import parse_event_type
from devhost.replay.model import Recording, RecordingError, ReplayTarget
from devhost.replay.runner import input_from_started
from devhost.replay.status import status_recording
from devhost.runtime.config import HostSettings, load_host_settings, load_local_settings
from devhost.runtime.loader import load_app
from devhost.runtime.registry import FunctionRegistry
from devhost.store.sqlite import SqliteStore

PathLike = Union[str, "os.PathLike[str]"]
NO_HISTORY_FILES = "no *.json history files"


@dataclass(frozen=True)
class LoadError:
    """A file that could not be read as a recording."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


# --- the app -----------------------------------------------------------------------------------------------
def open_target(app_dir: PathLike) -> ReplayTarget:
    """Load the app in ``app_dir`` the way the host does (local.settings.json into the environment, host.json
    for the timer settings and default version, function_app.py indexed). Raises StartupError (one line)."""
    directory = Path(app_dir)
    load_local_settings(directory)
    settings = load_host_settings(directory, os.environ)
    return target_for_registry(load_app(directory), settings)


def target_for_registry(registry: FunctionRegistry, settings: HostSettings | None = None) -> ReplayTarget:
    """A target with the settings the host would use (host.json defaults when ``settings`` is None: the
    Azure Storage provider's timer limits, which make the SDK split timers longer than six days)."""
    settings = HostSettings() if settings is None else settings
    return ReplayTarget(registry, settings.replay_settings(), settings.default_version or "")


# --- files -------------------------------------------------------------------------------------------------
def recording_document(name: str, instance_id: str, input_text: str | None, history: Sequence[HistoryEvent]) -> dict[str, Any]:
    """The save format for one execution."""
    return {"name": name, "instanceId": instance_id, "input": input_text, "history": list(history)}


def save_recording(path: PathLike, name: str, instance_id: str, input_text: str | None, history: Sequence[HistoryEvent]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(recording_document(name, instance_id, input_text, history), indent=1) + "\n", encoding="utf-8")
    return target


def history_files(path: PathLike) -> list[Path]:
    """``path`` itself if it is a file, else every ``*.json`` below it, sorted."""
    root = Path(path)
    if root.is_dir():
        return sorted(p for p in root.rglob("*.json") if p.is_file())
    if root.is_file():
        return [root]
    raise RecordingError("no such file or directory")


def load_file(path: PathLike) -> Recording:
    """Read one recording file in any of the supported formats. Raises RecordingError (one line, without
    the path)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise RecordingError(f"cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise RecordingError(f"not valid JSON: {exc}") from None
    return parse_document(data, source=str(path), default_id=Path(path).stem)


def parse_document(data: Any, *, source: str = "", default_id: str = "") -> Recording:
    """Detect the format of one decoded JSON document and turn it into a Recording."""
    if isinstance(data, list):
        if (
            data
            and all(isinstance(e, dict) for e in data)
            and isinstance(data[0].get("EventType"), str)
            and not data[0]["EventType"].lstrip("-").isdigit()
        ):
            return status_recording({"historyEvents": data}, source, default_id)
        return _raw_recording(None, None, data, source, default_id, input_given=False)
    if isinstance(data, dict):
        if "history" in data:
            return _raw_recording(
                data.get("name"),
                data.get("instanceId"),
                data["history"],
                source,
                default_id,
                input_given="input" in data,
                input_value=data.get("input"),
            )
        if "historyEvents" in data:
            return status_recording(data, source, default_id)
        if "runtimeStatus" in data:
            raise RecordingError("status document without historyEvents (fetch it with ?showHistory=true&showHistoryOutput=true)")
    raise RecordingError("not a recorded history (expected a history list, a saved recording or a status document)")


def load_paths(paths: Iterable[PathLike]) -> tuple[list[Recording], list[LoadError]]:
    """Every recording under ``paths``, and the files (or paths) that could not be read."""
    recordings: list[Recording] = []
    errors: list[LoadError] = []
    for path in paths:
        try:
            files = history_files(path)
        except RecordingError as exc:
            errors.append(LoadError(str(path), str(exc)))
            continue
        if not files:
            errors.append(LoadError(str(path), NO_HISTORY_FILES))
        for file in files:
            try:
                recordings.append(load_file(file))
            except RecordingError as exc:
                errors.append(LoadError(str(file), str(exc)))
    return recordings, errors


# --- raw histories -----------------------------------------------------------------------------------------
def _raw_recording(
    name: Any,
    instance_id: Any,
    history: Any,
    source: str,
    default_id: str,
    *,
    input_given: bool,
    input_value: Any = None,
) -> Recording:
    if not isinstance(history, list) or not all(isinstance(e, dict) and "EventType" in e for e in history):
        raise RecordingError("history must be a list of events with an EventType")
    started = next((e for e in history if parse_event_type(e.get("EventType")) is EventType.EXECUTION_STARTED), None)
    if started is None:
        if not history:
            return Recording(
                str(instance_id or default_id), str(name or "?"), None, (), source=source, skip_reason="empty history"
            )
        raise RecordingError("the history has no ExecutionStarted event")
    origin = started.get("OrchestrationInstance") or {}
    name = name or started.get("Name")
    if not name:
        raise RecordingError("no orchestrator name (neither 'name' nor ExecutionStarted.Name)")
    instance_id = instance_id or origin.get("InstanceId") or default_id
    input_text = _stored_input(input_value) if input_given else input_from_started(started)
    return Recording(str(instance_id), str(name), input_text, tuple(history), source=source)


def _stored_input(value: Any) -> str | None:
    """The save format's ``input``: the stored JSON text, or (not a string, or not JSON) the value itself."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            json.loads(value)
            return value
        except ValueError:
            pass
    return json.dumps(value)


# --- the store ---------------------------------------------------------------------------------------------
def load_store(path: PathLike, instance_ids: Sequence[str] | None = None) -> list[Recording]:
    """Every instance of a devhost store file (or just ``instance_ids``), current execution only.

    Opening takes the store's one-process lock, so this fails while a devhost serves the file: raises
    StartupError with a one-line message then, and for a missing or foreign file.
    """
    store_path = Path(path)
    if not store_path.is_file():
        raise StartupError(f"no store file at {store_path}")
    try:
        store = SqliteStore(store_path)
    except StoreInUse:
        raise StoreInUse(
            f"store {store_path} is in use by a running devhost; stop it (or replay a copy of the file) and try again"
        ) from None
    try:
        if instance_ids:
            found = [store.get_instance(i) for i in instance_ids]
            missing = [i for i, inst in zip(instance_ids, found) if inst is None]
            if missing:
                raise StartupError(f"store {store_path} has no instance {', '.join(missing)}")
            instances = [i for i in found if i is not None]
        else:
            instances = []
            token: str | None = None
            while True:
                page, token = store.query_instances(InstanceQuery(top=100, continuation_token=token))
                instances.extend(page)
                if token is None:
                    break
        recordings = []
        for instance in instances:
            history = store.get_history(instance.instance_id)
            skip = None if history else f"no history yet ({instance.runtime_status.value})"
            recordings.append(
                Recording(
                    instance.instance_id, instance.name, instance.input, tuple(history), source=str(store_path), skip_reason=skip
                )
            )
        return recordings
    finally:
        store.close()
