"""`token-exchange keys`: keys are random, shown once, stored only as hashes, revocable."""

from __future__ import annotations

from agent_token_exchange import open_exchange
from agent_token_exchange.service.api_keys import Unauthenticated

from .ledger_checks import api_key_rows


def test_create_shows_the_key_once_and_stores_only_its_hash(cli, home):
    """keys create shows the key once; the ledger stores neither the key nor its secret, and keys
    list shows only its id."""
    created = cli("keys", "create", "claude", "--json")
    assert created.code == 0
    key = created.json["key"]
    assert key.startswith("atx_") and len(key) > 50
    assert created.json["agent"] == "claude" and created.json["admin"] is False
    secret = key.split("_", 2)[2]  # the secret itself may contain "_"
    assert len(secret) == 43
    with open_exchange(home) as ex:  # either store: no row holds the key or its secret
        stored = repr(api_key_rows(ex))
    assert key not in stored and secret not in stored
    sqlite_file = home / ".exchange" / "exchange.db"
    if sqlite_file.exists():  # on SQLite, not a byte of the file either
        database = sqlite_file.read_bytes()
        assert key.encode() not in database and secret.encode() not in database
    listed = cli("keys", "list", "--json").json["keys"]
    assert [k["key_id"] for k in listed] == [created.json["key_id"]]
    assert "key" not in listed[0]


def test_two_keys_differ_and_admin_keys_have_no_agent(cli):
    """Two created keys differ, and an admin key has no agent."""
    first = cli("keys", "create", "--admin", "--json").json
    second = cli("keys", "create", "--admin", "--json").json
    assert first["key"] != second["key"]
    assert first["admin"] is True and first["agent"] is None


def test_revoke_stops_a_key(cli, home):
    """A revoked key no longer authenticates and is listed as revoked."""
    created = cli("keys", "create", "zero", "--json").json
    assert cli("keys", "revoke", created["key_id"]).code == 0
    with open_exchange(home) as ex:
        try:
            ex.keys.authenticate(created["key"])
        except Unauthenticated:
            pass
        else:
            raise AssertionError("a revoked key still authenticates")
    listed = cli("keys", "list").out
    assert "revoked" in listed


def test_bad_input_is_one_line_and_changes_nothing(cli, home):
    """Bad keys arguments exit 2 with one line and create no key."""
    for args in (["keys", "create", "nobody"], ["keys", "create"],
                 ["keys", "create", "claude", "--admin"], ["keys", "revoke", "nope"],
                 ["keys", "revoke", "0123456789ab"]):
        result = cli(*args)
        assert result.code == 2, args
        assert result.err.startswith("error: ") and result.err.count("\n") == 1, args
    with open_exchange(home) as ex:
        assert ex.keys.list() == []


def test_keys_and_serve_refuse_a_remote_exchange(cli):
    """keys refuses --server with a remote exchange: it manages a local exchange only."""
    result = cli("keys", "list", "--server", "http://127.0.0.1:1")
    assert result.code == 2
    assert "local exchange only" in result.err
