"""Generate ``stores-24m.csv``: five bakery shops, 24 months (2025-01 … 2026-12).

Run from the repository root (plain Python, no third-party packages, does not import the
engine)::

    python metrics/bakery-stored-value/examples/make_stores_24m.py [--out PATH]

The output is deterministic: one seeded ``random.Random`` whose only draws are ``random()``
(a stream Python guarantees across versions), no transcendental functions, and every value
written is an integer or a fixed two-decimal amount. ``tests/test_pack_examples.py`` runs the
script into a temporary file and compares it byte for byte with the committed CSV.

The story of the data is told in ``README.md`` next to this file. In short:

- S01 flagship (city centre), S02 community shop, S03 office district, S04 a new shop opened in
  January 2025 with members imported from a partner shop, S05 an old-town shop in trouble (a
  competitor opens next door in mid-2025: churn rises, activity falls, balances drain fast).
- Top-up campaigns around the Spring Festival (2025-01-29, 2026-02-17: bigger recharges with a
  bigger bonus share), Mid-Autumn (2025-10-06, 2026-09-25) and Christmas.
- Identities hold on every row: recharge = principal + bonus, spend = principal spent + bonus
  spent, closing members = opening + new − churned, opening members = last month's closing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from random import Random

SEED = 20250101
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "stores-24m.csv"
MONTHS = [(y, m) for y in (2025, 2026) for m in range(1, 13)]

BAKERY_COLUMNS = [
    "imported_balance", "recharge_amount", "points_to_balance", "consume_amount", "net_income", "net_spent",
    "gift_income", "gift_spent", "points_from_consume", "points_from_recharge", "points_redeemed",
    "points_converted", "points_expired", "points_deleted", "rebate_income", "rebate_spent", "initial_net",
    "initial_gift", "initial_points", "initial_rebate", "reported_closing_amount", "opening_members",
    "closing_members", "new_members", "churned_members", "recharge_count", "consume_count",
]
# membership-core inputs a bakery's CRM and in-store survey also export
CORE_COLUMNS = [
    "marketing_spend", "members_at_start", "total_members", "active_members", "repeat_buyers", "revenue",
    "orders", "survey_responses", "satisfied_responses", "promoters", "passives", "detractors", "complaints",
    "member_interactions",
]
COLUMNS = ["period", "store", *BAKERY_COLUMNS, *CORE_COLUMNS]

# -- seasons --------------------------------------------------------------------------------
# Spring Festival: 2025-01-29 (campaign in January, tail in February) and 2026-02-17
# (pre-sale in January, campaign in February). Mid-Autumn: 2025-10-06 (campaign in September,
# tail in October) and 2026-09-25 (pre-sale in August, campaign in September). Christmas: December.
CAMPAIGN = {
    (2025, 1): "spring", (2025, 2): "spring_tail", (2025, 9): "mid_autumn", (2025, 10): "mid_autumn_tail",
    (2025, 12): "christmas", (2026, 1): "spring_pre", (2026, 2): "spring", (2026, 8): "mid_autumn_pre",
    (2026, 9): "mid_autumn", (2026, 12): "christmas",
}
# campaign: (recharge visits ×, amount per recharge ×, bonus share, new members ×, spend per visit ×)
EFFECT = {
    None: (1.00, 1.00, 0.100, 1.00, 1.00),
    "summer": (0.85, 0.95, 0.100, 0.80, 0.95),
    "spring": (1.90, 1.55, 0.240, 1.60, 1.30),
    "spring_pre": (1.35, 1.20, 0.160, 1.25, 1.15),
    "spring_tail": (1.20, 1.10, 0.140, 1.15, 1.10),
    "mid_autumn": (1.70, 1.35, 0.180, 1.50, 1.60),
    "mid_autumn_pre": (1.20, 1.10, 0.130, 1.15, 1.10),
    "mid_autumn_tail": (1.25, 1.10, 0.130, 1.20, 1.30),
    "christmas": (1.40, 1.20, 0.150, 1.30, 1.35),
}


def season(year: int, month: int) -> str | None:
    c = CAMPAIGN.get((year, month))
    if c is None and month in (7, 8):
        return "summer"
    return c


# -- shops ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shop:
    """Behaviour of one shop; a pair (healthy, troubled) is blended by the shop's trouble level."""

    id: str
    members: int  # members at 2025-01 opening
    new_rate: float  # new members / opening members per month
    churn: float  # churned / opening members per month
    recharge_rate: float  # recharge visits / members per month
    per_recharge: float  # CNY per recharge visit
    drain: float  # share of the available balance spent in a month
    spend: float  # CNY per spend visit
    gift_priority: float  # how much faster bonus money is spent than principal (POS setting)
    bonus_extra: float  # added to the campaign's bonus share
    marketing: float  # promotion spend per month, CNY
    visits_per_active: float
    repeat: float  # repeat buyers / active members
    card_share: float  # share of member sales paid with the stored-value card
    satisfied: float  # satisfied answers / survey answers
    promoters: float
    detractors: float
    complaint: float  # complaints per order
    interactions: float  # interactions per member per month
    initial: tuple[int, int, int, int]  # initial net, gift, points, rebate


