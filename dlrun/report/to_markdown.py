"""Render a :class:`dlrun.report.model.Report` as Markdown for git hosts (GitHub-flavoured).

Every string is escaped so that it renders as written: a ``<`` that could open
a tag, an ``&`` that would form an entity, the characters of Markdown's inline
syntax (emphasis, code, links), block markers at the start of a paragraph, and
``|`` in table cells. Links go only to http(s) addresses and relative paths;
figures are relative links to their files under ``figures/``. The only HTML
written is the renderer's own ``<details>`` around folded tables.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from dlrun.report.model import (
    Badge,
    Bullets,
    Code,
    CodeBlock,
    Figure,
    Heading,
    Link,
    Note,
    Paragraph,
    Report,
    Strong,
    Table,
    Text,
    figure_files,
    plain,
)

_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")  # what can open raw HTML in CommonMark
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_INLINE = re.compile(r"([\\`*\[\]~])")  # emphasis, code, links, strike-through
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # intraword _ is literal


def md_escape(value: object) -> str:
    """Plain text as Markdown that renders as written and runs nothing (one line)."""
    value = re.sub(r"\s+", " ", str(value))
    value = _INLINE.sub(r"\\\1", value)
    value = _UNDERSCORE.sub(r"\\_", value)
    return _HTML_START.sub("&lt;", _ENTITY.sub("&amp;", value))


def md_code(value: object, *, cell: bool = False) -> str:
    """Inline code that survives backticks inside the value (and pipes, in a table cell)."""
    value = " ".join(str(value).split())
    fence = "`"
    while fence in value:
        fence += "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    if cell:
        value = value.replace("|", "\\|")
    return f"{fence}{pad}{value}{pad}{fence}"


def safe_target(target: str) -> str | None:
    """A link target that is an http(s) address or a relative path, percent-encoded; None
    for any other scheme (``javascript:``, ``data:``, ``file:``...) and for protocol-relative
    addresses."""
    target = str(target).strip()
    if re.match(r"https?://[^/]", target, re.I):
        return quote(target, safe=":/?#@!$&'*+,;=%~")
    if not target or target.startswith(("/", "\\")) or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target):
        return None
    return quote(target, safe="/#-._~")  # a relative path is given raw, encoded here


def _guard_start(value: str) -> str:
    """Escape what would make a paragraph or an item a heading, a quote or a list."""
    marker = re.match(r"(\d{1,9})[.)](?=\s|$)|[-+*](?=\s|$)|#{1,6}(?=\s|$)|>", value)
    if not marker:
        return value
    if marker.group(1):  # "1. " -> "1\. "
        return value[: marker.end(1)] + "\\" + value[marker.end(1):]
    return "\\" + value


def inline(spans: Text, *, cell: bool = False, start: bool = False) -> str:
    """Spans as Markdown; ``cell``: inside a table cell (pipes escaped); ``start``: at the
    start of a block."""

    def escaped(value: str) -> str:
        value = md_escape(value)
        return value.replace("|", "\\|") if cell else value

    out = []
    for span in spans:
        if isinstance(span, str):
            out.append(escaped(span))
        elif isinstance(span, Strong):
            body = escaped(span.text.strip())
            out.append(f"**{body}**" if body else "")
        elif isinstance(span, Code):
            out.append(md_code(span.text, cell=cell))
        elif isinstance(span, Link):
            target, label = safe_target(span.target), escaped(span.text)
            out.append(f"[{label}]({target})" if target and label else label)
        elif isinstance(span, Badge):
            out.append(escaped(span.text))
    result = "".join(out).strip()
    return _guard_start(result) if start else result


def _table(table: Table) -> list[str]:
    def row(cells) -> str:
        return "| " + " | ".join(inline(c, cell=True) or " " for c in cells) + " |"

    rule = "| " + " | ".join("---:" if a == "right" else "---" for a in table.align) + " |"
    header = "| " + " | ".join(" " for _ in table.columns) + " |" if table.keys else row(table.columns)
    lines = [header, rule, *(row(r) for r in table.rows)]
    if table.collapsed:
        summary = html.escape(" ".join(table.collapsed.split()))
        return ["<details>", f"<summary>{summary}</summary>", "", *lines, "", "</details>"]
    return lines


def render_markdown(report: Report) -> str:
    files = {id(figure): path for figure, path in figure_files(report)}
    out: list[str] = [f"# {inline((report.title,))}", ""]
    if report.meta:
        out += [inline(report.meta, start=True), ""]
    for paragraph in report.lead:
        out += [inline(paragraph.text, start=True), ""]
    for section in report.sections:
        out += [f"## {inline((section.title,))}", ""]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                body = inline(block.text, start=True)
                out.append(f"*{body}*" if block.muted and body else body)
            elif isinstance(block, Bullets):
                out += [f"- {inline(item, start=True)}" for item in block.items]
            elif isinstance(block, Heading):
                out.append(f"### {inline(block.text)}")
            elif isinstance(block, Note):
                out.append(f"> {inline(block.text, start=True)}")
            elif isinstance(block, Table):
                out += _table(block)
            elif isinstance(block, Figure):
                out += [f"### {md_escape(block.title)}", "",
                        f"![{md_escape(block.title)}]({files[id(block)]})"]
                if block.caption:
                    out += ["", inline(block.caption, start=True)]
            elif isinstance(block, CodeBlock):
                fence = "```"
                while fence in block.code:
                    fence += "`"
                out += [f"{fence}{block.language}", block.code.rstrip("\n"), fence]
            out.append("")
    if report.footer:
        out += ["---", "", inline(report.footer, start=True)]
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


__all__ = ["md_code", "md_escape", "plain", "render_markdown", "safe_target"]
