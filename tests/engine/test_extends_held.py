"""``extends`` against packs held in memory, and each parent checked once per compile."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.compile import pack as compile_module
from engine.compile.pack import check_pack, check_text, compile_pack
from engine.load import resolve as resolve_module
from engine.load.library import HeldPack, PackLibrary

BASE = (
    "pack: base\nversion: '1.0.0'\ntitle: T\nlocales: [en]\n"
    "inputs: {a: {label: A}, b: {label: B}}\n"
    "metrics: {ratio: {label: Ratio, formula: a / b}}\n"
)
CHILD = (
    "pack: kid\nversion: '1.0.0'\ntitle: T\nextends: ['base@>=1,<2']\n"
    "inputs: {}\nmetrics: {double: {label: Double, formula: ratio * 2}}\n"
)


def _write(root: Path, pack: str, text: str) -> Path:
    (root / pack).mkdir(parents=True, exist_ok=True)
    (root / pack / "pack.yaml").write_text(text, encoding="utf-8")
    return root / pack


def test_a_child_extends_a_pack_held_in_memory():
    library = PackLibrary([], held={"base": HeldPack("base@1.0.0.yaml", BASE.encode())})
    c, problems = check_text(CHILD, library, "kid.yaml")
    assert c is not None and problems == []
    assert sorted(c.pack.metrics) == ["double", "ratio"] and c.pack.ancestors == ("base",)
    assert c.pack.ancestor_versions == (("base", "1.0.0"),)
    origin = c.pack.metrics["ratio"].origin
    assert (origin.pack, origin.file, origin.line) == ("base", "base@1.0.0.yaml", 6)
    assert library.pack_ids() == ["base"]


def test_a_held_pack_comes_before_a_folder_of_the_same_id(tmp_path: Path):
    _write(tmp_path, "base", BASE.replace("1.0.0", "1.9.0"))
    held = HeldPack("base@1.0.0.yaml", BASE)
    c = compile_pack(_write(tmp_path, "kid", CHILD), PackLibrary([tmp_path], {"base": held}))
    assert c.pack.ancestor_versions == (("base", "1.0.0"),)
    # without the held pack, the folder's version is found, as before
    c = compile_pack(tmp_path / "kid", PackLibrary([tmp_path]))
    assert c.pack.ancestor_versions == (("base", "1.9.0"),)


@pytest.mark.parametrize(
    ("text", "code", "fragment"),
    [
        (BASE.replace("a / b", "a / bb"), "KPI-R012", "extended pack 'base' has 1 error(s)"),
        (BASE.replace("pack: base", "pack: other"), "KPI-R012", "base@1.0.0.yaml declares pack"),
        (BASE.replace("1.0.0", "2.0.0"), "KPI-R012", "no version of 'base' satisfies '>=1,<2'"),
        ("pack: [", "KPI-L002", ""),
    ],
)
def test_a_held_pack_with_problems_is_reported_by_its_name(text: str, code: str, fragment: str):
    library = PackLibrary([], held={"base": HeldPack("base@1.0.0.yaml", text)})
    c, problems = check_text(CHILD, library, "kid.yaml")
    assert c is None
    error = next(p for p in problems if p.severity == "error" and p.code == code)
    assert fragment in error.message, problems
    if code == "KPI-L002":
        assert error.file == "base@1.0.0.yaml"


def test_each_pack_is_loaded_and_checked_once_per_compile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A diamond (kid → left, right → base): four packs, each loaded once and compiled once —
    the parents' own checks reuse what resolving loaded."""
    _write(tmp_path, "base", BASE)
    for side in ("left", "right"):
        _write(
            tmp_path,
            side,
            f"pack: {side}\nversion: '1.0.0'\ntitle: T\nextends: [base]\ninputs: {{}}\n"
            f"metrics: {{{side}: {{label: S, formula: ratio + 1}}}}\n",
        )
    kid = _write(
        tmp_path,
        "kid",
        "pack: kid\nversion: '1.0.0'\ntitle: T\nextends: [left, right]\ninputs: {}\n"
        "metrics: {both: {label: Both, formula: left + right}}\n",
    )
    loaded: list[str] = []
    compiled: list[str] = []
    load, compile_ = resolve_module.load_pack_source, compile_module._compile

    def counting_load(path: Path):  # type: ignore[no-untyped-def]
        loaded.append(path.name)
        return load(path)

    def counting_compile(source, *args):  # type: ignore[no-untyped-def]
        compiled.append(str(source.data["pack"]))
        return compile_(source, *args)

    monkeypatch.setattr(resolve_module, "load_pack_source", counting_load)
    monkeypatch.setattr(compile_module, "_compile", counting_compile)
    c, problems = check_pack(kid, PackLibrary([tmp_path]))
    assert c is not None and problems == []
    assert sorted(loaded) == ["base", "kid", "left", "right"]
    assert sorted(compiled) == ["base", "kid", "left", "right"]


