"""The token-exchange command line. Commands translate: they parse, call the library,
render the result, and map errors to one line and an exit code."""

from __future__ import annotations

import sys

import typer

from ..errors import EXIT_BAD_INPUT, ExchangeError
from . import core, governance, keys, serve, settle, simulate
from . import export_import as transfer_io
from . import loans as loan_commands
from . import mcp as mcp_command
from .audit import audit_app
from .bd import bd_app
from .futures import future_app
from .git import git_app
from .help import quiet_types, version_option
from .hooks import hook_app, hooks_app
from .options import remember_options
from .output import emit_error, emit_usage_error
from .pool import pool_app

app = typer.Typer(
    name="token-exchange",
    help="Agent Token Exchange: agents earn tokens for real work and spend them on LLM "
    "inference under hourly, daily, burst and reserve limits. Every command takes --home, "
    "--database, --server URL and --api-key KEY (to work against a remote exchange started "
    "with `token-exchange serve`) and --json, after the command or before it.",
    no_args_is_help=True,
    rich_markup_mode="markdown",  # paragraphs reflow; `code` shows as code
    add_completion=True,  # --install-completion and --show-completion (bash, zsh, fish, …)
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.callback()(version_option(remember_options))
core.register(app)
transfer_io.register(app)
app.add_typer(pool_app)
app.add_typer(future_app)
loan_commands.register(app)
governance.register(app)
for group in (hooks_app, hook_app, git_app, bd_app):
    app.add_typer(group)
simulate.register(app)
app.add_typer(audit_app)
app.add_typer(keys.keys_app)
serve.register(app)
settle.register(app)
mcp_command.register(app)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point. Returns (and exits with) the command's exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    command = quiet_types(typer.main.get_command(app))
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