SHOPS = [
    Shop("S01", 2400, 0.050, 0.042, 0.065, 178, 0.56, 41, 1.2, 0.00, 9000, 1.9, 0.56, 0.60, 0.90, 0.52, 0.08,
         0.0018, 1.6, (46000, 5200, 260000, 3000)),
    Shop("S02", 1500, 0.050, 0.040, 0.070, 165, 0.60, 36, 1.15, 0.00, 5200, 1.8, 0.55, 0.62, 0.88, 0.48, 0.09,
         0.0020, 1.4, (27000, 2900, 150000, 800)),
    Shop("S03", 1100, 0.056, 0.050, 0.060, 150, 0.68, 29, 1.1, -0.01, 4200, 1.7, 0.50, 0.58, 0.87, 0.45, 0.10,
         0.0022, 1.2, (9500, 1100, 80000, 2500)),
    Shop("S04", 0, 0.000, 0.030, 0.090, 190, 0.62, 38, 1.3, 0.02, 8000, 1.8, 0.50, 0.65, 0.91, 0.55, 0.07,
         0.0015, 1.8, (0, 0, 0, 0)),
]
# S05 (old town): healthy at the start, troubled from mid-2025 (see `trouble`)
S05_HEALTHY = Shop("S05", 1800, 0.036, 0.050, 0.090, 125, 0.82, 37, 1.0, 0.00, 4000, 1.8, 0.50, 0.55, 0.86, 0.44,
                   0.11, 0.0020, 1.4, (8000, 900, 120000, 500))
S05_TROUBLED = Shop("S05", 1800, 0.015, 0.170, 0.030, 96, 0.88, 30, 1.0, 0.06, 9500, 1.5, 0.28, 0.55, 0.58, 0.22,
                    0.35, 0.0110, 0.5, (8000, 900, 120000, 500))


def trouble(i: int) -> float:
    """S05's trouble level: 0 until the competitor opens in 2025-06 (month index 5), then rising
    ever faster to 1 in 2026-12 (index 23)."""
    return max(0.0, (i - 5) / 18) ** 2


def blend(a: Shop, b: Shop, t: float) -> Shop:
    values = {}
    for name in Shop.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        values[name] = x + (y - x) * t if isinstance(x, float) else x
    return Shop(**values)


# S04 opens in 2025-01 with 320 members imported from a partner shop at opening (balance 19,200,
# all principal: formula (1) counts it in the opening balance), then recruits fast: new members per month
S04_NEW = [140, 128, 118, 110, 104, 98, 92, 90, 112, 96, 88, 96, 98, 108, 80, 76, 74, 72, 62, 70, 92, 74, 70, 84]
# (shop, month index): (members, balance). S02 takes over the members of a closed franchise shop in
# 2026-04: they join during the month, so they count as new members.
IMPORTS = {("S04", 0): (320, 19200), ("S02", 15): (150, 12000)}
# the POS export differs from the computed balance: (shop, month index) → reported − computed
GAPS = {("S02", 5): -35.50, ("S03", 10): 12.80, ("S01", 14): -0.60, ("S05", 18): -86.00, ("S05", 13): -420.00}
NO_POS_EXPORT = {("S04", 0), ("S04", 1)}  # the new shop's POS export was not set up yet
DELETED_POINTS = {("S02", 7): 1200, ("S05", 16): 3500}  # points removed by hand (test accounts, fraud)


