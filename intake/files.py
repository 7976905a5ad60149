"""Files → raw text grids. Nothing here trusts the file: every way a file can be unreadable ends
as a `FileRejected` with a rule code and a detail for the unit, never as a crash.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and .xlsx saved with a password
MAX_UNZIPPED_RATIO = 100  # zip bombs expand far beyond this; real workbooks stay well under it


class FileRejected(Exception):
    """A file that cannot be read at all; it goes back to the unit whole."""

    def __init__(self, rule: str, detail: str = "", sheet: str = "") -> None:
        super().__init__(rule, detail)
        self.rule, self.detail, self.sheet = rule, detail, sheet


@dataclass
class RawGrid:
    """One sheet's cells as text. Row i of `cells` is spreadsheet row `i + 1`."""

    sheet_name: str
    cells: pl.DataFrame  # columns c0, c1, … all String
    first_column: int  # 0-based spreadsheet column of c0 (A = 0)
    file_hint: str  # the file name, a hint for which sheet a .csv holds

    def column_index(self, grid_column: str) -> int:
        """0-based spreadsheet column of a grid column `c<i>`."""
        return self.first_column + int(grid_column[1:])

    def column_letters(self, grid_column: str) -> str:
        """The spreadsheet column of a grid column, as Excel names it (A … Z, AA …)."""
        index, letters = self.column_index(grid_column), ""
        while True:
            index, remainder = divmod(index, 26)
            letters = chr(65 + remainder) + letters
            if index == 0:
                return letters
            index -= 1


def read_grids(path: Path, max_bytes: int, file_name: str) -> list[RawGrid]:
    """`path` is where the bytes are; `file_name` what the unit called the file."""
    size = path.stat().st_size
    if size == 0:
        raise FileRejected("file.empty")
    if size > max_bytes:
        raise FileRejected("file.too_large", f"{size / 2**20:.1f} MB（上限 {max_bytes / 2**20:.0f} MB）")
    suffix = Path(file_name).suffix.lower()
    with path.open("rb") as handle:
        head = handle.read(8)
    if suffix == ".xls" or (suffix != ".xlsx" and head == OLE_MAGIC):
        raise FileRejected("file.old_xls")
    if suffix == ".xlsx":
        if head == OLE_MAGIC:
            raise FileRejected("file.unreadable", "文件设置了打开密码，请取消密码后重新报送")
        return _read_xlsx(path, size, file_name)
    if suffix == ".csv":
        return [_read_csv(path, file_name)]
    raise FileRejected("file.unsupported_type", suffix or file_name)


def _read_xlsx(path: Path, size: int, file_name: str) -> list[RawGrid]:
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise FileRejected("file.unreadable", "文件已损坏或不是 Excel 工作簿") from error
    if unzipped > MAX_UNZIPPED_RATIO * max(size, 1_000_000):
        raise FileRejected("file.unreadable", "文件解压后异常巨大，疑似损坏")
    try:
        reader = fastexcel.read_excel(path)
        grids = []
        for name in reader.sheet_names:
            # header_row=None + skip_rows=0: keep every row, so row i is spreadsheet row i + 1.
            sheet = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            frame = sheet.to_polars()
            first_column = sheet.available_columns()[0].absolute_index if frame.width else 0
            frame = frame.rename({old: f"c{i}" for i, old in enumerate(frame.columns)})
            grids.append(RawGrid(name, frame, first_column, file_name))
        return grids
    except Exception as error:  # calamine raises many kinds; all mean the same to the unit
        raise FileRejected("file.unreadable", "Excel 文件内容无法解析") from error


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK) — strictly, never lossy."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise FileRejected("file.encoding", f"第 {line} 行第 {column} 个字节起无法解码") from error


def _read_csv(path: Path, file_name: str) -> RawGrid:
    text = decode_text(path.read_bytes())
    cells = _csv_cells(text)
    if cells.width == 0 or cells.height == 0:
        raise FileRejected("file.empty")
    return RawGrid(Path(file_name).stem, cells, 0, file_name)


# A quoted field as Python's csv module and Polars both read it: opened right after a line start or
# a comma, quotes inside doubled, closed right before a comma or a line end.
WELL_QUOTED = re.compile(r'(?<![^,\n])"(?:[^"]|"")*"(?=,|\r?\n|\Z)')


def _csv_cells(text: str) -> pl.DataFrame:
    """Every field as text, rows padded to the widest. Polars' reader (10× faster) reads plain CSV: no
    stray quote, no lone carriage return. It takes the width as the most commas on a line + 1 (quoted
    commas only add empty columns, which nothing reads); a record wider than that (a quoted line
    break), or anything else, goes to Python's csv module, which reads what people send as Excel does."""
    plain = (text.strip() and ("\r" not in text or "\r" not in text.replace("\r\n", ""))
             and ('"' not in text or '"' not in WELL_QUOTED.sub("", text)))
    if plain:
        width = max(line.count(",") for line in text.splitlines()) + 1
        try:
            return pl.read_csv(text.encode("utf-8"), has_header=False, infer_schema=False, missing_columns="insert",
                               schema={f"c{i}": pl.String for i in range(width)}, raise_if_empty=False)
        except pl.exceptions.PolarsError:  # a record wider than its lines
            pass
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise FileRejected("file.unreadable", f"CSV 格式错误：{error}") from error
    width = max((len(row) for row in rows), default=0)
    padded = [row + [None] * (width - len(row)) for row in rows]
    return pl.DataFrame(padded, schema={f"c{i}": pl.String for i in range(width)}, orient="row")
