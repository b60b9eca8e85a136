"""ExchangeClient: the exchange's Python API over HTTP."""

from .http import ExchangeClient

__all__ = ["ExchangeClient"]
