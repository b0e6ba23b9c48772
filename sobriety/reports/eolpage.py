"""`/reports/end-of-life`: the recycling planner's page, in French by default (`?lang=en`).

A summary per action and per site (devices, known mass, embodied carbon at stake) above the
list, the fleet's age by class as an SVG, then the list with the recommendation and its
reasons first. Filters (site, class, action) are a plain GET form, sorting is a link per
column header, and the CSV and ODS downloads carry the same filters and language. Rendered
on the server from what `sobriety export eol` writes; no script.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from urllib.parse import urlencode

from sobriety.reports.agechart import age_chart, chart_legend
from sobriety.reports.eol import (
    EOL_COLUMNS,
    ROW_ACTIONS,
    EolReport,
    Row,
    Tally,
    action_text,
    reason_lines,
    summary,
    worded,
)
from sobriety.reports.i18n import LANGS, N_, Lang
from sobriety.reports.writers import cell_text

SHOWN = (
    "target", "recommendation", "reasons", "site", "class", "model", "age_years",
    "warranty_end", "wear", "use_kwh", "embodied_kgco2e", "weee_category", "mass_kg",
    "data_media",
)  # fmt: skip
FILTERS = ("organisation", "site", "class", "recommendation")
KEPT = (*FILTERS, "sort", "desc", "lang")
_BY_ID = {c.id: c for c in EOL_COLUMNS}
STYLE = """
body{font-family:system-ui,sans-serif;margin:1rem 1.2rem;color:#1b1b1b;line-height:1.35}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.2rem 0 .4rem}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.25rem .45rem;vertical-align:top}
th{background:#eef3ee;text-align:left}th a{color:inherit}
td.num{text-align:right;white-space:nowrap}
#eol td.reasons{min-width:20rem;max-width:34rem}#eol td.target{white-space:nowrap}
#eol td.reasons ul{margin:0;padding-left:1rem}
td.recycle{background:#f3e5f5}td.repair{background:#fde2e2}td.service{background:#fff3cd}
td.reuse{background:#e2f0fd}td.keep{background:#e6f4ea}td.disposed{background:#eee}
form{margin:.6rem 0;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
#age-chart{max-width:960px;width:100%;min-width:600px;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:.85rem;margin:.2rem 0 0;
list-style:none;padding:0}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.3rem;
vertical-align:-.1rem}.dash{display:inline-block;width:0;height:.9rem;margin-right:.35rem;
border-left:2px dashed #555;vertical-align:-.15rem}
.summaries{display:flex;flex-wrap:wrap;gap:0 2rem}
"""


def parse_lang(query: Mapping[str, str]) -> Lang:
    code = query.get("lang", "fr")
    return Lang(code if code in LANGS else "fr")


def filtered(report: EolReport, query: Mapping[str, str]) -> EolReport:
    """The report with only the rows matching the query's filters, sorted by its `sort`
    column (`desc=1` reverses; unknown values last)."""
    kept = [
        row
        for row in report.rows
        if all(not query.get(f) or str(row.get(f) or "") == query[f] for f in FILTERS)
    ]
    sort = query.get("sort")
    if sort in _BY_ID:

        def key(row: Row) -> tuple[int, float, str]:
            value = row.get(str(sort))
            if isinstance(value, bool):
                return (0, float(value), "")
            if isinstance(value, int | float):
                return (0, float(value), "")
            if isinstance(value, date):
                return (0, float(value.toordinal()), "")
            if value is None or value == "":
                return (2, 0.0, "")
            return (1, 0.0, str(value))

        known = [r for r in kept if key(r)[0] < 2]
        unknown = [r for r in kept if key(r)[0] == 2]
        known.sort(key=key, reverse=query.get("desc") == "1")
        kept = known + unknown
    return replace(report, rows=kept)


def _tally_cells(lang: Lang, tally: Tally) -> str:
    mass = lang.number(tally.mass_kg, 0, True)
    carbon = lang.number(tally.embodied_kgco2e, 0, True)
    return (
        f'<td class="num">{tally.devices}</td><td class="num">{mass}</td>'
        f'<td class="num">{tally.mass_unknown}</td><td class="num">{carbon}</td>'
        f'<td class="num">{tally.embodied_unknown}</td>'
    )


def _summaries(lang: Lang, report: EolReport) -> str:
    by_action, by_site = summary(report.rows)
    e = html.escape
    heads = "".join(
        f"<th>{e(lang(h))}</th>"
        for h in (N_("Devices"), N_("Known mass (kg)"), N_("of unknown mass"),
                  N_("Embodied carbon at stake (kgCO2e)"), N_("of unknown embodied carbon"))
    )  # fmt: skip
    lines = []
    for action in (*ROW_ACTIONS, ""):
        if action in by_action:
            word = action_text(lang, action) or lang("no recommendation")
            lines.append(f'<tr><th class="{e(action)}">{e(word)}</th>'
                         f"{_tally_cells(lang, by_action[action])}</tr>")  # fmt: skip
    actions = [a for a in (*ROW_ACTIONS, "") if any(a in s for s in by_site.values())]
    site_heads = "".join(f"<th>{e(action_text(lang, a) or lang('no recommendation'))}</th>"
                         for a in actions)  # fmt: skip
    site_lines = []
    for site, tallies in sorted(by_site.items()):
        name = report.site_names.get(site, site)
        counts = "".join(f'<td class="num">{tallies[a].devices if a in tallies else 0}</td>'
                         for a in actions)  # fmt: skip
        mass = lang.number(sum(t.mass_kg for t in tallies.values()), 0, True)
        carbon = lang.number(sum(t.embodied_kgco2e for t in tallies.values()), 0, True)
        site_lines.append(f"<tr><th>{e(name)}</th>{counts}<td class=\"num\">{mass}</td>"
                          f'<td class="num">{carbon}</td></tr>')  # fmt: skip
    return (
        '<section id="summary" class="summaries">'
        f'<div><h2>{e(lang("Summary by recommendation"))}</h2><div class="scroll">'
        f'<table id="summary-actions"><thead><tr><th>{e(lang("Recommendation"))}</th>{heads}'
        f"</tr></thead><tbody>{''.join(lines)}</tbody></table></div></div>"
        f'<div><h2>{e(lang("Summary by site"))}</h2><div class="scroll">'
        f'<table id="summary-sites"><thead><tr><th>{e(lang("Site"))}</th>{site_heads}'
        f"<th>{e(lang('Known mass (kg)'))}</th><th>{e(lang('Embodied carbon (kgCO2e)'))}</th>"
        f"</tr></thead><tbody>{''.join(site_lines)}</tbody></table></div></div></section>"
    )


def _filters(lang: Lang, report: EolReport, query: Mapping[str, str]) -> str:
    e = html.escape
    labels = {
        "organisation": lang("Organisation"),
        "site": lang("Site"),
        "class": lang("Class"),
        "recommendation": lang("Recommendation"),
    }
    selects = []
    for name in FILTERS:
        choices = sorted({str(r.get(name)) for r in report.rows if r.get(name)})
        if name == "organisation" and not report.organisation_names:
            continue  # a daemon of no organisation: no such filter
        options = [f'<option value="">{e(lang("all"))}</option>']
        for choice in choices:
            if name == "site":
                shown = report.site_names.get(choice, choice)
            elif name == "organisation":
                shown = report.organisation_names.get(choice, choice)
            elif name == "recommendation":
                shown = action_text(lang, choice) or choice
            else:
                shown = choice
            chosen = " selected" if query.get(name) == choice else ""
            options.append(f'<option value="{e(choice)}"{chosen}>{e(shown)}</option>')
        selects.append(f'<label>{e(labels[name])} <select name="{name}" id="filter-{name}">'
                       f'{"".join(options)}</select></label>')  # fmt: skip
    return (
        f'<form method="get" action="">{"".join(selects)}'
        f'<input type="hidden" name="lang" value="{lang.code}">'
        f'<button type="submit" id="apply">{e(lang("filter"))}</button></form>'
    )


def shown_columns(report: EolReport) -> tuple[str, ...]:
    """The page's columns: the organisation's and the room's after the site's where the
    configuration says them."""
    after_site: list[str] = []
    if report.organisation_names:
        after_site.append("organisation")
    if any(row.get("room") for row in report.rows):
        after_site.append("room")
    at = SHOWN.index("site") + 1
    return (*SHOWN[:at], *after_site, *SHOWN[at:])


def _list(lang: Lang, report: EolReport, shown: EolReport, query: Mapping[str, str]) -> str:
    e = html.escape
    filters_only = {k: v for k, v in query.items() if k in (*FILTERS, "lang") and v}
    columns = shown_columns(report)
    head = []
    for name in columns:
        desc = "1" if query.get("sort") == name and query.get("desc") != "1" else ""
        link = urlencode({**filters_only, "sort": name, **({"desc": desc} if desc else {})})
        title = _BY_ID[name].title(lang)
        head.append(f'<th class="col-{name}"><a href="?{e(link)}">{e(title)}</a></th>')
    index = {c.id: i for i, c in enumerate(EOL_COLUMNS)}
    body = []
    for row in shown.rows:
        words = worded(lang, shown, row)
        cells = []
        for name in columns:
            column = _BY_ID[name]
            value = words[index[name]]
            if name == "site":
                value = report.site_names.get(str(row.get("site")), value)
            elif name == "organisation":
                value = report.organisation_names.get(str(row.get(name)), value)
            text = cell_text(lang, column, value)  # type: ignore[arg-type]
            css = str(row.get("recommendation") or "none") if name == "recommendation" else name
            if column.kind in ("number", "integer"):
                css += " num"
            if name == "reasons":
                items = "".join(f"<li>{e(line)}</li>" for line in reason_lines(lang, shown, row))
                cells.append(f'<td class="reasons"><ul>{items}</ul></td>')
                continue
            cells.append(f'<td class="{e(css)}">{e(text)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table id="eol"><thead><tr>{"".join(head)}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def render_page(report: EolReport, query: Mapping[str, str]) -> str:
    """The whole page."""
    lang = parse_lang(query)
    shown = filtered(report, query)
    e = html.escape
    downloads = urlencode({k: v for k, v in query.items() if k in (*FILTERS, "lang") and v})
    suffix = f"?{downloads}" if downloads else ""
    other = "en" if lang.code == "fr" else "fr"
    switch = urlencode({**{k: v for k, v in query.items() if k in KEPT}, "lang": other})
    sites = ", ".join(e(n) for _, n in sorted(report.site_names.items()) if _has_rows(report, _))
    count = lang("{shown} of {total} devices").format(shown=len(shown.rows), total=len(report.rows))
    return (
        f'<!doctype html><html lang="{lang.code}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(lang('sobriety: end of life'))}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{e(lang('End of life of the fleet'))}</h1>"
        f'<p id="sites">{e(lang("Sites:"))} {sites} · '
        f'<a id="lang" href="?{e(switch)}" hreflang="{other}">'
        f"{'English' if other == 'en' else 'Français'}</a></p>"
        f"{_summaries(lang, report)}"
        f'<section id="ages"><h2>{e(lang("Age of the fleet by class"))}</h2>'
        f'<div class="scroll">{age_chart(report.rows, lang)}</div>{chart_legend(lang)}</section>'
        f'<section id="list"><h2>{e(lang("Devices"))}</h2>'
        f"{_filters(lang, report, query)}"
        f'<p><a id="csv" href="/reports/end-of-life.csv{e(suffix)}">CSV</a> · '
        f'<a id="ods" href="/reports/end-of-life.ods{e(suffix)}">ODS</a> · '
        f'<span id="count">{e(count)}</span></p>'
        f"{_list(lang, report, shown, query)}</section></body></html>"
    )


def _has_rows(report: EolReport, site: str) -> bool:
    return any(r.get("site") == site for r in report.rows)
