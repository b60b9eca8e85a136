"""Reading git: the commit a hook was run for, the history a backfill walks, and the
names git gives things (hooks folder, project). Plain ``git`` subprocesses, no library:
what git itself reports is the truth (core.hooksPath, worktrees, reflogs).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput

# Commit messages may hold any byte; the exchange accepts text without control characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_MESSAGE = 10_000
_FIELD = "\x1f"


@dataclass(frozen=True)
class CommitInfo:
    """One commit as the exchange needs it."""

    sha: str
    author_email: str
    message: str
    parents: tuple[str, ...]
    committed_at: int = 0  # unix seconds
    patch_id: str | None = None
    replaces: str | None = None  # the commit an amend (or fixup/squash) rewrote
    empty: bool = False  # changes nothing (git commit --allow-empty): earns nothing

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def run_git(repo: Path, *args: str, stdin: str | None = None) -> str:
    """Run git in ``repo``; a failure is one InvalidInput line with git's own words."""
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    try:
        done = subprocess.run(
            ["git", *args], cwd=repo, input=stdin, capture_output=True, text=True,
            encoding="utf-8", errors="replace", env=env, check=False,
        )
    except FileNotFoundError:
        raise InvalidInput("git is not installed or not on PATH") from None
    except NotADirectoryError:
        raise InvalidInput(f"{repo} is not a directory") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise InvalidInput(f"git {args[0]} in {repo}: {reason}")
    return done.stdout


def repo_root(path: Path | None) -> Path:
    """The top folder of the work tree holding ``path`` (default: here)."""
    start = Path(path or Path.cwd()).expanduser()
    if not start.exists():
        raise InvalidInput(f"{start} does not exist")
    try:
        top = run_git(start, "rev-parse", "--show-toplevel").strip()
    except InvalidInput:
        raise InvalidInput(f"{start} is not inside a git repository") from None
    return Path(top).resolve()


def hooks_dir(repo: Path) -> Path:
    """The folder git really runs hooks from (core.hooksPath, husky, beads, worktrees)."""
    found = run_git(repo, "rev-parse", "--path-format=absolute", "--git-path", "hooks").strip()
    return Path(found)


def git_path(repo: Path, name: str) -> Path:
    return Path(run_git(repo, "rev-parse", "--path-format=absolute", "--git-path", name).strip())


def project_name(repo: Path, explicit: str | None = None) -> str:
    """--project, else the name in the remote's URL (origin first), else the folder name."""
    if explicit:
        return explicit
    remotes = run_git(repo, "remote").split()
    for remote in sorted(remotes, key=lambda r: r != "origin"):
        try:
            url = run_git(repo, "config", "--get", f"remote.{remote}.url").strip()
        except InvalidInput:  # a remote with only a pushurl has no url: try the next
            continue
        name = re.sub(r"\.git$", "", url.rstrip("/").replace(":", "/").rsplit("/", 1)[-1])
        if name:
            return name
    return repo.name


def clean_message(message: str) -> str:
    text = _CONTROL.sub(" ", message.replace("\r\n", "\n")).strip()
    return text[:MAX_MESSAGE] or "(no commit message)"


def head_commit(repo: Path) -> CommitInfo:
    """HEAD as the post-commit hook sees it, with its patch id and what it replaces."""
    out = run_git(repo, "log", "-1", f"--format=%H{_FIELD}%ae{_FIELD}%P{_FIELD}%ct{_FIELD}%B",
                  "HEAD")
    sha, email, parents, when, message = out.split(_FIELD, 4)
    parent_list = tuple(parents.split())
    patch, empty = (None, False) if len(parent_list) > 1 else change_of(repo, sha)
    return CommitInfo(sha, email.strip(), clean_message(message), parent_list, int(when or 0),
                      patch, rewritten_commit(repo, sha), empty)


def change_of(repo: Path, sha: str) -> tuple[str | None, bool]:
    """A commit's ``git patch-id --stable`` and whether it changes nothing at all (its
    diff against its parent is empty; a binary or mode-only change is not empty)."""
    diff = run_git(repo, "diff-tree", "-p", "--root", "--no-color", "--no-ext-diff", sha)
    if not diff.strip():
        return None, True
    out = run_git(repo, "patch-id", "--stable", stdin=diff).split()
    return (out[0] if out else None), False


def rewritten_commit(repo: Path, sha: str) -> str | None:
    """The commit HEAD's newest reflog entry says this one rewrote: an amend, or a
    rebase's fixup/squash folding into the commit before it. Read from the reflog file
    itself (one line), which is cheaper than another git process."""
    try:
        log = git_path(repo, "logs/HEAD")
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            last = handle.read().decode("utf-8", "replace").rstrip("\n").rsplit("\n", 1)[-1]
    except (OSError, InvalidInput):
        return None
    head, _, action = last.partition("\t")
    fields = head.split(" ")
    if len(fields) < 2 or fields[1] != sha:
        return None
    old = fields[0]
    amend = action.startswith("commit (amend)")
    folded = re.match(r"rebase( -i| -m)? \((fixup|squash)\)", action) is not None
    if (amend or folded) and not re.fullmatch(r"0+", old):
        return old
    return None


def walk_history(repo: Path, since: str | None = None) -> Iterator[CommitInfo]:
    """Every commit reachable from HEAD, oldest first, each with its patch id."""
    window = [f"--since={since}"] if since else []
    # -z ends each record with NUL, the one byte git never lets into a commit message.
    out = run_git(repo, "log", "-z", "--reverse", "--topo-order", *window,
                  f"--format=%H{_FIELD}%ae{_FIELD}%P{_FIELD}%ct{_FIELD}%B", "HEAD")
    patch_ids, changed = history_changes(repo, window)
    for record in out.split("\0")[:-1]:
        sha, email, parents, when, message = record.split(_FIELD, 4)
        parent_list = tuple(parents.split())
        empty = len(parent_list) <= 1 and sha not in changed
        yield CommitInfo(sha, email.strip(), clean_message(message), parent_list,
                         int(when or 0), patch_ids.get(sha), empty=empty)


def history_changes(repo: Path, window: list[str]) -> tuple[dict[str, str], set[str]]:
    """sha -> stable patch id for every non-merge commit, and the set of non-merge commits
    whose diff is not empty, in two git processes."""
    diffs = run_git(repo, "log", "-p", "--no-merges", "--no-color", "--no-ext-diff",
                    "--format=commit %H", *window, "HEAD")
    changed: set[str] = set()
    current = None
    for line in diffs.split("\n"):
        if line.startswith("commit "):  # our --format line; diff lines never start so
            current = line[7:].strip()
        elif current is not None and line.strip():
            changed.add(current)
    pairs = run_git(repo, "patch-id", "--stable", stdin=diffs).split("\n")
    found = {}
    for line in pairs:
        parts = line.split()
        if len(parts) == 2:
            found[parts[1]] = parts[0]
    return found, changed


def count_commits(repo: Path) -> int:
    try:
        return int(run_git(repo, "rev-list", "--count", "HEAD").strip())
    except (InvalidInput, ValueError):
        return 0


def has_commits(repo: Path) -> bool:
    try:
        run_git(repo, "rev-parse", "--verify", "-q", "HEAD")
    except InvalidInput:
        return False
    return True