def test_a_parent_is_judged_by_its_content_not_its_file_times(tmp_path: Path):
    """Fixing a parent in place — same size, same modification time — is seen at once."""
    base = _write(tmp_path, "base", BASE.replace("a / b", "a / bq"))
    kid = _write(tmp_path, "kid", CHILD)
    stat = (base / "pack.yaml").stat()
    _, problems = check_pack(kid, PackLibrary([tmp_path]))
    assert "extended pack 'base' has 1 error(s) of its own" in [p.message for p in problems]
    (base / "pack.yaml").write_text(BASE.replace("a / b", "a / 20"), encoding="utf-8")
    os.utime(base / "pack.yaml", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (base / "pack.yaml").stat().st_size == stat.st_size
    c, problems = check_pack(kid, PackLibrary([tmp_path]))
    assert c is not None and problems == []


def test_a_broken_grandparent_breaks_its_child_and_grandchild(tmp_path: Path):
    _write(tmp_path, "base", BASE.replace("a / b", "a / bq"))
    _write(
        tmp_path,
        "mid",
        "pack: mid\nversion: '1.0.0'\ntitle: T\nextends: [base]\ninputs: {bq: {label: Q}}\n"
        "metrics: {}\n",
    )
    kid = _write(
        tmp_path,
        "kid",
        "pack: kid\nversion: '1.0.0'\ntitle: T\nextends: [mid]\ninputs: {}\nmetrics: {}\n",
    )
    _, problems = check_pack(kid, PackLibrary([tmp_path]))
    assert [p.message for p in problems if p.severity == "error"] == [
        "extended pack 'mid' has 1 error(s) of its own"
    ]


def test_a_parent_is_judged_as_resolved_on_its_own_not_under_the_childs_pins(tmp_path: Path):
    """`bb` alone picks the newest `dd` (2.0.0, without metric m) and fails; a child that pins
    dd@<2 (1.0.0, with m) must not make `bb` look valid: KPI-R012, as `kpi validate bb` says."""
    new, old = tmp_path / "r0", tmp_path / "r1"
    head = "pack: dd\ntitle: T\ninputs: {x: {label: X}}\n"
    _write(new, "dd", head + "version: '2.0.0'\nmetrics: {y: {label: Y, formula: x + 1}}\n")
    _write(old, "dd", head + "version: '1.0.0'\nmetrics: {m: {label: M, formula: x * 2}}\n")
    bb = _write(
        new,
        "bb",
        "pack: bb\nversion: '1.0.0'\ntitle: T\nextends: [dd]\ninputs: {}\n"
        "metrics: {z: {label: Z, formula: m + 1}}\n",
    )
    kid = _write(
        new,
        "kid",
        "pack: kid\nversion: '1.0.0'\ntitle: T\nextends: ['dd@<2', bb]\ninputs: {}\n"
        "metrics: {w: {label: W, formula: z + 1}}\n",
    )
    library = PackLibrary([new, old])
    alone, problems = check_pack(bb, library)
    assert alone is None and any(p.code == "KPI-R001" for p in problems)  # m unknown under dd 2
    c, problems = check_pack(kid, library)
    assert c is None
    r012 = [p for p in problems if p.code == "KPI-R012"]
    assert len(r012) == 1 and "extended pack 'bb' has 1 error(s)" in r012[0].message
