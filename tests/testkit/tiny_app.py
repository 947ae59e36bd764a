"""A tiny Durable Functions app (source text) that the plugin tests write into directories outside the repo."""

from __future__ import annotations

from pathlib import Path

FUNCTION_APP = '''
import time
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="orchestrators/{name}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client) -> func.HttpResponse:
    body = req.get_body()
    instance_id = await client.start_new(req.route_params["name"], client_input=req.get_json() if body else None)
    return client.create_check_status_response(req, instance_id)


@app.orchestration_trigger(context_name="context")
def after_an_hour(context: df.DurableOrchestrationContext):
    """Waits a one-hour durable timer, then greets."""
    yield context.create_timer(context.current_utc_datetime + timedelta(hours=1))
    greeting = yield context.call_activity("greet", "world")
    return {"greeting": greeting, "finished_at": context.current_utc_datetime.isoformat()}


@app.orchestration_trigger(context_name="context")
def reminder(context: df.DurableOrchestrationContext):
    """Custom status 'waiting' for ten minutes, then 'reminded'."""
    context.set_custom_status("waiting")
    yield context.create_timer(context.current_utc_datetime + timedelta(minutes=10))
    context.set_custom_status("reminded")
    return "done"


@app.orchestration_trigger(context_name="context")
def approval(context: df.DurableOrchestrationContext):
    """Waits for the Approval event, with no timer: nothing but a raised event can finish it."""
    answer = yield context.wait_for_external_event("Approval")
    return {"approved": answer}


@app.orchestration_trigger(context_name="context")
def greet_once(context: df.DurableOrchestrationContext):
    return (yield context.call_activity("greet", (context.get_input() or {}).get("name", "nobody")))


@app.orchestration_trigger(context_name="context")
def napper(context: df.DurableOrchestrationContext):
    """Calls an activity that sleeps (time.sleep) for an hour."""
    return (yield context.call_activity("nap", 3600))


@app.activity_trigger(input_name="seconds")
def nap(seconds: float) -> str:
    time.sleep(seconds)
    return "rested"


@app.activity_trigger(input_name="name")
def greet(name: str) -> str:
    return f"Hello, {name}!"
'''

HOST_JSON = '{"version": "2.0", "extensions": {"durableTask": {"hubName": "TinyHub"}}}\n'


def write_app(directory: Path) -> Path:
    """Write the app into ``directory`` (created if needed); returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "function_app.py").write_text(FUNCTION_APP, encoding="utf-8")
    (directory / "host.json").write_text(HOST_JSON, encoding="utf-8")
    return directory
