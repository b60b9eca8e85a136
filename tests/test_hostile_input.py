"""Hostile input at the Python API and the CLI, damaged databases and wrong config: each
is one clear error, never a traceback, and the ledger is left exactly as it was."""

from __future__ import annotations

import shutil
import sqlite3
from decimal import Decimal

import pytest

from agent_token_exchange import ExchangeError, open_exchange
from agent_token_exchange.formats.export import to_json

HOSTILE = [
    1e309, float("nan"), float("inf"), -0.0, "1e309", "-0", "NaN", "nan", "inf", "-inf",
    10**30, str(10**30), -1, Decimal("NaN"), Decimal("1e309"), Decimal("-0"),
    "zero'; DROP TABLE transfers;--", "../../etc/passwd", "..\\..\\boot.ini", "a/b",
    "ünïcødé", "ｚｅｒｏ", "١٢٣", "a\u202eb", "\ud800", "x" * 10_240, "", " ", "\x00", None,
    True, [], {}, b"zero",
]


def _ledger(ex) -> str:
    """The whole ledger as its export: any change anywhere shows here."""
    return to_json(ex.export_image())


@pytest.fixture
def busy(exchange, clock):
    pool = exchange.pool_create("team", "claude", 1, open=True)
    exchange.pool_join(pool.id, "builder")
    exchange.pool_contribute(pool.id, "claude", 100)
    exchange.pool_contribute(pool.id, "builder", 100)
    exchange.llm("zero", "coding", 5000)
    return exchange


# Each field that takes a number, a name or an id: every hostile value is refused.
API_FIELDS = {
    "award amount": lambda ex, v: ex.award("zero", v, "s", "d"),
    "award agent": lambda ex, v: ex.award(v, 1, "s", "d"),
    "llm agent": lambda ex, v: ex.llm(v, "coding", 10),
    "llm token count": lambda ex, v: ex.llm("zero", "coding", v),
    "llm model": lambda ex, v: ex.llm("zero", "coding", 10, v),
    "llm task type": lambda ex, v: ex.llm("zero", v, 10),
    "pool minimum": lambda ex, v: ex.pool_create("p", "claude", v),
    "pool contribution": lambda ex, v: ex.pool_contribute("pool-1", "claude", v),
    "pool id": lambda ex, v: ex.pool_contribute(v, "claude", 1),
    "pool spend count": lambda ex, v: ex.pool_spend("pool-1", "claude-opus", v, "d"),
    "history limit": lambda ex, v: ex.history("zero", v),
    "refusals limit": lambda ex, v: ex.refusals(None, v),
    "commit sha": lambda ex, v: ex.commit("zero@x.io", "p", "fix", v),
    "issue priority": lambda ex, v: ex.pay_issue("bd-1", "zero", priority=v, issue_type="bug"),
    "idempotency key": lambda ex, v: ex.award("zero", 1, "s", "d", idempotency_key=v),
    "export agent": lambda ex, v: ex.export_image(agent=v),
    "audit head": lambda ex, v: ex.audit(v),
}
# Values some fields rightly accept: "nan"/"inf" are well-formed lowercase task words and
# idempotency keys; "-0", "NaN", "a/b" and the like are legal key characters; a 1e309 or
# 10**30 digit string is valid hex for a SHA; None means "not given" where optional.
ACCEPTED = {
    "llm task type": {"nan", "inf"},
    "idempotency key": {"1e309", "-0", "NaN", "nan", "inf", "-inf", str(10**30), "a/b",
                        "../../etc/passwd", None},
    "commit sha": {"1e309", str(10**30), None},
    "issue priority": {None},
    "llm model": {None},
    "export agent": {None, "nan", "inf"},
    "audit head": {None},
}


@pytest.mark.parametrize("field", sorted(API_FIELDS))
def test_hostile_values_at_the_api_are_refused_and_change_nothing(busy, field):
    """Every hostile value given to an API field that does not accept it raises a one-line
    ExchangeError and leaves the ledger unchanged."""
    operation = API_FIELDS[field]
    before = _ledger(busy)
    for value in HOSTILE:
        if _accepted(field, value):
            continue
        with pytest.raises(ExchangeError) as caught:
            operation(busy, value)
        message = caught.value.message
        assert message and "\n" not in message and len(message) < 400, (field, value, message)
    assert _ledger(busy) == before


def _accepted(field: str, value: object) -> bool:
    try:
        return value in ACCEPTED.get(field, set())
    except TypeError:  # unhashable
        return False


@pytest.mark.parametrize("text", ["zero'; DROP TABLE transfers;--", "../../etc/passwd",
                                  "ünïcødé ✓ 漢字", "NaN", "1e309", "<script>x</script>"])
