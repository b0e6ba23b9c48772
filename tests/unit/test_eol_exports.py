"""`export eol`, `export opendata` and `sobriety disposal` on a small inventory: the DEEE
columns, rows for devices that never answered, batches and their hand-over, options refused
where they do not apply, and inventory mistakes named by file, entry and field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sobriety.cli import main
from sobriety.config.load import load_config
from sobriety.energy.classes import load_classes
from sobriety.errors import ConfigError
from sobriety.lifetime.policy import Advisor, load_policy
from sobriety.model import Sample
from sobriety.reports.eol import EOL_COLUMNS
from sobriety.reports.handover import HANDOVER_COLUMNS
from sobriety.reports.i18n import Lang
from sobriety.store import EnergyAmount, EnergyDay, EnergyKey, LifetimeState, StateStore
from tests.tables import number, ods_cells, read_csv

INVENTORY = """
settings: {data_dir: var}
sites:
  college: {name: "Collège Jean Jaurès", timezone: Europe/Paris, country: FR}
auths:
  v2: {version: "2c", community: public}
disposals:
  LOT-1:
    date: 2026-11-02
    operator: "Recyclerie DEEE"
    recipient: "Association de réemploi"
    tracking: "BSD-2026-0042"
targets:
  - id: srv1
    address: 192.0.2.10
    auth: v2
    site: college
    class: server_rack_2s
    purchased: 2010-03-01
    asset:
      number: INV-0001
      faults: [{part: power supply 2, note: FAILED}]
  - id: vp-cm2
    address: 192.0.2.41
    auth: v2
    site: college
    class: projector_classroom
    purchased: 2014-09-01
    asset: {number: INV-0002, model: "=HYPERLINK(\\"http://x\\",\\"y\\")"}
  - id: pc-old
    site: college
    class: desktop_pc
    purchased: 2012-01-01
    asset: {number: INV-0003, vendor: Dell, model: OptiPlex 790}
    disposed: {batch: LOT-1, route: reuse, erasure_certificate: EFF-7}
  - id: pc-older
    site: college
    class: desktop_pc
    purchased: 2011-01-01
    asset: {number: INV-0004}
    disposed: {batch: LOT-1, route: reuse}
  - id: printer
    site: college
    class: printer_laser_a4
    purchased: 2013-01-01
    disposed: {batch: LOT-1, route: recycle, mass_kg: 14.2}
"""
NOW = datetime(2026, 12, 1, tzinfo=UTC).timestamp()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sobriety.yaml"
    path.write_text(INVENTORY, encoding="utf-8")
    loaded = load_config(path)
    store = StateStore(loaded.settings.data_dir / "state.sqlite3")
    advisor = Advisor(store, load_policy())
    srv = next(t for t in loaded.targets if t.id == "srv1")
    samples = [
        Sample("sobriety_device_info", {"target": "srv1", "vendor": "HP", "model": "DL380 G7",
                                        "serial": "CZ123"}, 1.0),
        Sample("sobriety_device_power_watts", {"target": "srv1", "source": "estimated"}, 175.0),
    ]  # fmt: skip
    state = LifetimeState("srv1", 100.0, NOW, 2, 86_400.0 * 3, None, 0)
    advisor.advise(srv, load_classes()["server_rack_2s"], samples, state, NOW, NOW - 86_400 * 40,
                   loaded.sites["college"])  # fmt: skip
    for day, joules in (("2026-11-01", 3.6e6), ("2026-11-20", 7.2e6)):
        key = EnergyKey("srv1", "", "college", "server_rack_2s", "estimated", "assumed")
        store.add_energy_day(EnergyDay(day, key, EnergyAmount(joules, (joules, 0, 0), 46.1, 0.2)))
    store.close()
    return path


def export(config: Path, out: Path, *args: str) -> int:
    return main(["export", "eol", "--config", str(config), "--out", str(out), *args])


def test_export_eol_carries_the_deee_columns_in_french(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "eol.csv"
    assert export(config, out) == 0
    rows = {r["target"]: r for r in read_csv(out, EOL_COLUMNS, Lang("fr"))}
    assert set(rows) == {"srv1", "vp-cm2", "pc-old", "pc-older", "printer"}
    srv = rows["srv1"]
    assert srv["site_name"] == "Collège Jean Jaurès"
    assert srv["recommendation"] == "réparer" and "power supply 2 (FAILED)" in srv["reasons"]
    assert srv["model"] == "DL380 G7" and srv["asset_number"] == "INV-0001"
    assert srv["weee_category"] == "4" and srv["data_media"].startswith("stockage")
    assert number(srv["mass_kg"]) == 22.2 and "BZ-EFD" in srv["mass_source"]
    assert "cartes de circuits imprimés" in srv["hazardous_parts"]
    assert srv["use_kwh"] == "3,000"
    old = rows["pc-old"]
    assert old["recommendation"] == "remis" and old["route"] == "réemploi"
    assert old["batch"] == "LOT-1" and old["tracking"] == "BSD-2026-0042"
    assert old["disposed"] == "02/11/2026" and old["erasure_certificate"] == "EFF-7"
    assert "Association de réemploi" in old["reasons"]
    assert number(rows["printer"]["mass_kg"]) == 14.2
    assert rows["printer"]["mass_source"] == "pesée à la remise"
    assert "toner" in rows["printer"]["hazardous_parts"]


def test_a_device_that_never_answered_still_gets_its_row(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "eol.csv"
    assert export(config, out) == 0
    vp = {r["target"]: r for r in read_csv(out, EOL_COLUMNS, Lang("fr"))}["vp-cm2"]
    assert vp["age_source"] == "inventaire"
    assert number(vp["age_years"]) == pytest.approx(12.25, abs=0.06)
    assert vp["recommendation"] == ""  # nothing observed: no invented recommendation
    assert "n'a jamais répondu" in vp["reasons"]
    assert vp["model"].startswith("'=HYPERLINK")  # inert in the CSV
    assert vp["use_kwh"] == ""  # no energy known for it, not 0
    assert "mercure" in vp["hazardous_parts"] and vp["weee_category"] == "5"


def test_ods_has_typed_dates_and_booleans(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "eol.ods"
    assert export(config, out, "--format", "ods") == 0
    cells = ods_cells(out)
    header = [text for _, _, text in cells[0]]
    index = {c.id: i for i, c in enumerate(EOL_COLUMNS)}
    assert header[index["mass_kg"]] == "Masse (kg)"
    by_target = {row[index["target"]][2]: row for row in cells[1:]}
    srv = by_target["srv1"]
    assert srv[index["life_start"]] == ("date", "2010-03-01", "01/03/2010")
    assert srv[index["warranty_expired"]][0] in ("", "boolean")
    assert srv[index["mass_kg"]][:2] == ("float", "22.2")
    assert by_target["pc-old"][index["disposed"]][:2] == ("date", "2026-11-02")


def test_from_and_to_restrict_the_energy_of_every_export(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "eol.json"
    assert export(config, out, "--format", "json", "--from", "2026-11-15") == 0
    body = json.loads(out.read_text(encoding="utf-8"))
    srv = next(r for r in body["rows"] if r["target"] == "srv1")
    assert srv["use_kwh"] == pytest.approx(2.0) and body["from"] == "2026-11-15"
    # JSON is for machines: stable ids, English texts, ISO dates
    assert (srv["recommendation"], srv["data_media"], srv["life_start"]) == (
        "repair", "storage", "2010-03-01",
    )  # fmt: skip
    assert srv["reasons"].startswith("fault recorded: power supply 2 (FAILED)")
    assert "circuit_boards" in srv["hazardous_parts"] and body["lang"] == "en"
    folder = tmp_path / "open"
    args = ["export", "opendata", "--config", str(config), "--out", str(folder),
            "--to", "2026-11-10"]  # fmt: skip
    assert main(args) == 0
    text = (folder / "fleet-by-site.csv").read_text(encoding="utf-8")
    server_line = next(line for line in text.splitlines() if ",server_rack_2s," in line)
    assert ",1.0," in server_line  # 1 kWh up to the 10th
    package = json.loads((folder / "datapackage.json").read_text())
    assert package["temporal"] == {"start": None, "end": "2026-11-10"}


def test_open_data_leaves_unknown_means_empty(config: Path, tmp_path: Path) -> None:
    folder = tmp_path / "open"
    assert main(["export", "opendata", "--config", str(config), "--out", str(folder)]) == 0
    lines = (folder / "fleet-by-site.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    printers = next(r for r in rows if r["class"] == "printer_laser_a4")
    assert printers["devices"] == "0" and printers["mean_age_years"] == ""
    assert printers["measured_share"] == ""
    projector = next(r for r in rows if r["class"] == "projector_classroom")
    assert projector["age_unknown"] == "0" and projector["age_8_plus"] == "1"  # inventory age


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "opendata", "--format", "ods"], "--format does not apply to opendata"),
        (["export", "opendata", "--lang", "en"], "--lang does not apply to opendata"),
        (["export", "eol", "--format", "ods", "--delimiter", ";"], "--delimiter applies to"),
        (["export", "eol", "--format", "json", "--lang", "en"], "--lang does not apply to json"),
        (["export", "energy", "--publisher", "x"], "--publisher applies to opendata only"),
    ],
)
def test_options_are_refused_where_they_do_not_apply(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main([*args, "--config", str(config), "--out", str(tmp_path / "x")]) == 2
    assert message in capsys.readouterr().err


def test_disposal_export_is_the_operator_s_list(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "lot.ods"
    args = ["disposal", "export", "--config", str(config), "--batch", "LOT-1", "--out", str(out)]
    assert main(args) == 0
    cover = {key: value for (_, _, key), value in ods_cells(out, 0)}
    assert cover["Lot"][2] == "LOT-1"
    assert cover["Bordereau de suivi"][2] == "BSD-2026-0042"
    assert cover["Remis le"][:2] == ("date", "2026-11-02")
    assert cover["Appareils"][1] == "3" and cover["Certificats d'effacement manquants"][1] == "1"
    assert cover["Masse connue (kg)"][1] == "24.8"  # 5.3 + 5.3 (class) + 14.2 (weighed)
    rows = ods_cells(out)
    header = [text for _, _, text in rows[0]]
    assert header == [c.title(Lang("fr")) for c in HANDOVER_COLUMNS]
    erasure = header.index("Certificat d'effacement")
    by_asset = {row[header.index("N° d'inventaire")][2]: row for row in rows[1:]}
    assert by_asset["INV-0004"][erasure][2] == "à faire avant la remise"
    assert by_asset["INV-0003"][erasure][2] == "EFF-7"
    csv_out = tmp_path / "lot.csv"
    args = ["disposal", "export", "--config", str(config), "--batch", "LOT-1", "--out",
            str(csv_out), "--format", "csv", "--lang", "en"]  # fmt: skip
    assert main(args) == 0
    lines = read_csv(csv_out, HANDOVER_COLUMNS, Lang("en"))
    assert {r["route"] for r in lines} == {"for reuse", "for recycling"}


def test_disposal_check_and_list(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["disposal", "check", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "LOT-1: pc-older: holds storage and has no erasure certificate" in err
    assert main(["disposal", "list", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "LOT-1  2026-11-02" in out and "3 devices" in out and "1 erasure" in out
    assert main(["disposal", "export", "--config", str(config), "--batch", "NOPE",
                 "--out", "x.ods"]) == 2  # fmt: skip
    assert "unknown batch 'NOPE' (known: LOT-1)" in capsys.readouterr().err


def test_an_issued_hand_over_list_is_kept_and_a_later_change_is_shown(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["disposal", "export", "--config", str(config), "--batch", "LOT-1", "--out",
            str(tmp_path / "lot.ods")]  # fmt: skip
    assert main(args) == 0
    store = StateStore(load_config(config).settings.data_dir / "state.sqlite3")
    (kept,) = store.handovers("LOT-1")
    store.close()
    assert kept.devices == 3 and len(kept.digest) == 64
    assert '"INV-0003"' in kept.list and '"EFF-7"' in kept.list
    capsys.readouterr()
    assert main(["disposal", "list", "--config", str(config)]) == 0
    assert "(3 devices): unchanged since" in capsys.readouterr().out
    # the certificate arrives afterwards: the list the operator holds is no longer the same
    text = config.read_text(encoding="utf-8").replace(
        "disposed: {batch: LOT-1, route: reuse}",
        "disposed: {batch: LOT-1, route: reuse, erasure_certificate: EFF-8}",
    )
    config.write_text(text, encoding="utf-8")
    assert main(["disposal", "list", "--config", str(config)]) == 0
    assert "(3 devices): the inventory changed since" in capsys.readouterr().out


def test_inventory_mistakes_name_file_entry_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "disposals:\n"
        "  LOT-1: {date: 2026-11-02}\n"
        "  LOT-2: {date: 2026-11-02, operator: A, recipient: B}\n"
        "targets:\n"
        "  - {id: a, kind: host, disposed: {batch: LOT-9}}\n"
        "  - {id: b, kind: host, disposed: {batch: LOT-2}}\n"
        "  - {id: c, kind: host, disposed: {route: reuse}}\n"
        "  - {id: d, kind: host, asset: {weee_category: 7, data_media: disk, faults: [{}]}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    where = {(p.entry, p.field): p.message for p in caught.value.problems}
    assert all(p.file == str(path) for p in caught.value.problems)
    assert where[("disposals.LOT-1", "operator")] == "give an operator, a recipient or both"
    assert "unknown disposal batch 'LOT-9'" in where[("targets[0] (id=a)", "disposed.batch")]
    assert "say reuse or recycle" in where[("targets[1] (id=b)", "disposed.route")]
    assert where[("targets[2] (id=c)", "disposed.date")] == "required without a batch"
    assert ("targets[3] (id=d)", "asset.weee_category") in where
    assert ("targets[3] (id=d)", "asset.data_media") in where
    assert ("targets[3] (id=d)", "asset.faults[0].part") in where


def test_a_disposed_device_needs_no_address() -> None:
    config = load_config(_write(INVENTORY))
    assert next(t for t in config.targets if t.id == "pc-old").address is None


def _write(text: str) -> Path:
    import tempfile

    folder = Path(tempfile.mkdtemp())
    path = folder / "sobriety.yaml"
    path.write_text(text, encoding="utf-8")
    return path
