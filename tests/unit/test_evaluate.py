"""Profile mechanisms on small hand-made data: units, sentinels, joins, filters, fixtures."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from sobriety.clock import ManualClock
from sobriety.collectors.base import TargetRef
from sobriety.collectors.evaluate import (
    EvaluationCache,
    IdentityColumn,
    RawData,
    _index_labels,
    date_and_time,
    evaluate,
    identity_rows,
)
from sobriety.collectors.profiles import Profile, TableSpec, builtin_profile_dir, load_profiles
from sobriety.collectors.snmp import SnmpCollector
from sobriety.model import Sample
from sobriety.pollonce import poll_recording
from sobriety.snmp.snmprec import RecordedTransport, Recording
from sobriety.snmp.types import Oid, Tag, Value, VarBind, format_oid, parse_oid

DATA = Path(__file__).resolve().parent / "data"
PROFILES = load_profiles([builtin_profile_dir()])
SENSOR = (1, 3, 6, 1, 2, 1, 99, 1, 1, 1)
ENTITY = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)


def named(samples: list[Sample], metric: str) -> list[Sample]:
    return [s for s in samples if s.name == metric]


def recording(records: dict[str, tuple[Tag, Value]]) -> Recording:
    oids = sorted(parse_oid(o) for o in records)
    by = {parse_oid(o): v for o, v in records.items()}
    return Recording(
        Path("fixture.snmprec"),
        oids=oids,
        tags=[by[o][0] for o in oids],
        values=[by[o][1] for o in oids],
    )


def sensor(index: int, kind: int, scale: int, precision: int, value: int, status: int = 1,
           descr: str = "PSU", name: str = "") -> dict[str, tuple[Tag, Value]]:  # fmt: skip
    base = ".".join(map(str, SENSOR))
    ent = ".".join(map(str, ENTITY))
    return {
        f"{base}.1.{index}": (Tag.INTEGER, kind),
        f"{base}.2.{index}": (Tag.INTEGER, scale),
        f"{base}.3.{index}": (Tag.INTEGER, precision),
        f"{base}.4.{index}": (Tag.INTEGER, value),
        f"{base}.5.{index}": (Tag.INTEGER, status),
        f"{ent}.2.{index}": (Tag.OCTET_STRING, descr.encode()),
        f"{ent}.7.{index}": (Tag.OCTET_STRING, name.encode()),
    }


SYSTEM = {
    "1.3.6.1.2.1.1.1.0": (Tag.OCTET_STRING, b"test agent"),
    "1.3.6.1.2.1.1.2.0": (Tag.OBJECT_IDENTIFIER, (1, 3, 6, 1, 4, 1, 99999)),
    "1.3.6.1.2.1.1.3.0": (Tag.TIMETICKS, 100),
}


async def poll(records: dict[str, tuple[Tag, Value]]) -> list[Sample]:
    rec = recording({**SYSTEM, **records})
    clock = ManualClock()
    coll = SnmpCollector(TargetRef("t", "snmp"), RecordedTransport(rec), PROFILES, clock)
    result = await coll.collect()
    assert result.up
    return result.samples


async def test_entity_sensor_scale_precision_sentinel_status_and_optics() -> None:
    samples = await poll(
        {
            **sensor(1, 6, 9, 0, 63, descr="Power sensor for PS 1"),  # 63 W
            **sensor(2, 6, 10, 2, 125, descr="PSU 2"),  # 1.25 kW
            **sensor(3, 6, 8, 4, 6322, descr="DOM TX Power Sensor for Ethernet1"),  # optic
            **sensor(4, 6, 9, 0, -1_000_000_000, descr="PSU 4"),  # sentinel
            **sensor(5, 6, 9, 0, 40, status=3, descr="PSU 5"),  # nonoperational
            **sensor(6, 6, 9, 0, 30, descr="Power", name="xcvr Rx power lane 1"),  # optic
            **sensor(7, 8, 8, 0, 41500, descr="Inlet temperature"),  # 41.5 °C
            **sensor(8, 6, 9, -2, 77, descr="PSU 8"),  # negative precision: integer
        }
    )
    supplies = {
        s.labels["entity"]: s.value for s in named(samples, "sobriety_supply_unit_power_watts")
    }
    assert supplies == {"1": 63.0, "2": 1250.0, "8": 77.0}
    (power,) = named(samples, "sobriety_device_power_watts")
    assert power.value == 63 + 1250 + 77
    assert power.labels == {
        "target": "t",
        "source": "measured",
        "origin": "entity-sensor",
        "basis": "measured",
    }
    (temp,) = named(samples, "sobriety_sensor_temperature_celsius")
    assert temp.value == 41.5


async def test_negative_watts_are_kept_as_reported_and_flagged() -> None:
    rec = recording({**SYSTEM, **sensor(1, 6, 9, 0, -12, descr="PSU 1")})
    coll = SnmpCollector(TargetRef("t", "snmp"), RecordedTransport(rec), PROFILES, ManualClock())
    result = await coll.collect()
    (supply,) = named(result.samples, "sobriety_supply_unit_power_watts")
    assert supply.value == -12
    assert [i.code for i in result.issues] == ["negative_power"]


async def test_energy_object_fixture_keeps_calibers_apart_and_does_not_add_contained() -> None:
    result = await poll_recording(DATA / "energy-object.snmprec", PROFILES)
    assert result.up
    power = named(result.samples, "sobriety_eo_power_watts")
    assert {(s.labels["entity"], s.labels["caliber"]): s.value for s in power} == {
        ("1", "actual"): 123.4,
        ("2", "actual"): 45.6,
        ("3", "static"): 12.0,
    }
    (device,) = named(result.samples, "sobriety_device_power_watts")
    assert (device.labels["origin"], device.value) == ("energy-object", 123.4)
    nameplate = {
        s.labels["entity"]: s.value for s in named(result.samples, "sobriety_eo_nameplate_watts")
    }
    assert nameplate["1"] == 350.0
    states = named(result.samples, "sobriety_eo_power_state")
    assert {s.labels["state"] for s in states} == {"ieee1621On"}


async def test_eaton_epdu_fixture_reads_strata_zero_only_and_drops_unavailable() -> None:
    result = await poll_recording(DATA / "eaton-epdu.snmprec", PROFILES)
    inlets = named(result.samples, "sobriety_pdu_input_power_watts")
    assert [(s.labels["inlet"], s.value) for s in inlets] == [("1", 1530.0)]
    energy = named(result.samples, "sobriety_pdu_input_energy_joules_total")
    assert [s.value for s in energy] == [8_812_345 * 3600]
    outlets = {
        s.labels["outlet"]: s.value
        for s in named(result.samples, "sobriety_pdu_outlet_power_watts")
    }
    assert outlets == {"1": 120.0, "2": 0.0}


def test_date_and_time() -> None:
    assert date_and_time(bytes(8)) is None  # ENTITY-MIB: unknown
    assert date_and_time(bytes.fromhex("07e60810100119000000")) is None  # 10 octets: bad
    utc = date_and_time(bytes.fromhex("07e6081010011900"))
    assert utc == 1660665685.0  # 2022-08-16 16:01:25 UTC
    paris = date_and_time(bytes.fromhex("07e60810100119002b0200"))  # +02:00
    assert paris == utc - 7200
    assert date_and_time(bytes.fromhex("07e60d2010011900")) is None  # month 13


def test_date_and_time_offsets_east_and_west_of_utc_and_tenths_of_seconds() -> None:
    utc = date_and_time(bytes.fromhex("07e6081010011900"))  # 2022-08-16 16:01:25
    assert utc == 1660665685.0
    assert date_and_time(bytes.fromhex("07e60810100119002d051e")) == utc + 5 * 3600 + 1800
    assert date_and_time(bytes.fromhex("07e6081010011905")) == utc + 0.5  # 5 tenths
    assert date_and_time(bytes.fromhex("07e60810100119002b0e3b")) == utc - 14 * 3600 - 59 * 60
    assert date_and_time(bytes.fromhex("07e6081010013c00")) == utc + 59 - 25  # leap second: :59


SCALAR_OID = (1, 3, 6, 1, 4, 1, 99999, 2, 0)


def read_scalar(field: dict[str, object], text: bytes) -> list[float]:
    """The values one scalar field of a profile gives for an OCTET STRING `text`."""
    spec = Profile.model_validate(
        {"name": "t", "title": "t", "source": "test", "match": {"always": True},
         "scalars": [{"name": "f", "oid": format_oid(SCALAR_OID), **field}]}
    )  # fmt: skip
    data = RawData(scalars={SCALAR_OID: VarBind(SCALAR_OID, Tag.OCTET_STRING, text)})
    return [s.value for s in evaluate(spec, data, "t").samples]


@pytest.mark.usefixtures("west_of_utc")
def test_dates_without_a_zone_are_utc_whatever_the_server_s_zone() -> None:
    assert date_and_time(bytes.fromhex("07e6081010011900")) == 1660665685.0  # 16:01:25 UTC
    replaced = {"type": "date", "date_format": "%m/%d/%y",
                "metric": "sobriety_ups_battery_replaced_timestamp_seconds"}  # fmt: skip
    assert read_scalar(replaced, b"08/16/22") == [datetime(2022, 8, 16, tzinfo=UTC).timestamp()]


@pytest.mark.parametrize(
    "octets",
    [
        "07e60810100119002a0200",  # neither '+' nor '-'
        "07e60810100119002b0f00",  # +15:00: DateAndTime stops at 14 hours
        "07e60810100119002b003c",  # 60 minutes
        "0000000000000000000000",  # all zeros, 11 octets
        "07e608101001",  # 6 octets
        "07e6081010011900002b",  # 10 octets
        "07e6081010011900002b020000",  # 13 octets
        "07e6083210011900",  # day 50
    ],
)
def test_date_and_time_refuses_a_bad_zone_a_bad_length_or_an_impossible_date(octets: str) -> None:
    assert date_and_time(bytes.fromhex(octets)) is None


@pytest.mark.parametrize(
    ("parts", "suffix", "labels"),
    [
        ((("port", "int"),), (5,), {"port": "5"}),
        ((("slot", "int"), ("port", "int")), (2, 48), {"slot": "2", "port": "48"}),
        ((), (1, 2), {}),  # a table without an index shape takes any index as is
        ((("mac", "mac"),), (12, 244, 213, 36, 221, 0), {"mac": "0c:f4:d5:24:dd:00"}),
        ((("ap", "mac_string"),), (6, 12, 244, 213, 36, 221, 0), {"ap": "0c:f4:d5:24:dd:00"}),
        (
            (("peer", "ipv4"), ("port", "int")),
            (10, 0, 0, 254, 7),
            {"peer": "10.0.0.254", "port": "7"},
        ),
        ((("name", "string"), ("n", "int")), (3, 65, 112, 49, 9), {"name": "Ap1", "n": "9"}),
        ((("name", "string"),), (0,), {"name": ""}),
        ((("slot", "int"), ("rest", "rest")), (1, 3, 6, 1), {"slot": "1", "rest": "3.6.1"}),
        ((("slot", "int"), ("rest", "rest")), (1,), {"slot": "1", "rest": ""}),
    ],
)
def test_an_index_decodes_into_the_labels_its_shape_names(
    parts: tuple[tuple[str, str], ...], suffix: Oid, labels: dict[str, str]
) -> None:
    assert _index_labels(parts, suffix) == labels


@pytest.mark.parametrize(
    ("parts", "suffix"),
    [
        ((("port", "int"),), ()),  # nothing left for the int
        ((("slot", "int"), ("port", "int")), (2,)),
        ((("port", "int"),), (5, 1)),  # sub-identifiers left over
        ((("mac", "mac"),), (12, 244, 213, 36, 221)),  # five octets
        ((("mac", "mac"),), (12, 244, 213, 36, 221, 256)),  # not an octet
        ((("ap", "mac_string"),), (5, 12, 244, 213, 36, 221)),  # length 5
        ((("ap", "mac_string"),), (6, 12, 244, 213, 36, 221)),  # six for seven
        ((("ap", "mac_string"),), (6, 12, 244, 213, 36, 221, 300)),
        ((("peer", "ipv4"),), (10, 0, 0)),
        ((("peer", "ipv4"),), (10, 0, 0, 256)),
        ((("name", "string"),), ()),  # no length
        ((("name", "string"),), (3, 65, 66)),  # shorter than its length
        ((("name", "string"),), (2, 65, 256)),
        ((("rest", "rest"), ("port", "int")), (1, 2)),  # rest is last or nothing
    ],
)
def test_an_index_that_does_not_fit_its_shape_decodes_to_nothing(
    parts: tuple[tuple[str, str], ...], suffix: Oid
) -> None:
    assert _index_labels(parts, suffix) is None


def profile(text: str) -> Profile:
    import yaml

    return Profile.model_validate(yaml.safe_load(text))


def raw(column: Oid, values: dict[Oid, tuple[Tag, Value]]) -> RawData:
    data = RawData()
    for suffix, (tag, value) in sorted(values.items()):
        data.columns.setdefault(column, []).append(VarBind((*column, *suffix), tag, value))
    return data


def test_json_date_and_label_templates() -> None:
    spec = profile(
        """
