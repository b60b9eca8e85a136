"""The model beside tests/test_invariants_gateway.py's machine: wallets, consumption
windows, open reservations and pool stakes as the gateway's rules say they must be,
priced, split and checked on its own (Fractions and the seed's numbers), so it shares no
code with the implementation it checks. Amounts are micro-tokens."""

from __future__ import annotations

from fractions import Fraction
from math import floor

from agent_token_exchange import SimulatedClock

T = 1_000_000
HOUR, DAY = 3600 * T, 86_400 * T
STALE = 15 * 60 * T  # [gateway] stale_reservation_minutes, the default
PRICE = {"claude-opus": Fraction(15), "claude-sonnet": Fraction(3),
         "llama3.2": Fraction(1, 10)}
LIMITS = {"hourly": 1000 * T, "daily": 10_000 * T, "burst": 500 * T, "reserve": 500 * T}


def half_up(value: Fraction) -> int:
    return floor(value + Fraction(1, 2))


def split(total: int, weights: dict[str, int]) -> dict[str, int]:
    """``total`` split in proportion to ``weights`` by largest remainder (ties: the larger
    weight, then the name), in exact fractions."""
    weight_sum = sum(weights.values())
    exact = {a: Fraction(total * w, weight_sum) for a, w in weights.items()}
    shares = {a: floor(x) for a, x in exact.items()}
    by_remainder = sorted(exact, key=lambda a: (-(exact[a] - shares[a]), -weights[a], a))
    for name in by_remainder[:total - sum(shares.values())]:
        shares[name] += 1
    return shares


class GatewayModel:
    """What the exchange should hold after each step of the gateway machine."""

    def __init__(self, agents: list[str], clock: SimulatedClock) -> None:
        self.clock = clock
        self.wallet = {a: 10_000 * T for a in agents}
        self.consumed: dict[str, list[tuple[int, int]]] = {a: [] for a in agents}
        self.inference = 0  # what system:inference has received
        self.open: dict[int, dict] = {}  # reservation id -> what it holds, and from whom
        self.pools: list[dict] = []

    def cost(self, model: str, count: int) -> int:
        return half_up(count * PRICE[model] * T / 1000)

    def last_at(self, agent: str) -> int:
        rows = self.consumed[agent]
        return rows[-1][0] if rows else 0

    def used(self, agent: str, at: int) -> tuple[int, int]:
        rows = self.consumed[agent]
        return (sum(a for t, a in rows if t > at - HOUR), sum(a for t, a in rows if t > at - DAY))

    def held(self, agent: str) -> int:
        """An agent's own open holds plus its draws on open pool-paid ones."""
        return sum(r["draws"].get(agent, 0) if r["pool"] is not None
                   else r["amount"] if r["agent"] == agent else 0
                   for r in self.open.values())

    def limit_code(self, agent: str, amount: int, *, funds: bool) -> str | None:
        """The seed's order (burst, funds, reserve, hourly, daily), what is held counted as
        consumed; a pool's draw skips funds and reserve."""
        if amount > LIMITS["burst"]:
            return "burst_limit"
        if funds and amount > self.wallet[agent]:
            return "insufficient_funds"
        if funds and self.wallet[agent] - amount < LIMITS["reserve"]:
            return "reserve"
        hourly, daily = self.used(agent, max(self.clock.now_us(), self.last_at(agent)))
        held = self.held(agent)
        if hourly + held + amount > LIMITS["hourly"]:
            return "hourly_limit"
        if daily + held + amount > LIMITS["daily"]:
            return "daily_limit"
        return None

    def drawing(self, pool: dict, agent: str | None = None) -> bool:
        """Whether an open reservation holds on ``pool`` (drawing on ``agent``'s stake)."""
        return any(r["pool"] is pool and (agent is None or r["draws"].get(agent))
                   for r in self.open.values())

    def plan_close(self, rid: int, cost: int) -> tuple[int, dict[str, int], int]:
        """(charged, each member's (or the agent's) share, when) of closing ``rid`` at
        ``cost``: the hold goes back first, and a charge never takes the payer below zero."""
        r = self.open[rid]
        if r["pool"] is None:
            charged = min(cost, self.wallet[r["agent"]] + r["amount"])
            return charged, {r["agent"]: charged}, max(self.clock.now_us(),
                                                       self.last_at(r["agent"]))
        pool = r["pool"]
        current = pool["stakes"] if pool["alive"] else {}
        draws = r["draws"]
        available = {m: current.get(m, 0) + draws.get(m, 0)
                     for m in sorted(set(current) | set(draws))}
        charged = min(cost, sum(current.values()) + r["amount"])
        shares = dict.fromkeys(available, 0)
        if charged:
            by_draw = split(charged, draws) if sum(draws.values()) else None
            if by_draw and all(s <= available[m] for m, s in by_draw.items()):
                shares |= by_draw
            else:
                shares |= split(charged, {m: a for m, a in available.items() if a > 0})
        at = max([self.clock.now_us()] + [self.last_at(m) for m, s in shares.items() if s])
        return charged, shares, at

    def fits(self, rid: int, shares: dict[str, int], at: int) -> bool:
        """Whether each share fits its agent's burst, and its windows with every other
        open hold still counted."""
        r = self.open[rid]
        for agent, share in shares.items():
            if not share:
                continue
            mine = r["amount"] if r["pool"] is None else r["draws"].get(agent, 0)
            hourly, daily = self.used(agent, at)
            other = self.held(agent) - mine
            if (share > LIMITS["burst"] or hourly + other + share > LIMITS["hourly"]
                    or daily + other + share > LIMITS["daily"]):
                return False
        return True

    def apply_close(self, rid: int, charged: int, shares: dict[str, int], at: int) -> None:
        r = self.open.pop(rid)
        if r["pool"] is None:
            self.wallet[r["agent"]] += r["amount"] - charged
        else:
            pool = r["pool"]
            current = pool["stakes"] if pool["alive"] else {}
            for member, share in shares.items():
                rest = current.get(member, 0) + r["draws"].get(member, 0) - share
                if member in current:
                    current[member] = rest
                else:  # it left, or the pool was dissolved, while the hold was open
                    self.wallet[member] += rest
        for agent, share in sorted(shares.items()):
            if share:
                self.consumed[agent].append((at, share))
        self.inference += charged
