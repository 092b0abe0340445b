"""An independent, plain-Python reference for the inputs computed from raw ledgers.

The product computes a pack's inputs from raw records with SQL (DuckDB / Spark). This module
computes the same inputs one record at a time, from the written definitions below only, so
that tests can compare the two. It uses the standard library only and imports nothing from
the product (``engine``, ``metrics``, ``api``).

Conventions shared by both functions
------------------------------------

- Input: a list of dicts (one per record) or a dict of columns (equal-length sequences; a
  column with a ``tolist()`` method, such as a NumPy array, is converted with it first).
- Times are ``datetime.datetime``, naive local time (an ISO string is parsed with
  ``datetime.fromisoformat``; a time zone, a bare ``date`` or anything else is an error).
- **as_of and the cut.** ``as_of`` is a ``datetime.date`` (or an ISO ``'YYYY-MM-DD'``
  string; a ``datetime`` is an error). By default it is the date of the last record of the
  whole input (every store; for the order log, the last row with a non-zero amount). The
  *cut* is the first moment of the day after ``as_of``: ``cut = datetime(as_of) + 1 day``.
  A record with ``time >= cut`` is ignored entirely, exactly as if it were absent from the
  input (it makes no period, no customer, no member and adds to nothing). The records left
  are the *kept* records; with no kept record the result is ``{}``.
- **Grains and periods.** ``grain`` is one of ``GRAINS``: ``"month"`` (labels
  ``'YYYY-MM'``), ``"quarter"`` (``'YYYY-Qn'``, Q1 = January to March, Q2 = April to June,
  ...), ``"year"`` (``'YYYY'``) or ``"all"`` (one period, labelled ``'all'``). The periods of
  the result are every calendar period of the grain from the one holding the first kept
  record to the one holding ``as_of``: a quiet period (no record at all) is a period too.
- **S and E.** For a period of grain month / quarter / year, the start instant ``S`` is its
  first moment (calendar) and the end instant ``E = min(first moment of the next period,
  cut)``: the last period, when it is not over at ``as_of``, ends at the cut. For ``'all'``,
  ``S`` is the first moment of the month of the earliest kept record of the whole input and
  ``E = cut``.
  ``S`` and ``E`` are always midnights and ``S < E``.
- "Before an instant t" means ``time < t``; "in the period" means ``S <= time < E``.
- "Days since the last X at t" is ``(t.date() - d).days`` where ``d`` is the date of the last
  qualifying record before ``t``; it is undefined when there is none. As ``E`` is midnight,
  a record on the last day before ``E`` is 1 day old at ``E``; when ``E`` is the cut, ages
  are measured at the first moment of ``as_of + 1 day`` (a record on ``as_of`` is 1 day old).
- "Days in the period" is ``(E - S).days``: the calendar days of the period, or, for a period
  not over at ``as_of``, its days up to and including ``as_of`` (so a month cut at its 10th
  has 10 days).
- Money and points are floats. Every sum is the exact sum of the given floats, rounded once
  to the nearest float (``math.fsum`` / ``fractions.Fraction``), so the result does not
  depend on the order of the records; a threshold on a sum (``>= 500``) is compared against
  that exact sum. A sum over no records is ``0.0``; counts are ``int``.
- Records with the same time are simultaneous: no order among them matters.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

__all__ = [
    "ACTIVITY_KINDS",
    "BAKERY_INPUTS",
    "BAKERY_KINDS",
    "GRAINS",
    "JOIN_KINDS",
    "ORDER_INPUTS",
    "bakery_inputs",
    "month_bounds",
    "order_inputs",
    "period_bounds",
]

Record = dict[str, Any]

GRAINS = ("month", "quarter", "year", "all")
BAKERY_KINDS = (
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
JOIN_KINDS = frozenset({"register", "import"})
ACTIVITY_KINDS = frozenset({"register", "import", "recharge", "consume"})
_NUMERIC = ("amount", "net", "gift", "points")

# Event inputs that are sums over the group's records in the period: input -> (kinds, column).
_EVENT_SUMS: dict[str, tuple[tuple[str, ...], str]] = {
    "imported_balance": (("import",), "amount"),
    "recharge_amount": (("recharge",), "amount"),
    "points_to_balance": (("points_convert",), "amount"),
    "consume_amount": (("consume",), "amount"),
    "net_income": (("recharge",), "net"),
    "net_spent": (("consume",), "net"),
    "gift_income": (("recharge",), "gift"),
    "gift_spent": (("consume",), "gift"),
    "points_from_consume": (("points_earn_consume",), "points"),
    "points_from_recharge": (("points_earn_recharge",), "points"),
    "points_redeemed": (("points_redeem",), "points"),
    "points_converted": (("points_convert",), "points"),
    "points_expired": (("points_expire",), "points"),
    "points_deleted": (("points_delete",), "points"),
    "rebate_income": (("rebate_grant",), "amount"),
    "rebate_spent": (("rebate_spend",), "amount"),
    "revenue": (("consume",), "amount"),
}
# Event inputs that count the group's records of one kind in the period.
_EVENT_COUNTS = {"recharge_count": "recharge", "consume_count": "consume", "orders": "consume"}
# To-date inputs over all the group's records before an instant:
# input -> (column, kinds added, kinds subtracted, instant "S" or "E").
_TO_DATE: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], str]] = {
    "initial_net": ("net", ("recharge", "import"), ("consume",), "S"),
    "initial_gift": ("gift", ("recharge", "points_convert"), ("consume",), "S"),
    "initial_points": (
        "points",
        ("points_earn_consume", "points_earn_recharge"),
        ("points_redeem", "points_convert", "points_expire", "points_delete"),
        "S",
    ),
    "initial_rebate": ("amount", ("rebate_grant",), ("rebate_spend",), "S"),
    "reported_closing_amount": (
        "amount",
        ("recharge", "import", "points_convert"),
        ("consume",),
        "E",
    ),
}
_MEMBER_INPUTS = (
    "new_members",
    "opening_members",
    "closing_members",
    "churned_members",
    "silent_members",
    "high_value_members",
    "active_members",
    "repeat_buyers",
    "cancelled_members",
    "members_at_start",
    "total_members",
)
BAKERY_INPUTS = (*_EVENT_SUMS, *_EVENT_COUNTS, *_TO_DATE, *_MEMBER_INPUTS)

ORDER_INPUTS = (
    "orders",
    "revenue",
    "active_members",
    "new_members",
    "returning_members",
    "repeat_buyers",
    "visits",
    "members_at_start",
    "total_members",
    "churned_members",
    "avg_days_since_last_purchase",
    "rfm_champions",
    "rfm_potential",
    "rfm_at_risk",
    "rfm_hibernating",
)


# -- shared helpers ----------------------------------------------------------------------------

_PERIOD = re.compile(r"(\d{4})(?:-(?:(\d{2})|Q([1-4])))?")


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """Calendar ``(S, next S)`` of a period ``'YYYY-MM'``, ``'YYYY-Qn'`` or ``'YYYY'``: its
    first moment and the next period's (not cut: ``E`` of a result row is
    ``min(next S, cut)``)."""
    match = _PERIOD.fullmatch(period)
    if match is None:
        raise ValueError(f"not a period label: {period!r}")
    year = int(match.group(1))
    if match.group(2) is not None:
        first, months = int(match.group(2)), 1
        if not 1 <= first <= 12:
            raise ValueError(f"not a period label: {period!r}")
    elif match.group(3) is not None:
        first, months = 3 * int(match.group(3)) - 2, 3
    else:
        first, months = 1, 12
    following = first - 1 + months  # months after January of `year`
    return (datetime(year, first, 1), datetime(year + following // 12, following % 12 + 1, 1))


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """``(S, E)`` of the calendar month ``'YYYY-MM'``: its first moment and the next month's."""
    if not re.fullmatch(r"\d{4}-\d{2}", period):
        raise ValueError(f"not a month label: {period!r}")
    return period_bounds(period)