def test_odd_but_valid_text_is_stored_verbatim_and_inert(busy, text):
    """Odd but valid text (SQL, paths, unicode, markup) is stored verbatim as a description and
    breaks nothing."""
    paid = busy.award("zero", "1.5", "tests", text)
    assert busy.history("zero", 1)[0].description == f"tests: {text}"
    assert paid.amount == Decimal("1.5")
    assert busy.recent_transfers(1)[-1].seq == paid.seq and busy.audit().intact


@pytest.mark.parametrize("text", ["x" * 10_240, "a\u202eb", "\ud800", "bell\x07", "\x00"])
def test_text_that_cannot_be_shown_or_stored_is_refused(busy, text):
    """Oversized, bidi-override, surrogate, control and NUL text is refused and leaves the ledger
    unchanged."""
    before = _ledger(busy)
    with pytest.raises(ExchangeError):
        busy.award("zero", 1, "tests", text)
    assert _ledger(busy) == before


CLI_CASES = [
    ("award", "zero", "1e309", "s", "d"),
    ("award", "zero", "-0", "s", "d"),
    ("award", "zero", "NaN", "s", "d"),
    ("award", "zero", str(10**30), "s", "d"),
    ("award", "zero'; DROP TABLE transfers;--", "5", "s", "d"),
    ("award", "../../etc/passwd", "5", "s", "d"),
    ("award", "ｚｅｒｏ", "5", "s", "d"),
    ("award", "zero", "5", "s", "x" * 10_240),
    ("award", "zero", "5", "s", "a\u202eb"),
    ("llm", "zero", "coding", "1e309"),
    ("llm", "zero", "coding", "-0"),
    ("llm", "zero", "coding", str(10**30)),
    ("llm", "zero", "coding", "NaN"),
    ("llm", "zero", "coding", "5", "--model", "x" * 10_240),
    ("llm", "zero", "../coding", "5"),
    ("pool", "contribute", "pool-1", "claude", "1e309"),
    ("pool", "contribute", "pool-1/../2", "claude", "5"),
    ("pool", "create", "x" * 10_240, "claude", "5"),
    ("pool", "spend", "pool-1", "claude-opus", "-0", "d"),
    ("history", "zero", "--limit", "1e309"),
    ("history", "zero", "--limit", str(10**30)),
    ("balance", "ünïcødé"),
    ("commit", "zero@x.io", "p", "fix", "--sha", "'; DROP TABLE transfers;--"),
    ("export", "--since", "NaN"),
    ("export", "--since", "1e309"),
    ("export", "--agent", "../../etc/passwd"),
    ("export", "--format", "xml"),
    ("audit", "verify", "--expect-head", "NaN"),
]


@pytest.mark.parametrize("args", CLI_CASES, ids=lambda a: " ".join(a)[:60])
def test_hostile_values_at_the_cli_are_one_line_exit_2(cli, home, args):
    """Hostile values at the CLI exit 2 with a one-line error or JSON error and leave the ledger
    unchanged."""
    with open_exchange(home) as ex:
        pool = ex.pool_create("team", "claude", 1, open=True)
        ex.pool_join(pool.id, "builder")
        before = _ledger(ex)
    for extra in ((), ("--json",)):
        result = cli(*args, *extra)
        assert result.code == 2, result
        assert "Traceback" not in result.out + result.err
        if extra:
            assert result.json["ok"] is False and result.json["error"]["message"]
        else:
            assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
    with open_exchange(home) as ex:
        assert _ledger(ex) == before


