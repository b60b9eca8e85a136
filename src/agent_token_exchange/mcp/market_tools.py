"""The credit market's MCP tools for the agent the server acts as: loans (the offers it
could take, take, repay, its loans, its credit record), futures (the board, accept) and
governance (stake, unstake, proposals, vote, parameters).

Each tool calls one ``ExchangeAPI`` method (the local ``Exchange`` or an
``ExchangeClient``) and answers with the record's JSON, as the other tools do; a refusal is
a tool error with the exchange's one-line message. The exchange holds every rule: listing
the offers it could take asks ``loan_rules.check_take``, the rule ``loan_take`` applies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer

from ..api import ExchangeAPI
from ..economy import loan_rules
from ..formats.json_codec import to_json


def register_market_tools(server: MCPServer, exchange: ExchangeAPI, agent: str,
                          call: Callable[[Callable[[], Any]], Any]) -> None:
    """Add the loan, futures and governance tools to ``server``, acting as ``agent``;
    ``call`` runs one action and turns an exchange refusal into a tool error."""
    _loan_tools(server, exchange, agent, call)
    _future_tools(server, exchange, agent, call)
    _governance_tools(server, exchange, agent, call)


def _loan_tools(server: MCPServer, exchange: ExchangeAPI, agent: str,
                call: Callable[[Callable[[], Any]], Any]) -> None:
    @server.tool()
    def loan_offers() -> dict[str, Any]:
        """Open loan offers you could take now (not yours, and your defaults within what
        the lender accepts): amount, rate_per_day (a fraction a day), term_hours."""
        def read() -> dict[str, Any]:
            defaults = exchange.credit(agent).loans_defaulted
            takeable = [o for o in exchange.loan_offers() if loan_rules.check_take(
                o.id, agent, lender=o.lender, status=o.status, defaults=defaults,
                max_defaults=o.max_defaults).allowed]
            return {"offers": [to_json(o) for o in takeable]}
        return call(read)

    @server.tool()
    def loan_take(offer_id: str) -> dict[str, Any]:
        """Borrow a whole offer: its amount comes to your wallet at once, and you owe it
        with interest by the due time (what you hold above your reserve is collected then;
        the rest is a default on your credit record)."""
        return call(lambda: to_json(exchange.loan_take(offer_id, agent)))

    @server.tool()
    def loan_repay(loan_id: str, amount: str | None = None) -> dict[str, Any]:
        """Repay ``amount`` tokens (a decimal string; omitted: everything owed now) on a
        loan you borrowed: interest first, then principal. More than is owed is refused."""
        return call(lambda: to_json(exchange.loan_repay(loan_id, amount, agent=agent)))

    @server.tool()
    def my_loans() -> dict[str, Any]:
        """Loans you borrowed or lent, each with what is owed on it now, and your own
        offers (open, taken, cancelled)."""
        return call(lambda: {"loans": [to_json(x) for x in exchange.loans(agent)],
                             "offers": [to_json(o) for o in exchange.loan_offers(agent)]})

    @server.tool()
    def credit() -> dict[str, Any]:
        """Your credit record: loans taken, repaid and defaulted, what you owe now (and in
        default), and what borrowers owe you."""
        return call(lambda: to_json(exchange.credit(agent)))


def _future_tools(server: MCPServer, exchange: ExchangeAPI, agent: str,
                  call: Callable[[Callable[[], Any]], Any]) -> None:
    @server.tool()
    def futures(mine: bool = False) -> dict[str, Any]:
        """The futures board: every future on work (bd:<issue>, commit:<pattern>,
        manual) with its price, collateral, deadline and status; ``mine``: only those you
        bought, sold or are offered."""
        return call(lambda: {"futures": [to_json(f) for f in
                                         exchange.futures(agent if mine else None)]})

    @server.tool()
    def future_accept(future_id: str) -> dict[str, Any]:
        """Sell an open future: post its collateral and be paid its price at once; deliver
        the work by the deadline or lose the collateral to the buyer."""
        return call(lambda: to_json(exchange.future_accept(future_id, agent)))


def _governance_tools(server: MCPServer, exchange: ExchangeAPI, agent: str,
                      call: Callable[[Callable[[], Any]], Any]) -> None:
    @server.tool()
    def stake(amount: str) -> dict[str, Any]:
        """Stake ``amount`` tokens (a decimal string) from your wallet for governance
        voting power (your reserve applies)."""
        return call(lambda: to_json(exchange.stake(agent, amount)))

    @server.tool()
    def unstake(amount: str) -> dict[str, Any]:
        """Unstake ``amount`` tokens: they come back to your wallet after the unbonding
        period (release_at)."""
        return call(lambda: to_json(exchange.unstake(agent, amount)))

    @server.tool()
    def proposals() -> dict[str, Any]:
        """Every governance proposal, oldest first, with its status, tally and votes."""
        return call(lambda: {"proposals": [to_json(p) for p in exchange.proposals()]})

    @server.tool()
    def vote(proposal_id: str, choice: str) -> dict[str, Any]:
        """Vote ``choice`` (yes, no or abstain) on a proposal with the stake you held when
        it was made; voting again replaces your vote."""
        return call(lambda: to_json(exchange.vote(agent, proposal_id, choice)))

    @server.tool()
    def parameters() -> dict[str, Any]:
        """The parameters a proposal may change: effective value, config value, and where
        the value comes from (config, or the proposal that set it)."""
        return call(lambda: {"parameters": [to_json(p) for p in exchange.parameters()]})


__all__ = ["register_market_tools"]
