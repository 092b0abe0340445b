"""The engine's stages import down the pipeline only (docs/design.md, "The pipeline")."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
#: each stage may import the stages of a lower or equal rank
RANK = {
    "core": 0,
    "formula": 1,
    "load": 2,
    "validate": 3,
    "compile": 4,
    "evaluate": 5,
    "render": 6,
    "demo": 7,
    "api": 7,
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``engine.*`` module this file imports, at module level or inside a function."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine."):
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("engine.")]
    return out


def test_every_engine_module_belongs_to_a_stage():
    stray = [
        str(p.relative_to(ENGINE))
        for p in ENGINE.glob("*.py")
        if p.name not in ("__init__.py", "api.py")
    ]
    assert stray == []
    assert {p.name for p in ENGINE.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(
        RANK
    ) - {"api"}


def test_no_stage_imports_a_later_one():
    upward = []
    for path in ENGINE.rglob("*.py"):
        parts = path.relative_to(ENGINE).parts
        stage = parts[0].removesuffix(".py")
        if stage not in RANK:
            continue  # engine/__init__.py re-exports engine.api
        for line, module in _imports(path):
            other = module.split(".")[1]
            if other in RANK and RANK[other] > RANK[stage]:
                upward.append(f"{path.relative_to(ENGINE)}:{line} imports {module}")
    assert upward == []


def test_the_scan_sees_function_level_and_type_checking_imports():
    # the scan must not be blind to the imports a cycle hides behind
    found = dict(_imports(ENGINE / "evaluate" / "measures" / "entity.py"))
    assert "engine.evaluate.measures.query" in found.values()
