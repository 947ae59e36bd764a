"""Test app: a timer-triggered starter (every 5 minutes, the issue's example) that starts an orchestration
through the durable client, and an activity that declares a durable client too."""

import logging

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
@app.durable_client_input(client_name="client")
async def every_five_minutes(timer: func.TimerRequest, client: df.DurableOrchestrationClient) -> None:
    status = timer.schedule_status or {}
    instance_id = await client.start_new(
        "scheduled_run", client_input={"past_due": timer.past_due, "last": status.get("Last"), "next": status.get("Next")}
    )
    logging.info("timer started %s", instance_id)


@app.orchestration_trigger(context_name="context")
def scheduled_run(context: df.DurableOrchestrationContext):
    data = context.get_input()
    seen = yield context.call_activity("own_status", context.instance_id)
    return {**data, "started": context.current_utc_datetime.isoformat(), "seen_by_activity": seen}


@app.activity_trigger(input_name="instance_id")
@app.durable_client_input(client_name="client")
async def own_status(instance_id: str, client: df.DurableOrchestrationClient) -> str:
    status = await client.get_status(instance_id)
    return status.runtime_status.name
