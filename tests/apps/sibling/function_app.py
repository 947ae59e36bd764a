"""Test app with a sibling module named like the one in tests/apps/kinds (helpers.py)."""

import azure.durable_functions as df
from helpers import greeting

app = df.DFApp()


@app.activity_trigger(input_name="city")
def say_hello(city: str) -> str:
    return greeting(city)
