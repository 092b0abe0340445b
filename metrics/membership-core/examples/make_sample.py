"""Generate ``sample.csv`` for membership-core: three regions of a restaurant chain, 12 months of 2026.

Run from the repository root (plain Python, no third-party packages, does not import the
engine)::

    python metrics/membership-core/examples/make_sample.py [--out PATH]

Deterministic: one seeded ``random.Random`` whose only draws are ``random()``, no transcendental
functions, integers only. The story (see ``README.md``) replays the cases of the documents:

- 华南 / South: repeat purchase only 28% in Q1 ("members who register but never buy"); from April
  the first-order discount plus points, personal coupons for silent members and member-only set
  offers lift it to 42% by June, and the average order value grows by 15% (case one of 000).
- 华北 / North: a new promotion channel makes acquisition ever dearer in Q1 (CAC from about 60 to
  over 100); in May the budget moves to the channels with a better return and CAC falls by about
  40% (case two of 000).
- 华东 / East: deliveries are late and parcels damaged from July to October: complaints,
  satisfaction, NPS, churn and engagement all move the wrong way until the delivery process is
  fixed in November (the complaint and churn cases of 004).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from random import Random

SEED = 20260101
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "sample.csv"
REGIONS = ["east", "north", "south"]
MONTHS = [f"2026-{m:02d}" for m in range(1, 13)]
COLUMNS = [
    "period", "region", "marketing_spend", "new_members", "referred_new_members", "members_at_start",
    "total_members", "churned_members", "active_members", "repeat_buyers", "revenue", "orders", "visits",
    "customer_profit", "promoters", "passives", "detractors", "survey_responses", "satisfied_responses",
    "complaints", "emails_delivered", "emails_opened", "emails_clicked", "service_requests",
    "resolved_requests", "response_minutes", "daily_active_members", "weekly_active_members",
    "monthly_active_members", "churned_tenure_days", "avg_days_since_last_purchase", "survey_score_sum",
    "reviews", "positive_reviews", "social_reach", "social_interactions", "member_interactions",
]


class Draw:
    def __init__(self, seed: int) -> None:
        self.rng = Random(seed)

    def noise(self, sd: float) -> float:
        """1 + N(0, sd), the normal drawn as a sum of 12 uniforms (no transcendental functions)."""
        return 1 + sd * (sum(self.rng.random() for _ in range(12)) - 6)


def ramp(m: int, start: int, end: int) -> float:
    """0 before month `start`, 1 from month `end` on (1-based months), linear in between."""
    return min(1.0, max(0.0, (m - start + 1) / (end - start + 1)))


def simulate(region: str, draw: Draw) -> list[dict[str, int | str]]:
    members = {"east": 24000, "north": 18000, "south": 21000}[region]
    rows = []
    for i, period in enumerate(MONTHS):
        m = i + 1
        # -- the story's levers ------------------------------------------------------------------
        repeat = 0.50
        aov = 62.0
        cac = 60.0
        crisis = 0.0  # East's delivery problems
        if region == "south":  # case one: 28% → 42%, order value +15%
            lift = ramp(m, 4, 6)
            repeat = 0.28 + 0.14 * lift
            aov = 58.0 * (1 + 0.15 * lift)
        if region == "north":  # case two: a dear channel, then the budget moves (CAC −40%)
            cac = 60.0 + 16.0 * min(m, 4) if m <= 4 else 124.0 * (1 - 0.4 * ramp(m, 5, 6))
        if region == "east":
            crisis = ramp(m, 7, 10) if m <= 10 else (0.4 if m == 11 else 0.0)
            repeat = 0.50 * (1 - 0.25 * crisis)

        start = members
        new = round(start * 0.05 * draw.noise(0.05))
        churn_rate = (0.035 + 0.05 * crisis) * draw.noise(0.05)
        churned = round(start * churn_rate)
        members = start + new - churned
        active = round(members * (0.55 - 0.12 * crisis) * draw.noise(0.03))
        repeat_buyers = round(members * repeat * draw.noise(0.02))
        frequency = 2.6 * (1 + 0.3 * (repeat - 0.5)) * (1 - 0.3 * crisis)
        orders = round(active * frequency * draw.noise(0.03))
        revenue = round(orders * aov * draw.noise(0.01))
        responses = round(600 * draw.noise(0.05))
        satisfied = round(responses * (0.86 - 0.2 * crisis) * draw.noise(0.02))
        promoters = round(responses * (0.48 - 0.18 * crisis) * draw.noise(0.04))
        detractors = round(responses * (0.12 + 0.16 * crisis) * draw.noise(0.06))
        complaints = round(orders * (0.003 + 0.009 * crisis) * draw.noise(0.08))
        delivered = round(members * 0.9)
        opened = round(delivered * 0.22 * draw.noise(0.05))
        clicked = round(opened * 0.18 * draw.noise(0.06))
        requests = round(orders * 0.02 * (1 + crisis) * draw.noise(0.05))
        resolved = round(requests * (0.93 - 0.1 * crisis) * draw.noise(0.01))
        reviews = round(orders * 0.03 * draw.noise(0.05))
        reach = round(members * 1.8 * draw.noise(0.05))
        rows.append({
            "period": period, "region": region,
            "marketing_spend": round(cac * new * draw.noise(0.03), -2), "new_members": new,
            "referred_new_members": round(new * (0.18 - 0.08 * crisis) * draw.noise(0.05)),
            "members_at_start": start, "total_members": members, "churned_members": churned,
            "active_members": active, "repeat_buyers": repeat_buyers, "revenue": revenue, "orders": orders,
            "visits": round(orders * 1.7 * draw.noise(0.03)),
            "customer_profit": round(revenue * (0.18 - 0.05 * crisis) * draw.noise(0.03)),
            "promoters": promoters, "passives": responses - promoters - detractors, "detractors": detractors,
            "survey_responses": responses, "satisfied_responses": satisfied, "complaints": complaints,
            "emails_delivered": delivered, "emails_opened": opened, "emails_clicked": clicked,
            "service_requests": requests, "resolved_requests": resolved,
            "response_minutes": round(requests * (12 + 20 * crisis) * draw.noise(0.05)),
            "daily_active_members": round(active * 0.16 * draw.noise(0.03)),
            "weekly_active_members": round(active * 0.48 * draw.noise(0.03)),
            "monthly_active_members": active,
            "churned_tenure_days": round(churned * (410 - 120 * crisis) * draw.noise(0.05)),
            "avg_days_since_last_purchase": round((24 + 40 * crisis + 16 * (0.5 - repeat)) * draw.noise(0.04)),
            "survey_score_sum": round(responses * (4.3 - 0.9 * crisis) * draw.noise(0.01)),
            "reviews": reviews, "positive_reviews": round(reviews * (0.82 - 0.25 * crisis) * draw.noise(0.02)),
            "social_reach": reach, "social_interactions": round(reach * 0.06 * (1 - 0.3 * crisis) * draw.noise(0.05)),
            "member_interactions": round(members * 3.2 * (1 - 0.35 * crisis) * draw.noise(0.04)),
        })
    return rows


def generate() -> str:
    draw = Draw(SEED)
    rows = [r for region in REGIONS for r in simulate(region, draw)]
    rows.sort(key=lambda r: (r["period"], r["region"]))
    lines = [",".join(COLUMNS)] + [",".join(str(int(r[c]) if isinstance(r[c], float) else r[c]) for c in COLUMNS)
                                   for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output CSV (default: {DEFAULT_OUT.name})")
    args = parser.parse_args()
    args.out.write_text(generate(), encoding="utf-8", newline="")


if __name__ == "__main__":
    main()
