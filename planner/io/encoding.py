"""Detect the text encoding of CSV files (UTF-8, UTF-8 with BOM, GBK, GB18030) and read them.

Excel on Chinese-language Windows saves "CSV" as GBK (code page 936); newer tools write UTF-8,
sometimes with a byte-order mark. A strict decode in a fixed order is enough to tell them apart
(no statistical detector such as chardet is needed): UTF-8 is tried first because GBK/GB18030
decode almost any byte string, and a file that decodes as strict UTF-8 is, in practice, UTF-8.
GBK is tried before GB18030 so that the common case is named as such; GB18030 is a superset that
also covers rare characters (e.g. in place names) GBK lacks.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

from planner.errors import InputDataError

logger = logging.getLogger(__name__)

#: Encodings tried, in order (the names reported to users).
CSV_ENCODINGS: tuple[str, ...] = ("utf-8-sig", "utf-8", "gbk", "gb18030")


def detect_encoding(data: bytes) -> str:
    """Name of the first encoding in :data:`CSV_ENCODINGS` that decodes ``data`` strictly.

    Returns ``"utf-8-sig"`` when the data start with a UTF-8 byte-order mark.

    Raises
    ------
    InputDataError
        None of the encodings decodes the data.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for name in CSV_ENCODINGS[1:]:
        try:
            data.decode(name, errors="strict")
        except UnicodeDecodeError:
            continue
        return name
    msg = "file is neither UTF-8 nor GBK/GB18030 text; save it as 'CSV UTF-8' from Excel"
    raise InputDataError(msg)


def read_csv_rows(path: Path) -> tuple[list[list[str]], str]:
    """Read a CSV file with its detected encoding into rows of text cells.

    Rows are returned as written (no header handling), so that callers can skip title rows above
    the header, as Chinese registers often have.

    Returns
    -------
    tuple
        The rows (lists of cell strings) and the encoding used.

    Raises
    ------
    InputDataError
        The file cannot be read or decoded, or holds no rows.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        msg = f"cannot read {path} ({exc.strerror}); check the path"
        raise InputDataError(msg) from exc
    encoding = detect_encoding(data)
    text = data.decode(encoding)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        msg = f"{path} is not a valid CSV ({exc}); check quotes and commas"
        raise InputDataError(msg) from exc
    if not any(any(cell.strip() for cell in row) for row in rows):
        msg = f"{path} is empty; give a header row and at least one record"
        raise InputDataError(msg)
    logger.info("read %s: %d rows, encoding %s", Path(path).name, len(rows), encoding)
    return rows, encoding
