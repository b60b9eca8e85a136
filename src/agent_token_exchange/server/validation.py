"""One clear line for a request FastAPI could not read: a body that is not JSON (curl's
``-d`` sends a form), JSON that does not parse, or JSON that is not an object, says to
send a JSON object; a field that is wrong is named with what is wrong with it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

SEND_JSON = "send a JSON object with Content-Type: application/json"


def validation_message(content_type: str | None, errors: Sequence[Any]) -> str:
    """The message for FastAPI's validation ``errors`` of a request sent with
    ``content_type``."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = tuple(first.get("loc", ()))
    if loc[:1] == ("body",):
        sent = (content_type or "").split(";")[0].strip().lower()
        if sent != "application/json" and not sent.endswith("+json"):
            what = f"was sent as {sent}" if sent else "had no Content-Type"
            return f"the request body must be JSON: {SEND_JSON} (this one {what})"
        if first.get("type") == "json_invalid":
            return f"the request body is not valid JSON; {SEND_JSON}"
        if len(loc) == 1:  # the body as a whole, not one of its fields
            if first.get("type") == "missing":
                return f"the request needs a body: {SEND_JSON}"
            return f"the request body must be a JSON object; {SEND_JSON}"
    where = ".".join(str(part) for part in loc if part != "body")
    message = str(first.get("msg"))
    return f"{where}: {message}" if where else message
