"""`python -m sobriety` is the `sobriety` command."""

from __future__ import annotations

import sys

from sobriety.cli import main

sys.exit(main())
