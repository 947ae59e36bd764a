"""Custom status size limit, as the extension computes it.

azure-functions-durable-extension ``DurableOrchestrationContext.cs`` line 226 (``MaxCustomStatusPayloadSizeInKB =
16``) and ``MessagePayloadDataConverter.cs`` lines 60-72: ``(int)(Encoding.Unicode.GetByteCount(json) / 1024.0) >
16`` fails with "The UTF-16 size of the JSON-serialized payload must not exceed 16 KB. The current payload size is
N KB." — so 17,407 bytes pass and 17,408 bytes (17 whole KB) fail.
"""

from __future__ import annotations

import json

import azure.durable_functions as df

from devhost.core.model import RuntimeStatus
from tests.inline import InlineHost, orchestrator_handles

app = df.DFApp()


@app.orchestration_trigger(context_name="context")
def reporter(context: df.DurableOrchestrationContext):
    length = context.get_input()
    context.set_custom_status("x" * length)
    yield context.create_timer(context.current_utc_datetime)
    return "done"


@app.orchestration_trigger(context_name="context")
def lister(context: df.DurableOrchestrationContext):
    context.set_custom_status([1] * context.get_input())
    yield context.create_timer(context.current_utc_datetime)
    return "done"


HANDLES = orchestrator_handles(app)


def run_with_status_of(chars: int) -> InlineHost:
    host = InlineHost(HANDLES, {})
    host.start("reporter", chars)
    host.run()
    return host


def utf16_bytes(chars: int) -> int:
    return len(json.dumps("x" * chars).encode("utf-16-le"))


def test_a_status_just_under_17_kb_is_accepted_as_the_extension_rounds_down() -> None:
    chars = 8701
    assert utf16_bytes(chars) == 17_406  # 16.99 KB: (int)(17406 / 1024.0) == 16, not > 16

    host = run_with_status_of(chars)

    assert host.status().runtime_status is RuntimeStatus.COMPLETED


def test_a_status_of_17_kb_fails_with_the_extension_message() -> None:
    chars = 8702
    assert utf16_bytes(chars) == 17_408

    host = run_with_status_of(chars)

    assert host.status().runtime_status is RuntimeStatus.FAILED
    assert json.loads(host.status().output) == (
        "Orchestrator function 'reporter' failed: The UTF-16 size of the JSON-serialized payload must not exceed "
        "16 KB. The current payload size is 17 KB."
    )


def test_the_size_is_of_compact_json_as_newtonsoft_writes_it() -> None:
    # 3,000 ones: compact "[1,1,...]" is 6,001 chars = 12,002 bytes (11 KB) and passes; written with Python's
    # default ", " separators it would be 9,001 chars = 18,002 bytes (17 KB) and fail.
    host = InlineHost(HANDLES, {})
    host.start("lister", 3000)
    host.run()

    assert host.status().runtime_status is RuntimeStatus.COMPLETED
