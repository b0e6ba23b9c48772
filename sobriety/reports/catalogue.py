"""Every message sobriety ships for its reports, gathered from the code and the data (for the
catalogue's completeness test and for `python -m sobriety.reports.catalogue`, which lists the
msgids the French catalogue lacks)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir

from sobriety.energy.classes import load_classes
from sobriety.lifetime.classfigures import HAZARDOUS_PARTS, WEEE_CATEGORIES
from sobriety.lifetime.facts import SHORTFALL_WORDS, SINCE_WORDS
from sobriety.lifetime.policy import DEFAULT_KEEP, NOT_OBSERVED, load_policy
from sobriety.reports.i18n import CATALOGUE_DIR

REPORTS = Path(__file__).resolve().parent
# calls of lang with a literal inside f-strings, which Babel's Python extractor does not read
_IN_FSTRINGS = re.compile(r"""\blang\(\s*(["'])((?:(?!\1)[^\\]|\\.)+)\1\s*\)""")


def code_messages() -> set[str]:
    """msgids marked in sobriety/reports with N_ or given to lang, also inside f-strings."""
    found: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(REPORTS), method_map=[("**.py", "python")], keywords={"N_": None, "lang": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    for path in REPORTS.glob("*.py"):
        found |= {text for _, text in _IN_FSTRINGS.findall(path.read_text())}
    return found | {"yes", "no"}


def data_messages() -> set[str]:
    """Reasons of the shipped policy, parts, WEEE categories, class sources shown in reports."""
    found = {rule.reason for rule in load_policy().rules} | {DEFAULT_KEEP, NOT_OBSERVED}
    found |= set(HAZARDOUS_PARTS.values()) | set(WEEE_CATEGORIES.values())
    found |= set(SINCE_WORDS) | set(SHORTFALL_WORDS.values())
    for cls in load_classes().values():
        figures = cls.end_of_life
        if figures is None:
            continue
        found |= set(figures.service_items)
        found |= {text for text in (figures.mass_source, figures.service_life_source) if text}
    return found


def shipped_messages() -> set[str]:
    return code_messages() | data_messages()


def missing(code: str = "fr") -> list[str]:
    """Shipped msgids with no text in the `code` catalogue."""
    from babel.messages.pofile import read_po

    with (CATALOGUE_DIR / f"{code}.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id for m in catalog if m.id and m.string}
    return sorted(shipped_messages() - translated)


if __name__ == "__main__":
    gaps = missing()
    print("\n".join(gaps))
    sys.exit(1 if gaps else 0)
