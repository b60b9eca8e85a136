"""A body the API cannot read gets one clear 422 line saying to send a JSON object, and
a replay says so in its answer."""

from __future__ import annotations

import pytest

from .conftest import Service

SEND_JSON = "send a JSON object with Content-Type: application/json"


@pytest.mark.parametrize(("content", "content_type", "message"), [
    # curl -d: a form content type, whatever the body holds
    ('{"task_type": "coding", "token_count": 5000}', "application/x-www-form-urlencoded",
     f"the request body must be JSON: {SEND_JSON} (this one was sent as "
     "application/x-www-form-urlencoded)"),
    ("task_type=coding&token_count=5000", None,
     f"the request body must be JSON: {SEND_JSON} (this one had no Content-Type)"),
    ("not json", "application/json", f"the request body is not valid JSON; {SEND_JSON}"),
    ("[1, 2]", "application/json", f"the request body must be a JSON object; {SEND_JSON}"),
    ("", "application/json", f"the request needs a body: {SEND_JSON}"),
], ids=["form", "no-type", "not-json", "array", "empty"])
def test_a_body_that_is_not_a_json_object_is_one_clear_422(service: Service, content,
                                                            content_type, message):
    """Each unreadable body is 422 with a message that says to send JSON, never "0: JSON
    decode error" or pydantic's "valid dictionary" wording, and nothing is charged."""
    before = service.ledger_state()
    headers = {"Content-Type": content_type} if content_type else {}
    with service.as_agent("zero") as http:
        answer = http.post("/v1/agents/zero/llm", content=content, headers=headers)
    assert answer.status_code == 422
    assert answer.json() == {"ok": False, "error": {"code": "invalid_input",
                                                    "message": message}}
    assert service.ledger_state() == before


def test_a_field_that_is_wrong_is_still_named(service: Service):
    """A JSON object missing a field is 422 naming the field."""
    with service.as_agent("zero") as http:
        answer = http.post("/v1/agents/zero/llm", json={"task_type": "coding"})
    assert answer.json()["error"]["message"] == "token_count: Field required"


def test_a_replayed_write_answers_replayed_true_with_the_balance_now(fresh_service: Service):
    """A replay through HTTP answers 200 with "replayed": true and the balance as it is now."""
    body = {"task_type": "coding", "token_count": 5000}
    with fresh_service.as_agent("zero") as http:
        first = http.post("/v1/agents/zero/llm", json=body, headers={"Idempotency-Key": "a"})
        http.post("/v1/agents/zero/llm", json=body)  # another 0.5 spent, without a key
        again = http.post("/v1/agents/zero/llm", json=body, headers={"Idempotency-Key": "a"})
    assert first.json()["replayed"] is False and first.json()["tokens"] == "9999.5"
    assert again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True, "tokens": "9999"}
