"""What `--help` shows beyond Typer's defaults: no type noise (`<bool>` on a flag, `<str>`
beside an argument its help already describes), and `--version` on the root."""

from __future__ import annotations

import functools
import inspect
from typing import Annotated, Any

import typer

# Types shown for a parameter that say nothing about it: a flag takes no value, and a text
# argument is described by its own help. (An option's <str> stays: it says a value follows.)
_NOISE = {"option": "<bool>", "argument": "<str>"}


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("agent-token-exchange")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"token-exchange {package_version()}")
        raise typer.Exit(0)


Version = Annotated[bool, typer.Option(
    "--version", callback=_show_version, is_eager=True,
    help="Print the version and exit.")]


def version_option(callback: Any) -> Any:
    """``callback`` (the root callback) with a --version option in front of its own."""

    @functools.wraps(callback)
    def root(*args: Any, version: Version = False, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    signature = inspect.signature(callback, eval_str=True)
    extra = inspect.Parameter("version", inspect.Parameter.KEYWORD_ONLY, default=False,
                              annotation=Version)
    root.__dict__["__signature__"] = signature.replace(
        parameters=[*signature.parameters.values(), extra])
    return root


def quiet_types(command: Any) -> Any:
    """``command`` and every subcommand, with the noise types left out of their help."""
    for param in [*command.params, _help_option(command)]:
        if param is not None:
            _quiet(param)
    for sub in getattr(command, "commands", {}).values():
        quiet_types(sub)
    return command


def _help_option(command: Any) -> Any:
    context = command.context_class(command, help_option_names=["-h", "--help"])
    return command.get_help_option(context)


def _quiet(param: Any) -> None:
    shown = param.display_type_rich
    noise = _NOISE.get(param.param_type_name)

    def display_type_rich(ctx: Any) -> str | None:
        label = shown(ctx)
        return None if label == noise else label

    param.display_type_rich = display_type_rich
