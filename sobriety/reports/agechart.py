"""The fleet's age by class as a server-rendered SVG: one line per class, a dot per device of
known age coloured by its recommendation, the class's sourced service life as a dashed mark,
and how many devices of the class have no known age. No script, readable without colour."""

from __future__ import annotations

import html
from collections.abc import Sequence

from sobriety.reports.eol import Row, action_text
from sobriety.reports.i18n import Lang

COLOURS = {
    "keep": "#2e7d32", "reuse": "#1565c0", "service": "#b26a00", "repair": "#c62828",
    "recycle": "#6a1b9a",
}  # fmt: skip
LEFT, RIGHT, LINE, TOP = 190, 150, 26, 34
WIDTH = 960


def chart_legend(lang: Lang) -> str:
    """What the dots' colours and the dashed mark mean."""
    items = [
        f'<li><span class="swatch" style="background:{colour}"></span>'
        f"{html.escape(action_text(lang, action) or action)}</li>"
        for action, colour in COLOURS.items()
    ]
    items.append(f'<li><span class="dash"></span>{html.escape(lang("service life"))}</li>')
    return f'<ul class="legend" id="age-legend">{"".join(items)}</ul>'


def age_chart(rows: Sequence[Row], lang: Lang) -> str:
    """The SVG element (empty string when no device is in service)."""
    active = [r for r in rows if r.get("recommendation") != "disposed"]
    classes = sorted({str(r.get("class") or "?") for r in active})
    if not classes:
        return ""
    ages = [float(a) for r in active if isinstance(a := r.get("age_years"), int | float)]
    lives = [float(v) for r in active if isinstance(v := r.get("service_life_years"), int | float)]
    top_age = max([*ages, *lives, 1.0])
    span = max(5, int(top_age // 5 + 1) * 5)
    height = TOP + LINE * len(classes) + 30
    plot = WIDTH - LEFT - RIGHT
    e = html.escape

    def x(years: float) -> float:
        return LEFT + plot * years / span

    title = lang("Age of the fleet by class, in years")
    out = [
        f'<svg id="age-chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-labelledby="age-chart-title">',
        f'<title id="age-chart-title">{e(title)}</title>',
        "<style>text{font:12px system-ui,sans-serif;fill:#1b1b1b}</style>",
    ]
    for tick in range(0, span + 1, 5):
        out.append(f'<line x1="{x(tick):.1f}" y1="{TOP - 8}" x2="{x(tick):.1f}" '
                   f'y2="{height - 26}" stroke="#ddd"/>')  # fmt: skip
        out.append(f'<text x="{x(tick):.1f}" y="{height - 10}" text-anchor="middle">'
                   f"{tick}</text>")  # fmt: skip
    for i, name in enumerate(classes):
        y = TOP + LINE * i + LINE / 2
        mine = [r for r in active if str(r.get("class") or "?") == name]
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{e(name)}</text>')
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                   f'stroke="#bbb"/>')  # fmt: skip
        life = next(
            (v for r in mine if isinstance(v := r.get("service_life_years"), int | float)), None
        )
        if life is not None:
            out.append(f'<line class="service-life" x1="{x(float(life)):.1f}" y1="{y - 9:.1f}" '
                       f'x2="{x(float(life)):.1f}" y2="{y + 9:.1f}" stroke="#555" '
                       f'stroke-dasharray="3 2"><title>{e(lang("service life"))}: '
                       f"{lang.number(float(life), 0)}</title></line>")  # fmt: skip
        unknown = 0
        for r in mine:
            age = r.get("age_years")
            if not isinstance(age, int | float):
                unknown += 1
                continue
            action = str(r.get("recommendation") or "")
            colour = COLOURS.get(action, "#777")
            word = action_text(lang, action) or lang("unknown")
            label = f"{r.get('target')}: {lang.number(float(age), 1)} · {word}"
            out.append(
                f'<circle class="device" cx="{x(float(age)):.1f}" cy="{y:.1f}" r="5" '
                f'fill="{colour}" fill-opacity="0.8"><title>{e(label)}</title></circle>'
            )
        if unknown:
            text = lang("{n} of unknown age").format(n=unknown)
            out.append(f'<text x="{WIDTH - RIGHT + 8}" y="{y + 4:.1f}">{e(text)}</text>')
    out.append("</svg>")
    return "".join(out)
