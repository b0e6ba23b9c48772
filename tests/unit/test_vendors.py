"""Vendors from the IANA enterprise number registry: sysObjectID first, then served subtrees."""

from __future__ import annotations

import bz2
from pathlib import Path

import pytest

from sobriety.collectors.vendors import ENTERPRISES, builtin_registry, load_registry
from sobriety.errors import ConfigError
from sobriety.snmp.types import Tag, VarBind

REGISTRY = builtin_registry()


def test_the_shipped_table_is_the_whole_registry_with_its_source_and_date() -> None:
    table = Path(__file__).resolve().parents[2] / "collectors" / "iana-enterprises.tsv.bz2"
    head = bz2.decompress(table.read_bytes()).decode("utf-8").splitlines()[:4]
    assert "iana.org/assignments/enterprise-numbers" in head[1]
    assert "registry last updated 20" in head[2]
    assert len(REGISTRY.registered) > 60_000
    assert table.stat().st_size < 5_000_000


def test_vendor_names_generic_agents_and_registered_names() -> None:
    assert REGISTRY.vendor(9) == "Cisco"  # the registry says ciscoSystems
    assert REGISTRY.vendor(40614) == "GUANGDONG EAST POWER CO.,LTD."  # as registered
    assert REGISTRY.vendor(8072) is None  # net-snmp runs on anything
    assert REGISTRY.vendor(311) is None  # so does the Windows SNMP service
    assert REGISTRY.vendor(999_999_999) is None
    assert REGISTRY.pen_of((1, 3, 6, 1, 4, 1, 2636, 1, 1)) == 2636
    assert REGISTRY.pen_of((1, 3, 6, 1, 2, 1, 1)) is None
    assert REGISTRY.pen_of(None) is None


def test_one_getnext_of_the_subtree_queries_finds_the_first_maker_served() -> None:
    """A net-snmp agent serving UCD (2021), net-snmp (8072) and a storage maker's MIB."""
    served = sorted(
        [(*ENTERPRISES, 2021, 4, 1), (*ENTERPRISES, 8072, 1, 2), (*ENTERPRISES, 35904, 1, 2)]
    )

    def next_after(oid: tuple[int, ...]) -> VarBind:
        following = [o for o in served if o > oid]
        if not following:
            return VarBind(oid, Tag.END_OF_MIB_VIEW, None)
        return VarBind(following[0], Tag.INTEGER, 1)

    answers = [next_after(q) for q in REGISTRY.subtree_queries()]
    assert REGISTRY.first_vendor_subtree(answers) == 35904
    assert REGISTRY.vendor(35904) == "MacroSAN"
    generic_only = [VarBind((*ENTERPRISES, 2021, 1), Tag.INTEGER, 1)]
    assert REGISTRY.first_vendor_subtree(generic_only) is None


def test_a_broken_vendors_file_is_a_config_error(tmp_path: Path) -> None:
    table = tmp_path / "t.tsv.bz2"
    table.write_bytes(bz2.compress(b"9\tciscoSystems\n"))
    vendors = tmp_path / "vendors.yaml"
    vendors.write_text("generic_agents: [8072]\nnames: {9: Cisco}\n")
    with pytest.raises(ConfigError, match="generic_agents"):
        load_registry(table, vendors)
