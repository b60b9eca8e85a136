"""Paying commits from real repositories: the post-commit hook and `git backfill`.
The same work is paid once: by SHA, through an amend, and through a rebase's replay."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agent_token_exchange import init_exchange, open_exchange
from agent_token_exchange.economy.config import default_config_text

from .conftest import set_config
from .gitrepo import GIT_ENV, Repo
from .ledger_checks import assert_invariants, stored_transfers


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    for name, value in GIT_ENV.items():
        monkeypatch.setenv(name, value)
    return Repo(tmp_path / "app")


@pytest.fixture
def hooked(repo: Repo, home: Path, cli) -> Repo:
    assert cli("hooks", "install", "--repo", str(repo.path)).code == 0
    return repo


def commit_transfers(home: Path) -> list[tuple[str, int, str]]:
    with open_exchange(home) as ex:
        assert_invariants(ex)
        return [(t.destination, t.amount, t.description) for t in stored_transfers(ex)
                if t.kind == "commit"]


def test_known_and_unknown_authors(hooked, home):
    """A known agent is paid; an unknown author is one line on stderr and the commit
    still succeeds with nothing written."""
    ok = hooked.commit("feat: parser", author="builder@anywhere.dev")
    unknown = hooked.commit("feat: more", author="stranger@example.com")
    assert unknown.returncode == 0
    assert "stranger@example.com is not a known agent" in unknown.stderr
    assert "builder earned 120.00 tokens" in ok.stderr
    assert commit_transfers(home) == [("agent:builder", 120_000_000, "feat: parser")]


def test_configured_email_maps_to_the_agent(hooked, home):
    """A commit by an email configured for an agent pays that agent, case-insensitively."""
    set_config(home, lambda text: text.replace(
        '[agents.zero]\nlevel = 5\nbase_rate = 90\nprimary_llm = "llama3.2"\nemails = []',
        '[agents.zero]\nlevel = 5\nbase_rate = 90\nprimary_llm = "llama3.2"\n'
        'emails = ["Ops-Bot@Corp.example"]'))
    hooked.commit("chore: tidy", author="ops-bot@corp.example")
    assert commit_transfers(home) == [("agent:zero", 90_000_000, "chore: tidy")]


def test_running_the_hook_again_pays_nothing_more(hooked, home, cli):
    """Running the post-commit hook again for the same commit reports the payment and pays nothing
    more."""
    hooked.commit("fix: once")
    again = cli("hook", "post-commit", "--repo", str(hooked.path), "--json")
    assert again.code == 0 and again.json["paid"]["amount"] == "225"
    assert len(commit_transfers(home)) == 1


def test_an_amend_replaces_the_commit_it_amends(hooked, home):
    """An amended commit replaces the commit it amends rather than being paid again."""
    hooked.commit("fix: first try")
    first = hooked.head()
    (hooked.path / "more.txt").write_text("more\n")
    hooked.git("add", "more.txt")
    amended = hooked.git("commit", "-q", "--amend", "-m", "hotfix: first try, done right",
                         env={"GIT_AUTHOR_EMAIL": "claude@aygp-dr.ai"})
    assert hooked.head() != first
    assert f"it replaces commit {first[:12]} (amend)" in amended.stderr
    hooked.git("commit", "-q", "--amend", "--no-edit")  # an amend of the amend
    assert [t[1] for t in commit_transfers(home)] == [225_000_000]


def test_a_rebase_replaying_commits_pays_nothing_more(hooked, home):
    """Replayed commits keep their patch ids; the hook runs for each and pays none."""
    hooked.commit("chore: base", file="base.txt")
    hooked.git("checkout", "-q", "-b", "topic")
    hooked.commit("feat: a", file="a.txt")
    hooked.commit("feat: b", file="b.txt")
    hooked.git("checkout", "-q", "main")
    hooked.commit("docs: main moves on", file="readme.txt")
    before = commit_transfers(home)
    hooked.git("checkout", "-q", "topic")
    rebased = hooked.git("rebase", "-q", "main")
    assert rebased.stderr.count("matching patch id") == 2
    assert commit_transfers(home) == before
    assert len(before) == 4


def test_the_same_change_by_another_agent_is_their_own_work(hooked, home):
    """Patch ids are matched per agent: spark making the very change claude made (same
    file, same content, on another branch) is paid; claude cherry-picking it again is not."""
    hooked.commit("chore: base", file="base.txt")
    hooked.commit("feat: shared", file="x.txt", content="same\n")
    shared = hooked.head()
    hooked.git("checkout", "-q", "-b", "other", "HEAD~1")
    hooked.commit("feat: shared too", file="x.txt", content="same\n", author="spark@team.dev")
    hooked.git("checkout", "-q", "-b", "third", "main~1")
    # A later committer date: within the same second onto the same parent, git would
    # recreate the very same commit (same SHA) and the patch-id path would not be tested.
    picked = hooked.git("cherry-pick", shared, env={"GIT_COMMITTER_DATE": "2031-01-01T00:00:00Z"})
    assert "matching patch id" in picked.stderr
    assert [t[0] for t in commit_transfers(home)] == ["agent:claude", "agent:claude",
                                                      "agent:spark"]


def test_the_hook_never_blocks_a_commit(repo, home, cli, tmp_path):
    """A vanished exchange, a broken config: one line on stderr, the commit lands."""
    cli("hooks", "install", "--repo", str(repo.path))
    (home / ".exchange" / "config.toml").write_text("start_balance = [oops")
    done = repo.commit("fix: still lands")
    assert done.returncode == 0 and repo.count() == 1
    lines = [line for line in done.stderr.splitlines() if "token-exchange" in line]
    assert len(lines) == 1 and "commit not paid" in lines[0] and "not valid TOML" in lines[0]


def test_the_hook_command_outside_a_repo_exits_zero(tmp_path, home):
    """hook post-commit outside a git repository exits 0 with one not-paid line on stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "agent_token_exchange", "hook", "post-commit", "--home",
         str(home), "--repo", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stderr.strip().startswith("token-exchange: commit not paid:")
    assert len(done.stderr.strip().splitlines()) == 1


