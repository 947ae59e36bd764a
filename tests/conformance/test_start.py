"""Starting orchestrations: the test kit's input encoding, and an orchestrator name that is not registered.

- The SDK client's ``start_new`` sends ``json.dumps(input)`` as a JSON body (DurableOrchestrationClient
  ``_get_json_input``); the test kit's ``start`` sends a string the same way, so ``get_input()`` agrees.
- An unknown name: ``DurableClient.StartNewAsync`` calls ``ThrowIfFunctionDoesNotExist`` (DurableClient.cs line 182,
  DurableTaskExtension.cs lines 1325-1341 and 1368-1380 for the message), an ArgumentException that HttpApiHandler.cs
  answers at line 442-444 with a 400 "One or more of the arguments submitted is incorrect". The SDK's ``start_new``
  turns that 400 into ``Exception(ExceptionMessage)`` (DurableOrchestrationClient.py lines 80-84), so an HTTP starter
  that does not catch it fails, and the Functions host answers 500 — on devhost as in Azure.
"""

from __future__ import annotations

import pytest

from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS


@pytest.mark.parametrize("value", ["bob", '{"a": 1}', "", {"a": [1, None]}, [1, "x"], 5, None])
def test_the_kit_and_the_sdk_client_give_the_orchestrator_the_same_input(app, value):
    through_sdk = app.http.post("/api/orchestrators/input_echo", json_body=value).json()["id"]
    through_kit = app.start("input_echo", value)

    sdk = app.wait_for_completion(through_sdk, timeout=SAFETY_TIMEOUT)
    kit = app.wait_for_completion(through_kit, timeout=SAFETY_TIMEOUT)

    assert kit["runtimeStatus"] == sdk["runtimeStatus"] == "Completed"
    assert kit["output"] == sdk["output"]


def test_a_plain_string_reaches_get_input_as_that_string(app):
    status = app.wait_for_completion(app.start("input_echo", "bob"), timeout=SAFETY_TIMEOUT)

    assert status["output"] == {"input": "bob", "type": "str"}


def test_starting_an_unknown_orchestrator_through_the_webhook_is_the_extensions_400(app):
    response = app.http.post(f"{WEBHOOKS}/orchestrators/nope", json_body=1)

    assert response.status == 400
    body = response.json()
    assert body["Message"] == "One or more of the arguments submitted is incorrect"
    assert body["ExceptionType"] == "System.ArgumentException"
    assert body["ExceptionMessage"].startswith(
        "The function 'nope' doesn't exist, is disabled, or is not an orchestrator function. Additional info: "
        "The following are the known orchestrator functions: 'chain', "
    )


def test_an_http_starter_whose_start_new_raises_for_an_unknown_name_answers_500_as_functions_does(app):
    response = app.http.post("/api/orchestrators/nope", json_body=1)

    assert response.status == 500
    assert response.body == b""
