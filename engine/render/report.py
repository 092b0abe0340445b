"""Evaluation results for people: a terminal table and CSV (the JSON is the response itself).

Both show values as people read them (engine.core.display): rounded to the metric's places, with
more places where rounding would carry a value across its band's edge.

Every CSV the product writes for people goes through :func:`write_csv`: a text cell that a
spreadsheet would run as a formula (``=HYPERLINK(…)``, ``+1``, ``-x``, ``@SUM(A1)``, a leading
tab or carriage return) is prefixed with ``'`` (OWASP, "CSV injection"); numbers are written
as they are, so ``-3.5`` stays a number.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from engine.core.display import display_text, shown
from engine.core.model import Pack

_COLORS = {"good": "\033[32m", "fair": "\033[36m", "warning": "\033[33m", "critical": "\033[31m"}
_RESET = "\033[0m"


def render_table(
    body: dict[str, Any], pack: Pack, locale: str | None = None, color: bool = False
) -> str:
    """One block per output row: each value with its label and status; then rules and checks;
    then, when the evaluation was traced, :func:`render_trace`."""
    out: list[str] = []
    if body.get("as_of"):
        partial = any(row.get("partial") for row in body["rows"])
        out.append(
            f"data as of {body['as_of']}" + (" (periods marked * are not over)" if partial else "")
        )
        out.append("")
    for row in body["rows"]:
        dims = ", ".join(f"{k}={_one_line(v)}" for k, v in row["dims"].items())
        mark = " *" if row.get("partial") else ""
        out.append(f"== {row['period']}{mark}" + (f"  {dims}" if dims else "") + " ==")
        width = max((_width(_label(pack, m, locale)) for m in row["values"]), default=10)
        for m, value in row["values"].items():
            text = display_text(value, pack.metrics.get(m))
            band = row["bands"].get(m)
            status = ""
            if band:
                status = band["status"] + (f" ({band['label']})" if band.get("label") else "")
                if color:
                    status = f"{_COLORS.get(band['status'], '')}{status}{_RESET}"
            elif m in row.get("implausible", {}):
                status = f"implausible: {row['implausible'][m]}"
            elif m in row["undefined"]:
                status = f"null: {row['undefined'][m]}"
            out.append(f"  {_pad(_label(pack, m, locale), width)}  {text:>16}  {status}".rstrip())
        for rule in row["rules"]:
            out.append(f"  ! {rule['severity']}: {rule['label']}")
            for remedy in rule["remedies"]:
                out.append(f"      → {remedy['label']}")
        for check in row["checks"]:
            if check["status"] != "pass":
                residual = "" if check["residual"] is None else f" (residual {check['residual']})"
                out.append(f"  check {check['id']}: {check['status']}{residual}")
        out.append("")
    for w in body["warnings"]:
        if "value" in w:
            continue  # values outside a domain are marked on their row
        out.append(f"warning {w['code']}: {w['message']}")
    if any(row.get("trace") for row in body["rows"]):
        out.append("")
        out.extend(render_trace(body, pack, locale))
    return "\n".join(out).rstrip()


def render_trace(body: dict[str, Any], pack: Pack, locale: str | None = None) -> list[str]:
    """The trace of an evaluation (``--trace``) as lines for a terminal: for each row, each
    traced metric with its value as shown, its formula, and the formula with the numbers."""
    out = ["trace: each value's formula, then the formula with its numbers"]
    for row in body["rows"]:
        trace = row.get("trace") or {}
        if not trace:
            continue
        dims = ", ".join(f"{k}={_one_line(v)}" for k, v in row["dims"].items())
        mark = " *" if row.get("partial") else ""
        out.append(f"== {row['period']}{mark}" + (f"  {dims}" if dims else "") + " ==")
        for m, t in trace.items():
            value = display_text(t.get("value"), pack.metrics.get(m))
            out.append(f"  {_label(pack, m, locale)} = {value}")
            out.append(f"      {_one_line(t['formula'])}")
            if t.get("with_values") is not None:
                out.append(f"    = {_one_line(t['with_values'])}")
            elif t.get("combined"):
                out.append(f"    combined: {t['combined']}")
        out.append("")
    return out


def _label(pack: Pack, name: str, locale: str | None) -> str:
    node = pack.node(name)
    return f"{node.label.get(locale, name) if node is not None else name} ({name})"


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


#: first characters that make a spreadsheet read a text cell as a formula (OWASP)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """A CSV cell that a spreadsheet shows instead of running: text starting with one of
    :data:`FORMULA_TRIGGERS` gets a leading ``'``; numbers (and anything not text) are
    returned unchanged, so a negative number stays a number."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def write_csv(rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (``\\n`` line ends, no final one), each cell through
    :func:`spreadsheet_safe`. Give numbers as ``int``/``float``, not as text, so that they are
    never escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return buffer.getvalue().rstrip("\n")


def render_csv(body: dict[str, Any], pack: Pack | None = None) -> str:
    """One row per output row: period, the dimensions, then one column per value (blank is null),
    rounded as shown; ``partial`` says which periods are not over. Written by :func:`write_csv`."""
    rows = body["rows"]
    names = list(rows[0]["values"]) if rows else []
    out: list[list[Any]] = [["period", *body["by"], *names, "partial"]]
    for row in rows:
        cells: list[Any] = []
        for m in names:
            value = row["values"][m]
            cells.append(
                ""
                if value is None
                else float(shown(value, pack.metrics.get(m) if pack else None)[0])
            )
        out.append(
            [
                row["period"],
                *(row["dims"][d] for d in body["by"]),
                *cells,
                "true" if row.get("partial") else "false",
            ]
        )
    return write_csv(out)