name: t
title: t
source: hand-made
match: {always: true}
tables:
  - name: t
    oid: 1.3.6.1.4.1.99999.1
    index: [{name: a, expose: false}, {name: b, expose: false}]
    columns:
      - name: meter
        column: 1
        type: json
        json_key: data.meter.1.reading
        unit: watts
        metric: sobriety_radio_tx_power_dbm
        labels: {radio: "{a}/{b}"}
"""
    )
    column = (1, 3, 6, 1, 4, 1, 99999, 1, 1)
    data = raw(
        column,
        {
            (1, 2): (Tag.OCTET_STRING, b'{"data": {"meter": {"1": {"reading": 340.0}}}}'),
            (1, 3): (Tag.OCTET_STRING, b'{"data": {"meter": {}}}'),  # no reading: an issue
            (1, 4): (Tag.OCTET_STRING, b"not json"),
        },
    )
    out = evaluate(spec, data, "t")
    assert [(s.labels["radio"], s.value) for s in out.samples] == [("1/2", 340.0)]
    assert [i.code for i in out.issues] == ["bad_value", "bad_value"]


def test_a_json_key_walks_lists_by_index_and_an_index_past_the_end_is_no_value() -> None:
    measured = {"source": "measured", "origin": "json", "basis": "measured"}
    meter = {"type": "json", "json_key": "meters.1.watts", "unit": "watts",
             "metric": "sobriety_device_power_watts", "const_labels": measured}  # fmt: skip
    assert read_scalar(meter, b'{"meters": [{"watts": 1}, {"watts": 340}]}') == [340.0]
    assert read_scalar(meter, b'{"meters": [{"watts": 1}]}') == []  # index 1 of a 1-item list


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("role: power", "needs an `origin`"),
        ("type: json", "needs `json_key`"),
        ("type: date", "needs `date_format`"),
        ("const_labels: {a: b}", "only go with a `metric`"),
    ],
)
def test_field_rules_are_checked_when_profiles_load(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        profile(
            f"""
