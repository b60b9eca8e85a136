"""The validated config, kept beside ``config.toml`` so that a process that must start
fast (the post-commit hook) reads it back without pydantic.

``load_config`` (economy/config.py) validates the file with pydantic and then writes
``.config.validated.json``: the validated values (defaults filled in, emails lowercased,
Decimals exact), keyed by the SHA-256 of the config file's bytes and of the validating
code (config.py). ``load_fast`` recomputes that key: when it matches, it rebuilds the
config as light frozen objects with the same attributes (and the same derived views,
``ConfigViews``); when it does not (the file was edited, the program upgraded, no cache
yet), it validates with pydantic as ``load_config`` does, which writes the cache anew.
So what the hook runs on is always exactly what pydantic accepted for these bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .limits import ConfigViews

if TYPE_CHECKING:
    from .config import Config

CACHE_NAME = ".config.validated.json"
FORMAT = 1  # bump when the encoding below changes


def cache_path(config_path: Path) -> Path:
    return config_path.with_name(CACHE_NAME)


def cache_key(text: bytes) -> str:
    """What a cached config was validated from: the file's bytes and the validating code."""
    digest = hashlib.sha256(f"atx-config-cache {FORMAT}\n".encode())
    digest.update(Path(__file__).with_name("config.py").read_bytes())
    digest.update(b"\0")
    digest.update(text)
    return digest.hexdigest()


def remember(config_path: Path, text: bytes, config: object) -> None:
    """Keep ``config`` (just validated from ``text``) for ``load_fast``. Best effort: a
    home that cannot be written to simply has no cache."""
    target = cache_path(config_path)
    key = cache_key(text)
    try:
        if target.exists() and json.loads(target.read_text("utf-8")).get("key") == key:
            return
        payload = json.dumps({"key": key, "config": _encode(config)}, sort_keys=True)
        draft = target.with_name(f"{CACHE_NAME}.{os.getpid()}")
        draft.write_text(payload, "utf-8")
        os.replace(draft, target)
    except (OSError, ValueError, TypeError):
        return


def load_fast(config_path: Path) -> Config:
    """The config at ``config_path``: from the cache when it was validated from these very
    bytes, else validated now (see the module's docstring)."""
    try:
        text = config_path.read_bytes()
        cached = json.loads(cache_path(config_path).read_text("utf-8"))
        if cached.get("key") == cache_key(text):
            config: Config = _decode(cached["config"])
            return config
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    from .config import load_config  # pydantic: only when the cache cannot answer

    return load_config(config_path)


# -- the encoding: JSON with tags for models, Decimals, mappings and tuples ---------------


def _encode(value: object) -> Any:
    fields = getattr(type(value), "model_fields", None)
    if fields is not None:  # a pydantic model: its class name and its fields
        return {"$model": type(value).__name__,
                "fields": {name: _encode(getattr(value, name)) for name in fields}}
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("only string keys are kept")
        return {"$map": {key: _encode(item) for key, item in value.items()}}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [_encode(item) for item in value]}
    raise TypeError(f"cannot keep a {type(value).__name__} in the config cache")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$model" in value:
        return _light_class(value["$model"])(
            **{name: _decode(item) for name, item in value["fields"].items()})
    if "$decimal" in value:
        return Decimal(value["$decimal"])
    if "$map" in value:
        return {key: _decode(item) for key, item in value["$map"].items()}
    if "$tuple" in value:
        return tuple(_decode(item) for item in value["$tuple"])
    raise ValueError("not a config cache")


class LightModel:
    """A frozen bag of a validated model's fields (what the hook reads instead of the
    pydantic model)."""

    def __init__(self, **fields: Any) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__name__}({inner})"


# The derived views a model class has beyond its fields, by class name.
_VIEWS: dict[str, type] = {"Config": ConfigViews}
_CLASSES: dict[str, type] = {}


def _light_class(name: str) -> type:
    found = _CLASSES.get(name)
    if found is None:
        bases = (LightModel, _VIEWS[name]) if name in _VIEWS else (LightModel,)
        found = _CLASSES[name] = type(name, bases, {"__module__": __name__})
    return found


__all__ = ["CACHE_NAME", "LightModel", "load_fast", "remember"]
