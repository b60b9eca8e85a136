"""`hooks install|uninstall|status` on real repositories: where git really runs hooks,
never clobbering a hook someone else wrote."""

from __future__ import annotations

import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from agent_token_exchange import init_exchange, open_exchange

from .gitrepo import Repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    from .gitrepo import GIT_ENV

    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    return Repo(tmp_path / "app")


def earned(home: Path, agent: str = "claude") -> Decimal:
    with open_exchange(home) as ex:
        return ex.balance(agent).earned


def test_install_into_a_fresh_repository_pays_the_next_commit(repo, home, cli):
    """A new hook file is created, executable, and a real `git commit` pays the author."""
    result = cli("hooks", "install", "--repo", str(repo.path), "--json")
    assert result.code == 0 and result.json["outcome"] == "created"
    hook = repo.hooks_dir() / "post-commit"
    assert hook.stat().st_mode & stat.S_IXUSR
    assert f"--home {home}" in hook.read_text()
    done = repo.commit("fix: the parser")
    assert "claude earned 225.00 tokens" in done.stderr  # git shows hook output there
    assert earned(home) == 225  # 150 × 1.0 × bugfix 1.5


def test_the_hook_run_again_says_the_commit_was_already_paid(repo, home, cli):
    """Running the post-commit hook again for the same HEAD says it was already paid (with
    what it earned then), not "earned" again, and pays nothing more."""
    cli("hooks", "install", "--repo", str(repo.path))
    repo.commit("fix: the parser")
    again = cli("hook", "post-commit", "--repo", str(repo.path))
    assert again.code == 0
    assert again.out.strip() == (f"token-exchange: {repo.head()[:12]} was already paid (claude "
                                 "earned 225.00 tokens then); nothing paid again")
    replay = cli("hook", "post-commit", "--repo", str(repo.path), "--json")
    assert replay.json["paid"]["replayed"] is True
    assert earned(home) == 225


def test_install_twice_keeps_one_block(repo, home, cli):
    """Installing the hook twice keeps one block, and a new --project updates that block in place.
    """
    cli("hooks", "install", "--repo", str(repo.path))
    again = cli("hooks", "install", "--repo", str(repo.path), "--json")
    assert again.json["outcome"] == "unchanged"
    text = (repo.hooks_dir() / "post-commit").read_text()
    assert text.count(">>> token-exchange post-commit >>>") == 1
    changed = cli("hooks", "install", "--repo", str(repo.path), "--project", "nexushive-setup",
                  "--json")
    assert changed.json["outcome"] == "updated"
    text = (repo.hooks_dir() / "post-commit").read_text()
    assert text.count(">>> token-exchange post-commit >>>") == 1
    assert "--project nexushive-setup" in text


def test_existing_hook_keeps_running_beside_ours(repo, home, cli, tmp_path):
    """Our block goes right after the shebang; the other hook, which ends in `exit 0`,
    still runs, and uninstall gives it back byte for byte."""
    marker = tmp_path / "their-hook-ran"
    hook = repo.hooks_dir() / "post-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    theirs = f"#!/bin/bash\nset -e\necho ran >> {marker}\nexit 0\n"
    hook.write_text(theirs)
    hook.chmod(0o755)
    result = cli("hooks", "install", "--repo", str(repo.path), "--json")
    assert result.json["outcome"] == "added"
    repo.commit("feat: one")
    assert marker.read_text() == "ran\n"
    assert earned(home) == 150
    status = cli("hooks", "status", "--repo", str(repo.path), "--json")
    post = status.json["hooks"][0]
    assert post["installed"] and post["shared"] and post["home"] == str(home)
    removed = cli("hooks", "uninstall", "--repo", str(repo.path), "--json")
    assert removed.json["outcome"] == "removed"
    assert hook.read_text() == theirs


def test_core_hooks_path_is_respected(repo, home, cli):
    """hooks install writes into core.hooksPath when git is configured with one."""
    repo.git("config", "core.hooksPath", ".githooks")
    result = cli("hooks", "install", "--repo", str(repo.path), "--json")
    assert Path(result.json["hook"]) == repo.path / ".githooks" / "post-commit"
    assert not (repo.path / ".git" / "hooks" / "post-commit").exists()
    repo.commit("test: coverage")
    assert earned(home) == 195  # testing bonus 1.3


def test_install_from_a_subfolder_and_a_linked_worktree(repo, home, cli, tmp_path):
    """Worktrees share the main repository's hooks folder, as git does."""
    repo.commit("chore: start")
    sub = repo.path / "src" / "pkg"
    sub.mkdir(parents=True)
    assert cli("hooks", "install", "--repo", str(sub)).code == 0
    repo.git("worktree", "add", "-q", str(tmp_path / "wt"), "-b", "side")
    status = cli("hooks", "status", "--repo", str(tmp_path / "wt"), "--json")
    assert status.json["hooks"][0]["installed"]
    assert status.json["hooks_dir"] == str(repo.path / ".git" / "hooks")


