"""The demo card-event ledger (engine/demo/bakery.py): its schema, the rules of the ledger
checked row by row in plain Python, its story (seasons, the declining shop) and the files."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import duckdb
import numpy as np
import pytest

from engine.demo import bakery as demo_data
from engine.demo.bakery import COLUMNS, KINDS, bakery_ledger, campaign_share, write_ledger

MONEY_IN = {"import", "recharge"}  # kinds that credit principal and bonus (points_convert: bonus)


@pytest.fixture(scope="module")
def ledger() -> dict[str, np.ndarray]:
    return bakery_ledger()  # 5 shops, 24 months from 2025-01, 2,000 members, seed 7


def cents(x: np.ndarray) -> np.ndarray:
    return np.rint(x * 100).astype(np.int64)


def rows(ledger: dict[str, np.ndarray]) -> list[tuple]:
    """The ledger as plain Python rows (cents and whole points as ints)."""
    return list(
        zip(
            ledger["event_time"].tolist(),
            ledger["store_id"].tolist(),
            ledger["member_id"].tolist(),
            ledger["kind"].tolist(),
            cents(ledger["amount"]).tolist(),
            cents(ledger["net"]).tolist(),
            cents(ledger["gift"]).tolist(),
            ledger["points"].astype(np.int64).tolist(),
            strict=True,
        )
    )


def test_same_seed_same_bytes_other_seed_other_data() -> None:
    a = bakery_ledger(stores=3, months=14, members=400, seed=11)
    b = bakery_ledger(stores=3, months=14, members=400, seed=11)
    c = bakery_ledger(stores=3, months=14, members=400, seed=12)
    assert list(a) == list(b) == list(COLUMNS)
    for col in COLUMNS:
        assert a[col].dtype == b[col].dtype
        assert a[col].tobytes() == b[col].tobytes(), col
    assert len(a["kind"]) != len(c["kind"]) or a["amount"].tobytes() != c["amount"].tobytes()


def test_schema_kinds_and_ids(ledger: dict[str, np.ndarray]) -> None:
    assert list(ledger) == list(COLUMNS)
    n = len(ledger["kind"])
    assert 50_000 < n < 200_000
    assert ledger["event_time"].dtype == np.dtype("datetime64[s]")
    for col in ("store_id", "member_id", "kind"):
        assert ledger[col].dtype.kind == "U" and len(ledger[col]) == n
    for col in ("amount", "net", "gift", "points"):
        values = ledger[col]
        assert values.dtype == np.float64 and len(values) == n
        assert np.all(values >= 0), col
    for col in ("amount", "net", "gift"):
        assert np.array_equal(cents(ledger[col]) / 100, ledger[col]), col  # whole cents
    assert np.array_equal(np.round(ledger["points"]), ledger["points"])
    assert np.all(np.diff(ledger["event_time"].astype(np.int64)) >= 0)
    assert set(ledger["kind"].tolist()) == set(KINDS)  # every kind occurs
    assert sorted(set(ledger["store_id"].tolist())) == ["S01", "S02", "S03", "S04", "S05"]
    ids = sorted(set(ledger["member_id"].tolist()))
    assert ids[0] == "M000001" and ids[-1] == "M002000" and len(ids) == 2000
    t = ledger["event_time"]
    assert t[0] >= np.datetime64("2025-01-01T00:00:00") and t[-1] < np.datetime64("2027-01-01")
    # member events in opening hours; imports 02:00-06:00; expiry at the last second of the year
    hour = (t.astype(np.int64) % 86400) // 3600
    kind = ledger["kind"]
    assert set(hour[kind == "import"].tolist()) == {2, 3, 4, 5}
    assert np.all(
        t[kind == "points_expire"].astype(str)
        == np.char.add(
            t[kind == "points_expire"].astype("datetime64[Y]").astype(str), "-12-31T23:59:59"
        )
    )
    member = ~np.isin(kind, ["import", "points_expire"])
    assert hour[member].min() >= 7 and hour[member].max() <= 20


def test_rows_of_each_kind(ledger: dict[str, np.ndarray]) -> None:
    bonuses = {
        (net, gift)
        for row in demo_data.BONUS
        for net, gift in zip(demo_data.TIERS.tolist(), row.tolist(), strict=True)
    }
    for _, _, _, kind, amount, net, gift, points in rows(ledger):
        if kind in ("register", "cancel"):
            assert amount == net == gift == points == 0
        elif kind in ("recharge", "consume", "import"):
            assert amount == net + gift and amount > 0 and points == 0
            if kind == "import":
                assert gift == 0
            if kind == "recharge":
                assert (net, gift) in bonuses
        elif kind == "points_convert":
            assert net == 0 and amount == gift == points > 0  # 100 points = 1 CNY = 100 cents
        elif kind.startswith("points_"):
            assert amount == net == gift == 0 and points > 0
        else:
            assert kind in ("rebate_grant", "rebate_spend")
            assert net == gift == points == 0 and amount > 0


def test_balances_never_negative_and_bonus_spent_in_proportion(
    ledger: dict[str, np.ndarray],
) -> None:
    """Replays the ledger member by member: principal, bonus, points and rebates never go
    below zero, and every spend takes bonus in proportion to the bonus share of the balance."""
    principal: dict[str, int] = defaultdict(int)
    bonus: dict[str, int] = defaultdict(int)
    points: dict[str, int] = defaultdict(int)
    rebate: dict[str, int] = defaultdict(int)
    home: dict[str, str] = {}
    gone: set[str] = set()
    consumes = 0
    for _, store, member, kind, amount, net, gift, pts in rows(ledger):
        assert member not in gone, f"{member}: {kind} after cancel"
        if kind in ("register", "import"):
            assert member not in home, f"{member} joins twice"
            home[member] = store
        assert home.get(member) == store, f"{member}: first event is not register/import"
        if kind in MONEY_IN:
            principal[member] += net
            bonus[member] += gift
        elif kind == "consume":
            balance = principal[member] + bonus[member]
            assert 0 < amount <= balance
            assert gift == (2 * amount * bonus[member] + balance) // (2 * balance)
            principal[member] -= net
            bonus[member] -= gift
            consumes += 1
        elif kind == "points_convert":
            bonus[member] += gift
            points[member] -= pts
        elif kind in ("points_earn_consume", "points_earn_recharge"):
            points[member] += pts
        elif kind.startswith("points_"):
            points[member] -= pts
        elif kind == "rebate_grant":
            rebate[member] += amount
        elif kind == "rebate_spend":
            rebate[member] -= amount
        elif kind == "cancel":
            gone.add(member)
            assert principal[member] == bonus[member] == points[member] == rebate[member] == 0
        assert principal[member] >= 0 and bonus[member] >= 0, member
        assert points[member] >= 0 and rebate[member] >= 0, member
    assert consumes > 10_000 and len(gone) > 50
    # the closing balance of the chain equals Σ in − Σ out over the whole ledger
    kind, net, gift = ledger["kind"], cents(ledger["net"]), cents(ledger["gift"])
    spent = kind == "consume"
    assert net[~spent].sum() - net[spent].sum() == sum(principal.values())
    assert gift[~spent].sum() - gift[spent].sum() == sum(bonus.values())


def test_companion_points_rows(ledger: dict[str, np.ndarray]) -> None:
    """A spend of at least 1 CNY earns 1 point per CNY, a recharge of 200 CNY or more 1 point
    per 10 CNY of principal, at the same instant (the row right after it for the member)."""
    by_member: dict[str, list[tuple]] = defaultdict(list)
    for row in rows(ledger):
        by_member[row[2]].append(row)
    earned = 0
    for events in by_member.values():
        for i, (t, _, _, kind, amount, net, _, _) in enumerate(events):
            closing = events[-1][3] == "cancel" and events[-1][0] == t  # the card is emptied
            if kind == "consume" and amount >= 100 and not closing:
                assert events[i + 1][0] == t and events[i + 1][3] == "points_earn_consume"
                assert events[i + 1][7] == amount // 100
                earned += 1
            if kind == "recharge" and net >= 20000:
                assert events[i + 1][0] == t and events[i + 1][3] == "points_earn_recharge"
                assert events[i + 1][7] == net // 1000
    assert earned > 10_000


def test_campaign_months_have_a_higher_bonus_share(ledger: dict[str, np.ndarray]) -> None:
    share = campaign_share("2025-01", 24)
    month = ledger["event_time"].astype("datetime64[M]").astype(np.int64) - (2025 - 1970) * 12
    rc = ledger["kind"] == "recharge"
    gift = np.bincount(month[rc], ledger["gift"][rc], minlength=24)
    amount = np.bincount(month[rc], ledger["amount"][rc], minlength=24)
    bonus_share = gift / amount
    campaign, plain = bonus_share[share >= 0.5], bonus_share[share == 0]
    # 2025-01 (春节 01-29), 2025-09 (中秋 10-06), 2025-12, 2026-02 (春节 02-17), 2026-09, 2026-12
    assert np.flatnonzero(share >= 0.5).tolist() == [0, 8, 11, 13, 20, 23]
    assert len(plain) >= 10
    assert campaign.min() > 0.12 > plain.max()
    # more recharges per month in campaigns, and bigger ones
    count = np.bincount(month[rc], minlength=24)
    assert np.median(count[share >= 0.5]) > 1.3 * np.median(count[share == 0])
    assert np.median((amount / count)[share >= 0.5]) > 1.2 * np.median((amount / count)[share == 0])


def test_last_store_declines_in_the_second_year(ledger: dict[str, np.ndarray]) -> None:
    year = ledger["event_time"].astype("datetime64[Y]").astype(np.int64) + 1970
    kind, store = ledger["kind"], ledger["store_id"]

    def count(k: str, s: str, y: int) -> int:
        return int(np.count_nonzero((kind == k) & (store == s) & (year == y)))

    assert count("recharge", "S05", 2026) < 0.8 * count("recharge", "S05", 2025)
    assert count("recharge", "S01", 2026) > count("recharge", "S01", 2025)
    joined = (kind == "register") & (ledger["event_time"] >= np.datetime64("2025-02-01"))

    def growth(s: str) -> float:  # new members in 2026 / in 2025 after the launch month
        return float(
            np.count_nonzero(joined & (store == s) & (year == 2026))
            / np.count_nonzero(joined & (store == s) & (year == 2025))
        )

    assert growth("S05") < 0.75 * min(growth(s) for s in ("S01", "S02", "S03", "S04"))
    assert count("cancel", "S05", 2026) > 1.5 * count("cancel", "S05", 2025)


def test_csv_and_parquet_read_back_equal(tmp_path: Path, ledger: dict[str, np.ndarray]) -> None:
    paths = write_ledger(ledger, tmp_path)
    assert paths == [tmp_path / "card_events.csv", tmp_path / "card_events.parquet"]
    assert sorted(os.listdir(tmp_path)) == ["card_events.csv", "card_events.parquet"]
    with open(paths[0], encoding="utf-8") as f:
        header, first = f.readline(), f.readline()
    assert header == "event_time,store_id,member_id,kind,amount,net,gift,points\n"
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,S\d\d,M\d{6},[a-z_]+,"
        r"\d+\.\d\d,\d+\.\d\d,\d+\.\d\d,\d+(\.\d+)?\n",
        first,
    ), first
    types = {
        "event_time": "TIMESTAMP",
        "store_id": "VARCHAR",
        "member_id": "VARCHAR",
        "kind": "VARCHAR",
        "amount": "DOUBLE",
        "net": "DOUBLE",
        "gift": "DOUBLE",
        "points": "DOUBLE",
    }
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    reads = {
        "csv": con.sql(f"SELECT * FROM read_csv('{paths[0]}', header = true, columns = {types})"),
        "parquet": con.sql(f"SELECT * FROM read_parquet('{paths[1]}')"),
    }
    for fmt, relation in reads.items():
        assert relation.columns == list(COLUMNS), fmt
        back = relation.fetchnumpy()
        assert np.array_equal(back["event_time"].astype("datetime64[s]"), ledger["event_time"])
        for col in ("store_id", "member_id", "kind"):
            assert np.array_equal(back[col].astype(str), ledger[col]), (fmt, col)
        for col in ("amount", "net", "gift", "points"):
            assert np.array_equal(back[col], ledger[col]), (fmt, col)
    con.close()


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = bakery_ledger(stores=2, months=3, members=50, seed=1)
    write_ledger(small, tmp_path, formats=("csv",))
    before = (tmp_path / "card_events.csv").read_bytes()
    bigger = bakery_ledger(stores=2, months=6, members=80, seed=2)

    def fail(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(demo_data.os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        write_ledger(bigger, tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["card_events.csv"]  # no temporary file left
    assert (tmp_path / "card_events.csv").read_bytes() == before  # the old file is intact
    monkeypatch.undo()
    assert write_ledger(bigger, tmp_path, formats=["parquet", "csv"]) == [
        tmp_path / "card_events.parquet",
        tmp_path / "card_events.csv",
    ]
    assert sorted(os.listdir(tmp_path)) == ["card_events.csv", "card_events.parquet"]
    text = (tmp_path / "card_events.csv").read_text(encoding="utf-8")
    assert text.count("\n") == len(bigger["kind"]) + 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stores": 0}, "at least 1"),
        ({"members": 0}, "at least 1"),
        ({"start": "2025/01"}, "YYYY-MM"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bakery_ledger(**kwargs)  # type: ignore[arg-type]


def test_bad_ledger_or_format_writes_nothing(tmp_path: Path) -> None:
    small = bakery_ledger(stores=1, months=2, members=30, seed=3)
    with pytest.raises(ValueError, match="formats"):
        write_ledger(small, tmp_path, formats=("xlsx",))
    with pytest.raises(ValueError, match="points"):
        write_ledger({k: v for k, v in small.items() if k != "points"}, tmp_path)
    assert os.listdir(tmp_path) == []


def test_scales_with_its_parameters() -> None:
    small = bakery_ledger(stores=1, months=1, members=1, seed=0)
    assert set(small["kind"].tolist()) <= {
        "register",
        "recharge",
        "points_earn_recharge",
        "consume",
        "points_earn_consume",
    }
    assert small["member_id"][0] == "M000001" and small["store_id"][0] == "S01"
    wide = bakery_ledger(stores=12, months=2, members=1200, seed=0)
    assert sorted(set(wide["store_id"].tolist()))[-1] == "S12"
