"""``dlrun new NAME --template text [--data FOLDER|FILE.csv|FILE.parquet] [--target COL] [--text COL]``.

Infers the classes and their balance, the documents' lengths and encodings, and
writes a spec of ``kind: text`` scored by accuracy (balanced accuracy when the classes
are imbalanced), with 10-fold cross-validation once and every text view:

* a **folder**: one sub-folder of ``.txt`` files per class (the sub-folder name is the
  label, named ``label``); every file is decoded once, one at a time (a folder larger
  than memory is fine), and a file that is not text is named;
* a **CSV** (read by :func:`dlrun.data.sniff.sniff_csv`, without pandas) or a
  **Parquet** file: ``--target`` names the label (default: the last column that is not
  the text), ``--text`` the documents (default: the string column whose values are the
  longest on average).

The token view's sequence length is sized from the data (90% of the documents fit,
at most :data:`MAX_SEQUENCE` words: the embedding nets must stay affordable on a CPU),
and its vocabulary from the words found in two documents or more (at most
:data:`MAX_SEQUENCE_VOCABULARY`). A corpus recognised by its content (the words of its
documents, whatever their file names or order) carries its published scores
(:mod:`.reference`).
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlrun.errors import ArgumentError, DataError
from dlrun.kinds.text import NAME, TEXT_FOLDS, TEXT_REPEATS
from dlrun.kinds.text.documents import document_digest

TARGET = "label"
VIEWS = ["bow", "counts", "tfidf", "char_tfidf", "tokens"]
#: Longest sequence the token view gets by default (CPU cost of the embedding nets).
MAX_SEQUENCE = 400
MIN_SEQUENCE = 16
#: Most words the token view keeps by default.
MAX_SEQUENCE_VOCABULARY = 20_000
#: Documents whose words are counted to size the token vocabulary.
VOCABULARY_SAMPLE = 20_000
#: More classes than this share of the documents: the label is not a class.
MAX_CLASS_SHARE = 0.5


@dataclass
class Corpus:
    """What a pass over the documents found."""

    counts: Counter = field(default_factory=Counter)  # label -> documents
    lengths: list[int] = field(default_factory=list)  # words per document
    document_frequency: Counter = field(default_factory=Counter)  # word -> documents (sample)
    encodings: Counter = field(default_factory=Counter)  # encoding -> files
    digests: list[bytes] = field(default_factory=list)  # documents' content digests

    def add(self, document: str, label: str, encoding: str = "utf-8") -> None:
        words = document.split()
        self.counts[label] += 1
        self.lengths.append(len(words))
        self.encodings[encoding] += 1
        if len(self.lengths) <= VOCABULARY_SAMPLE:
            self.document_frequency.update({w.lower() for w in words})
        self.digests.append(document_digest(document))

    @property
    def n(self) -> int:
        return len(self.lengths)


def text_draft(request):
    from dlrun.scaffold import Draft, classification_metric

    column = (request.extra or {}).get("text")
    data = request.data
    if data is None:
        facts = _placeholder(request)
    else:
        if data.startswith("sklearn:"):
            raise ArgumentError("text projects read a folder of .txt files or a CSV/Parquet file, "
                                "not a scikit-learn dataset", field="--data")
        path = Path(data).expanduser()
        if not path.exists():
            raise ArgumentError(f"{path} does not exist", field="--data")
        if path.is_dir():
            if column is not None:
                raise ArgumentError("--text names the column of a CSV/Parquet file; a folder's "
                                    "documents are its .txt files", field="--text")
            if request.header is not None:
                raise ArgumentError("--no-header applies to CSV files, not folders", field="--no-header")
            facts = _folder(path, request)
        else:
            facts = _table(path, request, column)
        absolute = path.resolve()
        try:
            facts["data"]["source"] = os.path.relpath(absolute, request.project_dir)
        except ValueError:  # another drive (Windows)
            facts["data"]["source"] = str(absolute)

    corpus: Corpus | None = facts.get("corpus")
    counts = dict(corpus.counts) if corpus is not None and corpus.n else {}
    text_block: dict[str, Any] = dict(facts.get("text") or {})
    notes = list(facts.get("notes", []))
    lines = list(facts.get("lines", []))
    reference = None
    if corpus is not None and corpus.n:
        text_block.update(sizes(corpus))
        lines += _corpus_lines(corpus, facts["target"], text_block["sequence_length"])
        from dlrun.kinds.text.reference import recognise

        known = recognise(corpus.digests, counts)
        if known is not None:
            reference = known
            notes.append(f"Recognised by its content as the standard dataset **{known['dataset']}**.")
        if text_block["sequence_length"] == MAX_SEQUENCE and max(corpus.lengths) > MAX_SEQUENCE:
            share = sum(1 for n in corpus.lengths if n > text_block["sequence_length"]) / corpus.n
            notes.append(f"{share:.0%} of the documents are longer than {text_block['sequence_length']} "
                         "words: the embedding nets (tokens view) read their last "
                         f"{text_block['sequence_length']} words, to stay affordable on a CPU. "
                         "Raise text.sequence_length if the rest matters.")
    spec: dict[str, Any] = {
        "name": request.name,
        "description": facts.get("description", ""),
        "kind": NAME,
        "task": "classification",
        "data": {**facts["data"], "target": facts["target"]},
        "metric": classification_metric(counts) if counts else "accuracy",
        "views": list(VIEWS),
        "text": text_block,
        "evaluation": {"folds": TEXT_FOLDS, "repeats": TEXT_REPEATS, "seed": 1},
    }
    if reference is not None:
        spec["reference"] = reference
        spec["description"] = spec["description"] or reference["dataset"]
    if not spec["description"]:
        del spec["description"]
    return Draft(spec, lines, notes)


def sizes(corpus: Corpus) -> dict[str, int]:
    """The token view's sequence length and vocabulary from the documents."""
    lengths = sorted(corpus.lengths)
    p90 = lengths[min(len(lengths) - 1, int(math.ceil(0.9 * len(lengths))) - 1)]
    length = int(min(MAX_SEQUENCE, max(MIN_SEQUENCE, int(math.ceil(p90 / 10.0)) * 10)))
    frequent = sum(1 for n in corpus.document_frequency.values() if n >= 2)
    vocabulary = int(min(MAX_SEQUENCE_VOCABULARY, max(100, frequent)))
    return {"sequence_length": length, "sequence_vocabulary": vocabulary}