def test_import_of_hostile_files_is_one_line_exit_2(cli, tmp_path):
    """Importing binary, deeply nested, NaN, huge or missing files exits 2 with one line and creates
    no exchange."""
    cases = {
        "binary.json": b"\xff\xfe\x00garbage",
        "deep.json": b"[" * 100_000,
        "nan.json": b'{"format": "agent-token-exchange/export", "version": NaN}',
        "huge.json": b'{"format": "agent-token-exchange/export", "version": 1e309}',
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        target = tmp_path / f"target-{name}"
        result = cli("import", str(path), "--home", str(target), with_home=False)
        assert result.code == 2 and result.err.count("\n") == 1, (name, result)
        assert not (target / ".exchange").exists(), name
    result = cli("import", str(tmp_path / "missing.json"), "--home", str(tmp_path / "t"),
                 with_home=False)
    assert result.code == 2 and "no such file" in result.err


# -- a damaged database ------------------------------------------------------------------


def _commands(cli):
    return [cli("status"), cli("award", "zero", "1", "s", "d"), cli("doctor"),
            cli("export"), cli("audit", "verify"), cli("history", "zero")]


def _good_database(home) -> bytes:
    with open_exchange(home) as ex:
        for n in range(30):
            ex.award("zero", 1, "s", f"work {n}")
    return (home / ".exchange" / "exchange.db").read_bytes()


@pytest.mark.sqlite_only  # damages the SQLite file
def test_every_damaged_page_is_an_integrity_error_not_a_traceback(cli, home):
    """Damaging any one page of the SQLite file makes commands succeed or exit 3 as an integrity
    problem, never a traceback."""
    database = home / ".exchange" / "exchange.db"
    good = _good_database(home)
    page = 4096
    assert len(good) % page == 0
    failures = 0
    for number in range(len(good) // page):
        damaged = bytearray(good)
        damaged[number * page + 3000:number * page + 4000] = b"\xde\xad\xbe\xef" * 250
        database.write_bytes(bytes(damaged))
        for suffix in ("-wal", "-shm"):
            (home / ".exchange" / f"exchange.db{suffix}").unlink(missing_ok=True)
        for result in _commands(cli):
            assert "Traceback" not in result.out + result.err
            assert result.code in (0, 3), result
            if result.code == 3:
                failures += 1
                assert result.err.startswith("integrity problem: ") and \
                    result.err.count("\n") == 1, result.err
    assert failures > 10  # the damage was met, not skipped


@pytest.mark.sqlite_only  # damages the SQLite file
@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "another app's"])
def test_a_truncated_or_foreign_database_is_refused_and_kept(cli, home, tmp_path, damage):
    """An empty, truncated, garbage or foreign SQLite file is refused with exit 3 and left byte for
    byte as it was."""
    database = home / ".exchange" / "exchange.db"
    good = _good_database(home)
    if damage == "empty":
        database.write_bytes(b"")
    elif damage == "truncated":
        database.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        database.write_bytes(b"not a database at all" * 500)
    else:
        database.unlink()
        conn = sqlite3.connect(database)
        conn.execute("CREATE TABLE notes (text)")
        conn.commit()
        conn.close()
    for suffix in ("-wal", "-shm"):
        (home / ".exchange" / f"exchange.db{suffix}").unlink(missing_ok=True)
    kept = database.read_bytes()
    for result in _commands(cli):
        assert result.code == 3, result
        assert result.err.startswith("integrity problem: ") and result.err.count("\n") == 1
    assert database.read_bytes() == kept  # nothing re-created or minted over it
    shutil.copy(database, tmp_path / "copy.db")


# -- a config file with wrong types -------------------------------------------------------

CONFIG_EDITS = [
    ("start_balance = 10000", "start_balance = nan", "start_balance"),
    ("start_balance = 10000", 'start_balance = "lots"', "start_balance"),
    ("start_balance = 10000", "start_balance = 1e309", "start_balance"),
    ("start_balance = 10000", "start_balance = -5", "start_balance"),
    ("hourly = 1000", "hourly = [1000]", "rate_limits.hourly"),
    ("hourly = 1000", "hourly = 1000000000000000000000000000000", "rate_limits.hourly"),
    ("min_members = 2", "min_members = 1.5", "pools.min_members"),
    ("min_members = 2", "min_members = -0", "pools.min_members"),
    ("[agents.zero]", "[agents.\"zero'; DROP TABLE transfers;--\"]", "agents"),
    ("[agents.zero]", "[agents.\"../../x\"]", "agents"),
]


@pytest.mark.sqlite_only  # "nothing changed" is the SQLite file, byte for byte
@pytest.mark.parametrize("old, new, key", CONFIG_EDITS, ids=lambda x: str(x)[:30])
def test_a_config_with_wrong_types_is_one_line_naming_the_key(cli, home, old, new, key):
    """A config value of the wrong type exits 2 with one line naming its key and changes nothing."""
    config = home / ".exchange" / "config.toml"
    original = config.read_text()
    database = home / ".exchange" / "exchange.db"
    with open_exchange(home) as ex:
        before = _ledger(ex)
    assert old in original
    config.write_text(original.replace(old, new, 1))
    kept = database.read_bytes()
    for result in (cli("status"), cli("award", "zero", "1", "s", "d"), cli("doctor")):
        assert result.code == 2, result
        assert key in result.err and result.err.count("\n") == 1, result.err
    assert database.read_bytes() == kept
    config.write_text(original)
    with open_exchange(home) as ex:
        assert _ledger(ex) == before


def test_a_config_that_is_not_text_is_one_line(cli, home):
    """A binary config file exits 2 with one line about the config."""
    (home / ".exchange" / "config.toml").write_bytes(b"\xff\xfe\x00\x00binary")
    result = cli("status")
    assert result.code == 2 and result.err.count("\n") == 1 and "config" in result.err