name: t
title: t
source: hand-made
match: {{always: true}}
scalars:
  - {{name: x, oid: 1.3.6.1.4.1.99999.1.0, {text}}}
"""
        )


def test_aggregates_are_named_and_an_unknown_one_is_an_error_not_min() -> None:
    from sobriety.collectors.evaluate import _aggregate, _decoded_number
    from sobriety.collectors.profiles import ColumnSpec, FieldSpec
    from sobriety.errors import ProfileSpecError

    def col(how: str) -> ColumnSpec:
        return ColumnSpec.model_construct(name="c", column=1, aggregate=how)

    values = [3.0, 1.0, 2.0]
    assert [_aggregate(col(a), values) for a in ("sum", "mean", "max", "min", "count")] == [
        6.0, 2.0, 3.0, 1.0, 3.0,
    ]  # fmt: skip
    assert _aggregate(col("sum"), []) is None
    assert _aggregate(col("count"), []) == 0.0
    with pytest.raises(ProfileSpecError, match="unknown aggregate"):
        _aggregate(col("median"), values)
    with pytest.raises(ProfileSpecError, match="date_format"):
        _decoded_number(FieldSpec.model_construct(name="d", type="date"), b"2020-01-01")
    with pytest.raises(ProfileSpecError, match="json_key"):
        _decoded_number(FieldSpec.model_construct(name="j", type="json"), b"{}")


async def test_entity_rows_without_a_class_column_are_kept_when_they_name_something() -> None:
    """A Wi-Fi controller whose agent leaves entPhysicalClass out: its own row and its APs'
    serials are kept (the first row naming a model is the device); rows naming nothing
    (sensors, ports) are not."""
    ent = ".".join(map(str, ENTITY))
    samples = await poll(
        {
            f"{ent}.7.1": (Tag.OCTET_STRING, b"Chassis"),
            f"{ent}.11.1": (Tag.OCTET_STRING, b"FCW1234ABCD"),
            f"{ent}.13.1": (Tag.OCTET_STRING, b"AIR-CT5508-K9"),
            f"{ent}.7.2": (Tag.OCTET_STRING, b"AP 1"),
            f"{ent}.11.2": (Tag.OCTET_STRING, b"FGL1111AAAA"),
            f"{ent}.13.2": (Tag.OCTET_STRING, b"AIR-CAP1602I-E-K9"),
            f"{ent}.7.3": (Tag.OCTET_STRING, b"Temperature"),
            f"{ent}.11.3": (Tag.OCTET_STRING, b""),
        }
    )
    rows = {s.labels["entity"]: s.labels for s in named(samples, "sobriety_entity_info")}
    assert set(rows) == {"1", "2"}
    assert rows["2"]["serial"] == "FGL1111AAAA" and rows["2"]["class"] == ""
    (info,) = named(samples, "sobriety_device_info")
    assert (info.labels["model"], info.labels["serial"]) == ("AIR-CT5508-K9", "FCW1234ABCD")
    origins = {
        s.labels["fact"]: s.labels["origin"]
        for s in named(samples, "sobriety_device_identity_origin_info")
    }
    assert origins["model"] == "entity/model" and origins["serial"] == "entity/serial"


async def test_entity_rows_without_a_class_are_dropped_where_the_agent_has_classes() -> None:
    ent = ".".join(map(str, ENTITY))
    samples = await poll(
        {
            f"{ent}.5.1": (Tag.INTEGER, 3),  # chassis
            f"{ent}.13.1": (Tag.OCTET_STRING, b"WS-C3750"),
            f"{ent}.5.2": (Tag.INTEGER, 10),  # a port
            f"{ent}.13.2": (Tag.OCTET_STRING, b"GLC-T"),
            f"{ent}.13.3": (Tag.OCTET_STRING, b"half-captured row"),  # no class, others have one
        }
    )
    assert [s.labels["entity"] for s in named(samples, "sobriety_entity_info")] == ["1"]


def test_a_pattern_reads_a_model_out_of_a_text_and_no_match_is_no_value() -> None:
    profile = Profile.model_validate(
        {
            "name": "t",
            "title": "t",
            "source": "test",
            "match": {"always": True},
            "scalars": [
                {
                    "name": "model",
                    "oid": "1.3.6.1.2.1.1.1.0",
                    "type": "string",
                    "pattern": r"\(MODEL: (?P<value>[^)]+)\)",
                    "info": "model",
                }
            ],
        }
    )
    descr = (1, 3, 6, 1, 2, 1, 1, 1, 0)

    def run(text: bytes) -> dict[str, str]:
        raw = RawData(scalars={descr: VarBind(descr, Tag.OCTET_STRING, text)})
        return evaluate(profile, raw, "t").info

    assert run(b"ArubaOS (MODEL: Aruba7010), Version 8.3.0.0") == {"model": "Aruba7010"}
    assert run(b"ArubaOS Version 8.3.0.0") == {}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"pattern": "(", "type": "string"}, "bad regular expression"),
        ({"pattern": "x", "type": "hex"}, "only goes with type: string, int or float"),
    ],
)
def test_bad_patterns_are_refused_when_profiles_load(spec: dict[str, str], message: str) -> None:
    from pydantic import ValidationError

    raw = {
        "name": "t",
        "title": "t",
        "source": "test",
        "match": {"always": True},
        "scalars": [{"name": "f", "oid": "1.3.6.1.2.1.1.1.0", **spec}],
    }
    with pytest.raises(ValidationError, match=message):
        Profile.model_validate(raw)


def _profile(table: dict[str, object]) -> Profile:
    return Profile.model_validate(
        {"name": "t", "title": "t", "source": "test", "match": {"always": True}, "tables": [table]}
    )


def _raw(base: str, cells: dict[str, tuple[Tag, Value]]) -> RawData:
    """Columns of one table from {"column.index": (tag, value)}."""
    raw = RawData()
    for key, (tag, val) in sorted(cells.items()):
        oid = parse_oid(f"{base}.{key}")
        column = parse_oid(f"{base}.{key.split('.')[0]}")
        raw.columns.setdefault(column, []).append(VarBind(oid, tag, val))
    return raw


def radio_table(name: str, oid: str, columns: list[dict[str, object]]) -> Profile:
    return _profile({"name": name, "oid": oid, "index": ["radio"], "columns": columns})


def levels_profile() -> Profile:
    """A radio's transmit power as a level (column 2) of its own list of dBm (column 1)."""
    return radio_table("radios", "1.3.6.1.4.1.99999.1", [
        {"name": "levels", "column": 1, "type": "string"},
        {"name": "tx", "column": 2, "pick_from": "levels", "metric": "sobriety_radio_tx_power_dbm"},
    ])  # fmt: skip


