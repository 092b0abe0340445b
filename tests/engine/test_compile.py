"""The compile façade: extends and overrides, graph order, cycles, proofs — on small packs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine.compile.pack import check_pack, check_text, compile_pack
from engine.core.errors import PackError, PackNotFound
from engine.load.library import PackLibrary


def write(root: Path, pack: str, text: str) -> Path:
    folder = root / pack
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pack.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


BASE = """\
    pack: base
    version: '1.2.0'
    title: {zh: 基础, en: Base}
    inputs:
      churned: {label: {zh: 流失数, en: Churned}}
      start: {label: {zh: 期初数, en: At start}}
    metrics:
      churn_rate:
        label: {zh: 流失率, en: Churn rate}
        formula: churned / start
        unit: ratio
        bands:
          - {status: good, max: 5%}
          - {status: critical, min: 5%}
"""


def codes(problems):
    return sorted(
        (p.code, Path(p.file).name if p.file else None, p.line)
        for p in problems
        if p.severity == "error"
    )


def test_an_override_changes_only_the_fields_it_gives(tmp_path: Path):
    write(tmp_path, "base", BASE)
    child = write(
        tmp_path,
        "child",
        """\
        pack: child
        version: '1.0.0'
        title: Child
        extends: [base]
        inputs:
          avg: {label: Average members}
        metrics:
          churn_rate:
            override: true
            bands:
              - {status: good, max: 8%}
    """,
    )
    c = compile_pack(child, PackLibrary([tmp_path]))
    m = c.pack.metrics["churn_rate"]
    assert m.formula == "churned / start"  # inherited
    assert [b.max for b in m.bands] == [pytest.approx(0.08)]  # overridden
    assert m.label.get("en") == "Churn rate"
    assert m.inherited_from == "base"
    assert (m.origin.pack, Path(m.origin.file).name, m.origin.line) == ("child", "pack.yaml", 8)
    # the formula is still located in the base pack's file, at its line
    assert m.loc("formula").file.endswith("base/pack.yaml") and m.loc("formula").line == 10
    assert c.pack.ancestors == ("base",)


def test_redefining_without_override_is_an_error(tmp_path: Path):
    write(tmp_path, "base", BASE)
    child = write(
        tmp_path,
        "child",
        """\
        pack: child
        version: '1.0.0'
        title: Child
        extends: [base]
        inputs: {}
        metrics:
          churn_rate: {label: Mine, formula: churned / start}
    """,
    )
    _, problems = check_pack(child, PackLibrary([tmp_path]))
    assert codes(problems) == [("KPI-R003", "pack.yaml", 7)]
    assert "override: true" in problems[0].hint


def test_a_diamond_is_one_definition_but_two_parents_disagreeing_is_an_error(tmp_path: Path):
    write(tmp_path, "base", BASE)
    for name in ("left", "right"):
        write(
            tmp_path,
            name,
            f"pack: {name}\nversion: '1.0.0'\ntitle: T\nextends: [base]\ninputs: {{}}\n"
            "metrics: {}\n",
        )
    top = write(
        tmp_path,
        "top",
        "pack: top\nversion: '1.0.0'\ntitle: T\nextends: [left, right]\ninputs: {}\nmetrics: {}\n",
    )
    c = compile_pack(top, PackLibrary([tmp_path]))
    assert list(c.pack.metrics) == ["churn_rate"]
    assert c.pack.ancestors == ("left", "base", "right")
    write(
        tmp_path,
        "right",
        "pack: right\nversion: '1.0.0'\ntitle: T\ninputs: {}\n"
        "metrics: {churn_rate: {label: Other, formula: '1'}}\n",
    )
    _, problems = check_pack(top, PackLibrary([tmp_path]))
    assert codes(problems) == [("KPI-R002", "pack.yaml", 4)]


def test_version_constraints_and_unknown_packs(tmp_path: Path):
    write(tmp_path, "base", BASE)
    child = write(
        tmp_path,
        "child",
        "pack: child\nversion: '1.0.0'\ntitle: T\nextends: ['base@>=2', basse]\n"
        "inputs: {}\nmetrics: {}\n",
    )
    _, problems = check_pack(child, PackLibrary([tmp_path]))
    assert codes(problems) == [("KPI-R012", "pack.yaml", 4), ("KPI-R012", "pack.yaml", 4)]
    messages = sorted(p.message for p in problems)
    assert "no version of 'base' satisfies '>=2' (found 1.2.0)" in messages
    assert any(p.hint == "did you mean 'base'?" for p in problems)


def test_extends_cycles_are_reported(tmp_path: Path):
    write(
        tmp_path,
        "aa",
        "pack: aa\nversion: '1.0.0'\ntitle: T\nextends: [bb]\ninputs: {}\nmetrics: {}\n",
    )
    write(
        tmp_path,
        "bb",
        "pack: bb\nversion: '1.0.0'\ntitle: T\nextends: [aa]\ninputs: {}\nmetrics: {}\n",
    )
    _, problems = check_pack(tmp_path / "aa", PackLibrary([tmp_path]))
    assert [p.code for p in problems] == ["KPI-R013"]
    assert "aa → bb → aa" in problems[0].message


CARRY = """\
    pack: carry
    version: '1.0.0'
    title: Carry-over
    inputs:
      income: {label: Income}
      spent: {label: Spent}
      initial: {label: Initial, rollup: {time: first}}
    metrics:
      opening: {label: Opening, formula: 'previous(closing, default=initial)'}
      closing: {label: Closing, formula: opening + income - spent}
      change_rate: {label: Change, formula: (closing - opening) / opening}
      twice: {label: Twice, formula: change_rate * 2}
