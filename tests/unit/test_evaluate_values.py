"""How one raw value becomes a number or a text: patterns, hex, numbers in strings, enums."""

from __future__ import annotations

import struct

from sobriety.collectors.evaluate import ProfileOutput, _convert, _extract, _number, _text
from sobriety.collectors.profiles import ScalarSpec
from sobriety.snmp.types import Tag, VarBind

OID = (1, 3, 6, 1, 4, 1, 99999, 1, 0)


def spec(**fields: object) -> ScalarSpec:
    return ScalarSpec.model_validate({"name": "x", "oid": "1.3.6.1.4.1.99999.1.0", **fields})


def test_a_patterns_value_group_is_the_value_even_after_another_group() -> None:
    assert _extract(spec(type="string", pattern=r"(a)(?P<value>\d+)"), "a42") == "42"


def test_a_pattern_without_a_value_group_gives_its_first_group() -> None:
    assert _extract(spec(type="string", pattern=r"Model: (\S+) (rev)"), "Model: X1 rev 2") == "X1"


def test_a_pattern_without_groups_gives_the_whole_match() -> None:
    assert _extract(spec(type="string", pattern=r"\d+ dB"), "Combined - 16 dB") == "16 dB"


def test_a_pattern_whose_group_is_empty_gives_no_value() -> None:
    assert _extract(spec(type="string", pattern=r"x(\d*)"), "x") is None


def test_hex_is_the_octets_colon_separated_not_text() -> None:
    assert _text(spec(type="hex"), b"\x00\x1aAB") == "00:1a:41:42"


def test_an_integer_read_as_a_string_is_its_decimal_text() -> None:
    assert _text(spec(type="string"), 42) == "42"


def test_an_integer_is_no_text_for_any_other_type() -> None:
    assert _text(spec(type="hex"), 42) is None


def test_an_opaque_float_is_a_number() -> None:
    value = b"\x9f\x78\x04" + struct.pack(">f", 1.5)
    assert _number(VarBind(OID, Tag.OPAQUE, value)) == 1.5


def test_a_number_written_in_an_octet_string_is_that_number() -> None:
    assert _number(VarBind(OID, Tag.OCTET_STRING, b" 12.5 ")) == 12.5
    assert _number(VarBind(OID, Tag.OCTET_STRING, b"\xff")) is None  # not ASCII: no number


def test_a_value_that_is_no_number_for_a_number_field_is_a_bad_value() -> None:
    out = ProfileOutput()
    assert _convert(spec(type="int"), VarBind(OID, Tag.OCTET_STRING, b"abc"), out, "p") is None
    assert [issue.code for issue in out.issues] == ["bad_value"]
    assert out.issues[0].detail == "p/x: 1.3.6.1.4.1.99999.1.0"


def test_a_pattern_that_finds_no_number_is_no_value_and_no_issue() -> None:
    out = ProfileOutput()
    number = spec(type="int", pattern=r"(\d+) dB")
    assert _convert(number, VarBind(OID, Tag.OCTET_STRING, b"none"), out, "p") is None
    assert out.issues == []


def test_a_varbind_without_a_value_is_no_value_and_no_issue() -> None:
    out = ProfileOutput()
    assert _convert(spec(type="int"), VarBind(OID, Tag.NULL, None), out, "p") is None
    assert out.issues == []


def test_an_enum_state_not_listed_is_its_number_as_text() -> None:
    out = ProfileOutput()
    states = spec(type="enum", states={1: "up", 2: "down"})
    assert _convert(states, VarBind(OID, Tag.INTEGER, 7), out, "p") == "7"
    assert _convert(states, VarBind(OID, Tag.INTEGER, 2), out, "p") == "down"


def test_a_plain_number_is_scaled_and_a_scale_of_one_nth_divides() -> None:
    out = ProfileOutput()
    hundredths = spec(type="float", scale=0.01)
    assert _convert(hundredths, VarBind(OID, Tag.COUNTER64, 67423732), out, "p") == 674237.32
    assert _convert(spec(type="int", scale=2.5), VarBind(OID, Tag.GAUGE32, 4), out, "p") == 10.0
    assert out.issues == []


def test_dropped_and_mapped_integers_do_not_take_the_plain_numbers_path() -> None:
    out = ProfileOutput()
    sentinel = spec(type="int", drop_values=[-1.0, 2147483647.0])
    assert _convert(sentinel, VarBind(OID, Tag.INTEGER, 2147483647), out, "p") is None
    assert _convert(sentinel, VarBind(OID, Tag.INTEGER, 5), out, "p") == 5.0
    truth = spec(type="int", value_map={1: 1.0, 2: 0.0})
    assert _convert(truth, VarBind(OID, Tag.INTEGER, 2), out, "p") == 0.0
    assert _convert(truth, VarBind(OID, Tag.INTEGER, 3), out, "p") is None


def test_an_exception_or_an_integer_of_another_tag_is_no_plain_number() -> None:
    out = ProfileOutput()
    number = spec(type="int")
    assert _convert(number, VarBind(OID, Tag.NO_SUCH_INSTANCE, None), out, "p") is None
    assert _convert(spec(type="string"), VarBind(OID, Tag.INTEGER, 42), out, "p") == "42"
    assert out.issues == []
