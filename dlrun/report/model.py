"""The report as data: a :class:`Report` is a list of :class:`Section`, each a list of blocks.

Blocks are small frozen dataclasses -- :class:`Paragraph`, :class:`Bullets`,
:class:`Table`, :class:`Figure`, :class:`Note` (a call-out), :class:`CodeBlock`
and :class:`Heading` -- and every text in them is *plain text*: a string, or a
tuple of inline spans mixing strings with the only markup there is,
:class:`Strong`, :class:`Code`, :class:`Link` and :class:`Badge`. Nothing in a
block is Markdown or HTML: the renderers (:mod:`dlrun.report.to_markdown`,
:mod:`dlrun.report.to_html`) escape every string, so a name, a description, a
class label or an error message taken from the data is shown as written and
never runs.

Sections come from the ``dlrun.report_sections`` registry and from the kind of
data (:meth:`dlrun.kind.Kind.report_sections`); both build them from a
:class:`dlrun.report.context.ReportContext`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

# --------------------------------------------------------------------------- inline spans


@dataclass(frozen=True)
class Strong:
    """Bold text."""

    text: str
    kind: ClassVar[str] = "strong"


@dataclass(frozen=True)
class Code:
    """Inline code (a file name, a column, a command)."""

    text: str
    kind: ClassVar[str] = "code"


@dataclass(frozen=True)
class Link:
    """A link. Only http(s) targets and relative paths become links; any other target
    (``javascript:``, ``data:``, ...) is dropped by the renderers, keeping the text."""

    text: str
    target: str
    kind: ClassVar[str] = "link"


@dataclass(frozen=True)
class Badge:
    """A short verdict (``yes``, ``no (p = 0.03)``); ``tone`` is best, good, bad or neutral."""

    text: str
    tone: str = "neutral"
    kind: ClassVar[str] = "badge"

    def __post_init__(self):
        if self.tone not in TONES:
            raise ValueError(f"unknown tone {self.tone!r}; one of {', '.join(TONES)}")


Span = str | Strong | Code | Link | Badge
#: Text in a block: spans in reading order (build it with :func:`text`).
Text = tuple[Span, ...]
TONES = ("best", "good", "bad", "neutral")


def text(*parts: object) -> Text:
    """Spans from strings, spans, numbers and (nested) tuples of them; ``None`` is skipped."""
    out: list[Span] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, (Strong, Code, Link, Badge)):
            out.append(part)
        elif isinstance(part, (tuple, list)):
            out.extend(text(*part))
        else:
            out.append(str(part))
    return tuple(out)


def plain(value: Text | str) -> str:
    """The text of spans without their markup (for alt texts, titles and results.json)."""
    if isinstance(value, str):
        return value
    return "".join(s if isinstance(s, str) else s.text for s in value)


# --------------------------------------------------------------------------- blocks


def _freeze(obj, name: str, value) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Paragraph:
    text: Text
    muted: bool = False  # a remark: smaller, greyer where the format allows
    kind: ClassVar[str] = "paragraph"

    def __post_init__(self):
        _freeze(self, "text", text(self.text))


@dataclass(frozen=True)
class Bullets:
    items: tuple[Text, ...]
    kind: ClassVar[str] = "bullets"

    def __post_init__(self):
        _freeze(self, "items", tuple(text(i) for i in self.items))


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    text: Text
    kind: ClassVar[str] = "heading"

    def __post_init__(self):
        _freeze(self, "text", text(self.text))


@dataclass(frozen=True)
class Note:
    """A call-out: the headline result, a warning."""

    text: Text
    tone: str = "neutral"
    kind: ClassVar[str] = "note"

    def __post_init__(self):
        _freeze(self, "text", text(self.text))
        if self.tone not in TONES:
            raise ValueError(f"unknown tone {self.tone!r}; one of {', '.join(TONES)}")


@dataclass(frozen=True)
class Table:
    """A table. ``align`` gives each column ``left`` or ``right`` (numbers); ``keys`` makes a
    two-column key/value table without a header row; ``highlight`` holds the indexes of rows to
    stress (the best); a table with a ``collapsed`` summary is folded under that line."""

    columns: tuple[Text, ...]
    rows: tuple[tuple[Text, ...], ...]
    align: tuple[str, ...] = ()
    keys: bool = False
    highlight: frozenset[int] = frozenset()
    collapsed: str = ""
    kind: ClassVar[str] = "table"

    def __post_init__(self):
        columns = tuple(text(c) for c in self.columns)
        rows = tuple(tuple(text(c) for c in row) for row in self.rows)
        align = tuple(self.align) or ("left",) * len(columns)
        for i, row in enumerate(rows):
            if len(row) != len(columns):
                raise ValueError(f"table row {i} has {len(row)} cells for {len(columns)} columns")
        if len(align) != len(columns) or not set(align) <= {"left", "right"}:
            raise ValueError(f"align needs 'left' or 'right' for each of {len(columns)} columns")
        _freeze(self, "columns", columns)
        _freeze(self, "rows", rows)
        _freeze(self, "align", align)
        _freeze(self, "highlight", frozenset(self.highlight))


@dataclass(frozen=True)
class Figure:
    """A PNG figure. ``name`` becomes its file, ``figures/<name>.png`` (made unique per report)."""

    name: str
    title: str
    png: bytes = field(repr=False)
    caption: Text = ()
    kind: ClassVar[str] = "figure"

    def __post_init__(self):
        _freeze(self, "caption", text(self.caption))
        if not isinstance(self.png, (bytes, bytearray)) or not self.png:
            raise ValueError(f"figure {self.name!r} has no PNG bytes")
        _freeze(self, "png", bytes(self.png))


@dataclass(frozen=True)
class CodeBlock:
    """Literal lines (a command to copy)."""

    code: str
    language: str = ""
    kind: ClassVar[str] = "code_block"

    def __post_init__(self):
        if not re.fullmatch(r"[A-Za-z0-9_+-]*", self.language):
            raise ValueError(f"bad code language {self.language!r}")


Block = Paragraph | Bullets | Heading | Note | Table | Figure | CodeBlock


@dataclass(frozen=True)
class Section:
    """A titled part of a report; ``id`` is its anchor (letters, digits and dashes)."""

    id: str
    title: str
    blocks: tuple[Block, ...]

    def __post_init__(self):
        _freeze(self, "id", slug(self.id) or "section")
        _freeze(self, "blocks", tuple(self.blocks))
        for block in self.blocks:
            if not isinstance(block, (Paragraph, Bullets, Heading, Note, Table, Figure, CodeBlock)):
                raise TypeError(f"section {self.id!r}: {type(block).__name__} is not a report block")


@dataclass(frozen=True)
class Report:
    """A whole page: title, a meta line, the lead (the project's description), the sections
    and a footer."""

    title: str
    sections: tuple[Section, ...]
    meta: Text = ()
    lead: tuple[Paragraph, ...] = ()
    footer: Text = ()

    def __post_init__(self):
        _freeze(self, "sections", tuple(self.sections))
        _freeze(self, "meta", text(self.meta))
        _freeze(self, "lead", tuple(self.lead))
        _freeze(self, "footer", text(self.footer))
        seen: dict[str, int] = {}
        unique = []
        for section in self.sections:  # anchors stay unique whoever built the sections
            n = seen[section.id] = seen.get(section.id, 0) + 1
            unique.append(section if n == 1 else Section(f"{section.id}-{n}", section.title,
                                                         section.blocks))
        _freeze(self, "sections", tuple(unique))

    def figures(self) -> list[Figure]:
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]


# --------------------------------------------------------------------------- helpers

FIGURES = "figures"


def slug(value: str, limit: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")[:limit].strip("-")


def figure_files(report: Report) -> list[tuple[Figure, str]]:
    """Each figure of the report with its file, ``figures/<name>.png``, unique in the report
    (the Markdown links to it; the writer saves it there)."""
    out, used = [], set()
    for figure in report.figures():
        stem = slug(figure.name) or "figure"
        candidate, n = stem, 1
        while candidate in used:
            n += 1
            candidate = f"{stem}-{n}"
        used.add(candidate)
        out.append((figure, f"{FIGURES}/{candidate}.png"))
    return out


def paragraphs(value: str) -> tuple[Paragraph, ...]:
    """Free text (a description) as paragraphs: blank lines split them, lines join."""
    chunks = re.split(r"\n\s*\n", str(value or "").strip())
    return tuple(Paragraph(" ".join(c.split())) for c in chunks if c.strip())


def join(items: Iterable[Text | str], sep: str = ", ") -> Text:
    """Spans of several texts separated by ``sep``."""
    out: list[Span] = []
    for i, item in enumerate(items):
        if i:
            out.append(sep)
        out.extend(text(item))
    return tuple(out)
