"""Every name an import brings in is one the exchange could have written (issue 10,
finding 7): refusal operations and codes, account names, pool ids and member names. A
bad one is one InvalidInput line and the import changes nothing. On both stores."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from agent_token_exchange import open_exchange

from .test_transfer_io import _day_of_work

SCRIPT = "<img src=x onerror=alert(document.cookie)>"


def _refusal(doc: dict) -> dict:
    return doc["refusals"][0]


EDITS: dict[str, Callable[[dict], None]] = {
    "refusal operation": lambda d: _refusal(d).update(operation=SCRIPT),
    "refusal code": lambda d: _refusal(d).update(code=SCRIPT),
    "refusal agent": lambda d: _refusal(d).update(agent=SCRIPT),
    "refusal pool id": lambda d: _refusal(d).update(pool_id=SCRIPT),
    "account name": lambda d: d["accounts"].append(
        {**d["accounts"][0], "name": f"agent:{SCRIPT}", "balance": "0", "earned": "0",
         "spent": "0"}),
    "account of another kind": lambda d: d["accounts"].append(
        {**d["accounts"][0], "name": "pool:pool-999", "kind": "agent", "balance": "0",
         "earned": "0", "spent": "0"}),
    "system account": lambda d: d["accounts"].append(
        {**d["accounts"][0], "name": f"system:{SCRIPT}", "kind": "system", "balance": "0",
         "earned": "0", "spent": "0"}),
    "pool id": lambda d: d["pools"][0].update(id=SCRIPT),
    "pool creator": lambda d: d["pools"][0].update(creator=SCRIPT),
    "member name": lambda d: d["pool_members"][0].update(agent=SCRIPT),
    "member pool id": lambda d: d["pool_members"][0].update(pool_id=SCRIPT),
    "pool credit agent": lambda d: d["pool_credits"][0].update(agent=SCRIPT),
    "transfer pool id": lambda d: next(
        t for t in d["transfers"] if t["pool_id"]).update(pool_id=SCRIPT),
}


@pytest.fixture
def export(home: Path, clock, cli) -> dict:
    with open_exchange(home, clock=clock) as ex:
        _day_of_work(ex, clock)
    return json.loads(cli("export").out)


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_import_with_a_bad_name_is_refused_and_changes_nothing(
        export: dict, edit: str, tmp_path: Path, cli, make_database_url):
    """An import with a bad name is refused and changes nothing."""
    assert export["refusals"] and export["pools"] and export["pool_credits"]
    document = json.loads(json.dumps(export))
    EDITS[edit](document)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(document))
    target = tmp_path / "target"
    url = make_database_url()
    database = ["--database", url] if url else []
    result = cli("import", str(edited), "--home", str(target), *database, with_home=False)
    assert result.code == 2, result.err
    assert result.err.count("\n") == 1 and "is not a valid" in result.err, result.err
    assert "nothing was imported" in result.err
    assert not (target / ".exchange" / "exchange.db").exists()
    # Nothing was written: the untouched export still goes into the same place.
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(export))
    result = cli("import", str(clean), "--home", str(target), *database, with_home=False)
    assert result.code == 0, result.err
