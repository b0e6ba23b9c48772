"""Reports speak French by default, English on request: words from a gettext catalogue
(`sobriety/reports/locale/fr.po`, msgids are the English text), numbers, dates and yes/no
through Babel (dates jj/mm/aaaa and a decimal comma in French; ISO dates in English).

The catalogue is read with Babel at first use (no compiled .mo to keep in step). A msgid with
no French text is shown in English, and a test fails on it for every string sobriety ships.
"""

from __future__ import annotations

import io
import string
from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LangCode = Literal["fr", "en"]
LANGS: tuple[LangCode, ...] = ("fr", "en")
DEFAULT_LANG: LangCode = "fr"
CATALOGUE_DIR = Path(__file__).resolve().parent / "locale"
_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
_DATE_PATTERNS = {"fr": "dd/MM/yyyy", "en": "yyyy-MM-dd"}


def N_(message: str) -> str:
    """Marks a string for the catalogue without translating it here (module-level labels)."""
    return message


@cache
def _translations(code: str) -> NullTranslations:
    path = CATALOGUE_DIR / f"{code}.po"
    if code == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=_LOCALES[code])
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


class Lang:
    """One report language: its words, numbers and dates."""

    def __init__(self, code: str = DEFAULT_LANG) -> None:
        if code not in LANGS:
            raise ValueError(f"unknown language {code!r} (use {', '.join(LANGS)})")
        self.code: LangCode = "fr" if code == "fr" else "en"
        self.locale = Locale.parse(_LOCALES[self.code])
        self._translations = _translations(self.code)

    def __call__(self, message: str) -> str:
        """The message in this language (as is when the catalogue has none)."""
        return message and self._translations.gettext(message)

    def number(self, value: float, decimals: int | None = None, grouping: bool = False) -> str:
        """A number with this language's decimal mark; `decimals` fixes the digits shown."""
        if decimals is not None:
            places = max(decimals, 0)
            pattern = "0" if places == 0 else "0." + "0" * places
            if grouping:
                pattern = "#,##" + pattern
            rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
            return format_decimal(rounded, format=pattern, locale=self.locale)
        return format_decimal(value, locale=self.locale, group_separator=grouping)

    def date(self, day: date) -> str:
        """jj/mm/aaaa in French, ISO in English."""
        return format_date(day, _DATE_PATTERNS[self.code], locale=self.locale)

    def flag(self, value: bool) -> str:
        return self("yes") if value else self("no")

    def words(self, items: list[str] | tuple[str, ...]) -> str:
        """Catalogue words joined: 'batterie, ventilateurs'."""
        return ", ".join(self(item) for item in items)


FactKind = Literal["number", "flag", "text", "date", "list"]


def render_template(
    lang: Lang,
    template: str,
    values: Mapping[str, object],
    kinds: Mapping[str, FactKind],
    translate: bool = True,
) -> str:
    """A reason's template in `lang` with its values formatted; `{name:.1f}` sets the digits."""
    text = lang(template) if translate else template
    out: list[str] = []
    for literal, name, spec, _ in string.Formatter().parse(text):
        out.append(literal)
        if name is None:
            continue
        value = values.get(name)
        out.append(_format_value(lang, value, kinds.get(name, "text"), spec or ""))
    return "".join(out)


def _format_value(lang: Lang, value: object, kind: FactKind, spec: str) -> str:
    if value is None:
        return lang("unknown")
    if isinstance(value, bool):
        return lang.flag(value)
    if kind == "date" and isinstance(value, str):
        return lang.date(date.fromisoformat(value))
    if kind == "list" and isinstance(value, list | tuple):
        return lang.words([str(v) for v in value])
    if isinstance(value, int | float):
        decimals = int(spec[1:-1]) if spec.startswith(".") and spec.endswith("f") else None
        return lang.number(float(value), decimals if decimals is not None else 1, grouping=True)
    return lang(str(value))  # a source or a word the catalogue may have; else as written


Translator = Callable[[str], str]
