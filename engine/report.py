"""Evaluation results for people: a terminal table and CSV (the JSON is the response itself)."""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

from engine.backends.numpy_backend import round_half_up
from engine.model import Pack

_COLORS = {"good": "\033[32m", "fair": "\033[36m", "warning": "\033[33m", "critical": "\033[31m"}
_RESET = "\033[0m"


def format_value(value: float | None, fmt: str, decimals: int | None) -> str:
    """A metric value as a reader expects it: 31.0%, 10,250.00, 1,204 (rounded half away from zero)."""
    if value is None:
        return "—"
    places = {"percent": 1 if decimals is None else decimals + 2, "currency": 2 if decimals is None else decimals,
              "integer": 0}.get(fmt, decimals)
    if places is not None:
        value = float(round_half_up(value, places + (2 if fmt == "percent" and decimals is None else 0)))
    if fmt == "percent":
        return f"{value * 100:,.{1 if decimals is None else decimals}f}%"
    if fmt == "currency":
        return f"{value:,.{2 if decimals is None else decimals}f}"
    if fmt == "integer":
        return f"{value:,.0f}"
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1e15 else f"{value:.6g}"


def render_table(body: dict[str, Any], pack: Pack, locale: str | None = None, color: bool = False) -> str:
    """One block per output row: each metric with its label, value, status; then rules and checks."""
    out: list[str] = []
    for row in body["rows"]:
        dims = ", ".join(f"{k}={_one_line(v)}" for k, v in row["dims"].items())
        out.append(f"== {row['period']}" + (f"  {dims}" if dims else "") + " ==")
        width = max((_width(_label(pack, m, locale)) for m in row["values"]), default=10)
        for m, value in row["values"].items():
            metric = pack.metrics[m]
            text = format_value(value, metric.format, metric.decimals)
            band = row["bands"].get(m)
            status = ""
            if band:
                status = band["status"] + (f" ({band['label']})" if band.get("label") else "")
                if color:
                    status = f"{_COLORS.get(band['status'], '')}{status}{_RESET}"
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
        out.append(f"warning: {w['message']}")
    return "\n".join(out).rstrip()


def _label(pack: Pack, metric: str, locale: str | None) -> str:
    return f"{pack.metrics[metric].label.get(locale, metric)} ({metric})"


def _width(text: str) -> int:
    """Columns a terminal gives ``text``: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def render_csv(body: dict[str, Any]) -> str:
    """One row per output row: period, the dimensions, then one column per metric (blank is null)."""
    rows = body["rows"]
    metrics = list(rows[0]["values"]) if rows else []
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["period", *body["by"], *metrics])
    for row in rows:
        writer.writerow([row["period"], *(row["dims"][d] for d in body["by"]),
                         *("" if row["values"][m] is None else repr(row["values"][m]) for m in metrics)])
    return buffer.getvalue().rstrip("\n")
