"""Guess how a delimited text file is laid out: delimiter, header, missing markers.

Used by ``dlrun new --data`` to write a spec that reads the file correctly. It
only needs the standard library (``csv``): it must stay fast and must never pull
in scikit-learn or a deep-learning library.

Conventions shared with :mod:`dlrun.data.sources`:

* fields are stripped of surrounding whitespace (``", State-gov"`` -> ``State-gov``);
* a whitespace-separated file (columns split by runs of blanks) has the
  delimiter ``" "``;
* a file without a header gets the column names ``col0 .. colN-1``;
  header names are cleaned by :func:`clean_names` (blank -> ``colI``,
  duplicates get a ``_2``, ``_3`` suffix).
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

#: Strings recognised as "missing value" markers, in the order they are reported.
MISSING_MARKERS = ("?", "NA", "N/A", "NaN", "nan", "null", "NULL", "")
#: Delimiters tried, in order of preference when several fit equally well.
DELIMITERS = (",", ";", "\t", "|")
WHITESPACE = " "

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_SAMPLE_BYTES = 64 * 1024
_SAMPLE_LINES = 200
#: Files up to this size are read whole (then split); bigger ones are streamed.
_WHOLE_BYTES = 64 * 1024 * 1024
#: Characters str.splitlines/str.split treat differently from csv.reader.
_ODD_CHARS = "\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@dataclass
class CsvInfo:
    """What :func:`sniff_csv` found out about a delimited text file."""

    path: Path
    delimiter: str  # one of DELIMITERS, or " " for whitespace-separated columns
    header: bool
    quotechar: str
    missing: list[str]  # markers actually present, in MISSING_MARKERS order
    columns: list[str]
    kinds: dict[str, str]  # column -> "numeric" | "categorical" | "empty" (all missing)
    n_rows: int  # data rows (the header row not counted, blank lines skipped)
    encoding: str = "utf-8-sig"
    missing_counts: dict[str, int] = field(default_factory=dict)  # column -> missing cells
    #: column -> Counter of its stripped values (of the rows examined)
    counts: dict[str, Counter] = field(default_factory=dict, repr=False)
    sampled: bool = False  # only the first ``max_rows`` data rows were examined
    ragged: bool = False  # some row has another number of fields than the widest early row
    header_row: list[str] = field(default_factory=list, repr=False)  # stripped, before cleaning

    @property
    def decimal(self) -> str:
        """',' when a ';'-delimited file writes numbers with decimal commas (``33,6``), else '.'."""
        if self.delimiter != ";":
            return "."
        return "," if any(decimal_comma_column(values) for values in self.counts.values()) else "."

    @property
    def whitespace(self) -> bool:
        return self.delimiter == WHITESPACE

    @property
    def n_columns(self) -> int:
        return len(self.columns)


PARQUET_SUFFIXES = {".parquet", ".pq"}
#: Numbers this large are refused like infinities: their squares overflow float64, so
#: every scaler, variance and distance computed from them is infinite or NaN.
HUGE = 1e150


def format_from_suffix(path: Path) -> str:
    """``parquet``, ``npz`` or ``csv`` (text), from a file name's suffix."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".bz2", ".zip", ".xz"}:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix == ".npz":
        return "npz"
    return "csv"  # .csv, .data, .txt and files without a suffix are read as text


def is_number(text: str) -> bool:
    """Whether a stripped field reads as a decimal number (``1``, ``-0.5``, ``1e-3``)."""
    return bool(_NUMBER.match(text))


_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def decimal_comma_column(values) -> bool:
    """Whether the values (a Counter or a list of strings) are numbers with decimal commas:
    every non-missing one is a number, and some have a comma (``33,6``)."""
    present = [v for v in values if v and not is_missing(v)]
    commas = [v for v in present if _DECIMAL_COMMA.match(v)]
    return bool(commas) and all(_DECIMAL_COMMA.match(v) or is_number(v) for v in present)


def is_missing(text: str) -> bool:
    return text in MISSING_MARKERS


def clean_names(names: list[str]) -> list[str]:
    """Column names as dlrun uses them: stripped, blanks named ``colI``, duplicates suffixed."""
    out: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(names):
        name = "" if raw is None else str(raw).strip()
        if not name:
            name = f"col{i}"
        base, k = name, 2
        while name in seen:
            name = f"{base}_{k}"
            k += 1
        seen.add(name)
        out.append(name)
    return out


def generated_names(n: int) -> list[str]:
    return [f"col{i}" for i in range(n)]


def read_text(path: Path, limit: int | None = None) -> tuple[str, str]:
    """Read (part of) a text file; returns (text, encoding). UTF-8 first, then Latin-1."""
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            with open(path, encoding=encoding, newline="") as handle:
                return (handle.read(limit) if limit else handle.read()), encoding
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("latin-1", b"", 0, 1, "undecodable")  # pragma: no cover


