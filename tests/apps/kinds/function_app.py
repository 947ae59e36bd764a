"""Test app: one function of every trigger kind the loader knows, with and without aliases."""

import asyncio
import json
import time

import azure.durable_functions as df
import azure.functions as func
from helpers import greeting

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="orchestrators/{functionName}", methods=[func.HttpMethod.POST])
@app.durable_client_input(client_name="client")
async def http_start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = {
        "hub": client._orchestration_bindings.task_hub_name,
        "function": req.route_params["functionName"],
        "rpc": client._orchestration_bindings.rpc_base_url,
    }
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.route(route="start/{functionName}", methods=[func.HttpMethod.POST])
@app.durable_client_input(client_name="client")
async def start(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    instance_id = await client.start_new(req.route_params["functionName"], client_input=req.params.get("input"))
    return client.create_check_status_response(req, instance_id)


@app.route(route="echo/{id:int}")
def echo(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    body = {
        "id": req.route_params["id"],
        "function": context.function_name,
        "url": req.url,
        "method": req.method,
        "q": req.params.get("q"),
    }
    return func.HttpResponse(json.dumps(body), status_code=201, mimetype="application/json")


@app.route(route="text", methods=["get"])
def text(req: func.HttpRequest) -> str:
    return "plain text"


@app.route(route="nothing")
def nothing(req: func.HttpRequest) -> None:
    return None


@app.route(route="explode")
def explode(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("kaboom")


@app.orchestration_trigger(context_name="context")
def hello_orchestrator(context: df.DurableOrchestrationContext):
    result = yield context.call_activity("say_hello", "Tokyo")
    return result


@app.orchestration_trigger(context_name="context", orchestration="AliasedOrchestrator")
def aliased_orchestrator(context: df.DurableOrchestrationContext):
    return "aliased"


@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return greeting(city)


@app.activity_trigger(input_name="payload", activity="AliasedActivity")
async def aliased_activity(payload: dict) -> dict:
    return {"got": payload}


@app.activity_trigger(input_name="seconds")
def nap(seconds: float) -> float:
    before = time.time()
    time.sleep(seconds)
    return time.time() - before


@app.activity_trigger(input_name="seconds")
async def async_nap(seconds: float) -> float:
    before = time.time()
    await asyncio.sleep(seconds)
    return time.time() - before


@app.activity_trigger(input_name="value")
def boom(value: str) -> str:
    raise ValueError(f"bad input {value}")


@app.activity_trigger(input_name="value")
def unserializable(value: str) -> object:
    return object()


@app.entity_trigger(context_name="context", entity_name="Counter")
def counter(context: df.DurableEntityContext) -> None:
    context.set_state((context.get_state(lambda: 0) or 0) + 1)


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
def tick(timer: func.TimerRequest) -> None:
    pass