def _placeholder(request) -> dict[str, Any]:
    target = str(request.target) if request.target is not None else TARGET
    return {
        "data": {"source": "documents", "format": "documents"},
        "target": target,
        "lines": [
            "- No data yet. Put the documents in a folder named `documents` in this folder, one "
            "sub-folder of `.txt` files per class (`documents/spam/001.txt`, "
            "`documents/ham/002.txt`, ...), or point `data.source` in project.yaml at a CSV or "
            "Parquet file with a text column (`text.column`) and a label column (`data.target`).",
            "- `dlrun new NAME --template text --data FOLDER_OR_FILE` infers the rest for you.",
        ],
    }


def _folder(path: Path, request) -> dict[str, Any]:
    from dlrun.kinds.text.documents import decode_bytes, list_folder

    if request.target not in (None, TARGET):
        raise ArgumentError("a folder's labels are its sub-folder names, named 'label'; drop --target",
                            field="--target")
    paths, labels = list_folder(path)
    if not paths:
        raise DataError(f"{path} holds no .txt files in class sub-folders (expected "
                        f"{path}/CLASS/DOCUMENT.txt)", field="--data")
    corpus = Corpus()
    for file, label in zip(paths, labels, strict=True):
        try:
            data = Path(file).read_bytes()
        except OSError as err:
            raise DataError(f"{file} cannot be read: {err.strerror or err}", field="--data") from None
        document, encoding = decode_bytes(data, file, field="--data")
        corpus.add(document, label, encoding)
    if len(corpus.counts) < 2:
        raise DataError(f"{path} has a single class sub-folder ({labels[0]}); classification needs "
                        "at least two", field="--data")
    lines = [f"- Source: the folder `{path.name}`: {corpus.n:,} documents (`.txt` files) in "
             f"{len(corpus.counts)} class sub-folders (the sub-folder name is the label)."]
    return {"data": {"format": "documents"}, "target": TARGET, "corpus": corpus, "lines": lines}


def _table(path: Path, request, column: str | None) -> dict[str, Any]:
    from dlrun.data.sniff import format_from_suffix

    fmt = format_from_suffix(path)
    if fmt == "parquet":
        columns, kinds, values, header = _parquet(path)
        data: dict[str, Any] = {}
    elif fmt == "csv":
        columns, kinds, values, header, data = _csv(path, request.header)
    else:
        raise ArgumentError(f"{path.name}: a text project reads a folder of .txt files, or a CSV or "
                            "Parquet file with a text column", field="--data")
    text, target = choose_columns(columns, kinds, values, column, request.target)
    documents = values[text]
    labels = values[target]
    corpus = Corpus()
    for document, label in zip(documents, labels, strict=True):
        if label is None:
            continue
        corpus.add(document or "", label)
    if corpus.n == 0:
        raise DataError(f"no row has a label in '{target}'", field="--target")
    if len(corpus.counts) < 2:
        raise DataError(f"'{target}' holds a single class; classification needs two", field="--target")
    if len(corpus.counts) > max(20, MAX_CLASS_SHARE * corpus.n):
        raise ArgumentError(f"'{target}' has {len(corpus.counts)} distinct values in {corpus.n} rows: "
                            "it does not look like a class label", field="--target",
                            hint="Name the label column with --target.")
    skipped = sum(1 for label in labels if label is None)
    lines = [f"- Source: `{path.name}`: {corpus.n:,} documents in the column `{text}`"
             + (f" ({skipped} row(s) without a label are left out)" if skipped else "")
             + f"; the label is `{target}`."]
    others = [c for c in columns if c not in (text, target)]
    if others:
        lines.append(f"- Not used: {', '.join(f'`{c}`' for c in others[:10])}"
                     + (" ..." if len(others) > 10 else "") + ".")
    if header is False:
        data["header"] = False
    return {"data": data, "target": target, "corpus": corpus, "lines": lines,
            "text": {"column": text}}


