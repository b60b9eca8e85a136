"""Git hook commands: `hooks install|uninstall|status` manage the post-commit hook;
`hook post-commit` is what that hook runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InvalidInput
from ..formats.json_codec import to_json
from ..integrations import githooks
from ..integrations.commits import post_commit_hook
from ..integrations.git import hooks_dir, repo_root
from ..service.home import find_home
from .options import ExchangeOptions, command_group, exchange_options
from .output import emit_json, stdout

HOOK = "post-commit"
hooks_app = command_group("hooks", "Install, remove or inspect the git post-commit hook that "
                          "pays commits.")
hook_app = command_group("hook", "What installed hooks run (you rarely call these yourself).")

Repo = Annotated[Path | None, typer.Option("--repo", metavar="PATH", help="A folder inside "
                                           "the git repository (default: here).")]
Project = Annotated[str | None, typer.Option("--project", metavar="NAME", help="Project name "
                                             "for rewards (default: the remote's repository "
                                             "name, else the folder name).")]


def _hook_path(repo: Path | None) -> tuple[Path, Path]:
    root = repo_root(repo)
    return root, hooks_dir(root) / HOOK


@hooks_app.command("install")
@exchange_options
def install(repo: Repo = None, project: Project = None, *, opts: ExchangeOptions) -> None:
    """Install the post-commit hook where git really runs hooks (core.hooksPath too).

    An existing hook is kept: a marked block is added to it, once. The block records
    this exchange's home, so commits in any repository pay into it.

    Example: token-exchange hooks install --repo ~/src/app --project app
    """
    paths = find_home(opts.home)
    if not paths.exists():
        raise InvalidInput(f"no exchange at {paths.state}; run `token-exchange init` first")
    if project is not None and not project.strip():
        raise InvalidInput("--project must not be empty")
    root, path = _hook_path(repo)
    command = [*githooks.exchange_command(), "hook", HOOK, "--home", str(paths.home)]
    if project:
        command += ["--project", project.strip()]
    outcome = githooks.install_block(path, HOOK, command)
    if opts.json:
        emit_json({"repo": str(root), "hook": str(path), "outcome": outcome,
                   "home": str(paths.home), "project": project})
        return
    verb = {"created": "Created", "added": "Added our block to", "updated": "Updated",
            "unchanged": "Already installed:"}[outcome]
    stdout.print(f"✅ {verb} {path}", markup=False)
    stdout.print(f"   Commits in {root} pay into the exchange at {paths.home}", markup=False)


@hooks_app.command("uninstall")
@exchange_options
def uninstall(repo: Repo = None, *, opts: ExchangeOptions) -> None:
    """Remove our block from the post-commit hook, leaving anything else in it.

    Example: token-exchange hooks uninstall --repo ~/src/app
    """
    root, path = _hook_path(repo)
    outcome = githooks.uninstall_block(path, HOOK)
    if opts.json:
        emit_json({"repo": str(root), "hook": str(path), "outcome": outcome})
        return
    stdout.print({"absent": f"Nothing to remove: no token-exchange block in {path}",
                  "removed": f"✅ Removed our block from {path} (the rest is untouched)",
                  "deleted": f"✅ Removed {path} (it held only our block)"}[outcome],
                 markup=False)


@hooks_app.command("status")
@exchange_options
def status(repo: Repo = None, *, opts: ExchangeOptions) -> None:
    """Show which hooks folder git uses and what token-exchange installed there.

    Example: token-exchange hooks status --json
    """
    from ..integrations.beads import on_close_status

    root, path = _hook_path(repo)
    rows = [githooks.read_status(path, HOOK, HOOK), on_close_status(root)]
    if opts.json:
        emit_json({"repo": str(root), "hooks_dir": str(path.parent),
                   "hooks": [to_json(row) for row in rows]})
        return
    stdout.print(f"Repository {root}; git runs hooks from {path.parent}", markup=False)
    for row in rows:
        if row.installed:
            extra = " (shared with other commands)" if row.shared else ""
            stdout.print(f"✅ {row.hook}: installed in {row.path}{extra}; home "
                         f"{row.home or 'default'}, project {row.project or 'automatic'}",
                         markup=False)
        else:
            state = "exists without our block" if row.exists else "not installed"
            stdout.print(f"·  {row.hook}: {state} ({row.path})", markup=False)


@hook_app.command("post-commit")
@exchange_options
def post_commit(repo: Repo = None, project: Project = None, *, opts: ExchangeOptions) -> None:
    """Pay HEAD's commit, as the installed hook does. Never fails a commit: any problem
    is one line on stderr and exit 0.

    Example: token-exchange hook post-commit --repo . --project app
    """
    ok, line, payload = post_commit_hook(opts.home, repo, project)
    if opts.json:
        emit_json(payload, ok="error" not in payload)
    if not opts.json or not ok:
        print(line, file=sys.stdout if ok and not opts.json else sys.stderr)
