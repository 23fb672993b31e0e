"""``dlrun predict`` for text models: a folder of ``.txt`` files, one ``.txt`` file, or a
CSV/Parquet file with a text column.

* a **folder**: every ``.txt`` file under it (class sub-folders or none; their names
  are ignored), one prediction per file, named by its path in the folder;
* a **CSV/Parquet** file: the column the model was trained on (``text.column``) when
  the file has it, else the string column with the longest values; one prediction per
  row, in file order; ``keep`` names columns of the file passed through to the output
  (identifiers), first.

Files are decoded as in training (UTF-8, else Windows-1252/Latin-1; a file that is not
text is named).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dlrun.errors import DataError
from dlrun.kinds.text.data import Documents, as_documents, longest_text_column
from dlrun.kinds.text.documents import TEXT_SUFFIXES, list_documents, read_document

FIELD = "--data"


def _view(bundle):
    view = bundle["pipeline"].named_steps.get("view")
    if view is None or not (hasattr(view, "vectorizer_") or hasattr(view, "vocabulary_")):
        raise DataError("this model was not trained on documents", field="ENTRY")
    return view


def read_documents_for_model(bundle, path, keep=()) -> np.ndarray:
    view = _view(bundle)
    path = Path(path)
    keep = list(dict.fromkeys(keep or ()))
    if not path.exists():
        raise DataError(f"{path} does not exist", field=FIELD)
    if keep and (path.is_dir() or path.suffix.lower() in TEXT_SUFFIXES):
        raise DataError("--keep names columns of a CSV/Parquet file of documents; a folder or a "
                        ".txt file has none (each prediction is named by its file)", field="--keep")
    if path.is_dir():
        files = list_documents(path)
        if not files:
            raise DataError(f"{path} holds no .txt files", field=FIELD)
        return _named([read_document(f, FIELD) for f in files],
                      [f.relative_to(path).as_posix() for f in files])
    if path.suffix.lower() in TEXT_SUFFIXES:
        return _named([read_document(path, FIELD)], [path.name])
    column = getattr(view, "column", None)
    frame = _read_table(path, {column, bundle.get("target"), *keep} - {None})
    if column not in frame.columns:
        target = bundle.get("target")
        column = longest_text_column(frame, exclude={target})
        if column is None:
            raise DataError(f"{path.name} has no column of text", field=FIELD,
                            hint="Give a CSV/Parquet file with the documents in a column, or a folder "
                                 "of .txt files.")
    absent = [c for c in keep if c not in frame.columns]
    if absent:
        raise DataError(f"column(s) {', '.join(absent)} not in {path.name}; its columns: "
                        f"{', '.join(map(str, frame.columns))}", field="--keep")
    documents = as_documents(frame[column].tolist())
    if not keep:
        return documents
    out = documents.view(Documents)
    out.attrs = {"passthrough": frame[keep].reset_index(drop=True), "notes": []}
    return out


def _named(documents: list[str], names: list[str]) -> np.ndarray:
    out = as_documents(documents).view(Documents)
    out.row_names = names
    return out


def _read_table(path: Path, names: set[str] = frozenset()):
    """The table's columns; a first row the sniffer took for data but that holds one of
    ``names`` (the model's text column, the target, the --keep columns) is the header."""
    import pandas as pd

    from dlrun.data.sniff import format_from_suffix, sniff_csv

    fmt = format_from_suffix(path)
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(path)
        elif fmt == "csv":
            import csv

            csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))
            info = sniff_csv(path)
            frame = None
            for encoding in ("utf-8-sig", "cp1252", "latin-1"):
                try:
                    frame = pd.read_csv(path, sep=info.delimiter, header=0 if info.header else None,
                                        quotechar=info.quotechar, keep_default_na=False,
                                        na_values=[""], encoding=encoding, dtype=str)
                    break
                except UnicodeDecodeError:
                    continue
            if frame is not None and not info.header:
                first = [str(v).strip() for v in frame.iloc[0]] if len(frame) else []
                if names & set(first):  # all-text columns: the sniffer cannot tell a header
                    frame = frame.iloc[1:].reset_index(drop=True)
                    frame.columns = first
                else:
                    frame.columns = list(info.columns)
        else:
            raise DataError(f"{path.name}: give a folder of .txt files, a .txt file, or a CSV or "
                            "Parquet file with a text column", field=FIELD)
    except DataError:
        raise
    except ImportError:
        raise DataError("reading Parquet needs pyarrow; install it with `pip install dlrun[parquet]`",
                        field=FIELD) from None
    except Exception as err:  # pandas and pyarrow raise their own error types
        message = str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
        raise DataError(f"{path} cannot be read: {message}", field=FIELD) from None
    if frame is None or frame.empty:
        raise DataError(f"{path} has no rows", field=FIELD)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame
