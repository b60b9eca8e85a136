"""Names a module offers but imports only when one is first used (PEP 562), so a quick
command (the post-commit hook) loads only the modules it runs."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_names(package: str | None, homes: dict[str, str], namespace: dict[str, Any],
               ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` for the names in ``homes`` (name to the
    module, relative to ``package``, that defines it); ``namespace`` is the module's
    ``globals()``, where a name is kept once imported so the next lookup is a plain one."""

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(import_module(home, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
