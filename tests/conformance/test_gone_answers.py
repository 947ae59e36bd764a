"""410 answers are empty, as the extension's.

HttpApiHandler.cs answers a finished instance with ``request.CreateResponse(HttpStatusCode.Gone)`` and no content:
terminate (line 799), suspend (823), resume (847), rewind (966, a non-failed instance) and raiseEvent (997).
"""

from __future__ import annotations

import pytest

from tests.engine.conftest import SAFETY_TIMEOUT, WEBHOOKS


@pytest.mark.parametrize("operation", ["terminate", "suspend", "resume", "rewind", "raiseEvent/Go"])
def test_operations_on_a_finished_instance_answer_an_empty_410(app, operation):
    instance_id = app.start("chain", {"city": "a"})
    app.wait_for_completion(instance_id, timeout=SAFETY_TIMEOUT)

    response = app.http.post(f"{WEBHOOKS}/instances/{instance_id}/{operation}", json_body={})

    assert response.status == 410
    assert response.body == b""