def test_uninstall_deletes_a_file_that_was_only_ours(repo, home, cli):
    """Uninstall deletes a hook file that held only our block, and a second uninstall reports it
    absent."""
    cli("hooks", "install", "--repo", str(repo.path))
    result = cli("hooks", "uninstall", "--repo", str(repo.path), "--json")
    assert result.json["outcome"] == "deleted"
    assert not (repo.hooks_dir() / "post-commit").exists()
    again = cli("hooks", "uninstall", "--repo", str(repo.path), "--json")
    assert again.json["outcome"] == "absent"


def test_a_python_hook_is_left_alone(repo, home, cli):
    """An existing Python post-commit hook is left untouched and install exits 2 with one line."""
    hook = repo.hooks_dir() / "post-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/usr/bin/env python3\nprint('hi')\n")
    hook.chmod(0o755)
    result = cli("hooks", "install", "--repo", str(repo.path))
    assert result.code == 2
    assert "python3 script" in result.err and len(result.err.strip().splitlines()) == 1
    assert hook.read_text() == "#!/usr/bin/env python3\nprint('hi')\n"


def test_a_disabled_hook_is_not_switched_on(repo, home, cli):
    """An existing non-executable hook is not switched on: install exits 2 saying it is not
    executable."""
    hook = repo.hooks_dir() / "post-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho dormant\n")
    hook.chmod(0o644)
    result = cli("hooks", "install", "--repo", str(repo.path))
    assert result.code == 2 and "not executable" in result.err
    assert not os.access(hook, os.X_OK)


def test_outside_a_repository_is_one_clear_line(tmp_path, home, cli):
    """hooks install or status outside a git repository exits 2 with one clear error."""
    result = cli("hooks", "install", "--repo", str(tmp_path / "nowhere"))
    assert result.code == 2 and result.err.strip().startswith("error:")
    plain = tmp_path / "plain"
    plain.mkdir()
    result = cli("hooks", "status", "--repo", str(plain), "--json")
    assert result.code == 2 and "not inside a git repository" in result.json["error"]["message"]


def test_a_husky_hooks_folder_keeps_calling_husky(repo, home, cli, tmp_path):
    """husky v9 sets core.hooksPath to .husky/_ whose hooks source its runner `h`;
    our block goes into that file and husky's runner still runs after it."""
    husky = repo.path / ".husky" / "_"
    husky.mkdir(parents=True)
    marker = tmp_path / "husky-ran"
    (husky / "h").write_text(f'echo "$(basename "$0")" >> {marker}\n')
    (husky / "post-commit").write_text('#!/usr/bin/env sh\n. "${0%/*}/h"\n')
    (husky / "post-commit").chmod(0o755)
    repo.git("config", "core.hooksPath", ".husky/_")
    result = cli("hooks", "install", "--repo", str(repo.path), "--json")
    assert result.json["hook"] == str(husky / "post-commit")
    repo.commit("feat: with husky")
    assert marker.read_text() == "post-commit\n"
    assert earned(home) == 150


def test_a_home_path_holding_a_redirection_sign_reads_back(repo, home, cli, tmp_path,
                                                            database_url):
    """`hooks status` and `git backfill` read the installed command back; a home path
    with " <" in it (quoted in the hook) must not be cut at that sign."""
    odd = tmp_path / "team <x> exchange"
    init_exchange(odd, database=database_url)
    cli("hooks", "install", "--repo", str(repo.path), "--home", str(odd), with_home=False)
    status = cli("hooks", "status", "--repo", str(repo.path), "--json", "--home", str(odd),
                 with_home=False)
    assert status.code == 0, status.err
    assert status.json["hooks"][0]["home"] == str(odd)
    repo.commit("feat: one")
    backfill = cli("git", "backfill", "--repo", str(repo.path), "--json", "--home", str(odd),
                   with_home=False)
    assert backfill.code == 0 and backfill.json["already_paid"] == 1, backfill.err


def test_a_hand_broken_block_is_one_clear_line(repo, home, cli):
    """hooks status on a hand-broken block exits 2 with one line saying it cannot read the command.
    """
    cli("hooks", "install", "--repo", str(repo.path))
    hook = repo.hooks_dir() / "post-commit"
    hook.write_text(hook.read_text().replace("--home ", "--home 'unclosed "))
    status = cli("hooks", "status", "--repo", str(repo.path))
    assert status.code == 2 and len(status.err.strip().splitlines()) == 1
    assert "cannot read the command" in status.err
