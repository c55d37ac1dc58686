"""A CSV file written row by row whose latest rows can still change: how ``metrics.csv`` keeps an epoch's row open.

The logger writes an epoch's row as soon as it has a value (a crash, even ``kill -9``, then keeps what was
logged) and rewrites it in place while more values of that epoch arrive. Rows are rewritten from the
first changed one on, not the whole file, so a long run's save stays as cheap as one row.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from litzoo.faults.os_errors import naming_the_file

Row = Mapping[str, object]
#: The temporary file beside a CSV being replaced whole (``remove_unfinished_saves`` in
#: :mod:`litzoo.faults.atomic_io` deletes one that a crash left behind).
TEMP_NAME = ".{name}.tmp"


def encode_line(values: Iterable[object]) -> bytes:
    """One CSV line as the ``csv`` module writes it (Lightning's ``CSVLogger`` too); ``None`` is empty."""
    line = io.StringIO()
    csv.writer(line).writerow(values)
    return line.getvalue().encode()


def encode_row(row: Row, columns: Sequence[str]) -> bytes:
    return encode_line(row.get(column) for column in columns)


def replace_csv(path: Path, columns: Sequence[str], rows: Iterable[Row]) -> list[int]:
    """Replace ``path`` by a CSV of ``columns`` and ``rows``, atomically; return each row's byte offset.

    A temporary file beside it, then ``os.replace``: a crash leaves the old file or the new, never half,
    and a failed write (a full disk) removes the temporary file and names ``path``.
    """
    temporary = path.with_name(TEMP_NAME.format(name=path.name))
    offsets = []
    try:
        with naming_the_file(path), temporary.open("wb") as file:
            file.write(encode_line(columns))
            for row in rows:
                offsets.append(file.tell())
                file.write(encode_row(row, columns))
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)
    return offsets


class RowsCSV:
    """The rows one process writes to a CSV file, numbered from 0; rows from any number on can be rewritten.

    An existing file is continued: its rows stay above this process's rows and its header is kept, so a
    resumed run appends. A value in a column the header lacks widens the file (rewritten whole, the
    ``leading`` columns first, then the others alphabetically); any other write rewrites only the rows
    from the first changed one, in place. The file appears with the first row.
    """

    def __init__(self, path: Path, leading: Sequence[str]) -> None:
        self.path = path
        self._leading = tuple(leading)
        self._columns: list[str] | None = None  # the file's header, read on the first write
        self._offsets: list[int] = []  # byte offset of each row this process wrote
        self._end = 0  # byte offset where the next row goes

    def write(self, start: int, rows: Sequence[Row]) -> None:
        """Make this process's rows ``start``, ``start + 1``, ... equal ``rows``; rows after them are dropped."""
        if not 0 <= start <= len(self._offsets):
            raise IndexError(f"row {start} of {self.path}: only {len(self._offsets)} rows were written")
        if self._columns is None:
            self._columns = self._existing_header()
        if not rows and start == len(self._offsets):
            return
        names = {name for row in rows for name in row}
        if not self._columns or not names <= set(self._columns):
            self._rewrite_whole(start, rows, names)
            return
        with naming_the_file(self.path), self.path.open("r+b") as file:
            file.seek(self._offsets[start] if start < len(self._offsets) else self._end)
            file.truncate()
            del self._offsets[start:]
            for row in rows:
                self._offsets.append(file.tell())
                file.write(encode_row(row, self._columns))
            self._end = file.tell()

    def _existing_header(self) -> list[str]:
        if not self.path.is_file():
            return []
        with self.path.open(newline="") as file:
            header = next(csv.reader(file), [])
        self._end = self.path.stat().st_size
        return header

    def _rewrite_whole(self, start: int, rows: Sequence[Row], names: set[str]) -> None:
        """Write the file anew with a header that has ``names`` too, keeping the rows before ``start``."""
        earlier: list[dict[str, str]] = []
        if self._columns:
            with self.path.open(newline="") as file:
                earlier = list(csv.DictReader(file))
        # The rows of earlier runs, then ours before start.
        kept = earlier[: len(earlier) - len(self._offsets) + start]
        others = (set(self._columns or ()) | names) - set(self._leading)
        columns = [*self._leading, *sorted(others)]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        offsets = replace_csv(self.path, columns, [*kept, *rows])
        self._columns = columns  # only once the file has them: a failed write leaves the old header
        self._offsets = offsets[len(offsets) - start - len(rows) :]
        self._end = self.path.stat().st_size