def milliwatts_profile() -> Profile:
    """A radio's transmit power as the milliwatts of its current level (column 3: 1 or 2)."""
    return radio_table("power", "1.3.6.1.4.1.99999.2", [
        {"name": "l1", "column": 1},
        {"name": "l2", "column": 2},
        {"name": "tx", "column": 3, "pick_among": ["l1", "l2"], "to_dbm": True,
         "metric": "sobriety_radio_tx_power_dbm"},
    ])  # fmt: skip


def test_a_level_picks_its_dbm_from_the_radios_own_list_and_out_of_list_is_no_value() -> None:
    profile = levels_profile()
    raw = _raw(
        "1.3.6.1.4.1.99999.1",
        {
            "1.1": (Tag.OCTET_STRING, b"17,14,11,8,5,2,-1"),
            "2.1": (Tag.INTEGER, 3),
            "1.2": (Tag.OCTET_STRING, b"20,17"),
            "2.2": (Tag.INTEGER, 5),  # level 5 of a two-level radio: not in its list
            "2.3": (Tag.INTEGER, 1),  # no list at all
        },
    )
    out = evaluate(profile, raw, "t")
    assert [(s.labels["radio"], s.value) for s in out.samples] == [("1", 11.0)]


def test_milliwatts_of_the_current_level_become_dbm() -> None:
    profile = milliwatts_profile()
    raw = _raw(
        "1.3.6.1.4.1.99999.2",
        {
            "1.1": (Tag.INTEGER, 100), "2.1": (Tag.INTEGER, 1000), "3.1": (Tag.INTEGER, 2),
            "1.2": (Tag.INTEGER, 0), "3.2": (Tag.INTEGER, 1),  # 0 mW has no dBm
            "1.3": (Tag.INTEGER, 50), "3.3": (Tag.INTEGER, 3),  # no third level
        },
    )  # fmt: skip
    out = evaluate(profile, raw, "t")
    assert [(s.labels["radio"], s.value) for s in out.samples] == [("1", 30.0)]


