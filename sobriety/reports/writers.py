"""Typed tables written as CSV, JSON or ODS, in a report language.

A table is a list of `Column`s (a stable id, a header and unit from the catalogue, a kind, a
width) and rows of Python values in column order: str, int, float, bool, `date`, or None for
unknown (an empty cell, never 0).

- CSV: UTF-8 with a BOM (spreadsheets then read "Collège" right), `;` by default in French
  with a decimal comma, `,` in English; dates jj/mm/aaaa (French) or ISO; text cells that a
  spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) get a leading '.
- ODS: numbers, dates and booleans as typed cells (office-value-type float/date/boolean),
  dates shown jj/mm/aaaa, bold headers with their unit, column widths.
- JSON: the stable column ids, ISO dates, numbers, true/false, null.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

from sobriety.reports.i18n import Lang

Kind = Literal["text", "number", "integer", "date", "flag"]
Value = str | int | float | bool | date | None
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: `header` and `unit` are catalogue msgids."""

    id: str
    header: str
    kind: Kind = "text"
    unit: str = ""
    decimals: int = 2
    width_cm: float = 2.5

    def title(self, lang: Lang) -> str:
        """'Âge (années)': the header in `lang`, its unit in brackets."""
        head = lang(self.header)
        return f"{head} ({lang(self.unit)})" if self.unit else head


@dataclass(frozen=True, slots=True)
class Table:
    """What a report writes: its columns, rows and a title (the ODS sheet's name)."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[Value]]
    title: str
    meta: Mapping[str, object] | None = None
    cover: Sequence[tuple[str, Value]] = ()  # key/value lines of an ODS first sheet


def inert(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell_text(lang: Lang, column: Column, value: Value) -> str:
    """A value as the text a CSV cell or a page shows."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return lang.flag(value)
    if isinstance(value, date):
        return lang.date(value)
    if isinstance(value, int | float):
        if column.kind == "integer":
            return lang.number(float(value), 0)
        return lang.number(float(value), column.decimals)
    return str(value)


def csv_text(table: Table, lang: Lang, delimiter: str | None = None) -> str:
    """The table as CSV text, BOM first; `delimiter` defaults to ';' in French, ',' in English."""
    sep = delimiter or (";" if lang.code == "fr" else ",")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow([inert(c.title(lang)) for c in table.columns])
    for row in table.rows:
        writer.writerow(
            [
                inert(cell_text(lang, col, v)) if isinstance(v, str) else cell_text(lang, col, v)
                for col, v in zip(table.columns, row, strict=True)
            ]
        )
    return BOM + buffer.getvalue()


def json_text(table: Table, lang: Lang) -> str:
    """The table as JSON: stable ids as keys, the headers in `lang` beside them."""
    body: dict[str, object] = {
        **(table.meta or {}),
        "lang": lang.code,
        "columns": [c.id for c in table.columns],
        "headers": {c.id: c.title(lang) for c in table.columns},
        "rows": [
            {c.id: (v.isoformat() if isinstance(v, date) else v)
             for c, v in zip(table.columns, row, strict=True)}
            for row in table.rows
        ],
    }  # fmt: skip
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def ods_bytes(table: Table, lang: Lang) -> bytes:
    """The table as an ODS document, in memory."""
    buffer = io.BytesIO()
    _ods(table, lang).write(buffer)
    return buffer.getvalue()


def write_table(
    path: Path, fmt: str, table: Table, lang: Lang, delimiter: str | None = None
) -> None:
    """Write a table as csv, json or ods."""
    if fmt == "csv":
        path.write_text(csv_text(table, lang, delimiter), encoding="utf-8", newline="")
    elif fmt == "json":
        path.write_text(json_text(table, lang), encoding="utf-8")
    elif fmt == "ods":
        path.write_bytes(ods_bytes(table, lang))
    else:
        raise ValueError(f"unknown format {fmt!r} (csv, json, ods)")


# --- ODS ----------------------------------------------------------------------------------