"""


def test_a_carry_over_through_previous_is_not_a_cycle_and_order_is_by_generation(tmp_path: Path):
    c = compile_pack(write(tmp_path, "carry", CARRY), PackLibrary([tmp_path]))
    assert c.graph.generations == (("opening",), ("closing",), ("change_rate",), ("twice",))
    assert c.graph.lagged("closing", "opening")
    assert not c.graph.lagged("initial", "opening")


def test_a_real_cycle_names_its_path_at_the_first_metric(tmp_path: Path):
    text = CARRY.replace("'previous(closing, default=initial)'", "closing - income")
    _, problems = check_pack(write(tmp_path, "carry", text), PackLibrary([tmp_path]))
    assert codes(problems) == [("KPI-R006", "pack.yaml", 9)]
    [cycle] = [p for p in problems if p.severity == "error"]
    assert cycle.message == "dependency cycle: opening → closing → opening"


def test_checks_are_proved_refuted_or_left_to_the_data():
    text = textwrap.dedent("""\
        pack: books
        version: '1.0.0'
        title: Books
        inputs:
          recharge: {label: R}
          principal: {label: P}
          bonus: {label: B}
          spend: {label: S}
        metrics:
          closing: {label: C, formula: 'previous(closing, default=0) + recharge - spend'}
          closing_principal:
            {label: CP, formula: 'previous(closing_principal, default=0) + principal - spend'}
          closing_bonus: {label: CB, formula: 'previous(closing_bonus, default=0) + bonus'}
          ratio: {label: Q, formula: 'spend / spend'}
        checks:
          split: {label: S, assert: recharge == principal + bonus}
          identity: {label: I, assert: 'closing == closing_principal + closing_bonus
            + previous(closing, default=0) - previous(closing_principal, default=0)
            - previous(closing_bonus, default=0)'}
          never: {label: N, assert: recharge + 1 == recharge}
          positive: {label: P, assert: 'abs(recharge) >= 0'}
          order: {label: O, assert: recharge + 1 > recharge}
    """)
    c, problems = check_text(text)
    assert c is not None
    p = c.proofs
    assert (p["split"].status, p["split"].residual) == (
        "depends_on_data",
        "recharge - bonus - principal",
    )
    assert (p["identity"].status, p["identity"].using) == ("proved", ("split",))
    assert (p["never"].status, p["never"].residual) == ("refuted", "1")
    assert p["positive"].status == "depends_on_data"
    assert p["order"].status == "proved"
    assert [(x.code, x.severity) for x in problems] == [("KPI-R015", "warning")]


def test_unknown_packs_raise_not_found(tmp_path: Path):
    with pytest.raises(PackNotFound, match="no pack 'nope'"):
        check_pack("nope", PackLibrary([tmp_path]))


def test_compile_pack_raises_with_every_problem(tmp_path: Path):
    text = CARRY.replace("opening + income - spent", "openin + incme - spent")
    with pytest.raises(PackError) as info:
        compile_pack(write(tmp_path, "carry", text), PackLibrary([tmp_path]))
    found = [
        (p.code, p.line, p.column, p.hint) for p in info.value.problems if p.severity == "error"
    ]
    assert found == [
        ("KPI-R001", 10, 38, "did you mean 'opening'?"),  # `openin` starts at column 38
        ("KPI-R001", 10, 47, "did you mean 'income'?"),
    ]


def test_expansion_keeps_conditions_as_written():
    text = textwrap.dedent("""\
        pack: conditions
        version: '1.0.0'
        title: Conditions
        inputs:
          a: {label: A}
          b: {label: B}
        metrics:
          ratio: {label: R, formula: a / b}
          flag: {label: F, formula: 'if(ratio < 1 or ratio >= 1, 1, 0)'}
          nested: {label: N, formula: 'if(ratio > 0 and if(ratio < 1, true, false), flag, 0)'}
        checks:
          flag_is_one: {label: One, assert: flag == 1}
    """)
    c, problems = check_text(text)
    assert c is not None, problems
    from engine.render.lineage import lineage

    info = lineage(c, "nested")
    # `x < 1 or x >= 1` is not "true": it is false when
    # x is null (b = 0), so it must stay as written
    assert info["expanded"] == (
        "if(a / b > 0 and if(a / b < 1, true, false), if(a / b < 1 or a / b >= 1, 1, 0), 0)"
    )
    assert c.proofs["flag_is_one"].status == "depends_on_data"


def test_ids_with_two_leading_underscores_are_refused():
    _, problems = check_text(
        "pack: under\nversion: '1.0.0'\ntitle: T\ninputs:\n  __total: {label: T}\n"
        "metrics:\n  m: {label: M, formula: '1'}\n"
    )
    assert [(p.code, p.line) for p in problems if p.severity == "error"] == [("KPI-R005", 5)]


DIAMOND_BASE = (
    "pack: dbase\nversion: '1.0.0'\ntitle: T\ninputs: {a: {label: A}, b: {label: B}}\n"
    "metrics: {m: {label: M, formula: a + b}}\n"
)


def test_a_childs_override_settles_a_conflict_between_its_parents(tmp_path: Path):
    write(tmp_path, "dbase", DIAMOND_BASE)
    write(
        tmp_path,
        "dleft",
        "pack: dleft\nversion: '1.0.0'\ntitle: T\nextends: [dbase]\ninputs: {}\n"
        "metrics: {m: {override: true, formula: a * b}}\n",
    )
    write(
        tmp_path,
        "dright",
        "pack: dright\nversion: '1.0.0'\ntitle: T\nextends: [dbase]\ninputs: {}\nmetrics: {}\n",
    )
    text = (
        "pack: dtop\nversion: '1.0.0'\ntitle: T\nextends: [dleft, dright]\ninputs: {}\n"
        "metrics: {}\n"
    )
    _, problems = check_pack(write(tmp_path, "dtop", text), PackLibrary([tmp_path]))
    assert codes(problems) == [("KPI-R002", "pack.yaml", 4)]
    settled = text.replace("metrics: {}", "metrics: {m: {override: true, formula: a - b}}")
    c = compile_pack(write(tmp_path, "dtop", settled), PackLibrary([tmp_path]))
    assert c.pack.metrics["m"].formula == "a - b"


def test_an_override_of_nothing_still_needs_the_required_fields():
    text = (
        "pack: over\nversion: '1.0.0'\ntitle: T\ninputs: {a: {label: A}}\nparams:\n"
        "  p: {override: true}\nmetrics:\n  m: {override: true, label: M}\n"
        "  n: {label: N, formula: a}\n"
    )
    _, problems = check_text(text)
    found = sorted((p.code, p.line) for p in problems)
    assert found == [("KPI-R004", 6), ("KPI-R004", 8), ("KPI-S001", 6), ("KPI-S001", 8)]


def test_one_resolution_cannot_use_two_versions_of_a_pack(tmp_path: Path):
    new, old = tmp_path / "new", tmp_path / "old"
    write(new, "verx", "pack: verx\nversion: '2.0.0'\ntitle: T\ninputs: {}\nmetrics: {}\n")
    write(old, "verx", "pack: verx\nversion: '1.0.0'\ntitle: T\ninputs: {}\nmetrics: {}\n")
    write(
        tmp_path / "p",
        "very",
        "pack: very\nversion: '1.0.0'\ntitle: T\nextends: ['verx@<2']\ninputs: {}\nmetrics: {}\n",
    )
    top = write(
        tmp_path / "p",
        "verz",
        "pack: verz\nversion: '1.0.0'\ntitle: T\nextends: [very, 'verx@>=2']\n"
        "inputs: {}\nmetrics: {}\n",
    )
    _, problems = check_pack(top, PackLibrary([tmp_path / "p", new, old]))
    assert [p.code for p in problems] == ["KPI-R012"]
    assert "two versions of 'verx'" in problems[0].message


def test_a_parent_must_be_valid_on_its_own(tmp_path: Path):
    write(
        tmp_path,
        "late",
        "pack: late\nversion: '1.0.0'\ntitle: T\ninputs: {a: {label: A}}\n"
        "metrics: {m: {label: M, formula: a + qq}}\n",
    )
    child = write(
        tmp_path,
        "kid",
        "pack: kid\nversion: '1.0.0'\ntitle: T\nextends: [late]\n"
        "inputs: {qq: {label: Q}}\nmetrics: {}\n",
    )
    _, problems = check_pack(child, PackLibrary([tmp_path]))
    assert ("KPI-R012", "pack.yaml", 4) in codes(problems)
    assert any("has 1 error(s) of its own" in p.message for p in problems)


def test_a_child_without_locales_writes_in_its_parents_locale(tmp_path: Path):
    write(
        tmp_path,
        "enbase",
        "pack: enbase\nversion: '1.0.0'\ntitle: T\nlocales: [en]\ninputs: {}\nmetrics: {}\n",
    )
    child = write(
        tmp_path,
        "enkid",
        "pack: enkid\nversion: '1.0.0'\ntitle: T\nextends: [enbase]\n"
        "inputs: {a: {label: Amount}}\nmetrics: {m: {label: Money, formula: a}}\n",
    )
    c = compile_pack(child, PackLibrary([tmp_path]))
    assert c.pack.metrics["m"].label.to_json() == {"en": "Money"}


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        (
            "inputs:\n  period: {label: P}\nmetrics: {m: {label: M, formula: period}}\n",
            "KPI-R005",
            5,
        ),
        (
            "dimensions: {store: {label: S}}\ninputs:\n  store: {label: S}\n"
            "metrics: {m: {label: M, formula: store}}\n",
            "KPI-R002",
            6,
        ),
        ("extends: ['membership-core@,,']\ninputs: {}\nmetrics: {}\n", "KPI-R012", 4),
        ("extends: [membership-core, membership-core]\ninputs: {}\nmetrics: {}\n", "KPI-R012", 4),
    ],
    ids=[
        "period-is-the-data-column",
        "dimension-and-input-share-an-id",
        "empty-constraint",
        "listed-twice",
    ],
)
def test_ids_and_extends_that_the_data_or_library_cannot_honour(body: str, code: str, line: int):
    _, problems = check_text("pack: idc\nversion: '1.0.0'\ntitle: T\n" + body)
    assert (code, line) in [(p.code, p.line) for p in problems if p.severity == "error"]


def test_sections_split_across_files_get_precise_messages(tmp_path: Path):
    folder = tmp_path / "split"
    folder.mkdir()
    (folder / "a.yaml").write_text(
        "pack: split\nversion: '1.0.0'\ntitle: T\ninputs: {a: {label: A}}\nchecks:\n",
        encoding="utf-8",
    )
    (folder / "b.yaml").write_text(
        "pack: other\nmetrics:\n  - m\nchecks: {c: {assert: a == a}}\n", encoding="utf-8"
    )
    _, problems = check_pack(folder, PackLibrary([]))
    found = sorted((p.code, Path(p.file).name, p.line) for p in problems)
    assert found == [("KPI-L011", "b.yaml", 1), ("KPI-S003", "b.yaml", 2)]
    assert "the files name different packs: 'split'" in next(
        p.message for p in problems if p.code == "KPI-L011"
    )
