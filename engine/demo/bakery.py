"""A realistic, seeded demo ledger for the bakery pack: the card events of a chain of shops.

``bakery_ledger()`` simulates members of a stored-value card programme month by month and
returns the ledger of ``../shared/specs/data-sources.md`` as NumPy columns sorted by
``event_time``; ``write_ledger()`` writes it as ``card_events.csv`` and
``card_events.parquet``. Nothing here is used by the evaluator; it feeds demos and tests.

Columns: ``event_time`` (``datetime64[s]``, local business time), ``store_id`` (``S01`` …),
``member_id`` (``M000001`` …, numbered in order of joining), ``kind``, ``amount``, ``net``,
``gift`` (CNY, float64, whole cents, ≥ 0) and ``points`` (float64, whole points, ≥ 0).

The rules of the ledger (each member has a principal balance, a bonus balance, points and a
rebate balance; money is simulated in integer cents, so every identity below is exact in
cents — in float64 ``net + gift`` may differ from ``amount`` by one unit in the last place):

- ``register`` (all money and points 0): a member joins; every member has one home store and
  exactly one first event, ``register`` or ``import``. About 3% arrive by ``import``
  (migrated from another shop's system with an opening balance: ``amount = net``,
  ``gift = 0``; no ``register`` row), in two batches: the fourth shop takes over a partner
  shop's members when the ledger starts, and ``S02`` a closed franchise's members
  five-eighths of the way through (with fewer shops: the last shop, and ``S01``). Imports run
  as a batch job between 02:00 and 06:00; member events fall in opening hours, 07:00–21:00,
  busiest at breakfast and in the evening.
- ``recharge``: ``amount = net + gift``; ``net`` is a tier (100, 200, 300, 500, 1000 元) and
  ``gift`` its bonus, by season: regular 0 / 20 / 40 / 80 / 200, 圣诞 (1–25 Dec)
  10 / 30 / 50 / 100 / 250, 中秋 (24 days before to 2 after) 15 / 40 / 60 / 120 / 280, 春节
  (28 days before to 5 after) 20 / 50 / 80 / 150 / 350 (储 100 送 20). A member recharges when
  registering (85%), when a visit costs more than the card holds (a top-up at the counter,
  with the member's own probability), and during campaigns to stock up on bonus. Recharges
  of 200 元 or more earn 1 point per 10 元 of principal: a ``points_earn_recharge`` row
  (``points`` > 0, money 0) right after the recharge.
- ``consume``: a visit; the wish is about 38 元 (30–50 typically; mooncakes and Christmas
  cakes cost more), the card pays ``min(wish, balance)`` (the rest is paid in cash, off the
  ledger; an empty card gives no row). **Bonus is spent in proportion to the member's bonus
  share of the balance**: ``gift = round_half_up(amount × bonus / (principal + bonus))``
  (integer cents), ``net = amount − gift``; so neither part can go below zero and the share
  is unchanged by spending. Each spend of at least 1 元 earns 1 point per whole 元: a
  ``points_earn_consume`` row.
- Points (money 0 except convert): ``points_redeem`` (300 / 500 / 1000 points for a gift,
  5% of visits of members holding ≥ 500); ``points_convert`` at a points fair in the last ten
  days of each quarter (40% of members come; those holding ≥ 1000 points convert 30–100% of
  them, in hundreds; 100 points = 1 元, credited to the bonus balance: ``gift = amount``,
  ``net = 0``); ``points_expire`` on 31 December 23:59:59 for points earned in the previous
  calendar year and not yet used (deductions use the oldest points first), for every
  member not cancelled, silent or not; ``points_delete`` by the back office (rarely; and all
  points left on a cancelled card). No deduction exceeds the member's points.
- ``rebate_grant`` / ``rebate_spend``: back-office rebates (formula (8)), a separate pot: the
  money is in ``amount``, ``net = gift = 0``. Company buyers (1.5% of members) get a grant of
  50–600 元 in the month of their Mid-Autumn orders (ten days before 中秋) and in December,
  and spend 20–150 元 of it on 40% of their later visits.
- Churn: each month a member who joined earlier leaves with a hazard (2.2% a month, 7.2% in
  the first two months after joining). A leaver whose balance is at most 80 元 cancels with
  probability 1/2: during the month, at a ``cancel`` row preceded (same instant) by a
  ``consume`` of the whole remaining balance, a ``rebate_spend`` of any rebate left and a
  ``points_delete`` of the points left; no top-up that month and nothing after it. Every other
  leaver goes **silent**: no rows from the start of that month on (its balance stays on the
  books), except the yearly points expiry.
- Seasons: visits are Poisson per member and month (member rates are Gamma-distributed,
  mean 1.4 a month) with daily weights: weekends ×1.25, July–August ×0.85, campaign days
  ×1.1–1.2, 20–25 December ×1.7, the eve and first days of 春节 ×0.3. Joining is busiest in
  the launch month (the ledger starts with the card programme) and in campaigns.
- Decline: the last store (when there are at least two) declines in the second year, from
  its first month to full strength in its ninth: churn hazard up to +8 points a month, visits
  −30%, top-ups and stock-ups halved, new members −75%, and from the fourth month a bigger
  bonus table (one season up: 储 100 送 10 in ordinary months).

The output depends only on the arguments and NumPy's generator stream (``default_rng``), so a
seed gives the same arrays byte for byte on one NumPy version.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import duckdb
import numpy as np

__all__ = ["COLUMNS", "KINDS", "bakery_ledger", "campaign_share", "write_ledger"]

KINDS = (
    "register",
    "import",
    "recharge",
    "consume",
    "points_earn_consume",
    "points_earn_recharge",
    "points_redeem",
    "points_convert",
    "points_expire",
    "points_delete",
    "rebate_grant",
    "rebate_spend",
    "cancel",
)
(
    REGISTER,
    IMPORT,
    RECHARGE,
    CONSUME,
    EARN_CONSUME,
    EARN_RECHARGE,
    REDEEM,
    CONVERT,
    EXPIRE,
    DELETE,
    REBATE_GRANT,
    REBATE_SPEND,
    CANCEL,
) = range(len(KINDS))
COLUMNS = ("event_time", "store_id", "member_id", "kind", "amount", "net", "gift", "points")

# -- calendar ---------------------------------------------------------------------------------
# 春节 and 中秋 (the festivals move); years outside the tables fall back to 5 Feb and 20 Sep.
SPRING = {
    2015: "02-19",
    2016: "02-08",
    2017: "01-28",
    2018: "02-16",
    2019: "02-05",
    2020: "01-25",
    2021: "02-12",
    2022: "02-01",
    2023: "01-22",
    2024: "02-10",
    2025: "01-29",
    2026: "02-17",
    2027: "02-06",
    2028: "01-26",
    2029: "02-13",
    2030: "02-03",
    2031: "01-23",
    2032: "02-11",
    2033: "01-31",
    2034: "02-19",
    2035: "02-08",
}
MID_AUTUMN = {
    2015: "09-27",
    2016: "09-15",
    2017: "10-04",
    2018: "09-24",
    2019: "09-13",
    2020: "10-01",
    2021: "09-21",
    2022: "09-10",
    2023: "09-29",
    2024: "09-17",
    2025: "10-06",
    2026: "09-25",
    2027: "09-15",
    2028: "10-03",
    2029: "09-22",
    2030: "09-12",
    2031: "10-01",
    2032: "09-19",
    2033: "09-08",
    2034: "09-27",
    2035: "09-16",
}
NONE, CHRISTMAS, MOON, SPRING_FESTIVAL = range(4)  # campaign of a day (later ones win overlaps)
WINDOW = {CHRISTMAS: (0, 24), MOON: (-24, 2), SPRING_FESTIVAL: (-28, 5)}  # days around the date
STOCK_UP = np.array([0.0, 0.10, 0.14, 0.22])  # chance a member stocks up once per campaign
_OPEN_FROM, _OPEN = 7 * 3600, 14 * 3600  # opening hours 07:00–21:00
_HOURS = np.array([1.5, 1.9, 1.3, 0.8, 0.9, 1.1, 0.8, 0.6, 0.7, 0.9, 1.3, 1.6, 1.3, 0.7])
_OFF_EDGES = np.concatenate([[0.0], np.cumsum(_HOURS) / _HOURS.sum() * _OPEN])
_REAL_EDGES = np.arange(len(_HOURS) + 1) * 3600.0
_MONTH_DAYS = 30.44

# -- business rules (money in cents) ------------------------------------------------------------
TIERS = np.array([100, 200, 300, 500, 1000], dtype=np.int64) * 100
# by campaign (row), tier
BONUS = (
    np.array(
        [
            [0, 20, 40, 80, 200],
            [10, 30, 50, 100, 250],
            [15, 40, 60, 120, 280],
            [20, 50, 80, 150, 350],
        ],
        dtype=np.int64,
    )
    * 100
)
TIER_PREF = np.array([0.45, 0.30, 0.12, 0.10, 0.03])  # a member's usual tier
# shop profiles, cycled: (share of members, ticket ×, visits ×)
PROFILES = ((1.4, 1.10, 1.0), (1.1, 1.0, 1.1), (0.9, 0.8, 1.15), (1.0, 1.0, 1.0), (1.0, 0.95, 1.0))
HAZARD, NEW_HAZARD, CANCEL_SHARE, CANCEL_MAX = 0.022, 0.05, 0.5, 8000
IMPORT_SHARE, CORPORATE_SHARE, LAUNCH = 0.03, 0.015, 6.0
(
    _SLOT_IMPORT,
    _SLOT_JOIN,
    _SLOT_STOCK,
    _SLOT_VISIT,
    _SLOT_FAIR,
    _SLOT_REBATE,
    _SLOT_ADMIN,
    _SLOT_CANCEL,
) = range(8)  # also the order of slots at the same instant


class _Calendar:
    """Days from the first of ``start`` for ``months`` months, and an *open-time axis*: each day
    contributes 14 hours of opening time, so ``x // _OPEN`` is the day of a position ``x``."""

    def __init__(self, start: str, months: int) -> None:
        try:
            first = np.datetime64(start, "M")
        except ValueError as e:
            raise ValueError(f"start must be a month 'YYYY-MM', got {start!r}") from e
        edges = (first + np.arange(months + 1)).astype("datetime64[D]")
        self.day0 = edges[0]
        self.epoch0 = int(self.day0.astype("datetime64[s]").astype(np.int64))
        self.month_day = (edges - edges[0]).astype(np.int64)
        n = int(self.month_day[-1])
        days = self.day0 + np.arange(n)
        self.month_of_year = (edges[:-1].astype("datetime64[M]").astype(np.int64) % 12) + 1
        month = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        dom = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
        weekday = (days.astype(np.int64) + 3) % 7  # Monday 0
        camp = np.zeros(n, np.int8)
        years = range(int(str(edges[0])[:4]) - 1, int(str(edges[-1])[:4]) + 2)
        dates = {CHRISTMAS: {y: "12-01" for y in years}, MOON: MID_AUTUMN, SPRING_FESTIVAL: SPRING}
        fallback = {CHRISTMAS: "12-01", MOON: "09-20", SPRING_FESTIVAL: "02-05"}
        spring_days, self.company_orders = [], []  # company orders: 10 days before 中秋
        for c in (CHRISTMAS, MOON, SPRING_FESTIVAL):
            lo, hi = WINDOW[c]
            for y in years:
                day = np.datetime64(f"{y}-{dates[c].get(y, fallback[c])}") - self.day0
                d = int(day.astype(np.int64))
                camp[max(0, d + lo) : max(0, d + hi + 1)] = c
                if c == SPRING_FESTIVAL:
                    spring_days.append(d)
                elif c == MOON:
                    self.company_orders.append(d - 10)
        w = np.where(weekday >= 5, 1.25, 1.0) * np.where((month == 7) | (month == 8), 0.85, 1.0)
        w *= np.array([1.0, 1.1, 1.2, 1.15])[camp]
        eve = (month == 12) & (dom >= 20) & (dom <= 25)
        w[eve] *= 1.7
        spend = np.array([1.0, 1.1, 1.5, 1.2])[camp] * np.where(
            (month == 7) | (month == 8), 0.95, 1
        )
        spend[eve] = 1.6
        for d in spring_days:  # shops closed or quiet on the eve and the first days
            w[max(0, d - 1) : max(0, d + 3)] *= 0.3
        lengths = np.array([1.0] + [WINDOW[c][1] - WINDOW[c][0] + 1 for c in (1, 2, 3)])
        self.camp, self.visit_w, self.spend_x = camp, w, spend
        self.stock_w = STOCK_UP[camp] / lengths[camp]
        self.wv = np.concatenate([[0.0], np.cumsum(w)])
        self.ws = np.concatenate([[0.0], np.cumsum(self.stock_w)])
        self.n_days = n

    def cum(self, w: np.ndarray, day_w: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Cumulative weight at open-axis positions (piecewise linear within a day)."""
        d = np.minimum(x // _OPEN, self.n_days - 1)
        return np.asarray(w[d] + day_w[d] * ((x - d * _OPEN) / _OPEN))

    def sample(
        self, w: np.ndarray, day_w: np.ndarray, a: np.ndarray, b: np.ndarray, u: np.ndarray
    ) -> np.ndarray:
        """Positions in ``[a, b)`` drawn with density ``day_w`` by inverting the cumulative."""
        va, vb = self.cum(w, day_w, a), self.cum(w, day_w, b)
        v = va + u * (vb - va)
        d = np.clip(np.searchsorted(w, v, side="right") - 1, 0, self.n_days - 1)
        dw = day_w[d]
        frac = np.divide(v - w[d], dw, out=np.zeros_like(v), where=dw > 0)
        x = d * _OPEN + np.minimum((frac * _OPEN).astype(np.int64), _OPEN - 1)
        return np.asarray(np.clip(x, a, np.maximum(a, b - 1)))

    def real(self, x: np.ndarray) -> np.ndarray:
        """Epoch seconds of open-axis positions: busy breakfast and evening hours."""
        d = x // _OPEN
        off = np.floor(np.interp(x - d * _OPEN, _OFF_EDGES, _REAL_EDGES)).astype(np.int64)
        return np.asarray(self.epoch0 + d * 86400 + _OPEN_FROM + off)


def campaign_share(start: str = "2025-01", months: int = 24) -> np.ndarray:
    """Share of the days of each month that fall in a top-up campaign (春节, 中秋, 圣诞)."""
    cal = _Calendar(start, months)
    return np.array(
        [
            float(np.mean(cal.camp[cal.month_day[m] : cal.month_day[m + 1]] > 0))
            for m in range(months)
        ]
    )


class _Rows:
    """Ledger rows: those of the current month in the order they are produced, then each
    month's rows sorted by time (stable, so a slot's rows keep their order)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.done: list[list[np.ndarray]] = []

    def add(
        self,
        keep: np.ndarray,
        t: np.ndarray,
        mem: np.ndarray,
        kind: int,
        amount: np.ndarray | int = 0,
        net: np.ndarray | int = 0,
        gift: np.ndarray | int = 0,
        points: np.ndarray | int = 0,
    ) -> None:
        n = int(np.count_nonzero(keep))
        if n == 0:
            return
        cols = [
            np.broadcast_to(np.asarray(c, dtype=np.int64), keep.shape)[keep]
            for c in (amount, net, gift, points)
        ]
        self.parts.append((t[keep], mem[keep].astype(np.int32), np.full(n, kind, np.int8), *cols))

    def close_month(self) -> None:
        if self.parts:
            cols = [np.concatenate([p[i] for p in self.parts]) for i in range(7)]
            order = np.argsort(cols[0], kind="stable")
            self.done.append([c[order] for c in cols])
        self.parts = []

    def columns(self) -> list[np.ndarray]:
        if not self.done:
            return [np.zeros(0, (np.int64, np.int32, np.int8)[min(i, 2)]) for i in range(7)]
        return [np.concatenate([p[i] for p in self.done]) for i in range(7)]


