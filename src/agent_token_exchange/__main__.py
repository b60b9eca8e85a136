"""``python -m agent_token_exchange``: the CLI, as the installed git hook calls it.

``hook post-commit`` runs without loading the CLI framework, so committing stays quick;
every other command goes to the full CLI.
"""

from __future__ import annotations

import sys


def _post_commit(args: list[str]) -> int:
    from .integrations.commits import post_commit_hook

    options: dict[str, str | None] = {"--home": None, "--repo": None, "--project": None}
    words = iter(args)
    for word in words:
        if word in options:
            options[word] = next(words, None)
        elif word != "--json":
            print(f"token-exchange: commit not paid: unknown option {word!r}", file=sys.stderr)
            return 0
    ok, line, payload = post_commit_hook(options["--home"], options["--repo"],
                                         options["--project"])
    if "--json" in args:
        import json

        print(json.dumps({"ok": "error" not in payload, **payload}))
        if not ok:
            print(line, file=sys.stderr)
    else:
        print(line, file=sys.stdout if ok else sys.stderr)
    return 0


def run(argv: list[str]) -> int:
    if argv[:2] == ["hook", "post-commit"] and not {"-h", "--help"} & set(argv):
        return _post_commit(argv[2:])
    from .cli import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
