"""How many examples a property test draws: its own number, fewer under `make mutate`.

A mutation run repeats the fast tests once per mutant; there the hostile-bytes properties draw
at most `MUTATE_EXAMPLES` (derandomized, so a mutant's verdict does not depend on the draw).
"""

from __future__ import annotations

import os

MUTATE_EXAMPLES = 100


def examples(wanted: int) -> int:
    """`wanted`, or at most MUTATE_EXAMPLES when SOBRIETY_MUTATE is set (the Makefile sets it)."""
    return min(wanted, MUTATE_EXAMPLES) if os.environ.get("SOBRIETY_MUTATE") else wanted