def _period_of(t: datetime, grain: str) -> str:
    if grain == "month":
        return f"{t.year:04d}-{t.month:02d}"
    if grain == "quarter":
        return f"{t.year:04d}-Q{(t.month - 1) // 3 + 1}"
    if grain == "year":
        return f"{t.year:04d}"
    return "all"


def _month_start(t: datetime) -> datetime:
    return datetime(t.year, t.month, 1)


def _check_grain(grain: str) -> None:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, got {grain!r}")


def _cut(as_of: Any, times: Iterable[datetime]) -> datetime:
    """The first moment of the day after ``as_of`` (default: the date of the last time)."""
    if as_of is None:
        day = max(times).date()
    else:
        if isinstance(as_of, str):
            as_of = date.fromisoformat(as_of)
        if isinstance(as_of, datetime) or not isinstance(as_of, date):
            raise TypeError(f"as_of must be a datetime.date, got {as_of!r}")
        day = as_of
    return datetime.combine(day + timedelta(days=1), datetime.min.time())


def _periods(
    times: Sequence[datetime], grain: str, cut: datetime
) -> list[tuple[str, datetime, datetime]]:
    """``(label, S, E)`` of every calendar period of the grain from the one holding the first of
    ``times`` (the kept times, all before ``cut``) to the one holding the day before ``cut``
    (``as_of``), quiet ones included, in time order."""
    if grain == "all":
        return [("all", _month_start(min(times)), cut)]
    out = []
    label = _period_of(min(times), grain)
    while True:
        start, following = period_bounds(label)
        if start >= cut:
            break
        out.append((label, start, min(following, cut)))
        label = _period_of(following, grain)
    return out