class Draw:
    """Random draws from the one stream Python keeps stable across versions (``random()``)."""

    def __init__(self, seed: int) -> None:
        self.rng = Random(seed)

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.rng.random()

    def noise(self, sd: float) -> float:
        """A multiplicative factor 1 + N(0, sd), the normal drawn as a sum of 12 uniforms."""
        return 1 + sd * (sum(self.rng.random() for _ in range(12)) - 6)


def simulate(base: Shop, draw: Draw) -> list[dict[str, object]]:
    rows = []
    net, gift, points, rebate = base.initial
    members = base.members
    for i, (year, month) in enumerate(MONTHS):
        shop = blend(S05_HEALTHY, S05_TROUBLED, trouble(i)) if base.id == "S05" else base
        rc_x, pv_x, bonus, new_x, spend_x = EFFECT[season(year, month)]
        bonus = max(0.05, bonus + shop.bonus_extra + 0.01 * (draw.noise(1.0) - 1))

        # -- members: closing = opening + new - churned -----------------------------------------
        imported_members, imported_balance = IMPORTS.get((base.id, i), (0, 0))
        if base.id == "S04" and i == 0:  # the imported members are there when the shop opens
            members, imported_members = imported_members, 0
        opening_members = members
        if base.id == "S04":
            recruited = round(S04_NEW[i] * draw.noise(0.05))
            churn = shop.churn + 0.015 * min(1.0, i / 12)
        else:
            # new members come from the shop's catchment: half its current members, half its initial size
            recruited = round(shop.new_rate * (opening_members + base.members) / 2 * new_x * draw.noise(0.08))
            churn = shop.churn
        new_members = recruited + imported_members
        churned = round(churn * opening_members * draw.noise(0.08))
        members = opening_members + new_members - churned
        avg_members = (opening_members + members) / 2

        # -- recharges: recharge = principal + bonus ---------------------------------------------
        recharge_count = max(1, round(shop.recharge_rate * avg_members * rc_x * draw.noise(0.06)))
        per_recharge = shop.per_recharge * pv_x * draw.noise(0.04)
        net_income = round(recharge_count * per_recharge / (1 + bonus))
        gift_income = round(net_income * bonus)
        recharge = net_income + gift_income

        # -- points converted to balance at the quarter-end points fair (100 points = 1 CNY) ------
        to_balance = round(points * draw.uniform(0.03, 0.06) / 100) if month in (3, 6, 9, 12) else 0

        # -- spending: a share of the money available, bonus spent faster than principal -----------
        net_available = net + net_income + imported_balance
        gift_available = gift + gift_income + to_balance
        available = net_available + gift_available
        drain = min(0.92, shop.drain * (1.08 if season(year, month) in ("spring", "mid_autumn", "christmas") else 1))
        if base.id == "S04" and i == 0:
            drain = 0.45  # imported members spend their balance over the first months, not at once
        consume = min(round(available * drain * draw.noise(0.03)), round(available * 0.95))
        gift_spent = min(gift_available, int(consume * min(1.0, shop.gift_priority * gift_available / available)))
        net_spent = consume - gift_spent
        spend = shop.spend * spend_x * draw.noise(0.04)
        consume_count = max(1, round(consume / spend))

        # -- carry-over (formulas (1)-(5)): what the POS should report -------------------------------
        opening_amount = imported_balance + net + gift
        closing_amount = opening_amount + recharge + to_balance - consume
        net = net + net_income - net_spent + imported_balance
        gift = gift + gift_income - gift_spent + to_balance
        assert closing_amount == net + gift and net >= 0 and gift >= 0
        gap = GAPS.get((base.id, i), 0.0)
        reported = "" if (base.id, i) in NO_POS_EXPORT else f"{closing_amount + gap:.2f}"

        # -- points (formula (7)) and rebates (formula (8)) --------------------------------------
        earned_consume = consume  # 1 point per CNY spent
        earned_recharge = round(net_income / 10)  # 1 point per 10 CNY of principal recharged
        redeemed = round(points * draw.uniform(0.04, 0.08))
        expired = round(points * draw.uniform(0.08, 0.12)) if month == 12 else 0
        deleted = DELETED_POINTS.get((base.id, i), 0)
        converted = 100 * to_balance
        points = points + earned_consume + earned_recharge - redeemed - converted - expired - deleted
        if month == 9:  # Mid-Autumn company orders earn recharge rebates
            rebate_income = round(recharge * draw.uniform(0.02, 0.04) * (2 if base.id == "S03" else 1))
        elif month == 12:
            rebate_income = round(recharge * draw.uniform(0.01, 0.02))
        else:
            rebate_income = 0
        rebate_spent = round(rebate * draw.uniform(0.25, 0.40))
        rebate = rebate + rebate_income - rebate_spent

        # -- CRM and survey (membership-core inputs) ----------------------------------------------
        visits = recharge_count + consume_count
        active = min(members, round(visits / (shop.visits_per_active * draw.noise(0.05))))
        orders = round(consume_count / shop.card_share * draw.noise(0.03))
        revenue = round(consume / shop.card_share * draw.noise(0.03))
        responses = round(draw.uniform(40, 90))
        satisfied = min(responses, round(responses * shop.satisfied * draw.noise(0.03)))
        promoters = round(responses * shop.promoters * draw.noise(0.05))
        detractors = min(responses - promoters, round(responses * shop.detractors * draw.noise(0.10)))
        opening_push = 1.5 if base.id == "S04" and i < 3 else 1.0  # the new shop's opening campaign
        marketing = round(shop.marketing * opening_push * (1 + 0.6 * (new_x - 1)) * draw.noise(0.05), -1)
        rows.append({
            "period": f"{year}-{month:02d}", "store": base.id,
            "imported_balance": imported_balance, "recharge_amount": recharge, "points_to_balance": to_balance,
            "consume_amount": consume, "net_income": net_income, "net_spent": net_spent,
            "gift_income": gift_income, "gift_spent": gift_spent, "points_from_consume": earned_consume,
            "points_from_recharge": earned_recharge, "points_redeemed": redeemed, "points_converted": converted,
            "points_expired": expired, "points_deleted": deleted, "rebate_income": rebate_income,
            "rebate_spent": rebate_spent, "initial_net": base.initial[0], "initial_gift": base.initial[1],
            "initial_points": base.initial[2], "initial_rebate": base.initial[3],
            "reported_closing_amount": reported, "opening_members": opening_members, "closing_members": members,
            "new_members": new_members, "churned_members": churned, "recharge_count": recharge_count,
            "consume_count": consume_count,
            "marketing_spend": int(marketing), "members_at_start": opening_members, "total_members": members,
            "active_members": active, "repeat_buyers": round(active * shop.repeat * draw.noise(0.04)),
            "revenue": revenue, "orders": orders, "survey_responses": responses,
            "satisfied_responses": satisfied, "promoters": promoters,
            "passives": responses - promoters - detractors, "detractors": detractors,
            "complaints": round(orders * shop.complaint * draw.noise(0.15)),
            "member_interactions": round(members * shop.interactions * draw.noise(0.06)),
        })
    return rows


def generate() -> str:
    draw = Draw(SEED)
    rows = [r for shop in [*SHOPS, S05_HEALTHY] for r in simulate(shop, draw)]
    rows.sort(key=lambda r: (r["period"], r["store"]))  # export order: by month, then shop
    lines = [",".join(COLUMNS)] + [",".join(str(r[c]) for c in COLUMNS) for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output CSV (default: {DEFAULT_OUT.name})")
    args = parser.parse_args()
    args.out.write_text(generate(), encoding="utf-8", newline="")


if __name__ == "__main__":
    main()
