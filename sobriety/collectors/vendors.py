"""Who made a device, from the IANA Private Enterprise Number its agent names.

The registry (`collectors/iana-enterprises.tsv.bz2`) maps numbers to organisations;
`collectors/vendors.yaml` says which numbers belong to generic agents (net-snmp, the Windows
service), whose sysObjectID says nothing of the hardware, and how common makers are called.
When sysObjectID names a generic agent (or is missing), the vendor is the first private
subtree the agent serves that is not a generic one: one GETNEXT from 1.3.6.1.4.1 and from
just past each generic subtree finds it (`subtree_queries`), in the identification probes.
"""

from __future__ import annotations

import bz2
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from sobriety.errors import ConfigError, ConfigProblem
from sobriety.snmp.types import Oid, VarBind

ENTERPRISES: Oid = (1, 3, 6, 1, 4, 1)


class PackedNames(Mapping[int, str]):
    """A read-only number -> name map of ~60,000 entries in about 1.5 MB, instead of the
    ~8 MB a dict of ints and strings takes: sorted numbers and name offsets in arrays,
    the names in one string."""

    def __init__(self, items: Iterable[tuple[int, str]]) -> None:
        numbers, offsets, names, at = array("I"), array("I"), [], 0
        for number, name in sorted(dict(items).items()):
            numbers.append(number)
            offsets.append(at)
            names.append(name)
            at += len(name)
        offsets.append(at)
        self._numbers, self._offsets, self._text = numbers, offsets, "".join(names)

    def __getitem__(self, number: int) -> str:
        i = bisect_left(self._numbers, number)
        if i == len(self._numbers) or self._numbers[i] != number:
            raise KeyError(number)
        return self._text[self._offsets[i] : self._offsets[i + 1]]

    def __iter__(self) -> Iterator[int]:
        return iter(self._numbers)

    def __len__(self) -> int:
        return len(self._numbers)


@dataclass(frozen=True)
class EnterpriseRegistry:
    """PEN -> organisation, with display names and the generic agents set apart."""

    registered: Mapping[int, str]
    names: Mapping[int, str]
    generic: frozenset[int]

    def vendor(self, pen: int) -> str | None:
        """The maker a PEN names; None for generic agents and unregistered numbers."""
        if pen in self.generic:
            return None
        return self.names.get(pen) or self.registered.get(pen)

    def pen_of(self, oid: Oid | None) -> int | None:
        """The enterprise number an OID sits under (None outside 1.3.6.1.4.1)."""
        if oid is None or len(oid) <= len(ENTERPRISES) or oid[:6] != ENTERPRISES:
            return None
        return oid[6]

    def subtree_queries(self) -> list[Oid]:
        """GETNEXT starting points that, answered together, reveal the lowest private
        subtree served that is not a generic agent's."""
        return [ENTERPRISES, *((*ENTERPRISES, pen + 1) for pen in sorted(self.generic))]

    def first_vendor_subtree(self, answers: Iterable[VarBind]) -> int | None:
        """The lowest non-generic, registered PEN among GETNEXT answers to those queries."""
        found = {
            pen
            for vb in answers
            if not vb.is_exception
            and (pen := self.pen_of(vb.oid)) is not None
            and self.vendor(pen) is not None
        }
        return min(found) if found else None


def load_registry(table: Path, vendors: Path) -> EnterpriseRegistry:
    """Read the compact registry and the vendors file; ConfigError if the file is wrong."""
    registered = PackedNames(
        (int(number), name)
        for line in bz2.decompress(table.read_bytes()).decode("utf-8").splitlines()
        for number, _, name in (line.partition("\t"),)
        if number.isdecimal() and name and int(number) < 2**32
    )
    raw = yaml.safe_load(vendors.read_text(encoding="utf-8")) or {}
    problems = []
    sections: dict[str, dict[int, str]] = {}
    for key in ("generic_agents", "names"):
        section = raw.get(key, {}) if isinstance(raw, dict) else None
        if not isinstance(section, dict) or not all(
            isinstance(k, int) and isinstance(v, str) for k, v in section.items()
        ):
            problems.append(ConfigProblem(str(vendors), key, "-", "a map of PEN: name"))
            section = {}
        sections[key] = section
    if problems:
        raise ConfigError(problems)
    return EnterpriseRegistry(registered, sections["names"], frozenset(sections["generic_agents"]))


@lru_cache(maxsize=1)
def builtin_registry() -> EnterpriseRegistry:
    """The registry shipped with sobriety (read once per process, ~0.1 s)."""
    from sobriety.resources import data_dir

    folder = data_dir("collectors")
    return load_registry(folder / "iana-enterprises.tsv.bz2", folder / "vendors.yaml")