def test_the_last_level_of_a_radio_s_list_is_a_level_too() -> None:
    profile = levels_profile()
    raw = _raw(
        "1.3.6.1.4.1.99999.1",
        {
            "1.1": (Tag.OCTET_STRING, b"17,14,11,8,5,2,-1"), "2.1": (Tag.INTEGER, 7),
            "1.2": (Tag.OCTET_STRING, b"20,17"), "2.2": (Tag.INTEGER, 2),
        },
    )  # fmt: skip
    out = evaluate(profile, raw, "t")
    assert [(s.labels["radio"], s.value) for s in out.samples] == [("1", -1.0), ("2", 17.0)]


def test_one_milliwatt_is_zero_dbm_and_a_radio_without_a_level_hides_no_other() -> None:
    profile = milliwatts_profile()
    raw = _raw(
        "1.3.6.1.4.1.99999.2",
        {
            "1.1": (Tag.INTEGER, 100),  # radio 1 reports no current level
            "1.2": (Tag.INTEGER, 1), "3.2": (Tag.INTEGER, 1),
            "2.3": (Tag.INTEGER, 1000), "3.3": (Tag.INTEGER, 2),
        },
    )  # fmt: skip
    out = evaluate(profile, raw, "t")
    assert [(s.labels["radio"], s.value) for s in out.samples] == [("2", 0.0), ("3", 30.0)]