class _OdsStyles:
    """The styles an ODS table needs: bold headers, dates in the language, column widths."""

    def __init__(self, doc: Any, lang: Lang) -> None:
        from odf.number import DateStyle, Day, Month, Text, Year
        from odf.style import Style, TableCellProperties, TextProperties

        dates = DateStyle(name="sobriety-date")
        parts: list[Any]
        if lang.code == "fr":
            parts = [Day(style="long"), Text(text="/"), Month(style="long"), Text(text="/"),
                     Year(style="long")]  # fmt: skip
        else:
            parts = [Year(style="long"), Text(text="-"), Month(style="long"), Text(text="-"),
                     Day(style="long")]  # fmt: skip
        for part in parts:
            dates.addElement(part)
        doc.automaticstyles.addElement(dates)
        self.date = Style(name="sobriety-date-cell", family="table-cell", datastylename=dates)
        doc.automaticstyles.addElement(self.date)
        self.header = Style(name="sobriety-header", family="table-cell")
        self.header.addElement(TextProperties(fontweight="bold"))
        self.header.addElement(TableCellProperties(wrapoption="wrap"))
        doc.automaticstyles.addElement(self.header)
        self._doc = doc
        self._widths: dict[float, Any] = {}

    def width(self, cm: float) -> Any:
        from odf.style import Style, TableColumnProperties

        if cm not in self._widths:
            style = Style(name=f"sobriety-col-{len(self._widths)}", family="table-column")
            style.addElement(TableColumnProperties(columnwidth=f"{cm}cm"))
            self._doc.automaticstyles.addElement(style)
            self._widths[cm] = style
        return self._widths[cm]


def _ods(table: Table, lang: Lang) -> Any:
    from odf.opendocument import OpenDocumentSpreadsheet

    doc = OpenDocumentSpreadsheet()
    styles = _OdsStyles(doc, lang)
    if table.cover:
        doc.spreadsheet.addElement(_cover_sheet(table, lang, styles))
    doc.spreadsheet.addElement(_data_sheet(table, lang, styles))
    return doc


def _data_sheet(table: Table, lang: Lang, styles: _OdsStyles) -> Any:
    from odf.table import Table as OdsTable
    from odf.table import TableColumn, TableRow

    sheet = OdsTable(name=lang(table.title)[:31])
    for column in table.columns:
        sheet.addElement(TableColumn(stylename=styles.width(column.width_cm)))
    header = TableRow()
    for column in table.columns:
        header.addElement(_cell(lang, Column("", ""), column.title(lang), styles, header=True))
    sheet.addElement(header)
    for row in table.rows:
        tr = TableRow()
        for column, value in zip(table.columns, row, strict=True):
            tr.addElement(_cell(lang, column, value, styles))
        sheet.addElement(tr)
    return sheet


def _cover_sheet(table: Table, lang: Lang, styles: _OdsStyles) -> Any:
    from odf.table import Table as OdsTable
    from odf.table import TableColumn, TableRow

    sheet = OdsTable(name=lang("Hand-over")[:31])
    sheet.addElement(TableColumn(stylename=styles.width(6.0)))
    sheet.addElement(TableColumn(stylename=styles.width(10.0)))
    for key, value in table.cover:
        tr = TableRow()
        tr.addElement(_cell(lang, Column("", ""), lang(key), styles, header=True))
        tr.addElement(_cell(lang, Column("", "", decimals=1), value, styles))
        sheet.addElement(tr)
    return sheet


def _cell(
    lang: Lang, column: Column, value: Value, styles: _OdsStyles, header: bool = False
) -> Any:
    from odf.table import TableCell
    from odf.text import P

    shown = cell_text(lang, column, value)
    if value is None:
        cell = TableCell()
    elif isinstance(value, bool):
        cell = TableCell(valuetype="boolean", booleanvalue="true" if value else "false")
    elif isinstance(value, date):
        cell = TableCell(valuetype="date", datevalue=value.isoformat(), stylename=styles.date)
    elif isinstance(value, int | float):
        cell = TableCell(valuetype="float", value=value)
    elif header:
        cell = TableCell(valuetype="string", stylename=styles.header)
    else:
        cell = TableCell(valuetype="string")
    if shown:
        cell.addElement(P(text=shown))
    return cell