def _take_points(old: np.ndarray, new: np.ndarray, d: np.ndarray) -> None:
    """Deduct ``d`` points, oldest first (in place; ``d`` ≤ old + new)."""
    from_old = np.minimum(old, d)
    old -= from_old
    new -= d - from_old


def _slots(
    cal: _Calendar,
    rng: np.random.Generator,
    act: np.ndarray,
    hit: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    kind: int,
    stock: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Slots of ``kind`` for the active members ``act[hit]`` (``hit`` may repeat an index), at
    instants drawn in ``[lo, hi)`` by visit weight (by campaign stock-up rate if ``stock``)."""
    w, day_w = (cal.ws, cal.stock_w) if stock else (cal.wv, cal.visit_w)
    x = cal.sample(w, day_w, lo[hit], hi[hit], rng.random(hit.size))
    return act[hit], x, np.full(hit.size, kind)


def _simulate(
    stores: int, months: int, members: int, seed: int, start: str
) -> tuple[list[np.ndarray], np.ndarray]:
    """The rows in time order (t, member, kind, amount, net, gift, points; cents and points)
    and the home store of each member."""
    if stores < 1 or months < 1 or members < 1:
        raise ValueError("stores, months and members must be at least 1")
    cal, rng = _Calendar(start, months), np.random.default_rng(seed)
    n, s_count = members, stores
    prof = np.array([PROFILES[s % len(PROFILES)] for s in range(s_count)])
    declining = s_count - 1 if s_count >= 2 else -1
    level = np.clip((np.arange(months) - 11) / 8, 0, 1)  # 0 in year 1, 1 from month 20
    share = campaign_share(start, months)
    summer = np.isin(cal.month_of_year, (7, 8))
    mx = cal.month_day * _OPEN  # open-axis start of each month (and the end)

    # -- members: home store, month and instant of joining, numbered in order of joining -----
    join_w = np.ones((s_count, months)) * (1 + 0.8 * share) * np.where(summer, 0.8, 1.0)
    join_w[:, 0] *= LAUNCH
    if declining >= 0:
        join_w[declining] *= 1 - 0.75 * level
    cdf = np.cumsum(prof[:, 0] / prof[:, 0].sum())
    store = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), s_count - 1)
    u = rng.random(n)
    join_m = np.zeros(n, np.int64)
    for s in range(s_count):
        sel = store == s
        c = np.cumsum(join_w[s]) / join_w[s].sum()
        join_m[sel] = np.minimum(np.searchsorted(c, u[sel], side="right"), months - 1)
    n_imp = round(IMPORT_SHARE * n) if n >= 20 else 0
    half = (n_imp + 1) // 2 if months >= 2 else n_imp
    imported = np.zeros(n, bool)
    imported[:n_imp] = True
    store[:half], join_m[:half] = min(3, s_count - 1), 0
    store[half:n_imp], join_m[half:n_imp] = 1 % s_count, (5 * months) // 8
    jx = cal.sample(cal.wv, cal.visit_w, mx[join_m], mx[join_m + 1], rng.random(n))
    jx[imported] = mx[join_m[imported]]
    order = np.lexsort((np.arange(n), ~imported, jx))
    store, join_m, imported, jx = store[order], join_m[order], imported[order], jx[order]

    lam = rng.gamma(0.9, 1.4 / 0.9, n) * prof[store, 2]  # visits a month
    wish = 38.0 * np.exp(0.22 * rng.standard_normal(n)) * prof[store, 1]  # 元 a visit
    p_top = rng.uniform(0.6, 0.95, n)
    pref = np.minimum(np.searchsorted(np.cumsum(TIER_PREF), rng.random(n), side="right"), 4)
    corporate = rng.random(n) < CORPORATE_SHARE
    opening = (
        np.clip(np.round(12000 * np.exp(0.6 * rng.standard_normal(n))), 1000, 200000).astype(
            np.int64
        )
        * imported
    )

    status = np.zeros(n, np.int8)  # 0 not yet joined, 1 active, 2 silent, 3 cancelled
    net, gift, old_pts, new_pts, rebate = (np.zeros(n, np.int64) for _ in range(5))
    rows = _Rows()
    for m in range(months):
        lv = level[m] if declining >= 0 else 0.0
        visit_f, top_f, stock_f, hazard, up = (np.ones(s_count) for _ in range(5))
        hazard *= HAZARD
        up[:] = 0
        if declining >= 0:
            visit_f[declining], top_f[declining] = 1 - 0.3 * lv, 1 - 0.5 * lv
            stock_f[declining], hazard[declining] = 1 - 0.5 * lv, HAZARD + 0.08 * lv
            up[declining] = 1 if lv >= 0.5 else 0

        # churn at the start of the month: cancel (small balance, half of them) or go silent
        old = np.flatnonzero((status == 1) & (join_m < m))
        h = hazard[store[old]] + np.where(m - join_m[old] <= 2, NEW_HAZARD, 0.0)
        leave, u2 = rng.random(old.size) < h, rng.random(old.size)
        cancel_ok = (net[old] + gift[old] <= CANCEL_MAX) & (u2 < CANCEL_SHARE)
        status[old[leave & ~cancel_ok]] = 2
        joining = np.flatnonzero((status == 0) & (join_m == m))
        status[joining] = 1
        act = np.flatnonzero(status == 1)
        cancelling = np.zeros(n, bool)
        cancelling[old[leave & cancel_ok]] = True
        quits = cancelling[act]
        a = np.maximum(jx[act], mx[m])
        b = np.full(act.size, mx[m + 1])
        cx = cal.sample(cal.wv, cal.visit_w, a[quits], b[quits], rng.random(int(quits.sum())))
        b[quits] = cx

        # slots: member, open-axis position, type
        ev = cal.cum(cal.wv, cal.visit_w, b) - cal.cum(cal.wv, cal.visit_w, a)
        nv = rng.poisson(lam[act] * visit_f[store[act]] * ev / _MONTH_DAYS)
        visits = np.repeat(np.arange(act.size), nv)
        slots = [_slots(cal, rng, act, visits, a, b, _SLOT_VISIT)]
        stay = ~quits
        p_stock = (
            (cal.cum(cal.ws, cal.stock_w, b) - cal.cum(cal.ws, cal.stock_w, a))
            * stock_f[store[act]]
            * stay
        )
        hit = np.flatnonzero(rng.random(act.size) < p_stock)
        slots.append(_slots(cal, rng, act, hit, a, b, _SLOT_STOCK, stock=True))
        if cal.month_of_year[m] % 3 == 0:  # points fair in the last ten days of a quarter
            fa = np.maximum(a, mx[m + 1] - 10 * _OPEN)
            hit = np.flatnonzero(stay & (fa < b) & (rng.random(act.size) < 0.4))
            slots.append(_slots(cal, rng, act, hit, fa, b, _SLOT_FAIR))
        if cal.month_of_year[m] == 12 or any(
            cal.month_day[m] <= d < cal.month_day[m + 1] for d in cal.company_orders
        ):
            hit = np.flatnonzero(stay & corporate[act] & (rng.random(act.size) < 0.7))
            slots.append(_slots(cal, rng, act, hit, a, b, _SLOT_REBATE))
        hit = np.flatnonzero(stay & (rng.random(act.size) < 0.001))
        slots.append(_slots(cal, rng, act, hit, a, b, _SLOT_ADMIN))
        slots.append((joining, jx[joining], np.where(imported[joining], _SLOT_IMPORT, _SLOT_JOIN)))
        slots.append((act[quits], cx, np.full(cx.size, _SLOT_CANCEL)))
        mem = np.concatenate([s[0] for s in slots])
        x = np.concatenate([s[1] for s in slots])
        typ = np.concatenate([s[2] for s in slots]).astype(np.int8)
        k = np.lexsort((typ, x, mem))
        mem, x, typ = mem[k], x[k], typ[k]
        t = cal.real(x)
        imp = typ == _SLOT_IMPORT
        n_imp = int(imp.sum())  # a batch job between 02:00 and 06:00, in member order
        t[imp] = cal.epoch0 + cal.month_day[m] * 86400 + 7200 + np.arange(n_imp) * 14400 // n_imp
        day = np.minimum(x // _OPEN, cal.n_days - 1)
        table = np.minimum(cal.camp[day] + up[store[mem]].astype(np.int8), 3)
        want = np.round(
            wish[mem] * cal.spend_x[day] * np.exp(0.3 * rng.standard_normal(mem.size) - 0.045) * 100
        ).astype(np.int64)
        want = np.clip(want, 500, 50000)
        u_a, u_b, u_c = rng.random(mem.size), rng.random(mem.size), rng.random(mem.size)
        ptop = p_top[mem] * top_f[store[mem]]

        # process the slots rank by rank: within a rank every member appears once
        first = np.r_[True, mem[1:] != mem[:-1]]
        starts = np.flatnonzero(first)
        rank = np.arange(mem.size) - np.repeat(starts, np.diff(np.r_[starts, mem.size]))
        by_rank = np.argsort(rank, kind="stable")
        bounds = np.searchsorted(rank[by_rank], np.arange(int(rank.max(initial=-1)) + 2))
        for r in range(bounds.size - 1):
            i = by_rank[bounds[r] : bounds[r + 1]]
            _process(
                rows,
                mem[i],
                typ[i],
                t[i],
                table[i],
                want[i],
                ptop[i],
                u_a[i],
                u_b[i],
                u_c[i],
                opening,
                pref,
                status,
                net,
                gift,
                old_pts,
                new_pts,
                rebate,
            )
        if cal.month_of_year[m] == 12:  # yearly expiry of last year's unused points
            keep = ((status == 1) | (status == 2)) & (old_pts > 0)
            t_end = np.full(n, cal.epoch0 + int(cal.month_day[m + 1]) * 86400 - 1)
            rows.add(keep, t_end, np.arange(n), EXPIRE, points=old_pts)
            old_pts[:] = new_pts
            new_pts[:] = 0
        rows.close_month()
    return rows.columns(), store


def _process(
    rows: _Rows,
    mem: np.ndarray,
    typ: np.ndarray,
    t: np.ndarray,
    table: np.ndarray,
    want: np.ndarray,
    ptop: np.ndarray,
    u_a: np.ndarray,
    u_b: np.ndarray,
    u_c: np.ndarray,
    opening: np.ndarray,
    pref: np.ndarray,
    status: np.ndarray,
    net_b: np.ndarray,
    gift_b: np.ndarray,
    old_b: np.ndarray,
    new_b: np.ndarray,
    rebate_b: np.ndarray,
) -> None:
    """One slot per member (``mem`` unique): update the balances, emit the rows."""
    p, g, po, pn, rb = net_b[mem], gift_b[mem], old_b[mem], new_b[mem], rebate_b[mem]
    visit, cancel = typ == _SLOT_VISIT, typ == _SLOT_CANCEL

    imp = typ == _SLOT_IMPORT
    p += np.where(imp, opening[mem], 0)
    rows.add(imp, t, mem, IMPORT, opening[mem], opening[mem])
    join = typ == _SLOT_JOIN
    rows.add(join, t, mem, REGISTER)

    # recharges: at registration, stock-up in a campaign, top-up when the card is short
    top = visit & (want > p + g) & (u_a < ptop)
    rc = (join & (u_a < 0.85)) | (typ == _SLOT_STOCK) | top
    p_up = np.where(typ == _SLOT_STOCK, 0.6, np.where(table > 0, 0.3, 0.0))
    tier = np.clip(pref[mem] + (u_b < p_up) - (u_b > 0.9), 0, 4)
    rn = np.where(rc, TIERS[tier], 0)
    rg = np.where(rc, BONUS[table, tier], 0)
    p += rn
    g += rg
    rows.add(rc, t, mem, RECHARGE, rn + rg, rn, rg)
    earn = rn // 1000
    rows.add(rc & (rn >= 20000), t, mem, EARN_RECHARGE, points=earn)
    pn += np.where(rn >= 20000, earn, 0)

    # spending: bonus in proportion to its share of the balance; the whole card on cancel
    bal = p + g
    amt = np.where(visit, np.minimum(want, bal), np.where(cancel, bal, 0))
    gs = np.where(cancel, g, (2 * amt * g + bal) // np.maximum(2 * bal, 1))
    ns = amt - gs
    p -= ns
    g -= gs
    rows.add(amt > 0, t, mem, CONSUME, amt, ns, gs)
    earn = np.where(visit, amt // 100, 0)
    rows.add(earn > 0, t, mem, EARN_CONSUME, points=earn)
    pn += earn

    pts = po + pn
    red = visit & (pts >= 500) & (u_c < 0.05)
    r = np.where(
        red,
        np.minimum(np.array([300, 500, 1000])[(u_b * 3).astype(np.int64) % 3], pts // 100 * 100),
        0,
    )
    rows.add(red, t, mem, REDEEM, points=r)
    _take_points(po, pn, r)

    pts = po + pn
    fair = (typ == _SLOT_FAIR) & (pts >= 1000)
    c = np.where(fair, np.maximum(100, (pts * (0.3 + 0.7 * u_c)).astype(np.int64) // 100 * 100), 0)
    rows.add(fair, t, mem, CONVERT, c, 0, c, c)  # 100 points = 1 元 = 100 cents
    _take_points(po, pn, c)
    g += c

    grant = typ == _SLOT_REBATE
    ga = np.where(grant, (50 + (u_c * 551).astype(np.int64)) * 100, 0)
    rows.add(grant, t, mem, REBATE_GRANT, ga)
    rb += ga
    rs = np.where(
        cancel,
        rb,
        np.where(visit & (u_c < 0.4), np.minimum(rb, 2000 + (u_b * 13000).astype(np.int64)), 0),
    )
    rows.add(rs > 0, t, mem, REBATE_SPEND, rs)
    rb -= rs

    pts = po + pn
    admin = typ == _SLOT_ADMIN
    d = np.where(cancel, pts, np.where(admin, np.where(u_c < 0.5, pts, (pts + 1) // 2), 0))
    rows.add(d > 0, t, mem, DELETE, points=d)
    _take_points(po, pn, d)
    rows.add(cancel, t, mem, CANCEL)
    status[mem[cancel]] = 3
    net_b[mem], gift_b[mem], old_b[mem], new_b[mem], rebate_b[mem] = p, g, po, pn, rb


def bakery_ledger(
    stores: int = 5, months: int = 24, members: int = 2000, seed: int = 7, start: str = "2025-01"
) -> dict[str, np.ndarray]:
    """The card-event ledger of ``stores`` shops over ``months`` months from ``start``, for
    ``members`` members in all (everyone who ever joins), as columns sorted by event time.
    See the module docstring for the rules."""
    (t, mem, kind, amount, net, gift, points), store = _simulate(
        stores, months, members, seed, start
    )
    sw, mw = max(2, len(str(stores))), max(6, len(str(members)))
    store_ids = np.array([f"S{s + 1:0{sw}d}" for s in range(stores)])
    member_ids = np.char.add("M", np.char.zfill(np.arange(1, members + 1).astype(f"U{mw}"), mw))
    return {
        "event_time": t.astype("datetime64[s]"),
        "store_id": np.take(store_ids, np.take(store, mem)),
        "member_id": np.take(member_ids, mem),
        "kind": np.take(np.array(KINDS), kind.astype(np.intp)),
        "amount": amount / 100.0,
        "net": net / 100.0,
        "gift": gift / 100.0,
        "points": points.astype(np.float64),
    }


def write_ledger(
    ledger: dict[str, np.ndarray], out_dir: Path, formats: Iterable[str] = ("csv", "parquet")
) -> list[Path]:
    """Write ``card_events.csv`` (header; times ``YYYY-MM-DD HH:MM:SS``; money with two
    decimals) and/or ``card_events.parquet`` (timestamps, doubles) into ``out_dir``.

    Each file is written to a temporary file in ``out_dir`` and moved into place with
    ``os.replace`` once all of them are complete: a reader never sees a half-written file,
    and on error the temporary files are removed and existing outputs are left untouched."""
    formats = tuple(formats)
    unknown = sorted(set(formats) - {"csv", "parquet"})
    if unknown or not formats or len(set(formats)) < len(formats):
        raise ValueError(f"formats must be 'csv' and/or 'parquet', got {list(formats)}")
    missing = [c for c in COLUMNS if c not in ledger]
    if missing:
        raise ValueError(f"ledger lacks the column(s) {', '.join(missing)}")
    size = {len(ledger[c]) for c in COLUMNS}
    if len(size) != 1:
        raise ValueError("ledger columns differ in length")
    n = size.pop()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    temps: list[str] = []
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(
            "CREATE TABLE card_events (event_time TIMESTAMP, store_id VARCHAR, "
            "member_id VARCHAR, kind VARCHAR, amount DOUBLE, net DOUBLE, gift DOUBLE, "
            "points DOUBLE)"
        )
        for lo in range(0, n, 1_000_000):  # strings as Python objects: DuckDB scans them fast
            chunk = {c: np.asarray(ledger[c][lo : lo + 1_000_000]) for c in COLUMNS}
            for c in ("store_id", "member_id", "kind"):
                chunk[c] = chunk[c].astype(object)
            chunk["event_time"] = chunk["event_time"].astype("datetime64[s]")
            for c in ("amount", "net", "gift", "points"):
                chunk[c] = chunk[c].astype(np.float64)
            con.register("chunk", chunk)
            con.execute("INSERT INTO card_events SELECT " + ", ".join(COLUMNS) + " FROM chunk")
            con.unregister("chunk")
        queries = {
            "csv": (
                "SELECT strftime(event_time, '%Y-%m-%d %H:%M:%S') AS event_time, store_id, "
                "member_id, kind, amount::DECIMAL(18, 2) AS amount, net::DECIMAL(18, 2) AS net, "
                "gift::DECIMAL(18, 2) AS gift, points FROM card_events",
                "FORMAT csv, HEADER",
            ),
            "parquet": ("SELECT * FROM card_events", "FORMAT parquet, COMPRESSION zstd"),
        }
        for fmt in formats:
            fd, tmp = tempfile.mkstemp(prefix=".card_events.", suffix=f".{fmt}.tmp", dir=out_dir)
            os.close(fd)
            temps.append(tmp)
            query, options = queries[fmt]
            con.execute(f"COPY ({query}) TO '{tmp.replace(chr(39), chr(39) * 2)}' ({options})")
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        paths = []
        for fmt, tmp in zip(formats, temps, strict=True):
            path = out_dir / f"card_events.{fmt}"
            os.replace(tmp, path)
            paths.append(path)
        return paths
    finally:
        con.close()
        for tmp in temps:
            if os.path.exists(tmp):
                os.remove(tmp)