def test_project_name_from_option_then_remote_then_folder(repo, home, cli):
    """The commit's project is the --project option, else the remote's repository name, else the
    folder's name."""
    repo.commit("feat: folder")
    cli("hook", "post-commit", "--repo", str(repo.path))
    repo.git("remote", "add", "origin", "git@github.com:team/scheme-lab.git")
    repo.commit("feat: remote")
    cli("hook", "post-commit", "--repo", str(repo.path))
    repo.commit("feat: option")
    cli("hook", "post-commit", "--repo", str(repo.path), "--project", "nexushive-setup")
    with open_exchange(home) as ex:
        projects = [(t.project, t.amount) for t in stored_transfers(ex) if t.kind == "commit"]
    assert projects == [("app", 150_000_000), ("scheme-lab", 270_000_000),
                        ("nexushive-setup", 300_000_000)]


def test_merge_commits_earn_nothing_unless_configured(repo, home, cli):
    """Merge commits earn nothing unless pay_merge_commits is set."""
    repo.commit("feat: base", file="base.txt")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("feat: side", file="side.txt")
    repo.git("checkout", "-q", "main")
    repo.commit("feat: main", file="main.txt")
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side",
             env={"GIT_AUTHOR_EMAIL": "claude@aygp-dr.ai"})
    dry = cli("git", "backfill", "--repo", str(repo.path), "--dry-run", "--json").json
    assert (dry["commits"], dry["merges"], dry["paid"]) == (4, 1, 3)
    set_config(home, lambda text: text.replace("pay_merge_commits = false",
                                               "pay_merge_commits = true"))
    paid = cli("git", "backfill", "--repo", str(repo.path), "--json").json
    assert (paid["merges"], paid["paid"]) == (0, 4)


def test_backfill_twice_pays_once(repo, home, cli):
    """A dry-run backfill writes nothing and a second backfill pays nothing more, with per-agent
    totals matching."""
    for n in range(6):
        author = ["claude@aygp-dr.ai", "builder@x.dev", "nobody@x.dev"][n % 3]
        repo.commit(f"fix: change {n}", author=author)
    dry = cli("git", "backfill", "--repo", str(repo.path), "--dry-run", "--json")
    assert commit_transfers(home) == []  # a dry run writes nothing
    first = cli("git", "backfill", "--repo", str(repo.path), "--json")
    assert first.code == 0
    second = cli("git", "backfill", "--repo", str(repo.path), "--json")
    expected = [{"agent": "builder", "commits": 2, "amount": "360"},
                {"agent": "claude", "commits": 2, "amount": "450"}]
    assert dry.json["agents"] == expected == first.json["agents"]
    assert first.json["unknown_authors"] == 2 and first.json["total"] == "810"
    assert second.json["paid"] == 0 and second.json["already_paid"] == 4
    assert len(commit_transfers(home)) == 4


