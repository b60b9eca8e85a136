"""Database locations: which ones name PostgreSQL, and how to show one safely."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# libpq also takes the password as a query parameter: ?password=... (any case, anywhere).
_QUERY_PASSWORD = re.compile(r"(?i)([?&;]password=)[^&#]*")


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def redact(url: str) -> str:
    """The URL with any password replaced (in its user part or as ``?password=``), for
    messages and output."""
    url = _QUERY_PASSWORD.sub(r"\1***", url)
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url.split("@")[-1]
    if password is None:
        return url
    netloc = parts.netloc.replace(f":{password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
