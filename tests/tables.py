"""Reading back what the exports write, as a spreadsheet would: CSV with its BOM and
delimiter, French decimal commas, ODS cells with their value types."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from sobriety.reports.i18n import Lang
from sobriety.reports.writers import Column


def read_csv(
    path: Path, columns: Sequence[Column], lang: Lang, delimiter: str | None = None
) -> list[dict[str, str]]:
    """Rows keyed by column id; the file must start with a BOM and carry `lang`'s headers."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM"
    sep = delimiter or (";" if lang.code == "fr" else ",")
    lines = list(csv.reader(raw.decode("utf-8-sig").splitlines(), delimiter=sep))
    titles = {c.title(lang): c.id for c in columns}
    assert lines[0] == [c.title(lang) for c in columns], lines[0]
    return [{titles[h]: v for h, v in zip(lines[0], line, strict=True)} for line in lines[1:]]


def number(text: str) -> float:
    """A French or English CSV number."""
    return float(text.replace(",", "."))


def ods_cells(path: Path, sheet: int = -1) -> list[list[tuple[str, str, str]]]:
    """(value type, typed value, shown text) of every cell of a sheet (the last: the data)."""
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = load(str(path))
    table = doc.spreadsheet.getElementsByType(Table)[sheet]
    out = []
    for tr in table.getElementsByType(TableRow):
        row = []
        for cell in tr.getElementsByType(TableCell):
            kind = cell.getAttribute("valuetype") or ""
            typed = (
                cell.getAttribute("datevalue")
                if kind == "date"
                else cell.getAttribute("booleanvalue")
                if kind == "boolean"
                else cell.getAttribute("value") or ""
            )
            row.append((kind, typed or "", "".join(str(p) for p in cell.getElementsByType(P))))
        out.append(row)
    return out
