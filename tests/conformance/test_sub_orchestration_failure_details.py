"""A caught sub-orchestration failure carries the child's message and stack text.

OutOfProcOrchestrationShim.cs line 87-90 fails the child with ``OrchestrationFailureException("Orchestrator function
'<name>' failed: <error>", "Message: <error>, StackTrace: <stack>")``; DTFx TaskOrchestrationDispatcher.cs line
1104 sends the parent ``SubOrchestrationInstanceFailedEvent(Reason, Details)`` (details included: DurableTaskExtension.cs
line 1438 sets ``IncludeDetails``), and the Python SDK raises ``Exception(f"{Reason} \\n {Details}")``
(TaskOrchestrationExecutor.py line 210). The real stack text is .NET frames; devhost's is the child's Python frames.
"""

from __future__ import annotations

from devhost.core.model import EventType
from tests.engine.conftest import SAFETY_TIMEOUT


def test_the_parent_catches_the_childs_message_and_stack(app):
    instance_id = app.start("parent", {"child": "child_fails"})

    status = app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    caught = status["output"]["error"]
    reason, _, details = caught.partition(" \n ")
    assert reason == "Orchestrator function 'child_fails' failed: child broke"
    assert details.startswith("Message: child broke, StackTrace: ")
    assert "in child_fails" in details
    assert 'raise ValueError("child broke")' in details


def test_the_parents_history_records_reason_and_details(app):
    instance_id = app.start("parent", {"child": "child_fails"})
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    failed = [e for e in app.history(instance_id) if e["EventType"] == EventType.SUB_ORCHESTRATION_INSTANCE_FAILED]

    assert len(failed) == 1
    assert failed[0]["Reason"] == "Orchestrator function 'child_fails' failed: child broke"
    assert failed[0]["Details"].startswith("Message: child broke, StackTrace: ")
