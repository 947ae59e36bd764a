"""raise_event without data sends JSON null (the API requires an application/json body)."""

from __future__ import annotations

from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "apps" / "engine_features"


def test_raise_event_without_data_delivers_none(durable_app):
    app = durable_app(APP)
    instance_id = app.start("wait_event")
    app.wait_for_status(instance_id, "Running")

    app.raise_event(instance_id, "Approval")

    status = app.wait_for_completion(instance_id)
    assert status["runtimeStatus"] == "Completed"
    assert status["output"]["value"] is None