def test_forgetting_a_table_keeps_every_other_table_and_profile_cached() -> None:
    from sobriety.collectors.evaluate import EvaluationCache, ProfileOutput

    cache = EvaluationCache()
    for key in (("p", "t"), ("p", "u"), ("q", "t")):
        cache.tables[key] = ProfileOutput()
    for key in (("p", "t", "c"), ("p", "u", "c"), ("q", "t", "c"), ("p", "t", "d")):
        cache.columns[key] = ((), ())
    cache.forget_table("p", "t")
    assert sorted(cache.tables) == [("p", "u"), ("q", "t")]
    assert sorted(cache.columns) == [("p", "u", "c"), ("q", "t", "c")]
    cache.forget_table("r", "t")  # nothing cached for it: nothing to forget, no error
    assert len(cache.tables) == 2


def test_a_power_of_ten_scales_each_row_and_a_row_without_one_has_no_value() -> None:
    profile = _profile(
        {
            "name": "meters",
            "oid": "1.3.6.1.4.1.99999.4",
            "index": ["entity"],
            "columns": [
                {"name": "multiplier", "column": 1},
                {"name": "factor", "column": 3},
                {"name": "watts", "column": 2, "exponent_from": [{"field": "multiplier"}],
                 "metric": "sobriety_eo_power_watts", "const_labels": {"caliber": "actual"}},
                {"name": "scaled", "column": 4, "multiply_by": "factor",
                 "metric": "sobriety_eo_nameplate_watts"},
            ],
        }
    )  # fmt: skip
    raw = _raw(
        "1.3.6.1.4.1.99999.4",
        {
            "1.1": (Tag.INTEGER, 0),  # meter 1: a multiplier, no reading
            "3.1": (Tag.INTEGER, 2),
            "1.2": (Tag.INTEGER, -2), "2.2": (Tag.INTEGER, 12345), "4.2": (Tag.INTEGER, 7),
            "1.3": (Tag.INTEGER, 0), "2.3": (Tag.INTEGER, 42), "3.3": (Tag.INTEGER, 3),
            "4.3": (Tag.INTEGER, 5),
            "1.4": (Tag.INTEGER, 3), "2.4": (Tag.INTEGER, 2),
            "2.5": (Tag.INTEGER, 9),  # no multiplier: no honest value
        },
    )  # fmt: skip
    out = evaluate(profile, raw, "t")
    watts = {
        s.labels["entity"]: s.value for s in out.samples if s.name == "sobriety_eo_power_watts"
    }
    assert watts == {"2": 123.45, "3": 42.0, "4": 2000.0}
    scaled = {
        s.labels["entity"]: s.value for s in out.samples if s.name == "sobriety_eo_nameplate_watts"
    }
    assert scaled == {"3": 15.0}  # meter 2 has no factor: its value is dropped, not kept as is


