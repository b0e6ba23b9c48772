"""Generated reference of the shipped device profiles: `docs/profiles.md`.

One section a profile: what it is for, how it matches, where its OIDs and units come from,
then every field it reads (OID, how the raw value is turned into a number, the metric, the
role the energy and lifetime code consumes, and how often it is read).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sobriety.collectors.profiles import (
    ColumnSpec,
    FieldSpec,
    Profile,
    ProfileSet,
    TableSpec,
    builtin_profile_dir,
    load_profiles,
)
from sobriety.snmp.types import format_oid

HEADER = """# Device profiles (reference)

Generated from `collectors/snmp/*.yaml` by `python -m sobriety.gen.profile_docs docs/profiles.md`
(`make docs`); a test fails when this page and the profiles disagree. How to write a profile
is in `collectors/README.md`. Roles: `power` is the device's own draw (summed, or the largest
with `combine: max`, per origin; the most preferred origin becomes
`sobriety_device_power_watts{source="measured"}`), `supply` is power it delivers to others,
`input` what it draws including what it passes on, `energy` a device's own energy counter,
`wear`, `identity`, `status`, `radio`, `load`, `capacity`, `inventory` feed lifetime and
estimation. Cadence `identity` is read at first contact, daily, after a reboot or when the
table's change marker moves; `state` every poll.
"""


def _how(field: FieldSpec) -> str:
    parts: list[str] = [field.type]
    if field.type == "enum":
        parts.append(f"{len(field.states)} states")
    if field.json_key:
        parts.append(f"key `{field.json_key}`")
    if field.date_format:
        parts.append(f"format `{field.date_format}`")
    if field.scale != 1:
        parts.append(f"× {field.scale:g}")
    if field.multiply_by:
        parts.append(f"× {field.multiply_by}")
    if field.divide_by:
        parts.append(f"÷ {field.divide_by}")
    for term in field.exponent_from:
        inner = f"{term.times}·{term.field}" if term.times != 1 else term.field
        if term.offset:
            inner += f"{term.offset:+d}"
        parts.append(f"× 10^({inner}{', ≥0' if term.positive_only else ''})")
    if field.value_map:
        parts.append("mapped " + ", ".join(f"{k}→{v:g}" for k, v in field.value_map.items()))
    if field.text_map:
        parts.append("mapped " + ", ".join(f"{k}→{v:g}" for k, v in field.text_map.items()))
    if field.pattern:
        escaped = field.pattern.replace("|", "\\|")  # a table cell
        parts.append(f"pattern `{escaped}`")
    if field.pick_from:
        parts.append(f"position in {field.pick_from}")
    if field.pick_among:
        parts.append(f"position among {', '.join(field.pick_among)}")
    if field.to_dbm:
        parts.append("mW → dBm")
    if field.drop_values:
        parts.append("drops " + ", ".join(f"{v:g}" for v in field.drop_values))
    if field.unit:
        parts.append(f"→ {field.unit}")
    return "; ".join(parts)


def _role(field: FieldSpec) -> str:
    if field.role is None:
        return "–"
    extra = [field.origin] if field.origin else []
    if field.preference:
        extra.append(f"pref {field.preference}")
    if field.combine != "sum":
        extra.append(field.combine)
    return field.role + (f" ({', '.join(extra)})" if extra else "")


def _row(oid: str, field: FieldSpec, cadence: str) -> str:
    metric = f"`{field.metric}`" if field.metric else ("info " + field.info if field.info else "–")
    if field.metric and field.aggregate:
        metric += f" ({field.aggregate})"
    cells = (field.name, f"`{oid}`", _how(field), metric, _role(field), cadence)
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a `|`, even in a code span, would end the cell."""
    return text.replace("|", "\\|")


def _match(profile: Profile) -> str:
    m = profile.match
    parts = []
    if m.always:
        parts.append("always")
    if m.sysobjectid:
        parts.append("sysObjectID under " + ", ".join(f"`{o}`" for o in m.sysobjectid))
    if m.sysdescr:
        parts.append("sysDescr matching " + ", ".join(f"`{p}`" for p in m.sysdescr))
    if m.probe:
        parts.append("a probe finds " + ", ".join(f"`{o}`" for o in m.probe))
    text = " or ".join(parts)
    if m.exclude_sysobjectid or m.exclude_sysdescr:
        excluded = [f"`{o}`" for o in (*m.exclude_sysobjectid, *m.exclude_sysdescr)]
        text += "; never " + ", ".join(excluded)
    return text


def _table(table: TableSpec, lines: list[str]) -> None:
    index = ", ".join(
        p.name + (f" ({p.format})" if p.format != "int" else "") + ("" if p.expose else ", hidden")
        for p in table.index
    )
    lines.append(f"\nTable **{table.name}** `{table.oid}`, index {index or '–'}.")
    notes = []
    for f in table.filter:
        tests = [
            f"in {list(f.values)}" if f.values else "",
            f"not in {list(f.not_in)}" if f.not_in else "",
            f"matches `{f.match}`" if f.match else "",
            f"does not match `{f.not_match}`" if f.not_match else "",
        ]
        notes.append(f"`{f.field}` " + " and ".join(t for t in tests if t))
    if notes:
        lines.append("Rows kept: " + "; ".join(notes) + ".")
    if table.reread_when:
        lines.append(f"Identity data re-read when `{table.reread_when}` changes.")
    if table.get_rows:
        lines.append("Between identity reads, the kept rows' state columns are read by GET.")
    lines.append("")
    lines.append("| field | OID | read as | metric | role | cadence |")
    lines.append("|---|---|---|---|---|---|")
    for col in table.columns:
        lines.append(_row(format_oid(table.column_oid(col)), col, _cadence(table, col)))


def _cadence(table: TableSpec, col: ColumnSpec) -> str:
    return table.column_cadence(col)


def render(profiles: ProfileSet) -> str:
    """The whole page."""
    lines = [HEADER, "| profile | what | matches |", "|---|---|---|"]
    for p in profiles.profiles:
        lines.append(f"| [{p.name}](#{p.name}) | {p.title} | {_cell(_match(p))} |")
    for p in profiles.profiles:
        lines.append(f"\n## {p.name}\n")
        lines.append(f"{p.title}." + (f" Vendor: {p.vendor}." if p.vendor else ""))
        lines.append(
            f"\nMatches: {_match(p)}." + (f" Priority {p.priority}." if p.priority else "")
        )
        lines.append(f"\nSource: {' '.join(p.source.split())}")
        if p.scalars:
            lines.append("\n| field | OID | read as | metric | role | cadence |")
            lines.append("|---|---|---|---|---|---|")
            for s in p.scalars:
                lines.append(_row(s.oid, s, s.cadence))
        for t in p.tables:
            _table(t, lines)
    return "\n".join(lines) + "\n"


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/profiles.md")
    path.write_text(render(load_profiles([builtin_profile_dir()])), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
