"""Reading documents: decoding files, listing class folders, a corpus's content signature.

Standard library only: ``dlrun new`` describes a folder with it without NumPy or pandas.

A file is decoded as UTF-8 (a UTF-8 byte-order mark is dropped), else as
Windows-1252 (Latin-1 with the printer's quotes and dashes of 0x80-0x9F), else as
Latin-1, which decodes any bytes; so a file is refused only when what it decodes to
is not text: NUL bytes or mostly control characters (binary data, UTF-16). The error
names the file.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterable
from pathlib import Path

from dlrun.errors import DataError

TEXT_SUFFIXES = {".txt"}
#: Share of control characters (other than tab, line and page breaks) above which a
#: decoded file is taken for binary data.
MAX_CONTROL_SHARE = 0.05
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")
ENCODINGS = ("utf-8", "cp1252", "latin-1")


def decode_bytes(data: bytes, where: str, field: str = "data.source") -> tuple[str, str]:
    """``(text, encoding)`` of a file's bytes; a :class:`DataError` naming ``where`` when
    the bytes are not text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataError(f"{where} is UTF-16 text; dlrun reads documents in UTF-8 or Latin-1",
                        field=field, hint="Save the file as UTF-8 (any editor can).")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    text, used = "", ENCODINGS[-1]
    for encoding in ENCODINGS:
        try:
            text, used = data.decode(encoding), encoding
            break
        except UnicodeDecodeError:
            continue
    if "\x00" in text or control_share(text) > MAX_CONTROL_SHARE:
        what = "NUL bytes" if "\x00" in text else "mostly control characters"
        raise DataError(f"{where} is not text: it does not decode as UTF-8 or Latin-1 text (it holds "
                        f"{what}: binary data?)", field=field,
                        hint="Remove the file, or convert it to UTF-8 text.")
    return text, used


def decode_document(data: bytes, where: str, field: str = "data.source") -> str:
    return decode_bytes(data, where, field)[0]


def control_share(text: str) -> float:
    """Share of control characters among the first 20,000 characters."""
    sample = text[:20_000]
    if not sample:
        return 0.0
    controls = sum(1 for c in sample
                   if (ord(c) < 32 or 127 <= ord(c) < 160) and c not in _ALLOWED_CONTROLS)
    return controls / len(sample)


def read_document(path: str | Path, field: str = "data.source") -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise DataError(f"{path} cannot be read: {err.strerror or err}", field=field) from None
    return decode_document(data, str(path), field)


def word_count(document: str) -> int:
    return len(document.split())


def is_document(file: Path, root: Path) -> bool:
    return (file.is_file() and file.suffix.lower() in TEXT_SUFFIXES
            and not any(part.startswith(".") for part in file.relative_to(root).parts))


def list_folder(folder: Path) -> tuple[list[str], list[str]]:
    """``.txt`` files of ``folder/CLASS/`` (sorted, nested folders included; hidden files
    and folders left out) and the class (sub-folder name) of each."""
    paths, labels = [], []
    for sub in sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith(".")):
        for file in sorted(sub.rglob("*")):
            if is_document(file, folder):
                paths.append(str(file))
                labels.append(sub.name)
    return paths, labels


def list_documents(folder: Path) -> list[Path]:
    """Every ``.txt`` file under ``folder`` (sorted; hidden ones left out)."""
    return sorted(f for f in Path(folder).rglob("*") if is_document(f, Path(folder)))


def document_digest(document: str) -> bytes:
    """8 bytes standing for a document's words (whitespace normalised)."""
    return hashlib.sha1(" ".join(document.split()).encode("utf-8")).digest()[:8]


def content_signature(digests: Iterable[bytes]) -> str:
    """An order-free digest of documents (their :func:`document_digest`), the same for a
    folder of files and a CSV column holding the same texts."""
    return hashlib.sha256(b"".join(sorted(digests))).hexdigest()[:16]
