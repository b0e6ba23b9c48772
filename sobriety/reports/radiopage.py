"""`/reports/radio`: the radio transmitters of each site, in French by default (`?lang=en`).

First what the figures are (upper bounds from what transmitters declare, not measurements),
then per site: for a school, a per-room table for its council (access points, highest EIRP,
hours on during and outside teaching this month); then every transmitter with its conducted
power, gain, EIRP, legal maximum, field bound at the site's distances and distances to the
ANFR and décret levels. Unknown figures say why. Rendered on the server; no script.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from sobriety.config.radio import SCHOOL_TYPES
from sobriety.reports.i18n import N_, Lang
from sobriety.reports.radio import RadioLine, RadioReport, SiteRadioInfo, rooms

SITE_TYPE_WORDS = {
    "ecole_primaire": N_("primary school (école primaire)"),
    "college": N_("lower secondary school (collège)"),
    "lycee": N_("upper secondary school (lycée)"),
    "creche": N_("nursery (crèche)"),
    "office": N_("office"),
    "datacentre": N_("data centre"),
    "micro_antenna_site": N_("micro-antenna site"),
    "other": N_("other site"),
}
REASON_WORDS = {
    "tx_power_unknown": N_("transmit power unknown"),
    "antenna_gain_unknown": N_("antenna gain unknown"),
    "frequency_unknown": N_("frequency unknown"),
    "band_ambiguous": N_("band ambiguous"),
    "not_in_table": N_("band not in the table"),
    "band_unknown": N_("band unknown"),
    "country_unknown": N_("site country not set"),
    "country_not_in_table": N_("no table for the site's country"),
    "no_limit_in_table": N_("no legal maximum in the table for this band"),
}  # fmt: skip
GAIN_WORDS = {
    "mib": N_("reported by the device"),
    "model": N_("model table"),
    "inventory": N_("inventory"),
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:1rem 1.2rem;color:#1b1b1b;line-height:1.35}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin:1.4rem 0 .3rem}
h3{font-size:1.05rem;margin:1rem 0 .3rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .45rem;vertical-align:top}
th{background:#eef3ee;text-align:left}td.num{text-align:right;white-space:nowrap}
td.unknown{color:#6b4e00;background:#fff8e1}td.over{background:#fde2e2}
p.note{font-size:.85rem;max-width:60rem;margin:.4rem 0}
#upper-bound{border-left:4px solid #b26a00;background:#fff8e1;padding:.5rem .9rem;
max-width:60rem}#upper-bound p{margin:.3rem 0}
"""


def _lang(query: Mapping[str, str]) -> Lang:
    return Lang("en" if query.get("lang") == "en" else "fr")


def _num(lang: Lang, value: float | None, decimals: int) -> str:
    return lang("unknown") if value is None else lang.number(value, decimals, True)


def _why(lang: Lang, line: RadioLine, fact: str) -> str:
    """The reason a fact is unknown, in words ("" when it is known)."""
    unknown = line.get("unknown")
    for item in unknown if isinstance(unknown, list) else []:
        if isinstance(item, list) and len(item) == 2 and item[0] == fact:
            return lang("unknown: {reason}").format(
                reason=lang(REASON_WORDS.get(str(item[1]), str(item[1])))
            )
    return ""


def _cell(text: str, css: str = "num") -> str:
    return f'<td class="{css}">{html.escape(text)}</td>'


def notice(lang: Lang, report: RadioReport) -> str:
    """What the figures are and are not."""
    e = html.escape
    levels = sorted({s.anfr_level for s in report.sites.values()})
    level = " / ".join(lang.number(v, 0) for v in levels) if levels else "9"
    lines = [
        lang("Every field figure on this page is an upper bound worked out from what the "
             "transmitters declare (conducted power, antenna gain, cable loss): it is not a "
             "measurement, and sobriety cannot measure exposure."),
        lang("It assumes the far field in free space, the transmitter sending all the time "
             "(100 % duty cycle) and nothing in between: E = √(30·EIRP) / d. Real exposure "
             "is lower; only a measurement on site (ANFR protocol) says what it is."),
        lang("No field figure is given in an antenna's near field (closer than 2D²/λ), where "
             "the formula does not hold: the page says \"not valid here\" instead."),
        lang("ANFR atypical-point level: {level} V/m, a vigilance level, not a limit. "
             "Reference levels of décret n° 2002-775 for the general public: 28 V/m from 10 "
             "to 400 MHz, 1.375·√f V/m from 400 to 2000 MHz, 61 V/m from 2 to 300 GHz.")
        .format(level=level),
    ]  # fmt: skip
    return '<section id="upper-bound">' + "".join(f"<p>{e(t)}</p>" for t in lines) + "</section>"