def split_rows(text: str, delimiter: str, quotechar: str = '"') -> list[list[str]]:
    """Parse text into rows of stripped fields, skipping blank lines."""
    if delimiter == WHITESPACE:
        rows = [line.split() for line in text.splitlines()]
        return [row for row in rows if row]
    reader = csv.reader(
        io.StringIO(text), delimiter=delimiter, quotechar=quotechar, skipinitialspace=True
    )
    rows = []
    for row in reader:
        if not row or all(not f.strip() for f in row) and len(row) <= 1:
            continue
        rows.append([f.strip() for f in row])
    return rows


def _guess_quotechar(sample: str, delimiter: str) -> str:
    if '"' not in sample and "'" in sample:
        d = re.escape(delimiter) if delimiter != WHITESPACE else r"\s"
        if re.search(rf"(^|{d})\s*'[^'\n]*'\s*({d}|$)", sample, flags=re.MULTILINE):
            return "'"
    return '"'


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    if delimiter == WHITESPACE:
        return [len(line.split()) for line in lines]
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', skipinitialspace=True)
    try:
        return [len(row) for row in reader]
    except csv.Error:
        return [0]


def _guess_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample lines into the same number (>1) of fields."""
    best: tuple[float, int, int] | None = None
    choice = ","
    for rank, candidate in enumerate(DELIMITERS):
        if candidate not in "".join(lines):
            continue
        counts = _field_counts(lines, candidate)
        mode, hits = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        consistency = hits / len(counts)
        if consistency < 0.9:
            continue
        score = (round(consistency, 2), mode, -rank)
        if best is None or score > best:
            best, choice = score, candidate
    if best is not None:
        return choice
    counts = _field_counts(lines, WHITESPACE)
    mode, hits = Counter(counts).most_common(1)[0]
    if mode >= 2 and hits / len(counts) >= 0.9:
        return WHITESPACE
    # A single column (or something irregular): csv.Sniffer has the last word.
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


def _has_header(rows: list[list[str]]) -> bool:
    """Decide whether ``rows[0]`` holds column names.

    Numeric columns vote: a non-numeric first value above numbers says "header",
    a numeric one says "no header". When no column is numeric, string columns
    whose values repeat vote: a first value that never recurs below says
    "header", one that does recur says "no header".
    """
    if len(rows) < 2:
        return bool(rows) and not any(is_number(v) for v in rows[0])
    first, body = rows[0], rows[1:]
    width = len(first)
    yes = no = 0
    string_yes = string_no = 0
    for j in range(width):
        values = [r[j] for r in body if j < len(r) and not is_missing(r[j])]
        if not values:
            continue
        head = first[j]
        numeric_share = sum(is_number(v) for v in values) / len(values)
        if numeric_share >= 0.9:
            if is_missing(head):
                continue
            if is_number(head):
                no += 1
            else:
                yes += 1
        elif len(set(values)) < len(values):  # a column with repeated values
            if head in values:
                string_no += 1
            elif not is_missing(head):
                string_yes += 1
    if yes or no:
        return yes > no
    if string_yes or string_no:
        return string_yes > string_no
    try:
        return csv.Sniffer().has_header("\n".join(",".join(r) for r in rows[:50]))
    except csv.Error:
        return True


def sniff_csv(path: str | Path, *, header: bool | None = None,
              max_rows: int | None = None) -> CsvInfo:
    """Sniff a delimited text file.

    ``header=None`` infers whether the first row holds names; ``True``/``False``
    force it. ``max_rows`` limits the rows examined: a longer file is
    ``sampled`` (kinds, markers and counts describe its first ``max_rows`` data
    rows; ``n_rows`` comes from a line count). Raises ``ValueError`` for an
    empty file and ``OSError`` when the file cannot be read (callers turn these
    into :class:`~dlrun.errors.DataError`).
    """
    path = Path(path)
    sample, _ = read_text(path, _SAMPLE_BYTES)
    truncated = len(sample) >= _SAMPLE_BYTES
    lines = [line for line in sample.splitlines() if line.strip()]
    if truncated and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    if not lines:
        raise ValueError(f"{path} is empty")
    lines = lines[:_SAMPLE_LINES]

    delimiter = _guess_delimiter(lines)
    quotechar = _guess_quotechar("\n".join(lines), delimiter)
    enabled = gc.isenabled()
    gc.disable()  # many small lists and strings: the cyclic collector only slows this down
    try:
        return _sniff_rows(path, delimiter, quotechar, header, max_rows)
    finally:
        if enabled:
            gc.enable()


def _sniff_rows(path: Path, delimiter: str, quotechar: str, header: bool | None,
                max_rows: int | None) -> CsvInfo:
    # + the header row, + one row more: a file that has it is longer than max_rows
    limit = None if max_rows is None else max_rows + 2
    raw, encoding, total = _read_rows(path, delimiter, quotechar, limit)
    if not raw:
        raise ValueError(f"{path} is empty")
    head = [[f.strip() for f in row] for row in raw[:_SAMPLE_LINES]]
    if header is None:
        header = _has_header(head)

    width = max(len(r) for r in head)
    if header:
        columns = clean_names(head[0] + [""] * (width - len(head[0])))
        body = raw[1:]
    else:
        columns = generated_names(width)
        body = raw
    ragged = any(len(r) != width for r in raw)
    if ragged:  # pad short rows, ignore extra fields (readers refuse such files anyway)
        body = [r[:width] + [""] * (width - len(r)) for r in body]
    n_rows = (len(raw) if total is None else total) - (1 if header else 0)
    sampled = max_rows is not None and n_rows > max_rows
    if sampled:
        body = body[:max_rows]
        if total is None:  # a big file, streamed: count its lines instead
            n_rows = max(n_rows, _count_lines(path) - (1 if header else 0))

    found: set[str] = set()
    missing_counts: dict[str, int] = {}
    kinds: dict[str, str] = {}
    counts: dict[str, Counter] = {}
    cells = zip(*body, strict=True) if body else ([] for _ in columns)
    for name, cells_j in zip(columns, cells, strict=True):
        values = _strip_counts(Counter(cells_j))
        n_missing = 0
        numeric = True
        for value, n in values.items():
            if value in MISSING_MARKERS:
                found.add(value)
                n_missing += n
            elif numeric and not _NUMBER.match(value):
                numeric = False
        if n_missing:
            missing_counts[name] = n_missing
        present = n_missing < len(body)
        kinds[name] = "empty" if not present else "numeric" if numeric else "categorical"
        counts[name] = values
    return CsvInfo(
        path=path,
        delimiter=delimiter,
        header=bool(header),
        quotechar=quotechar,
        missing=[m for m in MISSING_MARKERS if m in found],
        columns=columns,
        kinds=kinds,
        n_rows=n_rows,
        encoding=encoding,
        missing_counts=missing_counts,
        counts=counts,
        sampled=sampled,
        ragged=ragged,
        header_row=head[0] if header else [],
    )


def _strip_counts(values: Counter) -> Counter:
    """The counts keyed by stripped values (fields are compared stripped)."""
    if all(v == v.strip() for v in values):
        return values
    out: Counter = Counter()
    for value, n in values.items():
        out[value.strip()] += n
    return out


def _read_rows(path: Path, delimiter: str, quotechar: str,
               limit: int | None) -> tuple[list[list[str]], str, int | None]:
    """Up to ``limit`` non-blank rows of raw (unstripped) fields.

    Returns (rows, encoding, total): ``total`` counts every row of the file when
    it is known (the file was read whole), None when only ``limit`` rows were read.
    """
    if limit is None or path.stat().st_size <= _WHOLE_BYTES:
        text, encoding = read_text(path)
        rows = _split_text(text, delimiter, quotechar)
        return (rows if limit is None else rows[:limit]), encoding, len(rows)
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            with open(path, encoding=encoding, newline="") as handle:
                rows = list(islice(_parse(handle, delimiter, quotechar), limit))
            return rows, encoding, (len(rows) if len(rows) < limit else None)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("latin-1", b"", 0, 1, "undecodable")  # pragma: no cover


def _split_text(text: str, delimiter: str, quotechar: str) -> list[list[str]]:
    if (delimiter != WHITESPACE and quotechar not in text
            and not any(c in text for c in _ODD_CHARS)):
        # no quoting and only ordinary line breaks: str.split is what csv.reader would do
        rows = [line.split(delimiter) for line in text.splitlines()]
        return [row for row in rows if not (len(row) <= 1 and not row[0].strip())]
    return list(_parse(io.StringIO(text, newline=""), delimiter, quotechar))


def _parse(lines, delimiter: str, quotechar: str):
    """Non-blank rows of raw fields from an iterable of lines."""
    if delimiter == WHITESPACE:
        return (row for row in (line.split() for line in lines) if row)
    reader = csv.reader(lines, delimiter=delimiter, quotechar=quotechar, skipinitialspace=True)
    return (row for row in reader if row and not (len(row) <= 1 and not row[0].strip()))


def _count_lines(path: Path) -> int:
    """Non-blank-ish line count, fast (bytes): an estimate of the rows of a big file."""
    n = 0
    last = b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")
