"""Real git repositories in temporary folders, for the git integration's tests."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

# Isolate from whoever runs the tests: their global hooksPath, templates or signing.
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_COMMITTER_NAME": "Tester",
    "GIT_COMMITTER_EMAIL": "tester@example.com",
}


class Repo:
    """A git repository driven the way a person drives one: `git commit` runs the hooks."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Agent")
        self.author = "claude@aygp-dr.ai"

    def git(self, *args: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True,
            env={**os.environ, **GIT_ENV, **(env or {})}, check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done

    def commit(self, message: str, *, author: str | None = None, file: str | None = None,
               content: str | None = None,
               extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        """Change a file and commit it (hooks run). Returns git's result."""
        name = file or f"file-{self.count()}.txt"
        (self.path / name).write_text(content if content is not None else f"{message}\n")
        self.git("add", name)
        email = author or self.author
        return self.git("commit", "-q", "-m", message, *extra,
                        env={"GIT_AUTHOR_EMAIL": email, "GIT_AUTHOR_NAME": "A"})

    def count(self) -> int:
        done = self.git("rev-list", "--count", "HEAD", check=False)
        return int(done.stdout.strip()) if done.returncode == 0 else 0

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()

    def hooks_dir(self) -> Path:
        return Path(self.git("rev-parse", "--path-format=absolute", "--git-path",
                             "hooks").stdout.strip())
