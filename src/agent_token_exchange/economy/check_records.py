"""The ledger checked and carried: doctor's findings, the audit, an import. Part of
``records.py``'s catalogue (see its docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    """One doctor check: ``ok`` False with severity error means an invariant is broken."""

    check: str
    ok: bool
    severity: str
    message: str
    fixed: bool = False


@dataclass(frozen=True)
class DoctorReport:
    """Every check doctor ran; ``healthy`` when no error is left unfixed."""

    healthy: bool = field(init=False)
    findings: tuple[Finding, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "healthy", not self.errors)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok and f.severity == "error" and not f.fixed]


@dataclass(frozen=True)
class AuditReport:
    """``intact`` is False when a transfer no longer matches the chain; ``first_bad_seq``
    names the first such transfer and ``problem`` says what is wrong with it."""

    intact: bool
    transfers: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str = ""


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote; ``unconfigured`` names wallets whose agent config.toml lacks
    (their history is kept, but the agent cannot act until it is configured)."""

    home: str
    transfers: int
    accounts: int
    pools: int
    refusals: int
    idempotency_keys: int
    head_hash: str
    unconfigured: tuple[str, ...] = ()


__all__ = ["Finding", "DoctorReport", "AuditReport", "ImportSummary"]
