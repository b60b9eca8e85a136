"""The beads (bd) issue tracker: reading its issues and paying for closed ones.

``bd`` itself often cannot be installed (its npm package downloads a binary), so the data
is read straight from ``.beads/issues.jsonl`` in every version of that file: the pre-1.0
git-tracked export (one issue per line) and 1.x ``bd export`` lines, which carry a
``_type`` (lines whose ``_type`` is not ``issue`` are skipped). When a ``bd`` is on PATH,
``bd … --json`` is asked instead, and ``bd close`` is run before paying.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..economy import rules
from ..economy.records import Payment
from ..errors import InvalidInput
from ..files import read_text_file
from ..money import tokens
from ..service.exchange import Exchange
from . import githooks

ENV_AGENT = "TOKEN_EXCHANGE_AGENT"
MAX_ISSUES_FILE_BYTES = 1024**3
CLOSED = "closed"
TOMBSTONE = "tombstone"
ON_CLOSE = "on_close"


@dataclass(frozen=True)
class Issue:
    """The fields of a beads issue that decide its reward."""

    id: str
    title: str
    status: str
    priority: int | None
    issue_type: str
    assignee: str | None
    labels: tuple[str, ...] = ()
    close_reason: str | None = None
    tombstoned: bool = False

    @property
    def closed(self) -> bool:
        return self.status == CLOSED

    @property
    def open(self) -> bool:
        return self.status not in (CLOSED, TOMBSTONE) and not self.tombstoned


def issue_from_json(data: Any, where: str = "issue") -> Issue | None:
    """One beads record as an Issue; None for a 1.x line that is not an issue."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: expected a JSON object")
    kind = data.get("_type")
    if kind is not None and kind != "issue":
        return None
    issue_id = data.get("id")
    if not isinstance(issue_id, str) or not issue_id.strip():
        raise InvalidInput(f"{where}: an issue needs an \"id\"")
    priority = data.get("priority")
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
        raise InvalidInput(f"{where}: {issue_id}: priority must be a whole number 0-4")
    labels = data.get("labels") or []
    if not isinstance(labels, list):
        labels = []
    status = str(data.get("status") or "open").lower()
    return Issue(
        id=issue_id.strip(), title=str(data.get("title") or ""), status=status,
        priority=priority, issue_type=str(data.get("issue_type") or "task").lower(),
        assignee=(str(data["assignee"]).strip() or None) if data.get("assignee") else None,
        labels=tuple(str(label) for label in labels),
        close_reason=str(data["close_reason"]) if data.get("close_reason") else None,
        tombstoned=status == TOMBSTONE or bool(data.get("deleted_at")),
    )


@dataclass(frozen=True)
class IssueFile:
    """What reading a JSONL file found."""

    path: Path
    lines: int
    issues: tuple[Issue, ...]
    skipped: int  # 1.x lines of another _type


def read_issues_file(path: Path) -> IssueFile:
    """Every line of a beads JSONL export; a bad line is an error naming it."""
    text = read_text_file(path, MAX_ISSUES_FILE_BYTES, "a beads issues file")
    issues: dict[str, Issue] = {}
    lines = skipped = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        lines += 1
        where = f"{path.name} line {number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{where}: not valid JSON ({exc.msg})") from None
        issue = issue_from_json(data, where)
        if issue is None:
            skipped += 1
            continue
        issues[issue.id] = issue  # a later line for the same id is the newer state
    return IssueFile(path, lines, tuple(issues.values()), skipped)


def find_issues_file(explicit: Path | None) -> Path:
    """--beads (a .beads folder or a .jsonl file), else $BEADS_DIR, else the nearest
    .beads/issues.jsonl at or above here."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        return path / "issues.jsonl" if path.is_dir() else path
    env = os.environ.get("BEADS_DIR")
    if env:
        return Path(env).expanduser() / "issues.jsonl"
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / ".beads" / "issues.jsonl"
        if candidate.exists():
            return candidate
    raise InvalidInput("no .beads/issues.jsonl here or above; pass --beads PATH")


class Tracker:
    """Where issues come from: ``bd --json`` when bd is on PATH (and no file was named),
    else the JSONL export."""

    def __init__(self, beads: Path | None = None) -> None:
        self.explicit = beads
        self.bd = shutil.which("bd") if beads is None else None
        self._file: IssueFile | None = None
        self._listed: tuple[Issue, ...] | None = None

    @property
    def source(self) -> str:
        return "bd" if self.bd else str(self._load().path)

    def _load(self) -> IssueFile:
        if self._file is None:
            self._file = read_issues_file(find_issues_file(self.explicit))
        return self._file

    def all_issues(self) -> tuple[Issue, ...]:
        if self.bd:
            if self._listed is None:
                listed = (issue_from_json(d, "bd list")
                          for d in _as_list(self._run_bd("list", "--all", "--json")))
                self._listed = tuple(i for i in listed if i is not None)
            return self._listed
        return self._load().issues

    def lines_read(self) -> int:
        return len(self.all_issues()) if self.bd else self._load().lines

    def issue(self, issue_id: str) -> Issue:
        if self.bd:
            found = _as_list(self._run_bd("show", issue_id, "--json"))
            if not found:
                raise InvalidInput(f"bd knows no issue {issue_id!r}")
            issue = issue_from_json(found[0], f"bd show {issue_id}")
            assert issue is not None
            return issue
        for issue in self._load().issues:
            if issue.id == issue_id:
                return issue
        raise InvalidInput(f"no issue {issue_id!r} in {self._load().path}")

    def close_with_bd(self, issue_id: str, reason: str | None) -> None:
        args = ["close", issue_id, *(["--reason", reason] if reason else []), "--json"]
        self._run_bd(*args)

    def _run_bd(self, *args: str) -> Any:
        assert self.bd is not None
        done = subprocess.run([self.bd, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["failed"])[-1]
            raise InvalidInput(f"bd {args[0]} failed: {reason}")
        try:
            return json.loads(done.stdout or "null")
        except json.JSONDecodeError:
            raise InvalidInput(f"bd {args[0]} --json did not print JSON") from None


def _as_list(data: Any) -> list[Any]:
    if isinstance(data, dict):
        data = data.get("issues", [data])
    return list(data) if isinstance(data, list) else []


# -- who is paid and how much ------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What closing an issue pays, to whom, and why."""

    issue: Issue
    reward: Decimal
    agent: str | None
    reason: str
    paid_to: str  # why this agent (or why none)


