"""How the ``kpi`` command prints problems, evaluation errors and a pack's summary, in English
or Chinese (``--locale`` / ``$KPI_LOCALE``). Imports only Typer until a problem is printed."""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from engine.api import CompiledPack, KpiError, PackLibrary, Problem

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _library(dirs: list[Path] | None) -> PackLibrary:
    from engine.api import PackLibrary

    return PackLibrary.default(list(dirs or []))


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _text_locale(locale: str | None) -> str | None:
    """The language of error titles and hints: ``--locale``, else ``$KPI_LOCALE``."""
    return locale if locale is not None else os.environ.get("KPI_LOCALE")


def _fail_input(err: KpiError, message: str, locale: str | None = None) -> typer.Exit:
    """An evaluation error with its code, as a pack problem shows its own:
    ``error KPI-E017: message``; in Chinese ``错误 KPI-E017（不是数字）: message`` with the
    catalogue's hint when the error has none of its own (docs/errors.md)."""
    from engine.api import InputError, code_entry, is_zh

    lang = _text_locale(locale)
    zh = is_zh(lang)
    code = err.code if isinstance(err, InputError) else None
    hint = err.hint if isinstance(err, InputError) else None
    label = "提示" if zh else "hint"
    if zh:
        message = message.replace("\n  hint: ", "\n  提示: ")
    if hint and f"\n  {label}: " not in message:
        message += f"\n  {label}: {hint}"
    entry = code_entry(code)
    if zh and entry is not None:
        if not hint:
            message += f"\n  提示: {entry.hint_in(lang)}"
        typer.echo(f"错误 {code}（{entry.title_in(lang)}）: {message}", err=True)
    else:
        head = "错误" if zh else "error"
        typer.echo(f"{head} {code}: {message}" if code else f"{head}: {message}", err=True)
    return typer.Exit(2)


def _color(text: str, severity: str) -> str:
    if not sys.stdout.isatty():
        return text
    return typer.style(text, fg="red" if severity == "error" else "yellow", bold=True)


def format_problem(p: Problem, locale: str | None = None) -> str:
    """A problem as a compiler prints it, with the source line and a caret; in Chinese
    (``--locale zh`` or ``$KPI_LOCALE=zh``) with its code's title, and the code's explanation
    when the problem has no hint of its own (the message itself stays English)."""
    from engine.api import code_entry, is_zh, mask_bidi

    lang = _text_locale(locale)
    entry = code_entry(p.code) if is_zh(lang) else None
    head = f"{p.file or '<pack>'}"
    if p.line:
        head += f":{p.line}:{p.column or 1}"
    if entry is not None:
        severity = _color("错误" if p.severity == "error" else "警告", p.severity)
        lines = [f"{head}: {severity} {p.code}（{entry.title_in(lang)}）: {p.message}"]
    else:
        lines = [f"{head}: {_color(p.severity, p.severity)} {p.code}: {p.message}"]
    source = _source_line(p)
    if source is not None:
        width = len(str(p.line))
        col = max(p.column, 1)
        if len(source) > 120:  # show the part around the column, not a 100 KB line
            start = max(col - 60, 0)
            source = ("…" if start else "") + source[start : start + 120] + "…"
            col = col - start + (1 if start else 0)
        length = _token_length(source, col - 1)
        source = mask_bidi(source)  # a bidi control must not reorder the line it is reported on
        lines.append(f"  {p.line} | {source}")
        lines.append(f"  {' ' * width} | {' ' * (col - 1)}^{'~' * (length - 1)}")
    if p.hint:
        lines.append(f"  {'提示' if entry is not None else 'hint'}: {p.hint}")
    elif entry is not None:
        lines.append(f"  说明: {entry.hint_in(lang)}")
    return "\n".join(lines)


@functools.lru_cache(maxsize=64)
def _file_lines(path: str) -> list[str] | None:
    """A pack file's lines, split as libyaml counts them; read once however many problems it has."""
    from engine.api import MAX_FILE_BYTES, source_lines

    try:
        with open(path, encoding="utf-8-sig") as fh:
            return source_lines(fh.read(MAX_FILE_BYTES + 1))
    except (OSError, UnicodeDecodeError):
        return None


def _source_line(p: Problem) -> str | None:
    if not p.file or not p.line or not os.path.isfile(p.file):
        return None
    lines = _file_lines(p.file)
    if lines is None or p.line > len(lines):
        return None
    return _CONTROL.sub("?", lines[p.line - 1].replace("\t", " "))


def _token_length(line: str, start: int) -> int:
    end = start
    while end < len(line) and (line[end].isalnum() or line[end] == "_"):
        end += 1
    return max(end - start, 1)


def _compile_or_exit(pack: str, dirs: list[Path] | None, locale: str | None = None) -> CompiledPack:
    from engine.api import PackNotFound, check_pack, is_zh

    try:
        compiled, problems = check_pack(pack, _library(dirs))
    except PackNotFound as err:
        raise _fail(str(err)) from None
    if compiled is None:
        for p in problems:
            typer.echo(format_problem(p, locale), err=True)
        if is_zh(_text_locale(locale)):
            typer.echo(
                f"错误: 指标包 '{pack}' 有错误；运行 `kpi validate {pack}` 查看详情", err=True
            )
            raise typer.Exit(1)
        raise _fail(f"pack '{pack}' has errors; run `kpi validate {pack}` for details", 1)
    return compiled


def _locales(option: str | None) -> list[str]:
    """The locales of ``--strict-locales zh,en``, each a locale code as a pack writes it."""
    if option is None:
        return []
    locales = [part.strip() for part in option.split(",")]
    bad = [x for x in locales if not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", x)]
    if bad or not locales:
        raise _fail(f"--strict-locales: {bad[0]!r} is not a locale code; give codes such as zh,en")
    return locales


_PROOFS_ZH = {"proved": "已证明", "refuted": "已否定", "depends_on_data": "取决于数据"}


def _summary(
    target: str, c: CompiledPack | None, problems: list[Problem], locale: str | None = None
) -> str:
    from engine.api import is_zh

    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    zh = is_zh(_text_locale(locale))
    if c is None or errors:
        if zh:
            return f"✗ {target}: {errors} 个错误，{warnings} 个警告\n"
        return f"✗ {target}: {errors} error(s), {warnings} warning(s)\n"
    statuses = [p.status for p in c.proofs.values()]
    if zh:
        done = "，".join(
            f"{_PROOFS_ZH[s]} {statuses.count(s)} 项" for s in _PROOFS_ZH if s in statuses
        )
        return (
            f"✓ {c.pack.id} {c.pack.version}: {len(c.pack.inputs)} 个输入，"
            f"{len(c.pack.metrics)} 个指标，{len(c.pack.rules)} 条规则；校验: {done or '无'}；"
            f"{warnings} 个警告\n"
        )
    proofs = ", ".join(
        f"{statuses.count(s)} {s.replace('_', ' ')}"
        for s in ("proved", "refuted", "depends_on_data")
        if s in statuses
    )
    return (
        f"✓ {c.pack.id} {c.pack.version}: {len(c.pack.inputs)} inputs, {len(c.pack.metrics)} "
        f"metrics, {len(c.pack.rules)} rules; checks: {proofs or 'none'}; {warnings} warning(s)\n"
    )
