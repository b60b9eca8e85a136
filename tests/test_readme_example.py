"""The README's Python example runs as written and prints what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", README.read_text(), re.DOTALL | re.MULTILINE)


def test_the_readme_python_example_runs_and_shows_decimal_tokens(tmp_path, capsys,
                                                                 monkeypatch):
    """The README's one Python block runs as written (in a fresh directory: it makes
    ./team) and its amounts come out as the comments say: Decimal tokens, and decimal
    strings in JSON."""
    [block] = python_blocks()
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(README), "exec"), {"__name__": "readme_example"})  # noqa: S102
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "9999.500000"
    assert printed[1].startswith("{'agent': 'zero', 'tokens': '9999.5', ")
