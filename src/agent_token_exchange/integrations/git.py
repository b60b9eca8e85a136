"""Reading git: the commit a hook was run for, the history a backfill walks, and the
names git gives things (hooks folder, project). Plain ``git`` subprocesses, no library:
what git itself reports is the truth (core.hooksPath, worktrees, reflogs).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
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
    return GitProcess(repo, *args, stdin=stdin).output()


class GitProcess:
    """One git process, started now and read by ``output()``: several started one after
    the other run side by side (and beside whatever the caller does meanwhile). A failure
    to start is kept and raised by ``output()``, so the caller decides when it counts."""

    def __init__(self, repo: Path, *args: str, stdin: str | None = None) -> None:
        self.repo, self.args, self._stdin = repo, args, stdin
        self._error: InvalidInput | None = None
        env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
        try:
            self._process: subprocess.Popen[str] | None = subprocess.Popen(
                ["git", *args], cwd=repo, stdin=None if stdin is None else subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                errors="replace", env=env,
            )
        except FileNotFoundError:
            self._process = None
            self._error = InvalidInput("git is not installed or not on PATH")
        except NotADirectoryError:
            self._process = None
            self._error = InvalidInput(f"{repo} is not a directory")

    def output(self) -> str:
        """What git wrote to stdout, once it has finished; InvalidInput if it failed."""
        if self._process is None:
            assert self._error is not None
            raise self._error
        out, err = self._process.communicate(self._stdin)
        if self._process.returncode != 0:
            reason = (err.strip().splitlines() or ["failed"])[-1]
            raise InvalidInput(f"git {self.args[0]} in {self.repo}: {reason}")
        return out


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


# Every remote's URL, in one git process (``git remote`` and a ``config --get`` per remote
# would be one each): NUL ends each entry, a newline parts its key from its value.
_REMOTE_URLS = ("config", "-z", "--get-regexp", r"^remote\..*\.url$")


def project_name(repo: Path, explicit: str | None = None) -> str:
    """--project, else the name in the remote's URL (origin first), else the folder name."""
    if explicit:
        return explicit
    return _name_from_remotes(_remote_urls(GitProcess(repo, *_REMOTE_URLS)), repo)


def _remote_urls(process: GitProcess) -> str:
    try:
        return process.output()
    except InvalidInput:  # git config finds no remote with a url: exit status 1
        return ""


def _name_from_remotes(urls: str, repo: Path) -> str:
    """The project's name in its remotes' URLs (``_REMOTE_URLS``' output): origin's, else
    the first remote's by name (as ``git remote`` sorts them) with a name in its URL; a
    remote with only a push URL has no url and is passed over. Else the folder's name."""
    found: dict[str, str] = {}
    for entry in urls.split("\0"):
        key, _, url = entry.partition("\n")
        if key.startswith("remote.") and key.endswith(".url"):
            found[key[len("remote."):-len(".url")]] = url.strip()  # the last value wins
    for remote in sorted(found, key=lambda r: (r != "origin", r)):
        url = found[remote]
        name = re.sub(r"\.git$", "", url.rstrip("/").replace(":", "/").rsplit("/", 1)[-1])
        if name:
            return name
    return repo.name


def clean_message(message: str) -> str:
    text = _CONTROL.sub(" ", message.replace("\r\n", "\n")).strip()
    return text[:MAX_MESSAGE] or "(no commit message)"


_COMMIT_FORMAT = f"%H{_FIELD}%ae{_FIELD}%P{_FIELD}%ct{_FIELD}%B"


class HeadReading:
    """HEAD of the work tree holding ``path``, as the post-commit hook pays it: the top
    folder, the commit (its patch id, whether it is empty, what it replaces) and the
    project's name (``explicit``, else from the remotes, else the folder's).

    Its git processes start when it is made, on a thread of its own (starting a process
    holds up its starter until the process runs, so the caller goes on at once), and run
    while the caller does other work (the hook opens the exchange); ``result()`` waits for
    them. Three side by side: the top folder with the reflog's path, HEAD with its diff
    (one ``diff-tree``: the fields, a NUL, the patch), and the remotes' URLs; then
    ``git patch-id`` on the diff, as soon as it is in."""

    def __init__(self, path: Path, explicit: str | None = None) -> None:
        self.start = Path(path).expanduser()
        self.explicit = explicit
        self._missing = not self.start.exists()
        self._where: GitProcess | None = None
        self._remotes: GitProcess | None = None
        self._head: tuple[list[str], str | None, bool] | BaseException | None = None
        self._reader = threading.Thread(target=self._read, name="atx-git-head", daemon=True)
        if not self._missing:
            self._reader.start()

    def _read(self) -> None:
        """On the reader thread: start the processes, then read HEAD's fields and patch
        id; a failure is kept for ``result()`` to raise on the caller's side."""
        try:
            self._where = GitProcess(self.start, "rev-parse", "--show-toplevel",
                                     "--path-format=absolute", "--git-path", "logs/HEAD")
            head = GitProcess(self.start, "diff-tree", "--always", "--root", "-p",
                              "--no-color", "--no-ext-diff",
                              f"--format={_COMMIT_FORMAT}%x00", "HEAD")
            if not self.explicit:
                self._remotes = GitProcess(self.start, *_REMOTE_URLS)
            text, _, diff = head.output().partition("\0")
            fields = text.split(_FIELD, 4)
            merge = len(fields) > 2 and len(fields[2].split()) > 1
            self._head = (fields, *((None, False) if merge else patch_of(self.start, diff)))
        except BaseException as exc:  # noqa: BLE001 - result() raises it
            self._head = exc

    def result(self) -> tuple[Path, CommitInfo, str]:
        """(the work tree's top folder, HEAD, the project's name)."""
        if self._missing:
            raise InvalidInput(f"{self.start} does not exist")
        self._reader.join()
        if self._where is None:  # the reader failed before git could start
            assert isinstance(self._head, BaseException)
            raise self._head
        try:
            top, _, reflog = self._where.output().rstrip("\n").rpartition("\n")
        except InvalidInput:
            raise InvalidInput(f"{self.start} is not inside a git repository") from None
        root = Path(top).resolve()
        if isinstance(self._head, BaseException):
            raise self._head
        assert self._head is not None
        fields, patch, empty = self._head
        sha, email, parents, when, message = fields
        parent_list = tuple(parents.split())
        commit = CommitInfo(sha, email.strip(), clean_message(message), parent_list,
                            int(when or 0), patch, rewritten_commit(Path(reflog), sha), empty)
        name = self.explicit or (_name_from_remotes(_remote_urls(self._remotes), root)
                                 if self._remotes is not None else root.name)
        return root, commit, name


def patch_of(repo: Path, diff: str) -> tuple[str | None, bool]:
    """A commit's ``git patch-id --stable`` from its diff against its parent, and whether
    it changes nothing at all (a binary or mode-only change is not empty)."""
    if not diff.strip():
        return None, True
    out = run_git(repo, "patch-id", "--stable", stdin=diff).split()
    return (out[0] if out else None), False


def rewritten_commit(log: Path, sha: str) -> str | None:
    """The commit HEAD's newest reflog entry (the last line of ``log``, the reflog file
    itself: cheaper than another git process) says ``sha`` rewrote: an amend, or a
    rebase's fixup/squash folding into the commit before it."""
    try:
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            last = handle.read().decode("utf-8", "replace").rstrip("\n").rsplit("\n", 1)[-1]
    except OSError:
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