Payees = Sequence[tuple[str, str | None]]


def payees_named(agent: str | None, env_agent: str | None) -> Payees:
    """Who the caller names to be paid when an issue's assignee is no agent, in order:
    ``--agent``, then ``$TOKEN_EXCHANGE_AGENT`` (the adapter reads the environment)."""
    return (("--agent", agent), (ENV_AGENT, env_agent))


def choose_agent(ex: Exchange, issue: Issue, payees: Payees) -> tuple[str | None, str]:
    """The agent paid for an issue and why (``rules.issue_payee``)."""
    return rules.issue_payee(ex.config, issue.assignee, payees)


def preview(ex: Exchange, issue: Issue, payees: Payees = ()) -> Preview:
    reward = rules.issue_reward(
        ex.config, priority=issue.priority, issue_type=issue.issue_type, labels=issue.labels,
        close_reason=issue.close_reason, tombstoned=issue.tombstoned,
    )
    agent, why = choose_agent(ex, issue, payees)
    return Preview(issue, tokens(reward.amount), agent, reward.reason, why)


@dataclass
class AssigneeTotal:
    assignee: str
    agent: str | None
    issues: int = 0
    reward: Decimal = tokens(0)


def totals_by_assignee(previews: Iterable[Preview]) -> list[AssigneeTotal]:
    totals: dict[str, AssigneeTotal] = {}
    for p in previews:
        key = p.issue.assignee or "(unassigned)"
        row = totals.setdefault(key, AssigneeTotal(key, p.agent))
        row.issues += 1
        row.reward += p.reward
    return sorted(totals.values(), key=lambda row: (-row.reward, row.assignee))


def pay(ex: Exchange, issue: Issue, payees: Payees = ()) -> Payment:
    """Pay a closed issue to its agent (once; zero for what earns nothing)."""
    if not issue.closed and not issue.tombstoned:
        raise InvalidInput(f"{issue.id} is {issue.status}, not closed; nothing paid")
    agent = choose_agent_or_fail(ex, issue, payees)
    return ex.pay_issue(
        issue.id, agent, priority=issue.priority, issue_type=issue.issue_type,
        labels=issue.labels, close_reason=issue.close_reason, tombstoned=issue.tombstoned,
        title=issue.title,
    )


@dataclass
class SyncReport:
    """What `bd sync` settled."""

    source: str
    closed: int = 0
    paid: int = 0
    zero: int = 0  # settled at zero: failure closes, infrastructure types, tombstones
    already_settled: int = 0
    no_agent: int = 0
    total: Decimal = tokens(0)
    payments: list[Payment] = field(default_factory=list)
    unpaid: list[str] = field(default_factory=list)  # ids nobody could be paid for


def sync(ex: Exchange, tracker: Tracker, payees: Payees = ()) -> SyncReport:
    """Pay every closed issue not yet settled. Issues nobody can be paid for are listed,
    not errors: the rest still settle."""
    report = SyncReport(tracker.source)
    for issue in tracker.all_issues():
        if not issue.closed and not issue.tombstoned:
            continue
        report.closed += 1
        if ex.issue_settled(issue.id):
            report.already_settled += 1
            continue
        agent, _ = choose_agent(ex, issue, payees)
        if agent is None:
            report.no_agent += 1
            report.unpaid.append(issue.id)
            continue
        paid = pay(ex, issue, payees)
        if paid.replayed:  # settled by another writer since issue_settled looked
            report.already_settled += 1
        elif paid.amount == 0:
            report.zero += 1
        else:
            report.paid += 1
            report.total += paid.amount
            report.payments.append(paid)
    return report


# -- the on_close hook --------------------------------------------------------------------


def on_close_path(root: Path) -> Path:
    return root / ".beads" / "hooks" / ON_CLOSE


def on_close_status(root: Path) -> githooks.HookStatus:
    return githooks.read_status(on_close_path(root), "beads on_close", ON_CLOSE)


def install_on_close(root: Path, home: Path) -> tuple[Path, str]:
    """Write (or add our block to) .beads/hooks/on_close: bd runs it with the closed
    issue's JSON on stdin, and we pay for it."""
    if not (root / ".beads").is_dir():
        raise InvalidInput(f"{root} has no .beads folder; run `bd init` there first")
    path = on_close_path(root)
    command = [*githooks.exchange_command(), "bd", "on-close", "--home", str(home)]
    return path, githooks.install_block(path, ON_CLOSE, command, pass_stdin=True)


def choose_agent_or_fail(ex: Exchange, issue: Issue, payees: Payees) -> str:
    agent, why = choose_agent(ex, issue, payees)
    if agent is None:
        raise InvalidInput(f"{issue.id}: nobody to pay: {why}; nothing paid")
    return agent


def with_close_reason(issue: Issue, reason: str) -> Issue:
    return replace(issue, close_reason=reason)


def with_status(issue: Issue, status: str) -> Issue:
    return replace(issue, status=status)
