"""Test app: the Durable Functions samples' counter entity (function-based, ``df.Entity`` via ``entity_trigger``),
an orchestration that signals it, calls it and catches a failing operation, and HTTP functions that use the
durable client's ``signal_entity`` and ``read_entity_state``."""

import json

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.entity_trigger(context_name="context")
def Counter(context: df.DurableEntityContext) -> None:
    value = context.get_state(lambda: 0)
    operation = context.operation_name
    if operation == "add":
        value += context.get_input()
    elif operation == "reset":
        value = 0
    elif operation == "fail":
        raise ValueError(f"cannot {operation} a counter at {value}")
    elif operation == "crash":
        raise SystemExit("the entity process went away")  # not an Exception: the SDK's per-operation catch misses it
    elif operation == "delete":
        context.destruct_on_exit()
        return
    context.set_state(value)
    context.set_result(value)


@app.orchestration_trigger(context_name="context")
def counter_orchestrator(context: df.DurableOrchestrationContext):
    key = (context.get_input() or {}).get("key", "myCounter")
    entity = df.EntityId("Counter", key)
    context.signal_entity(entity, "add", 3)
    value = yield context.call_entity(entity, "get")
    try:
        yield context.call_entity(entity, "fail")
        caught = None
    except Exception as error:  # an operation that raises fails only this call
        caught = str(error)
    after = yield context.call_entity(entity, "add", 4)
    return {"value": value, "caught": caught, "after": after}


@app.orchestration_trigger(context_name="context")
def uncaught_entity_failure(context: df.DurableOrchestrationContext):
    yield context.call_entity(df.EntityId("Counter", "broken"), "fail")
    return "not reached"


@app.route(route="counter/{key}/{op}", methods=["POST"])
@app.durable_client_input(client_name="client")
async def signal_counter(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    body = req.get_body()
    amount = json.loads(body) if body else None
    await client.signal_entity(df.EntityId("Counter", req.route_params["key"]), req.route_params["op"], amount)
    return func.HttpResponse(status_code=202)


@app.route(route="counter/{key}", methods=["GET"])
@app.durable_client_input(client_name="client")
async def read_counter(req: func.HttpRequest, client: df.DurableOrchestrationClient) -> func.HttpResponse:
    state = await client.read_entity_state(df.EntityId("Counter", req.route_params["key"]))
    body = {"exists": state.entity_exists, "state": state.entity_state}
    return func.HttpResponse(json.dumps(body), mimetype="application/json")


@app.orchestration_trigger(context_name="context")
def eternal_adder(context: df.DurableOrchestrationContext):
    rounds = context.get_input()
    context.signal_entity(df.EntityId("Counter", "eternal"), "add", 1)
    if rounds > 1:
        context.continue_as_new(rounds - 1)
    return rounds


@app.orchestration_trigger(context_name="context")
def entity_errors(context: df.DurableOrchestrationContext):
    caught = []
    for entity, operation in ((df.EntityId("Counter", "crashy"), "crash"), (df.EntityId("Counter", "crashy"), "get")):
        try:
            caught.append((yield context.call_entity(entity, operation)))
        except Exception as error:
            caught.append(str(error))
    return caught


@app.orchestration_trigger(context_name="context")
def calls_unknown_entity(context: df.DurableOrchestrationContext):
    yield context.call_entity(df.EntityId("Nobody", "k"), "get")
