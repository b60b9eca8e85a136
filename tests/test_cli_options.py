"""The options every command shares (--home, --database, --server, --api-key, --json):
declared on each command, and taken before the command as well as after it."""

from __future__ import annotations

import pytest
import typer

from agent_token_exchange.cli import app

SHARED = {"--home", "--database", "--server", "--api-key", "--json"}


def leaf_commands() -> dict[str, object]:
    """Every runnable command of the CLI, by its full name ("pool list")."""
    found: dict[str, object] = {}

    def walk(command: object, path: str) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found[path] = command

    walk(typer.main.get_command(app), "")
    return found


def option_names(command: object) -> set[str]:
    return {name for param in command.params for name in param.opts}  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(set(leaf_commands()) - {"simulate", "serve"}))
def test_every_command_declares_the_shared_options(name):
    """Each command that works on an exchange lists all five shared options itself."""
    assert option_names(leaf_commands()[name]) >= SHARED


def test_serve_declares_only_home_and_database():
    """serve runs rather than prints a result, and serves this machine's exchange: it offers
    --home and --database, but no --json, --server or --api-key."""
    names = option_names(leaf_commands()["serve"])
    assert {"--home", "--database"} <= names
    assert not {"--json", "--server", "--api-key"} & names


def test_simulate_declares_only_home_and_json():
    """simulate never opens an exchange, so it offers no --database, --server or --api-key."""
    names = option_names(leaf_commands()["simulate"])
    assert {"--home", "--json"} <= names
    assert not {"--database", "--server", "--api-key"} & names


@pytest.mark.parametrize("command", [["status"], ["pool", "list"], ["keys", "list"]])
def test_server_and_api_key_appear_in_a_commands_help(cli, command):
    """A command's --help shows --server and --api-key beside --home and --database."""
    result = cli(*command, "--help", with_home=False)
    assert result.code == 0
    for option in SHARED:
        assert option in result.out, option


@pytest.mark.parametrize("command", [
    ["status"], ["balance", "claude"], ["history", "claude", "-n", "2"], ["limits", "claude"],
    ["pool", "list"], ["doctor"], ["audit", "verify"], ["keys", "list"], ["bd", "rewards"],
])
def test_global_options_before_or_after_the_command_give_the_same_result(cli, home, command):
    """`token-exchange --home DIR --json CMD` prints what `CMD --home DIR --json` prints."""
    after = cli(*command, "--home", str(home), "--json", with_home=False)
    before = cli("--home", str(home), "--json", *command, with_home=False)
    mixed = cli("--json", *command, "--home", str(home), with_home=False)
    assert after.code == 0, after.err
    assert after.out.startswith('{"ok": true')
    assert before == after
    assert mixed == after


def test_an_option_after_the_command_overrides_the_same_option_before_it(cli, home, tmp_path):
    """The command's own --home wins over a --home given before the command."""
    elsewhere = tmp_path / "nowhere"
    result = cli("--home", str(elsewhere), "balance", "claude", "--home", str(home), "--json",
                 with_home=False)
    assert result.code == 0 and '"agent": "claude"' in result.out
    result = cli("--home", str(home), "balance", "claude", "--home", str(elsewhere),
                 with_home=False)
    assert result.code == 2 and "no exchange at" in result.err


def test_json_before_the_command_shapes_errors_too(cli, home):
    """An error under a leading --json is one JSON object on stdout, exit code kept."""
    result = cli("--json", "--home", str(home), "balance", "nobody", with_home=False)
    assert result.code == 2
    assert result.out.startswith('{"ok": false, "error": {"code": ')


def test_a_server_before_a_local_only_command_is_refused(cli):
    """`--server URL keys list` is refused as `keys list --server URL` is: keys are local."""
    result = cli("--server", "http://127.0.0.1:1", "keys", "list")
    assert result.code == 2
    assert "local exchange only" in result.err
    result = cli("--server", "http://127.0.0.1:1", "init")
    assert result.code == 2
    assert "drop --server" in result.err


@pytest.mark.parametrize("args", [["status", "--server"], ["status", "--server", "--json"],
                                  ["--api-key", "", "status"]])
def test_a_shared_option_without_its_value_is_a_usage_error(cli, args):
    """--server or --api-key with no value (or another option in its place) exits 2."""
    result = cli(*args)
    assert result.code == 2
    assert ("needs a value" in result.out + result.err
            or "requires an argument" in result.err)
