"""Soak app for benchmarks/worker_kill_soak.py: monitor-shaped orchestrations of two kinds whose activities retry.

``loop_monitor`` runs ``steps`` rounds of "check (an activity with a retry policy), then a short durable timer";
``fan_monitor`` checks three things at once per round. A check that ran in a killed worker fails and is retried
by the policy, so an instance fails only if one check's worker is killed on every attempt.
"""

import time
from datetime import timedelta

import azure.durable_functions as df
import azure.functions as func

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)

RETRY = df.RetryOptions(first_retry_interval_in_milliseconds=50, max_number_of_attempts=6)


@app.orchestration_trigger(context_name="context")
def loop_monitor(context: df.DurableOrchestrationContext):
    plan = context.get_input()
    checks = []
    for step in range(plan["steps"]):
        checks.append((yield context.call_activity_with_retry("check", RETRY, {"step": step, "ms": plan["ms"]})))
        yield context.create_timer(context.current_utc_datetime + timedelta(milliseconds=plan["timer_ms"]))
    return checks


@app.orchestration_trigger(context_name="context")
def fan_monitor(context: df.DurableOrchestrationContext):
    plan = context.get_input()
    rounds = []
    for step in range(plan["steps"]):
        jobs = [
            context.call_activity_with_retry("check", RETRY, {"step": step, "part": part, "ms": plan["ms"]}) for part in range(3)
        ]
        rounds.append((yield context.task_all(jobs)))
        yield context.create_timer(context.current_utc_datetime + timedelta(milliseconds=plan["timer_ms"]))
    return rounds


@app.activity_trigger(input_name="job")
def check(job: dict) -> int:
    time.sleep(job["ms"] / 1000)
    return job["step"]
