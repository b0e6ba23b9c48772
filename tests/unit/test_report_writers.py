"""Typed tables as a French spreadsheet reads them: BOM and ';', decimal comma, jj/mm/aaaa,
formula injection made inert; ODS dates, booleans and widths; JSON with stable keys."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest

from sobriety.reports.catalogue import missing, shipped_messages
from sobriety.reports.i18n import Lang, render_template
from sobriety.reports.writers import Column, Table, csv_text, inert, json_text, write_table
from tests.tables import ods_cells

COLUMNS = (
    Column("site", "Site name"),
    Column("model", "Model"),
    Column("age", "Age", "number", "years", 1),
    Column("since", "In service since", "date", width_cm=3.1),
    Column("expired", "Warranty expired", "flag"),
    Column("boots", "Reboots", "integer"),
)
ROWS = [
    ["Collège Jean Jaurès", '=HYPERLINK("http://evil","x")', 11.25, date(2014, 4, 8), True, 3],
    ["École", "+1-2", None, None, None, None],
    ["@SUM(A1)", "-3", 0.0, date(2026, 1, 31), False, 0],
]
TABLE = Table(COLUMNS, ROWS, "End of life")


def test_a_french_csv_has_a_bom_semicolons_commas_and_french_dates() -> None:
    text = csv_text(TABLE, Lang("fr"))
    assert text.startswith("\ufeff")
    raw = text.encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")  # what a spreadsheet reads as UTF-8
    lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert lines[0] == ["Nom du site", "Modèle", "Âge (années)", "En service depuis",
                        "Garantie échue", "Redémarrages"]  # fmt: skip
    assert lines[1][0] == "Collège Jean Jaurès"
    assert lines[1][2:] == ["11,3", "08/04/2014", "oui", "3"]
    assert lines[2][2:] == ["", "", "", ""]  # unknown is an empty cell, never 0
    assert lines[3][2:] == ["0,0", "31/01/2026", "non", "0"]  # a known zero stays zero


def test_cells_a_spreadsheet_would_run_as_formulas_come_out_inert() -> None:
    lines = list(csv.reader(io.StringIO(csv_text(TABLE, Lang("fr"))[1:]), delimiter=";"))
    assert lines[1][1] == '\'=HYPERLINK("http://evil","x")'
    assert lines[2][1] == "'+1-2"
    assert lines[3][0] == "'@SUM(A1)"
    assert lines[3][1] == "'-3"  # a text cell, not a number
    assert all(not cell.startswith(("=", "+", "@")) for line in lines for cell in line)
    assert inert("\tcmd") == "'\tcmd" and inert("Collège") == "Collège"


def test_english_csv_and_the_delimiter_option() -> None:
    text = csv_text(TABLE, Lang("en"))
    lines = list(csv.reader(io.StringIO(text[1:])))
    assert lines[0][2:4] == ["Age (years)", "In service since"]
    assert lines[1][2:] == ["11.3", "2014-04-08", "yes", "3"]
    semi = list(csv.reader(io.StringIO(csv_text(TABLE, Lang("en"), ";")[1:]), delimiter=";"))
    assert semi[1][2] == "11.3"
    comma = list(csv.reader(io.StringIO(csv_text(TABLE, Lang("fr"), ",")[1:])))
    assert comma[1][2] == "11,3"  # quoted by the CSV writer, read back whole


def test_ods_cells_are_typed_with_units_in_headers_and_column_widths(tmp_path: Path) -> None:
    path = tmp_path / "t.ods"
    write_table(path, "ods", TABLE, Lang("fr"))
    cells = ods_cells(path)
    assert [text for _, _, text in cells[0]][2] == "Âge (années)"
    first = cells[1]
    assert first[0] == ("string", "", "Collège Jean Jaurès")
    assert first[1][0] == "string"  # a formula-looking model stays a plain string cell
    assert first[2][:2] == ("float", "11.25")
    assert first[3] == ("date", "2014-04-08", "08/04/2014")
    assert first[4] == ("boolean", "true", "oui")
    assert first[5][:2] == ("float", "3")
    assert cells[2][2] == ("", "", "")  # unknown: an empty cell
    content = _content_xml(path)
    assert 'style:column-width="3.1cm"' in content
    assert "number:date-style" in content and 'fo:font-weight="bold"' in content


def _content_xml(path: Path) -> str:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read("content.xml").decode("utf-8")


def test_json_keeps_stable_keys_iso_dates_and_nulls() -> None:
    body = json.loads(json_text(TABLE, Lang("fr")))
    assert body["columns"][2] == "age" and body["headers"]["age"] == "Âge (années)"
    assert body["rows"][0]["since"] == "2014-04-08" and body["rows"][0]["expired"] is True
    assert body["rows"][1]["age"] is None


def test_unknown_formats_and_languages_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        write_table(tmp_path / "x", "xlsx", TABLE, Lang("fr"))
    with pytest.raises(ValueError, match="unknown language"):
        Lang("de")


def test_reasons_are_rendered_in_the_language_with_their_figures() -> None:
    kinds = {"lamp_hours": "number", "lamp_rated_hours": "number", "support_end": "date",
             "free_os_shortfall": "list"}  # fmt: skip
    template = "lamp at {lamp_hours:.0f} h of {lamp_rated_hours:.0f} h rated: barely used"
    values = {"lamp_hours": 79.0, "lamp_rated_hours": 2500.0}
    fr = render_template(Lang("fr"), template, values, kinds)  # type: ignore[arg-type]
    assert fr == "lampe à 79 h sur 2\u202f500 h nominales : à peine utilisée"
    en = render_template(Lang("en"), template, values, kinds)  # type: ignore[arg-type]
    assert en == "lamp at 79 h of 2,500 h rated: barely used"
    site_own = render_template(Lang("fr"), "mon texte {lamp_hours:.0f}", values, kinds)  # type: ignore[arg-type]
    assert site_own == "mon texte 79"  # a site's own reason is shown as written
    missing_value = render_template(Lang("fr"), "fin le {support_end}", {}, kinds)  # type: ignore[arg-type]
    assert missing_value == "fin le inconnu"


def test_every_shipped_message_has_its_french_text() -> None:
    assert len(shipped_messages()) > 100
    assert missing("fr") == []
