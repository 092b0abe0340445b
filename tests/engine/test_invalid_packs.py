"""One broken pack per problem code: each must give exactly its expected errors, at their lines.

Each folder of ``tests/packs/invalid/`` holds a pack with one defect and ``expected.yaml``::

    description: what is broken
    pack: child          # optional: the folder of the case to validate (default: the case itself)
    strict_locales: [zh, en]   # optional: also check translations, as `--strict-locales zh,en`
    problems:            # every error expected (exactly these); warnings listed must appear too
      - {code: KPI-R001, file: pack.yaml, line: 12}
      # optional: the column, and words the message and the hint must contain
      - {code: KPI-L015, file: pack.yaml, line: 9, column: 10, message: "U+FF1A", hint: "label: "}
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from engine.compile.pack import check_pack
from engine.core.problems import CODES
from engine.load.library import PackLibrary
from engine.load.located import MAX_FILE_BYTES
from engine.validate.locales import missing_translations

CORPUS = Path(__file__).resolve().parent.parent / "packs" / "invalid"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []
# codes that a file in the corpus cannot produce: L009 is "no such pack" (tested in test_compile);
# L013 and L014 refuse a posted stream of files or a zip archive (tests/engine/test_stream.py)
NOT_FROM_A_FILE = {"KPI-L009", "KPI-L013", "KPI-L014"}


def expected_of(case: Path) -> dict:
    return yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_pack_gives_its_code_at_its_line(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    expected = expected_of(case)
    work = tmp_path / case.name
    shutil.copytree(case, work)
    if expected.get("generate") == "big_file":
        (work / expected.get("pack", ".") / "zz_big.yaml").write_text(
            "# padding\n" + "#" * MAX_FILE_BYTES + "\n", encoding="utf-8"
        )
    monkeypatch.chdir(work)
    compiled, problems = check_pack(Path(expected.get("pack", ".")), PackLibrary([Path(".")]))
    if compiled is not None and expected.get("strict_locales"):
        problems = [*problems, *missing_translations(compiled.pack, expected["strict_locales"])]
    got = sorted((p.code, p.file, p.line) for p in problems if p.severity == "error")
    want = [(e["code"], e["file"], e["line"]) for e in expected["problems"]]
    want_errors = sorted(w for w in want if CODES[w[0]].severity == "error")
    assert got == want_errors, "\n".join(p.render_short() for p in problems)
    all_found = {(p.code, p.file, p.line) for p in problems}
    for w in want:
        assert w in all_found
    for p in problems:  # every problem is located and explained
        assert p.file and p.message
    for e in expected["problems"]:  # the column, message and hint where the case gives them
        if not {"column", "message", "hint"} & e.keys():
            continue
        found = [
            p for p in problems if (p.code, p.file, p.line) == (e["code"], e["file"], e["line"])
        ]
        assert any(
            p.column == e.get("column", p.column)
            and e.get("message", "") in p.message
            and e.get("hint", "") in (p.hint or "")
            for p in found
        ), "\n".join(f"{p.render_short()} (column {p.column}; hint: {p.hint})" for p in found)


def test_every_code_has_a_broken_pack():
    covered = {e["code"] for case in CASES for e in expected_of(case)["problems"]}
    missing = set(CODES) - covered - NOT_FROM_A_FILE
    assert not missing, f"no case in tests/packs/invalid for {sorted(missing)}"