def test_a_fractional_number_is_its_own_label_value() -> None:
    from sobriety.collectors.evaluate import _label_value

    assert (_label_value(1.5), _label_value(3.0), _label_value("x")) == ("1.5", "3", "x")


def test_text_states_a_length_prefixed_mac_index_and_fixed_info_labels() -> None:
    profile = _profile(
        {
            "name": "aps",
            "oid": "1.3.6.1.4.1.99999.3",
            "index": [{"name": "device", "format": "mac_string"}],
            "emit_info": {
                "metric": "sobriety_managed_device_info",
                "labels": {"name": "name", "model": "model", "serial": "serial"},
                "const_labels": {"kind": "ap", "vendor": "Example"},
            },
            "columns": [
                {"name": "name", "column": 1, "type": "string"},
                {"name": "model", "column": 2, "type": "string"},
                {"name": "serial", "column": 3, "type": "string"},
                {
                    "name": "conn",
                    "column": 4,
                    "type": "string",
                    "text_map": {"Connect": 1, "Disconnect": 0},
                    "metric": "sobriety_managed_device_up",
                },
            ],
        }
    )
    mac = "6.12.244.213.36.221.0"
    other = "6.12.244.213.36.235.32"
    raw = _raw(
        "1.3.6.1.4.1.99999.3",
        {
            f"1.{mac}": (Tag.OCTET_STRING, b"AP-1"),
            f"2.{mac}": (Tag.OCTET_STRING, b"H500"),
            f"4.{mac}": (Tag.OCTET_STRING, b"Connect"),
            f"4.{other}": (Tag.OCTET_STRING, b"Rebooting"),  # a text not in the map: no value
            "4.5.1.2.3.4.5": (Tag.OCTET_STRING, b"Connect"),  # a 5-octet index: not a MAC
        },
    )
    out = evaluate(profile, raw, "t")
    up = {
        s.labels["device"]: s.value for s in out.samples if s.name == "sobriety_managed_device_up"
    }
    assert up == {"0c:f4:d5:24:dd:00": 1.0}
    info = [s.labels for s in out.samples if s.name == "sobriety_managed_device_info"]
    assert info[0] == {
        "target": "t", "device": "0c:f4:d5:24:dd:00", "name": "AP-1", "model": "H500",
        "serial": "", "kind": "ap", "vendor": "Example",
    }  # fmt: skip
    assert [i.code for i in out.issues] == ["bad_index"]


def _entity_table() -> TableSpec:
    (entity,) = [p for p in PROFILES.profiles if p.name == "entity"]
    return entity.tables[0]


def _entity_raw(rows: dict[int, dict[int, tuple[Tag, Value]]]) -> RawData:
    data = RawData()
    for column in sorted({c for row in rows.values() for c in row}):
        oid = (*ENTITY, column)
        data.columns[oid] = [VarBind((*oid, i), *row[column])
                             for i, row in sorted(rows.items()) if column in row]  # fmt: skip
    return data