def test_backfill_after_the_hook_and_a_rebase_pays_nothing_more(hooked, home, cli):
    """A backfill after a rebase made without the hook pays nothing more for the replayed commits.
    """
    hooked.commit("chore: base", file="base.txt")
    hooked.git("checkout", "-q", "-b", "topic")
    hooked.commit("feat: a", file="a.txt")
    hooked.git("checkout", "-q", "main")
    hooked.commit("feat: b", file="b.txt")
    hooked.git("checkout", "-q", "topic")
    cli("hooks", "uninstall", "--repo", str(hooked.path))
    hooked.git("rebase", "-q", "main")  # no hook: the backfill sees new SHAs
    report = cli("git", "backfill", "--repo", str(hooked.path), "--json").json
    assert report["paid"] == 0 and report["already_paid"] == 3
    assert len(commit_transfers(home)) == 3


def test_backfill_since_a_date(repo, home, cli):
    """backfill --since pays only commits after the date and refuses a date it cannot read."""
    repo.git("commit", "--allow-empty", "-q", "-m", "feat: old",
             env={"GIT_AUTHOR_EMAIL": "claude@aygp-dr.ai", "GIT_AUTHOR_DATE": "2020-01-01T00:00",
                  "GIT_COMMITTER_DATE": "2020-01-01T00:00"})
    repo.commit("feat: new")
    report = cli("git", "backfill", "--repo", str(repo.path), "--since", "2024-01-01",
                 "--json").json
    assert report["commits"] == 1 and report["paid"] == 1
    bad = cli("git", "backfill", "--repo", str(repo.path), "--since", "last tuesday")
    assert bad.code == 2 and "--since must be a date" in bad.err


def test_backfill_of_an_empty_repository(repo, home, cli):
    """Backfilling an empty repository succeeds with zero commits."""
    report = cli("git", "backfill", "--repo", str(repo.path), "--json")
    assert report.code == 0 and report.json["commits"] == 0


def test_backfill_uses_the_project_the_hook_records(repo, home, cli):
    """The backfill uses the project recorded by hooks install --project, so the hook's payments
    count as already paid."""
    cli("hooks", "install", "--repo", str(repo.path), "--project", "claude-monitor")
    repo.commit("feat: one")  # the hook pays it under claude-monitor
    report = cli("git", "backfill", "--repo", str(repo.path), "--json").json
    assert report["project"] == "claude-monitor" and report["already_paid"] == 1


def test_an_autosquashed_fixup_pays_nothing_more(hooked, home):
    """The fixup commit was paid when made; folding it into its target makes no new work."""
    hooked.commit("chore: base", file="base.txt")
    hooked.commit("feat: a", file="a.txt")
    target = hooked.head()
    hooked.commit("feat: b", file="b.txt")
    hooked.commit("fixup! feat: a", file="a.txt", content="a, fixed\n")
    before = commit_transfers(home)
    done = hooked.git("rebase", "-q", "-i", "--autosquash", f"{target}~1",
                      env={"GIT_SEQUENCE_EDITOR": "true", "GIT_EDITOR": "true"})
    assert done.returncode == 0
    assert commit_transfers(home) == before and len(before) == 4


def test_backfill_reads_a_message_holding_any_control_byte(repo, home, cli):
    """Records end in NUL, which git never lets into a message; 0x1E or 0x1F inside a
    message must not split a commit in two."""
    repo.commit("feat: odd \x1e record \x1f field bytes")
    repo.commit("fix: after it")
    report = cli("git", "backfill", "--repo", str(repo.path), "--json")
    assert report.code == 0, report.err
    assert (report.json["commits"], report.json["paid"]) == (2, 2)
    assert [d for _, _, d in commit_transfers(home)] == [
        "feat: odd   record   field bytes", "fix: after it"]


def test_a_remote_with_only_a_push_url_is_passed_over(repo, home, cli):
    """`git config --get remote.X.url` fails for a pushurl-only remote; the hook takes
    the next remote's name, else the folder's, and still pays."""
    repo.git("config", "remote.origin.pushurl", "git@github.com:team/push-only.git")
    repo.commit("feat: folder name")
    first = cli("hook", "post-commit", "--repo", str(repo.path))
    assert first.code == 0 and "not paid" not in first.err, first.err
    repo.git("remote", "add", "upstream", "https://github.com/team/scheme-lab")
    repo.commit("feat: next remote")
    cli("hook", "post-commit", "--repo", str(repo.path))
    with open_exchange(home) as ex:
        projects = [t.project for t in stored_transfers(ex) if t.kind == "commit"]
    assert projects == ["app", "scheme-lab"]