def _as_time(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime) and hasattr(value, "item"):
        value = value.item()  # a NumPy / pandas scalar
    if not isinstance(value, datetime):
        kind = "a date without a time" if isinstance(value, date) else type(value).__name__
        raise TypeError(f"times must be datetime.datetime, got {kind}: {value!r}")
    if value.tzinfo is not None:
        raise ValueError(f"times must be naive local times, got {value!r}")
    return value


def _as_number(value: Any, column: str) -> float:
    number = 0.0 if value is None else float(value)
    if not math.isfinite(number):
        raise ValueError(f"{column} must be finite, got {value!r}")
    return number


def _records(data: Iterable[Mapping[str, Any]] | Mapping[str, Sequence[Any]]) -> list[Record]:
    """Rows as a list of dicts, from a list of dicts or a dict of columns."""
    if isinstance(data, Mapping):
        columns: dict[str, list[Any]] = {}
        for name, column in data.items():
            columns[name] = column.tolist() if hasattr(column, "tolist") else list(column)
        lengths = {len(column) for column in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal lengths: {sorted(lengths)}")
        names = list(columns)
        return [
            dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)
        ]
    return [dict(row) for row in data]


def _count_in(times: Sequence[datetime], lo: datetime, hi: datetime) -> int:
    """Number of ``times`` (sorted) with ``lo <= t < hi``."""
    return bisect_left(times, hi) - bisect_left(times, lo)


def _last_before(times: Sequence[datetime], t: datetime) -> datetime | None:
    """The last of ``times`` (sorted) strictly before ``t``, or ``None``."""
    i = bisect_left(times, t)
    return times[i - 1] if i else None


def _exact_sum(values: Iterable[float]) -> float:
    return math.fsum(values)


# -- A. the bakery card ledger -----------------------------------------------------------------


@dataclass
class _Member:
    """One member's records in one group (a store, or the whole ledger), as sorted times."""

    first: datetime | None = None
    joins: list[datetime] = field(default_factory=list)  # register or import
    cancels: list[datetime] = field(default_factory=list)
    activity: list[datetime] = field(default_factory=list)  # register, import, recharge, consume
    recharge_or_consume: list[datetime] = field(default_factory=list)
    consumes: list[datetime] = field(default_factory=list)
    recharges: list[tuple[datetime, float]] = field(default_factory=list)
    recharge_times: list[datetime] = field(default_factory=list)
    recharge_cumulative: list[Fraction] = field(default_factory=list)  # exact prefix sums

    def add(self, r: Record) -> None:
        t, kind = r["event_time"], r["kind"]
        self.first = t if self.first is None else min(self.first, t)
        if kind in JOIN_KINDS:
            self.joins.append(t)
        if kind == "cancel":
            self.cancels.append(t)
        if kind in ACTIVITY_KINDS:
            self.activity.append(t)
        if kind in ("recharge", "consume"):
            self.recharge_or_consume.append(t)
        if kind == "consume":
            self.consumes.append(t)
        if kind == "recharge":
            self.recharges.append((t, r["amount"]))

    def seal(self) -> None:
        for times in (
            self.joins,
            self.cancels,
            self.activity,
            self.recharge_or_consume,
            self.consumes,
        ):
            times.sort()
        self.recharges.sort(key=lambda pair: pair[0])
        self.recharge_times = [t for t, _ in self.recharges]
        total = Fraction(0)
        self.recharge_cumulative = [total]
        for _, amount in self.recharges:
            total += Fraction(amount)
            self.recharge_cumulative.append(total)

    def has_record_before(self, t: datetime) -> bool:
        return self.first is not None and self.first < t

    def effective_at(self, t: datetime) -> bool:
        """A register-or-import row before ``t``, and no cancel row at or after the latest
        such row and before ``t``."""
        last_join = _last_before(self.joins, t)
        return last_join is not None and _count_in(self.cancels, last_join, t) == 0

    def recharged_in(self, start: datetime, end: datetime) -> Fraction:
        """Exact sum of the amounts of recharge rows with ``start <= event_time < end``."""
        return (
            self.recharge_cumulative[bisect_left(self.recharge_times, end)]
            - self.recharge_cumulative[bisect_left(self.recharge_times, start)]
        )


