"""`/reports/end-of-life`: the recycling planner's page. Plain HTML, no script needed.

Filters (site, class, action) are a GET form, sorting is a link per column header, and the
same rows download as CSV or ODS with the same filters (`/reports/end-of-life.csv`, `.ods`).
Everything is rendered on the server from what `sobriety export eol` writes.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from sobriety.reports.tables import EOL_COLUMNS

SHOWN = (
    "site", "class", "target", "vendor", "model", "serial", "age_years", "age_source",
    "warranty_end", "boots", "wear", "use_kwh", "embodied_kgco2e", "recommendation",
    "reasons", "mass_kg",
)  # fmt: skip
FILTERS = ("site", "class", "recommendation")
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1b1b}
table{border-collapse:collapse;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top}
td.reasons{min-width:22rem}td.wear{min-width:9rem}
th{background:#eef3ee;text-align:left}th a{color:inherit}
td.recycle{background:#fde2e2}td.repair{background:#fff3cd}td.reuse{background:#e2f0fd}
form{margin:1rem 0}label{margin-right:1rem}
"""


def filtered(rows: Sequence[Sequence[object]], query: Mapping[str, str]) -> list[Sequence[object]]:
    """Rows matching the query's filters, sorted by its `sort` column (`desc=1` reverses)."""
    index = {name: i for i, name in enumerate(EOL_COLUMNS)}
    kept = [
        row
        for row in rows
        if all(not query.get(f) or str(row[index[f]]) == query[f] for f in FILTERS)
    ]
    sort = query.get("sort")
    if sort in index:
        column = index[sort]

        def key(row: Sequence[object]) -> tuple[int, float, str]:
            value = row[column]
            if isinstance(value, int | float) and not isinstance(value, bool):
                return (0, float(value), "")
            return (1, 0.0, str(value))

        kept.sort(key=key, reverse=query.get("desc") == "1")
    return kept


def render_page(rows: Sequence[Sequence[object]], query: Mapping[str, str]) -> str:
    """The whole page."""
    index = {name: i for i, name in enumerate(EOL_COLUMNS)}
    shown = filtered(rows, query)
    e = html.escape
    selects = []
    for name in FILTERS:
        choices = sorted({str(r[index[name]]) for r in rows if str(r[index[name]])})
        options = ['<option value="">all</option>'] + [
            f'<option value="{e(c)}"{" selected" if query.get(name) == c else ""}>{e(c)}</option>'
            for c in choices
        ]
        label = "action" if name == "recommendation" else name
        selects.append(
            f'<label>{label} <select name="{name}" id="filter-{name}">{"".join(options)}</select>'
            "</label>"
        )
    keep = {k: v for k, v in query.items() if k in (*FILTERS, "sort", "desc") and v}
    filters_only = {k: v for k, v in keep.items() if k in FILTERS}
    head = []
    for name in SHOWN:
        desc = "1" if query.get("sort") == name and query.get("desc") != "1" else ""
        link = urlencode({**filters_only, "sort": name, **({"desc": desc} if desc else {})})
        head.append(f'<th><a href="?{e(link)}">{e(name)}</a></th>')
    body = []
    for row in shown:
        cells = []
        for name in SHOWN:
            value = row[index[name]]
            css = f' class="{e(str(value))}"' if name == "recommendation" else f' class="{name}"'
            cells.append(f"<td{css}>{e(str(value))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    downloads = urlencode(filters_only)
    suffix = f"?{downloads}" if downloads else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>sobriety: end of life</title>"
        f"<style>{STYLE}</style></head><body>"
        "<h1>End-of-life list</h1>"
        f'<p id="count">{len(shown)} of {len(rows)} devices</p>'
        f'<form method="get" action="">{"".join(selects)}'
        '<button type="submit" id="apply">filter</button></form>'
        f'<p><a id="csv" href="/reports/end-of-life.csv{e(suffix)}">CSV</a> · '
        f'<a id="ods" href="/reports/end-of-life.ods{e(suffix)}">ODS</a></p>'
        f'<table id="eol"><thead><tr>{"".join(head)}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></body></html>"
    )
