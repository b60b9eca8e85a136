"""The exchange as a service: HTTP API, live events and the web dashboard."""

from .app import create_app

__all__ = ["create_app"]