def test_an_identity_filter_if_implemented_tests_an_agent_that_has_the_field_only() -> None:
    """entPhysicalTable keeps chassis, modules, supplies: a port row goes where the agent
    gives entPhysicalClass; an agent without that column keeps every row here (what names
    nothing is left out later, by the template filter on state and identity together)."""
    table = _entity_table()
    with_class = _entity_raw({
        1: {5: (Tag.INTEGER, 3), 11: (Tag.OCTET_STRING, b"FOC1")},
        2: {5: (Tag.INTEGER, 10), 11: (Tag.OCTET_STRING, b"P2")},
    })  # fmt: skip
    assert identity_rows(table, with_class) == [(1,)]
    without = _entity_raw({
        1: {11: (Tag.OCTET_STRING, b"AP1")},
        2: {11: (Tag.OCTET_STRING, b"")},
    })  # fmt: skip
    assert identity_rows(table, without) == [(1,), (2,)]


def test_keeping_a_table_s_rows_drops_the_others_from_its_columns_only() -> None:
    cache = EvaluationCache()
    column = IdentityColumn.of([((1,), "a"), ((2,), "b")], ())
    cache.columns = {("p", "t", "serial"): column, ("q", "t", "serial"): column,
                     ("p", "u", "serial"): column}  # fmt: skip
    cache.keep_only("p", "t", frozenset({(2,)}))
    assert cache.columns[("p", "t", "serial")].values == ("b",)
    assert cache.columns[("p", "t", "serial")].suffixes == ((2,),)
    assert cache.columns[("q", "t", "serial")].values == ("a", "b")  # another profile's table
    assert cache.columns[("p", "u", "serial")].values == ("a", "b")  # another table


def test_a_positive_power_of_ten_multiplies_exactly() -> None:
    """1 × 10^5 is 100,000, not 1 / 10^-5 (99,999.99999999999); a negative one divides by
    the integer power (123.45, exactly as written)."""
    profile = _profile(
        {
            "name": "meters",
            "oid": "1.3.6.1.4.1.99999.4",
            "index": ["entity"],
            "columns": [
                {"name": "multiplier", "column": 1},
                {"name": "watts", "column": 2, "exponent_from": [{"field": "multiplier"}],
                 "metric": "sobriety_eo_power_watts", "const_labels": {"caliber": "actual"}},
            ],
        }
    )  # fmt: skip
    raw = _raw(
        "1.3.6.1.4.1.99999.4",
        {"1.1": (Tag.INTEGER, 5), "2.1": (Tag.INTEGER, 1),
         "1.2": (Tag.INTEGER, -2), "2.2": (Tag.INTEGER, 12345)},
    )  # fmt: skip
    out = evaluate(profile, raw, "t")
    watts = [s.value for s in out.samples if s.name == "sobriety_eo_power_watts"]
    assert watts == [100_000.0, 123.45]


def test_a_row_the_identity_filters_left_out_is_not_even_converted_at_later_polls() -> None:
    """Meters of kind 8 only: the other row's unreadable state value raises no bad_value
    issue and makes no sample once the rows are decided (and the kept row still does)."""
    profile = _profile(
        {
            "name": "sensors",
            "oid": "1.3.6.1.4.1.99999.6",
            "index": ["entity"],
            "filter": [{"field": "kind", "in": [8]}],
            "columns": [
                {"name": "kind", "column": 1, "cadence": "identity"},
                {"name": "watts", "column": 2, "metric": "sobriety_eo_power_watts",
                 "const_labels": {"caliber": "actual"}},
            ],
        }
    )  # fmt: skip
    raw = _raw(
        "1.3.6.1.4.1.99999.6",
        {"1.1": (Tag.INTEGER, 8), "2.1": (Tag.INTEGER, 41),
         "1.2": (Tag.INTEGER, 3), "2.2": (Tag.OCTET_STRING, b"n/a")},
    )  # fmt: skip
    cache = EvaluationCache()
    first = evaluate(profile, raw, "t", cache)
    assert [issue.code for issue in first.issues] == ["bad_value"]  # not yet decided
    later = evaluate(profile, raw, "t", cache)
    assert later.issues == []
    assert [(s.labels, s.value) for s in later.samples] == [
        ({"target": "t", "entity": "1", "caliber": "actual"}, 41.0)
    ]
