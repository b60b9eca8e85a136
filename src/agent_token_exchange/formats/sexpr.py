"""A small, careful reader for the data files of the seed's Scheme prototype.

It reads s-expressions as data and never evaluates anything: lists, dotted pairs,
strings, numbers, symbols, booleans and ``;`` comments. Numbers stay exact (their text
becomes a ``Decimal`` or ``Fraction``; never a float). Nesting depth, file size and
string length are bounded, and every error names the line.

    (a b . c)      -> Dotted([a, b], c)
    (a . (b c))    -> [a, b, c]          (a proper list, as Scheme sees it)
    (a . ())       -> [a]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from ..errors import InvalidInput

MAX_DEPTH = 64
MAX_TEXT = 64 * 1024 * 1024

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_RATIONAL = re.compile(r"^[+-]?\d+/\d+$")
_DELIMITERS = set("()\";'` \t\r\n\f")


@dataclass(frozen=True)
class Symbol:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Dotted:
    """An improper list: ``items`` then a non-list ``tail``."""

    items: list[Any]
    tail: Any


def read_all(text: str, source: str) -> list[Any]:
    """Every datum in ``text``, in order."""
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{source}: too large ({len(text)} characters)")
    reader = _Reader(text, source)
    out = []
    while True:
        datum = reader.datum(top=True)
        if datum is _END:
            return out
        out.append(datum)


def read_one(text: str, source: str) -> Any:
    data = read_all(text, source)
    if len(data) != 1:
        raise InvalidInput(f"{source}: expected one s-expression, found {len(data)}")
    return data[0]


def alist_get(alist: Any, key: str, source: str, *, required: bool = True) -> Any:
    """The value for ``key`` in an association list: the cdr of the first entry whose car
    is the symbol (or string) ``key``."""
    if not isinstance(alist, list):
        raise InvalidInput(f"{source}: expected an association list")
    for entry in alist:
        if isinstance(entry, Dotted) and len(entry.items) == 1 and _is_key(entry.items[0], key):
            return entry.tail
        if isinstance(entry, list) and entry and _is_key(entry[0], key):
            return entry[1:]
    if required:
        raise InvalidInput(f"{source}: the entry ({key} . …) is missing")
    return None


def _is_key(value: Any, key: str) -> bool:
    return (isinstance(value, Symbol) and value.name == key) or value == key


class _End:
    pass


_END = _End()
_CLOSE = object()
_DOT = object()


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.pos = 0

    def fail(self, message: str) -> InvalidInput:
        line = self.text.count("\n", 0, self.pos) + 1
        return InvalidInput(f"{self.source}, line {line}: {message}")

    def skip_space(self) -> None:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in " \t\r\n\f":
                self.pos += 1
            elif ch == ";":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end + 1
            else:
                return

    def datum(self, top: bool = False) -> Any:
        """One datum; lists are built with an explicit stack (no recursion)."""
        stack: list[tuple[list[Any], list[Any]]] = []  # (items, [tail marker, tail])
        while True:
            token = self.token()
            if token is _END:
                if stack:
                    raise self.fail("the file ends inside a list (a ')' is missing)")
                return _END
            if token is _CLOSE:
                if not stack:
                    raise self.fail("an unexpected ')'")
                items, tail = stack.pop()
                if tail and len(tail) != 2:
                    raise self.fail("a '.' must be followed by exactly one datum")
                value: Any = _finish(items, tail)
            elif token == "(":
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(f"lists nested deeper than {MAX_DEPTH}")
                stack.append(([], []))
                continue
            elif token is _DOT:
                if not stack or not stack[-1][0] or stack[-1][1]:
                    raise self.fail("a misplaced '.'")
                stack[-1][1].append(_DOT)
                continue
            else:
                value = token
            if not stack:
                return value
            items, tail = stack[-1]
            if tail:
                if len(tail) > 1:
                    raise self.fail("more than one datum after '.'")
                tail.append(value)
            else:
                items.append(value)

    def token(self) -> Any:
        self.skip_space()
        text = self.text
        if self.pos >= len(text):
            return _END
        ch = text[self.pos]
        if ch == "(" or ch == "[":
            self.pos += 1
            return "("
        if ch == ")" or ch == "]":
            self.pos += 1
            return _CLOSE
        if ch == '"':
            return self.string()
        if ch in "'`,":
            raise self.fail("quoted or quasiquoted forms are code, not data; not read")
        start = self.pos
        while self.pos < len(text) and text[self.pos] not in _DELIMITERS:
            self.pos += 1
        word = text[start:self.pos]
        if word == ".":
            return _DOT
        return self.atom(word)

    def string(self) -> str:
        text = self.text
        self.pos += 1
        out = []
        escapes = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "a": "\a", "0": "\0"}
        while True:
            if self.pos >= len(text):
                raise self.fail("a string is not closed (a '\"' is missing)")
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\":
                code = text[self.pos + 1:self.pos + 2]
                if code not in escapes:
                    raise self.fail(f"unknown escape \\{code} in a string")
                out.append(escapes[code])
                self.pos += 2
            else:
                out.append(ch)
                self.pos += 1

    def atom(self, word: str) -> Any:
        lowered = word.lower()
        if lowered in ("#t", "#true"):
            return True
        if lowered in ("#f", "#false"):
            return False
        if _NUMBER.match(word):
            try:
                return Decimal(word)
            except InvalidOperation:
                raise self.fail(f"not a number: {word[:40]!r}") from None
        if _RATIONAL.match(word):
            numerator, denominator = word.split("/")
            if int(denominator) == 0:
                raise self.fail(f"division by zero in {word[:40]!r}")
            return Fraction(int(numerator), int(denominator))
        if lowered.startswith("#") or lowered in ("+inf.0", "-inf.0", "+nan.0", "-nan.0"):
            raise self.fail(f"{word[:40]!r} is not plain data (a number, string or symbol)")
        return Symbol(word)


def _finish(items: list[Any], tail: list[Any]) -> Any:
    if not tail:
        return items
    rest = tail[1]
    if isinstance(rest, list):
        return items + rest
    if isinstance(rest, Dotted):
        return Dotted(items + rest.items, rest.tail)
    return Dotted(items, rest)