def council(lang: Lang, info: SiteRadioInfo, lines: Sequence[RadioLine]) -> str:
    """The per-room table a school council reads."""
    e = html.escape
    heads = (N_("Room"), N_("Access points"), N_("Wi-Fi radios"), N_("On now"),
             N_("Highest EIRP (dBm)"), N_("Hours on during teaching"),
             N_("Hours on outside teaching"))  # fmt: skip
    body = []
    for room in rooms(lines):
        eirp = _num(lang, room.eirp_max_dbm, 1)
        if room.eirp_unknown and room.eirp_max_dbm is not None:
            eirp += " " + lang("({count} unknown)").format(count=room.eirp_unknown)
        body.append(
            f"<tr><th>{e(room.room or lang('(no room)'))}</th>"
            f"{_cell(str(len(room.devices)))}{_cell(str(room.radios))}{_cell(str(room.on_now))}"
            f"{_cell(eirp)}{_cell(lang.number(room.teaching_h, 1, True))}"
            f"{_cell(lang.number(room.outside_h, 1, True))}</tr>"
        )
    title = lang("Wi-Fi per room, {month}").format(month=info.month)
    return (
        f'<h3>{e(title)}</h3><div class="scroll"><table class="rooms" id="rooms-{e(info.id)}">'
        f"<thead><tr>{''.join(f'<th>{e(lang(h))}</th>' for h in heads)}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _field_cells(lang: Lang, line: RadioLine, info: SiteRadioInfo) -> str:
    fields = line.get("fields")
    by_metres = {
        f.get("metres"): f
        for f in (fields if isinstance(fields, list) else [])
        if isinstance(f, dict)
    }
    out = []
    for metres, _ in info.distances:
        found = by_metres.get(metres)
        if found is None:
            out.append(_cell(lang("unknown"), "unknown"))
        elif found.get("volts_per_metre") is None:
            out.append(_cell(lang("not valid here (near field)"), "unknown"))
        else:
            value = float(found["volts_per_metre"])
            out.append(_cell(lang("≤ {value}").format(value=lang.number(value, 1, True))))
    return "".join(out)


def _threshold_cells(lang: Lang, line: RadioLine) -> str:
    items = line.get("thresholds")
    by_level = {
        t.get("level"): t for t in (items if isinstance(items, list) else []) if isinstance(t, dict)
    }
    out = []
    for level in ("anfr", "decret"):
        found = by_level.get(level)
        if found is None:
            out.append(_cell(lang("unknown"), "unknown"))
        elif found.get("validity") == "near_field":
            out.append(_cell(lang("not valid here (near field)"), "unknown"))
        else:
            out.append(_cell(lang.number(float(found["metres"]), 2, True)))
    return "".join(out)


def _band_unknown(lang: Lang, line: RadioLine) -> str:
    """An unknown band's reason; for a channel number several bands share, its candidates."""
    found = line.get("frequencies_mhz")
    candidates = [f for f in found if isinstance(f, int | float)] if isinstance(found, list) else []
    if len(candidates) > 1:
        words = " / ".join(lang.number(f, 0) for f in candidates)
        return lang("ambiguous: {candidates} MHz").format(candidates=words)
    return _why(lang, line, "band") or lang("unknown")


def _state(lang: Lang, line: RadioLine) -> str:
    on = line.get("on")
    if on is None:
        return lang("unknown")
    word = lang("on") if on else lang("off")
    return word + (" " + lang("(PoE port)") if line.get("basis") == "poe" else "")


def _radio_row(lang: Lang, line: RadioLine, info: SiteRadioInfo) -> str:
    e = html.escape
    eirp = line.number("eirp_dbm")
    ratio = line.number("ratio")
    gain = line.number("gain_dbi")
    gain_text = _num(lang, gain, 1)
    if gain is not None:
        gain_text += f" ({lang(GAIN_WORDS.get(str(line.get('gain_origin')), ''))})"
    band = str(line.get("band") or "") or _band_unknown(lang, line)
    limit = line.number("limit_dbm")
    cells = [
        f"<td>{e(line.room or lang('(no room)'))}</td>",
        f"<td>{e(line.device)}</td>",
        f"<td>{e(str(line.get('model') or ''))}</td>",
        f"<td>{e(line.radio)}</td>",
        f"<td>{e(band)}</td>",
        _cell("" if line.get("channel") is None else str(line.get("channel"))),
        _cell(_num(lang, line.number("tx_dbm"), 1)),
        _cell(gain_text, "num" if gain is not None else "unknown"),
        _cell(_num(lang, eirp, 1) if eirp is not None else _why(lang, line, "eirp"),
              "num" if eirp is not None else "unknown eirp"),
        _cell(_num(lang, None if eirp is None else 10 ** (eirp / 10), 0)
              if eirp is not None else "", "num"),
        _cell(_num(lang, limit, 0) if limit is not None else _why(lang, line, "limit"),
              "num" if limit is not None else "unknown"),
        _cell("" if ratio is None else lang.number(ratio, 2, True),
              "num over" if ratio is not None and ratio > 1 else "num"),
        _field_cells(lang, line, info),
        _threshold_cells(lang, line),
        _cell(_state(lang, line), "state"),
        _cell(lang.number(line.teaching_h, 1, True)),
        _cell(lang.number(line.outside_h, 1, True)),
    ]  # fmt: skip
    return f'<tr data-target="{e(line.target)}" data-radio="{e(line.radio)}">{"".join(cells)}</tr>'


def radio_table(lang: Lang, info: SiteRadioInfo, lines: Sequence[RadioLine]) -> str:
    e = html.escape
    heads = [lang(h) for h in (N_("Room"), N_("Device"), N_("Model"), N_("Radio"), N_("Band (MHz)"),
             N_("Channel"), N_("Conducted power (dBm)"), N_("Antenna gain (dBi)"),
             N_("EIRP (dBm)"), N_("EIRP (mW)"), N_("Legal maximum (dBm)"),
             N_("EIRP / maximum"))]  # fmt: skip
    for metres, what in info.distances:
        head = lang("Field bound at {metres} m (V/m)").format(metres=lang.number(metres))
        heads.append(f"{head} – {what}" if what else head)
    heads += [
        lang("Distance to {level} V/m (m)").format(level=lang.number(info.anfr_level)),
        lang("Distance to the décret level (m)"),
        lang("State"),
        lang("Hours on during teaching"),
        lang("Hours on outside teaching"),
    ]
    rows = "".join(_radio_row(lang, line, info) for line in lines)
    notes = []
    if any(_why(lang, line, "eirp") and line.number("tx_dbm") is not None for line in lines):
        notes.append(lang(
            "Antenna gain unknown: the device does not report it and its model is not in the "
            "sourced table (collectors/radio-antennas.yaml); the inventory can give it "
            "(targets[].radio.antenna_gain_dbi, from the datasheet). Without it there is no "
            "EIRP and no field figure: 0 dBi is never assumed."
        ))  # fmt: skip
    if any(_unchecked(line) for line in lines):
        notes.append(lang(
            "Where the antenna's size is not declared (targets[].radio.antenna_size_m), the "
            "near field is not checked: for a dish, declare it."
        ))  # fmt: skip
    if any(len(_list(line.get("frequencies_mhz"))) > 1 for line in lines):
        notes.append(lang(
            "A channel number alone may belong to several bands (channel 1 is 2.4 GHz or "
            "6 GHz): then the band and its legal maximum are unknown, and the field bound "
            "uses the lowest décret level of the candidates."
        ))  # fmt: skip
    foot = "".join(f'<p class="note">{e(n)}</p>' for n in notes)
    return (
        f'<div class="scroll"><table class="radios" id="radios-{e(info.id)}"><thead><tr>'
        f"{''.join(f'<th>{e(h)}</th>' for h in heads)}</tr></thead><tbody>{rows}</tbody>"
        f"</table></div>{foot}"
    )


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _unchecked(line: RadioLine) -> bool:
    fields = line.get("fields")
    return any(
        isinstance(f, dict) and f.get("validity") == "unchecked"
        for f in (fields if isinstance(fields, list) else [])
    )


def render_radio_page(report: RadioReport, query: Mapping[str, str]) -> str:
    """The whole page (`?site=` keeps one site)."""
    lang = _lang(query)
    e = html.escape
    other = "en" if lang.code == "fr" else "fr"
    switch = urlencode({**{k: v for k, v in query.items() if k == "site"}, "lang": other})
    wanted = query.get("site")
    sections = []
    for site_id, info in sorted(report.sites.items()):
        lines = report.of_site(site_id)
        if not lines or (wanted and site_id != wanted):
            continue
        kind = lang(SITE_TYPE_WORDS[info.type]) if info.type in SITE_TYPE_WORDS else ""
        head = f"{info.name} ({kind})" if kind else info.name
        part = f'<section class="site" id="site-{e(site_id)}"><h2>{e(head)}</h2>'
        if info.type in SCHOOL_TYPES:
            part += council(lang, info, lines)
        part += f"<h3>{e(lang('Transmitters'))}</h3>{radio_table(lang, info, lines)}</section>"
        sections.append(part)
    if not sections:
        sections.append(f'<p id="none">{e(lang("No radio transmitter known yet."))}</p>')
    return (
        f'<!doctype html><html lang="{lang.code}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(lang('sobriety: radio transmitters'))}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{e(lang('Radio transmitters: exposure indicator and Wi-Fi hours'))}</h1>"
        f'<p><a id="lang" href="?{e(switch)}" hreflang="{other}">'
        f"{'English' if other == 'en' else 'Français'}</a></p>"
        f"{notice(lang, report)}{''.join(sections)}</body></html>"
    )