def test_backfill_dry_run_caps_at_the_budget_as_the_real_run_does(repo, cli, tmp_path,
                                                                   make_database_url):
    """A dry-run backfill caps and refuses at the contract budget exactly as the real run does."""
    small = tmp_path / "small"
    (small / ".exchange").mkdir(parents=True)
    (small / ".exchange" / "config.toml").write_text(
        default_config_text().replace("budget = 10000", "budget = 200"))
    init_exchange(small, database=make_database_url())  # funds the default contract: 200
    for n in range(3):
        repo.commit(f"feat: change {n}")  # 150 each: paid 150, capped at 50, refused

    def backfill(*extra: str) -> dict:
        return cli("git", "backfill", "--repo", str(repo.path), "--json", "--home",
                   str(small), *extra, with_home=False).json

    dry, real = backfill("--dry-run"), backfill()
    for report in (dry, real):
        assert (report["paid"], report["refused"], report["total"]) == (2, 1, "200")


def test_an_unpaid_commit_states_its_reason_once(repo, home, cli, monkeypatch):
    """The line and the JSON carry one reason, worked out once. The real skip_reason
    runs; the wrapper only counts the calls."""
    from agent_token_exchange.integrations import commits

    calls = []
    real = commits.skip_reason
    monkeypatch.setattr(commits, "skip_reason",
                        lambda ex, commit: calls.append(commit.sha) or real(ex, commit))
    repo.commit("feat: by a stranger", author="nobody@x.dev")
    result = cli("hook", "post-commit", "--repo", str(repo.path), "--json")
    assert result.code == 0 and "nobody@x.dev is not a known agent" in result.json["reason"]
    assert calls == [repo.head()]


def test_origin_names_the_project_before_remotes_that_sort_first(repo):
    """origin's URL names the project even when another remote sorts before it; without
    origin the first remote by name with a URL does, whatever its name holds (dots)."""
    from agent_token_exchange.integrations.git import project_name

    repo.git("remote", "add", "a-fork", "https://example.com/team/fork-name.git")
    repo.git("remote", "add", "origin", "git@github.com:team/main-name.git")
    repo.git("config", "remote.b.mirror.url", "/srv/with space/mirror.git")
    assert project_name(repo.path) == "main-name"
    repo.git("remote", "remove", "origin")
    repo.git("remote", "remove", "a-fork")
    assert project_name(repo.path) == "mirror"
    assert project_name(repo.path, "explicit") == "explicit"


def test_reading_head_where_there_is_none_says_why(repo, tmp_path):
    """HEAD read from a missing folder, a folder outside git, or a repository with no
    commit yet is one InvalidInput naming the reason, raised when the result is asked."""
    from agent_token_exchange.errors import InvalidInput
    from agent_token_exchange.integrations.git import HeadReading

    plain = tmp_path / "plain"
    plain.mkdir()
    for where, reason in ((tmp_path / "missing", "does not exist"),
                          (plain, "is not inside a git repository"),
                          (repo.path, "git diff-tree in")):
        reading = HeadReading(where)
        with pytest.raises(InvalidInput, match=reason):
            reading.result()


def test_the_hooks_patch_id_is_the_one_backfill_computes(repo):
    """HEAD's patch id read in one diff-tree equals what the history walk computes for
    the same commit, so the hook and backfill recognise the same work; an empty commit
    has none and says so."""
    from agent_token_exchange.integrations.git import HeadReading, history_changes

    repo.commit("feat: a change")
    root, commit, project = HeadReading(repo.path).result()
    ids, changed = history_changes(root, [])
    assert commit.patch_id == ids[commit.sha] and commit.sha in changed and not commit.empty
    assert (root, project) == (repo.path.resolve(), "app")
    repo.git("commit", "-q", "--allow-empty", "-m", "chore: nothing",
             env={"GIT_AUTHOR_EMAIL": repo.author, "GIT_AUTHOR_NAME": "A"})
    _, empty, _ = HeadReading(repo.path).result()
    assert empty.empty and empty.patch_id is None