def _csv(path: Path, header: bool | None):
    import csv

    from dlrun.data.sniff import read_text, sniff_csv, split_rows

    csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))  # documents can be long fields
    try:
        info = sniff_csv(path, header=header)
        # the rows in order (sniff_csv keeps value counts per column)
        text, _ = read_text(path)
        rows = split_rows(text, info.delimiter, info.quotechar)
    except (ValueError, csv.Error) as err:
        raise DataError(f"{path.name} cannot be read as CSV: {err}", field="--data") from None
    except OSError as err:
        raise DataError(f"{path} cannot be read: {err.strerror or err}", field="--data") from None
    body = rows[1:] if info.header else rows
    width = len(info.columns)
    values: dict[str, list[str | None]] = {c: [] for c in info.columns}
    for row in body:
        for j, name in enumerate(info.columns):
            cell = row[j].strip() if j < len(row) else ""
            values[name].append(cell if cell != "" else None)
    if any(len(r) > width for r in body):
        raise DataError(f"{path.name} has rows with more fields than its header", field="--data",
                        hint="Quote the documents (\"...\") so their commas are not read as delimiters.")
    data = {"header": info.header, "delimiter": info.delimiter, "missing": [""]}
    return info.columns, info.kinds, values, info.header, data


def _parquet(path: Path):
    try:
        import pandas as pd

        frame = pd.read_parquet(path)
    except ImportError:
        raise DataError("reading Parquet needs pyarrow; install it with `pip install dlrun[parquet]`",
                        field="--data") from None
    except Exception as err:  # pyarrow raises its own error types
        raise DataError(f"{path} cannot be read as Parquet: {err}", field="--data") from None
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    kinds, values = {}, {}
    for name in columns:
        series = frame[name]
        kinds[name] = "numeric" if pd.api.types.is_numeric_dtype(series) else "categorical"
        values[name] = [None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
                        for v in series.tolist()]
    return columns, kinds, values, True


def choose_columns(columns: list[str], kinds: dict[str, str], values: dict[str, list],
                   text: str | None, target) -> tuple[str, str]:
    """(text column, label column) from ``--text`` and ``--target`` (see the module docstring)."""
    from dlrun.scaffold import resolve_target

    if text is not None and text not in columns:
        raise ArgumentError(f"no column '{text}'; the columns are: {', '.join(columns)}", field="--text")
    label = resolve_target(columns, target) if target is not None else None
    if text is None:
        text = longest_column(columns, kinds, values, exclude={label})
        if text is None:
            raise ArgumentError("the file has no column of text besides the label", field="--text",
                                hint="Name the column of the documents with --text.")
    if label is None:
        rest = [c for c in columns if c != text]
        if not rest:
            raise ArgumentError("the file has a single column: the documents need a label column",
                                field="--target")
        label = rest[-1]
    if label == text:
        raise ArgumentError(f"'{text}' cannot be both the documents (--text) and the label (--target)",
                            field="--text")
    return text, label


def longest_column(columns, kinds, values, exclude: Iterable = ()) -> str | None:
    """The non-numeric column whose values are longest on average."""
    best, best_length = None, -1.0
    for name in columns:
        if name in exclude or kinds.get(name) == "numeric":
            continue
        present = [v for v in values[name] if v]
        length = sum(len(v) for v in present) / len(present) if present else 0.0
        if length > best_length:
            best, best_length = name, length
    return best


def _corpus_lines(corpus: Corpus, target: str, sequence_length: int) -> list[str]:
    counts = dict(sorted(corpus.counts.items(), key=lambda kv: str(kv[0])))
    shown = ", ".join(f"{k}: {v:,}" for k, v in list(counts.items())[:10])
    more = f" (and {len(counts) - 10} more)" if len(counts) > 10 else ""
    lengths = sorted(corpus.lengths)
    median = lengths[len(lengths) // 2]
    lines = [
        f"- Label `{target}`: {len(counts)} classes, {shown}{more}; majority share "
        f"{max(counts.values()) / corpus.n:.3f}.",
        f"- Length: {lengths[0]:,} to {lengths[-1]:,} words a document, median {median:,}; the "
        f"embedding nets read the last {sequence_length} words of each.",
    ]
    if corpus.encodings and set(corpus.encodings) != {"utf-8"}:
        other = sum(n for e, n in corpus.encodings.items() if e != "utf-8")
        lines.append(f"- Encoding: {other:,} file(s) are not UTF-8; they are read as Windows-1252 "
                     "(Latin-1).")
    empty = sum(1 for n in corpus.lengths if n == 0)
    if empty:
        lines.append(f"- {empty:,} document(s) are empty.")
    return lines