def _bakery_records(rows: Any) -> list[Record]:
    out = []
    for r in _records(rows):
        for column in ("event_time", "store_id", "member_id", "kind"):
            if r.get(column) is None:
                raise ValueError(f"a bakery row needs {column}: {r!r}")
        if r["kind"] not in BAKERY_KINDS:
            raise ValueError(f"unknown kind {r['kind']!r}")
        rec: Record = {
            "event_time": _as_time(r["event_time"]),
            "store_id": r["store_id"],
            "member_id": r["member_id"],
            "kind": r["kind"],
        }
        for column in _NUMERIC:
            rec[column] = _as_number(r.get(column), column)
        out.append(rec)
    return out


def _accumulate(to_date: dict[str, Fraction], rows: Iterable[Record]) -> None:
    """Add ``rows`` to the running, exact to-date sums."""
    for r in rows:
        for name, (column, plus, minus, _) in _TO_DATE.items():
            if r["kind"] in plus:
                to_date[name] += Fraction(r[column])
            elif r["kind"] in minus:
                to_date[name] -= Fraction(r[column])


def bakery_inputs(
    rows: Any,
    churn_days: int = 90,
    high_value_consumes: int = 3,
    high_value_recharge: float = 500.0,
    *,
    grain: str = "month",
    as_of: date | None = None,
    by_store: bool = True,
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The bakery pack's inputs per ``(period, store_id)`` (or per ``(period,)`` with
    ``by_store=False``), from the card ledger.

    Rows have ``event_time, store_id, member_id, kind, amount, net, gift, points`` (a missing
    or ``None`` money / points value counts as 0). ``kind`` is one of ``BAKERY_KINDS``:
    register, import, recharge, consume, points_earn_consume, points_earn_recharge,
    points_redeem, points_convert, points_expire, points_delete, rebate_grant, rebate_spend,
    cancel. ``grain``, ``as_of``, the cut, the periods, ``S``, ``E``, "days in the period"
    and "days since" are as in the module docstring; records at or after the cut are ignored
    before anything below.

    **Groups.** With ``by_store=True`` (the default) a group is a store: every input of the
    row ``(period, store)`` is computed from the records of that store only, and a member is
    followed per store (the same member_id at another store is, for this store, another
    member). With ``by_store=False`` the whole ledger is one group: the keys are
    ``(period,)``, every input is computed from all the records, and a member is its
    member_id with all its records at every store together (a register at one store and a
    consume or a cancel at another are the same member's).

    **Rows of the result.** The periods of the ledger are the calendar periods (of the grain)
    from the one of the first kept record (any store) to the one holding ``as_of``, quiet ones
    included. Each group gets a row for every period of the ledger from its own first period
    (the period of its earliest kept record) on; a group with no record in a period still gets
    the row (its event inputs are then 0). With
    ``grain="all"`` every group has exactly one row, ``'all'``, whose ``S`` and ``E`` are
    those of the whole input (the group's own first record may come later than ``S``).

    **Event inputs** (the group's records in the period; a sum over no record is 0.0):

    - imported_balance = Σ amount of kind import
    - recharge_amount = Σ amount of recharge; recharge_count = number of recharge rows
    - points_to_balance = Σ amount of points_convert
    - consume_amount = Σ amount of consume; consume_count = number of consume rows
    - orders = number of consume rows (= consume_count); revenue = Σ amount of consume
      (= consume_amount), under the names of the generic order pack
    - net_income = Σ net of recharge; net_spent = Σ net of consume
    - gift_income = Σ gift of recharge; gift_spent = Σ gift of consume
    - points_from_consume = Σ points of points_earn_consume;
      points_from_recharge = Σ points of points_earn_recharge
    - points_redeemed / points_converted / points_expired / points_deleted = Σ points of
      points_redeem / points_convert / points_expire / points_delete
    - rebate_income = Σ amount of rebate_grant; rebate_spent = Σ amount of rebate_spend
    - new_members = number of distinct members with a register or import row in the period
      (a member who registers again after cancelling counts again in the period it does; a
      member with several such rows in one period counts once)
    - cancelled_members = number of distinct members with at least one cancel row in the
      period (whether or not they were effective)

    **To-date inputs** (all the group's records before the instant; the whole expression is
    computed exactly and rounded once):

    - initial_net (before S) = Σ net of recharge and import − Σ net of consume
    - initial_gift (before S) = Σ gift of recharge and points_convert − Σ gift of consume
    - initial_points (before S) = Σ points of points_earn_consume and points_earn_recharge
      − Σ points of points_redeem, points_convert, points_expire, points_delete
    - initial_rebate (before S) = Σ amount of rebate_grant − Σ amount of rebate_spend
    - reported_closing_amount (before E) = Σ amount of recharge, import, points_convert
      − Σ amount of consume

    **Member inputs** (members of the group, see Groups):

    - A member is *effective* at instant t when it has a register-or-import row before t and
      no cancel row at or after its latest register-or-import row before t, and before t.
      (A cancel at the same instant as that register therefore cancels it; a member who
      registers again after a cancel is effective again.)
    - opening_members = members_at_start = effective members at S;
      closing_members = total_members = effective members at E.
    - Activity kinds A = register, import, recharge, consume. ``d`` = days since the member's
      last A record at E (see the module docstring).
    - churned_members = number of members with any record in the group before E such that
      EITHER the member has a cancel row in the period, OR (the member has no cancel row
      before E AND d > churn_days AND d − (days in the period) ≤ churn_days). The second
      branch is the first period in which the member has been inactive for more than
      ``churn_days`` days (``d − days in the period`` is its age at S when its last activity
      is before S); a member who ever cancelled before E is never counted by it (also not
      after registering again), and a member whose crossing falls in a period that is not a
      row of the result is not counted anywhere.
    - silent_members = effective members at E with no recharge and no consume row in the
      period.
    - active_members = effective members at E with at least one recharge or consume row in
      the period (so active_members + silent_members = closing_members).
    - repeat_buyers = effective members at E with at least 2 consume rows in the period.
    - high_value_members = effective members at E with ≥ ``high_value_consumes`` (3) consume
      rows in the period, or whose Σ amount of recharge rows in the period is
      ≥ ``high_value_recharge`` (500), compared exactly.

    **Identity.** When, in the group, every member with any register, import or cancel row
    has exactly one register-or-import row and at most one cancel row, not earlier than that
    row, then for every row ``total_members == members_at_start + new_members −
    cancelled_members`` (a member who registers twice, or cancels before registering, can
    break it).
    """
    _check_grain(grain)
    records = _bakery_records(rows)
    if not records:
        return {}
    cut = _cut(as_of, (r["event_time"] for r in records))
    records = [r for r in records if r["event_time"] < cut]
    if not records:
        return {}
    periods = _periods([r["event_time"] for r in records], grain, cut)
    groups: dict[Any, list[Record]] = defaultdict(list)
    for r in records:
        groups[r["store_id"] if by_store else None].append(r)

    result: dict[tuple[Any, ...], dict[str, Any]] = {}
    for group, group_rows in groups.items():
        group_rows.sort(key=lambda r: r["event_time"])
        times = [r["event_time"] for r in group_rows]
        first_period = _period_of(times[0], grain)
        members: dict[Any, _Member] = defaultdict(_Member)
        for r in group_rows:
            members[r["member_id"]].add(r)
        for member in members.values():
            member.seal()

        to_date = dict.fromkeys(_TO_DATE, Fraction(0))  # running, exact
        done = 0  # group_rows[:done] are in to_date

        for period, start, end in periods:
            if period < first_period:  # labels of one grain sort in time order
                continue
            lo, hi = bisect_left(times, start), bisect_left(times, end)
            in_period = group_rows[lo:hi]
            values: dict[str, Any] = {}

            for name, (kinds, column) in _EVENT_SUMS.items():
                values[name] = _exact_sum(r[column] for r in in_period if r["kind"] in kinds)
            for name, kind in _EVENT_COUNTS.items():
                values[name] = sum(1 for r in in_period if r["kind"] == kind)
            values["new_members"] = len(
                {r["member_id"] for r in in_period if r["kind"] in JOIN_KINDS}
            )
            values["cancelled_members"] = len(
                {r["member_id"] for r in in_period if r["kind"] == "cancel"}
            )

            _accumulate(to_date, group_rows[done:lo])  # the group's records before S
            done = lo
            for name, (*_, instant) in _TO_DATE.items():
                if instant == "S":
                    values[name] = float(to_date[name])
            _accumulate(to_date, group_rows[done:hi])  # ... and before E
            done = hi
            for name, (*_, instant) in _TO_DATE.items():
                if instant == "E":
                    values[name] = float(to_date[name])

            period_days = (end - start).days
            opening = closing = churned = silent = high_value = active = repeat = 0
            for member in members.values():
                if not member.has_record_before(end):
                    continue
                opening += member.effective_at(start)
                cancelled_in_period = _count_in(member.cancels, start, end) > 0
                lapsed = False
                if not _count_in(member.cancels, datetime.min, end):
                    last = _last_before(member.activity, end)
                    if last is not None:
                        d = (end.date() - last.date()).days
                        lapsed = d > churn_days and d - period_days <= churn_days
                churned += cancelled_in_period or lapsed
                if not member.effective_at(end):
                    continue
                closing += 1
                consumes = _count_in(member.consumes, start, end)
                bought = _count_in(member.recharge_or_consume, start, end) > 0
                silent += not bought
                active += bought
                repeat += consumes >= 2
                high_value += consumes >= high_value_consumes or member.recharged_in(
                    start, end
                ) >= Fraction(high_value_recharge)
            values.update(
                opening_members=opening,
                closing_members=closing,
                churned_members=churned,
                silent_members=silent,
                high_value_members=high_value,
                active_members=active,
                repeat_buyers=repeat,
                members_at_start=opening,
                total_members=closing,
            )
            key = (period, group) if by_store else (period,)
            result[key] = {name: values[name] for name in BAKERY_INPUTS}
    return dict(sorted(result.items()))


# -- B. a generic order log --------------------------------------------------------------------


@dataclass
class _Customer:
    """One customer's rows: order rows (amount > 0) and all non-zero rows, sorted by time."""

    orders: list[tuple[datetime, Any]] = field(default_factory=list)  # (time, order key)
    rows: list[tuple[datetime, float]] = field(default_factory=list)
    order_times: list[datetime] = field(default_factory=list)
    distinct_order_firsts: list[datetime] = field(default_factory=list)
    row_times: list[datetime] = field(default_factory=list)
    row_cumulative: list[Fraction] = field(default_factory=list)  # exact prefix sums

    def seal(self) -> None:
        self.orders.sort(key=lambda pair: pair[0])
        self.rows.sort(key=lambda pair: pair[0])
        self.order_times = [t for t, _ in self.orders]
        firsts: dict[Any, datetime] = {}
        for t, key in self.orders:
            firsts.setdefault(key, t)
        self.distinct_order_firsts = sorted(firsts.values())
        self.row_times = [t for t, _ in self.rows]
        total = Fraction(0)
        self.row_cumulative = [total]
        for _, amount in self.rows:
            total += Fraction(amount)
            self.row_cumulative.append(total)

    def orders_before(self, t: datetime) -> int:
        """Number of this customer's orders (distinct order keys) with a row before ``t``."""
        return bisect_left(self.distinct_order_firsts, t)

    def orders_in(self, start: datetime, end: datetime) -> int:
        """Number of this customer's distinct order keys with a row in ``[start, end)``."""
        lo, hi = bisect_left(self.order_times, start), bisect_left(self.order_times, end)
        return len({key for _, key in self.orders[lo:hi]})

    def amount_before(self, t: datetime) -> Fraction:
        """Exact Σ amount of all this customer's rows (orders and refunds) before ``t``."""
        return self.row_cumulative[bisect_left(self.row_times, t)]

    def member_at(self, t: datetime, lapse_days: int) -> bool:
        """An order row before ``t``, the last of them at most ``lapse_days`` days old at t."""
        last = _last_before(self.order_times, t)
        return last is not None and (t.date() - last.date()).days <= lapse_days


def order_inputs(
    rows: Any,
    lapse_days: int = 90,
    recency_window_days: int = 365,
    rfm_recent_days: int = 30,
    rfm_frequent_orders: int = 4,
    rfm_monetary: float = 500.0,
    *,
    grain: str = "month",
    as_of: date | None = None,
) -> dict[tuple[str], dict[str, Any]]:
    """Inputs per ``(period,)`` of a generic order log (one group, no dimensions).

    Rows have ``customer_id, order_time, amount`` and optionally ``order_id``. ``grain``,
    ``as_of``, the cut, the periods, ``S``, ``E``, "days in the period" and "days since" are
    as in the module docstring, with these rules:

    - An *order row* is a row with amount > 0; a *refund* is a row with amount < 0. A row with
      amount == 0 is ignored everywhere: it is no order, adds nothing, makes no one a
      customer, does not make its period a period and does not count for the default
      ``as_of`` (the date of the last non-zero row).
    - Rows with ``order_time >= cut`` are ignored entirely (as if absent).
    - *Orders*: without an ``order_id`` column each order row is one order. With it (the
      column is present when any row has the key; every row must then have a non-None value,
      else ``ValueError``), an order is a distinct order_id among the order rows considered,
      and this applies to every count of orders below (orders, repeat_buyers, F). An order
      whose rows fall in two periods counts in both. Refund rows are never orders, whatever
      their order_id.
    - Periods: the calendar periods of the grain from the one of the first kept non-zero row to
      the one holding ``as_of``, quiet ones included (for ``'all'``, one period).
    - "The last order" of a customer before t is its last order row before t; d = days since
      the last order at E (module docstring).
    - The *lapse line* of the grain is ``W = max(lapse_days, G)`` where ``G`` is the longest
      period of the grain: 31 for months, 92 for quarters, 366 for years, and for 'all' the days
      of its one period, ``(E - S).days``. So ``W`` is 90 for months (by default), 92 for
      quarters, 366 for years: a customer who ordered in the period is still a member at its end,
      and the members at a period's start are those at the previous period's end.
    - A customer is a *member at instant t* (t = S or E of a period) when it has an order row
      before t and the days since its last order row before t, ``(t.date() - last.date()).days``,
      are ≤ ``W``. (A refund neither makes nor keeps a member.)

    Per period:

    - orders = number of orders in the period (order rows in the period; distinct order_id
      among them when present).
    - revenue = Σ amount of all rows in the period (refunds subtract).
    - active_members = distinct customers with an order row in the period.
    - visits = number of distinct (customer_id, calendar date of order_time) pairs among the
      order rows in the period (customer-days with an order).
    - members_at_start = members at S; total_members = members at E.
    - new_members = customers with an order row in the period who are not members at S (their
      first order ever, or back after lapsing).
    - returning_members = those of new_members who have an order row before S (back after
      lapsing).
    - repeat_buyers = customers with ≥ 2 orders in the period.
    - churned_members = customers with an order row before E with d > ``W`` and
      d − (days in the period) ≤ ``W`` (lapsed for the first time this period: when the last
      order is before S, ``d − days in the period`` is its age at S).
    - avg_days_since_last_purchase = mean of d over customers with an order row before E and
      d ≤ ``recency_window_days`` (365); ``None`` when there is no such customer.
    - RFM as of E, over the same customers (order row before E, d ≤ 365): R high = d ≤
      ``rfm_recent_days`` (30); F high = number of orders before E ≥ ``rfm_frequent_orders``
      (4); M high = Σ amount of all their rows before E (orders and refunds, all time) ≥
      ``rfm_monetary`` (500), compared exactly. The four segments partition the scope:
      rfm_champions = R ∧ F ∧ M; rfm_potential = R ∧ ¬(F ∧ M);
      rfm_at_risk = ¬R ∧ (F ∨ M); rfm_hibernating = ¬R ∧ ¬F ∧ ¬M.

    **Identity.** ``total_members == members_at_start + new_members − churned_members`` holds
    for every period when ``lapse_days`` ≥ the days in the period: a customer with an order
    row in the period is then a member at E (counted by new_members unless it was a member
    at S), and one without is a member at E exactly when it was one at S and its d has not
    passed ``lapse_days`` by E (else it is counted by churned_members, as d − days in the
    period is its age at S). The bound is what the identity is stated with; for these exact
    definitions it also holds for a smaller ``lapse_days`` (≥ 0), because a customer who
    orders in the period and has lapsed again by E has d − days in the period ≤ 0 and is
    counted by churned_members.
    """
    _check_grain(grain)
    raw = _records(rows)
    has_order_id = any("order_id" in r for r in raw)
    log: list[tuple[datetime, Any, float, Any]] = []  # (time, customer, amount, order key)
    for i, r in enumerate(raw):
        for column in ("customer_id", "order_time"):
            if r.get(column) is None:
                raise ValueError(f"an order row needs {column}: {r!r}")
        amount = _as_number(r.get("amount"), "amount")
        if amount == 0:
            continue
        if has_order_id:
            if r.get("order_id") is None:
                raise ValueError(f"order_id is present but missing on row {i}: {r!r}")
            key = r["order_id"]
        else:
            key = ("row", i)  # each order row is its own order
        log.append((_as_time(r["order_time"]), r["customer_id"], amount, key))
    if not log:
        return {}
    cut = _cut(as_of, (t for t, *_ in log))
    log = [row for row in log if row[0] < cut]
    if not log:
        return {}
    log.sort(key=lambda row: row[0])
    times = [t for t, *_ in log]

    customers: dict[Any, _Customer] = defaultdict(_Customer)
    for t, customer, amount, key in log:
        c = customers[customer]
        c.rows.append((t, amount))
        if amount > 0:
            c.orders.append((t, key))
    buyers = {cid: c for cid, c in customers.items() if c.orders}
    for c in customers.values():
        c.seal()

    result: dict[tuple[str], dict[str, Any]] = {}
    for period, start, end in _periods(times, grain, cut):
        lo, hi = bisect_left(times, start), bisect_left(times, end)
        in_period = log[lo:hi]
        order_rows = [row for row in in_period if row[2] > 0]
        period_days = (end - start).days
        # the lapse line: never shorter than the longest period of the grain, the same all along
        window = max(lapse_days, {"month": 31, "quarter": 92, "year": 366}.get(grain, period_days))

        recency: list[int] = []
        segments = dict.fromkeys(
            ("rfm_champions", "rfm_potential", "rfm_at_risk", "rfm_hibernating"), 0
        )
        new = returning = repeat = at_start = total = churned = 0
        for c in buyers.values():
            if c.order_times[0] >= end:
                continue  # no order before E
            at_start += c.member_at(start, window)
            total += c.member_at(end, window)
            ordered_in_period = _count_in(c.order_times, start, end) > 0
            if ordered_in_period and not c.member_at(start, window):
                new += 1
                returning += c.order_times[0] < start
            repeat += c.orders_in(start, end) >= 2
            last = _last_before(c.order_times, end)
            assert last is not None
            d = (end.date() - last.date()).days
            churned += d > window and d - period_days <= window
            if d > recency_window_days:
                continue
            recency.append(d)
            r_high = d <= rfm_recent_days
            f_high = c.orders_before(end) >= rfm_frequent_orders
            m_high = c.amount_before(end) >= Fraction(rfm_monetary)
            if r_high and f_high and m_high:
                segments["rfm_champions"] += 1
            elif r_high:
                segments["rfm_potential"] += 1
            elif f_high or m_high:
                segments["rfm_at_risk"] += 1
            else:
                segments["rfm_hibernating"] += 1

        result[(period,)] = {
            "orders": len({key for *_, key in order_rows}),
            "revenue": _exact_sum(amount for _, _, amount, _ in in_period),
            "active_members": len({customer for _, customer, _, _ in order_rows}),
            "new_members": new,
            "returning_members": returning,
            "repeat_buyers": repeat,
            "visits": len({(customer, t.date()) for t, customer, _, _ in order_rows}),
            "members_at_start": at_start,
            "total_members": total,
            "churned_members": churned,
            "avg_days_since_last_purchase": (
                float(Fraction(sum(recency), len(recency))) if recency else None
            ),
            **segments,
        }
    return result
