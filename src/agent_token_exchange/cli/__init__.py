"""The token-exchange command line. Commands translate: they parse, call the library,
render the result, and map errors to one line and an exit code.

A run loads only the module of the command it names (``simulate`` never imports the
HTTP client, the server or the other commands); ``--help`` at the root, an unknown
command or an option this module does not recognise before the command builds the whole
command line, so what the user sees is the same either way.
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import Any

import typer

from ..errors import EXIT_BAD_INPUT, ExchangeError
from .help import quiet_types, version_option
from .options import remember_options
from .output import emit_error, emit_usage_error

# Every top-level command and group: the module that defines it, how it is added (the
# module's ``register(app)``, or the Typer group it holds), and the names it adds; added in
# this order (the root help lists commands, then groups). tests/test_cli_lazy.py checks the
# names.
PARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("core", "register", ("init", "status", "balance", "history", "commit", "llm", "award",
                          "limits", "doctor")),
    ("export_import", "register", ("export", "import")),
    ("pool", "pool_app", ("pool",)),
    ("futures", "future_app", ("future",)),
    ("loans", "register", ("loan", "credit")),
    ("governance", "register", ("stake", "unstake", "propose", "vote", "params", "proposal")),
    ("hooks", "hooks_app", ("hooks",)),
    ("hooks", "hook_app", ("hook",)),
    ("git", "git_app", ("git",)),
    ("bd", "bd_app", ("bd",)),
    ("simulate", "register", ("simulate",)),
    ("audit", "audit_app", ("audit",)),
    ("keys", "keys_app", ("keys",)),
    ("serve", "register", ("serve",)),
    ("settle", "register", ("settle",)),
    ("mcp", "register", ("mcp",)),
)

# The root's options that take a value (the root callback's, cli/options.py), and its flag.
_ROOT_VALUE_OPTIONS = ("--home", "--database", "--server", "--api-key")
_ROOT_FLAGS = ("--json",)


def build_app(parts: tuple[tuple[str, str, tuple[str, ...]], ...] = PARTS) -> typer.Typer:
    """The command line with the given parts (all of them unless told)."""
    app = typer.Typer(
        name="token-exchange",
        help="Agent Token Exchange: agents earn tokens for real work and spend them on LLM "
        "inference under hourly, daily, burst and reserve limits. Every command takes "
        "--home, --database, --server URL and --api-key KEY (to work against a remote "
        "exchange started with `token-exchange serve`) and --json, after the command or "
        "before it.",
        no_args_is_help=True,
        rich_markup_mode="markdown",  # paragraphs reflow; `code` shows as code
        add_completion=True,  # --install-completion and --show-completion (bash, zsh, fish, …)
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(version_option(remember_options))
    for module_name, how, _names in parts:
        module = import_module(f".{module_name}", __name__)
        if how == "register":
            module.register(app)
        else:
            app.add_typer(getattr(module, how))
    return app


def command_named(args: list[str]) -> str | None:
    """The top-level command ``args`` run, when only the root's own options stand before
    it; None when the whole command line must answer (root help, --version, completion,
    an unknown option or command, no command at all)."""
    words = iter(args)
    for word in words:
        if word in _ROOT_VALUE_OPTIONS:
            next(words, None)
        elif word in _ROOT_FLAGS or word.startswith(tuple(f"{o}=" for o in _ROOT_VALUE_OPTIONS)):
            continue
        elif word.startswith("-"):
            return None
        else:
            return word if any(word in names for _, _, names in PARTS) else None
    return None


def app_for(args: list[str]) -> typer.Typer:
    """Only the part that defines the command ``args`` run, else the whole command line."""
    name = command_named(args)
    if name is None:
        return build_app()
    return build_app(tuple(part for part in PARTS if name in part[2]))


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole command line, for its help and the docs' checks
        app = globals()["app"] = build_app()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point. Returns (and exits with) the command's exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    command = quiet_types(typer.main.get_command(app_for(args)))
    try:
        result = command.main(args=args, prog_name="token-exchange", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        code = emit_usage_error("aborted", as_json)
    except typer.TyperException as exc:  # Click's usage errors, vendored by Typer
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":
            code = EXIT_BAD_INPUT  # a bare group: Typer has printed its help (usage is 2)
        else:
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            code = emit_usage_error(exc.format_message() + hint, as_json)
    except ExchangeError as exc:
        code = emit_error(exc, as_json)
    except BrokenPipeError:
        code = 0
    if argv is None:
        sys.exit(code)
    return code
