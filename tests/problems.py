"""The problems a loader reports for a bad file (ConfigError carries them all)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest

from sobriety.errors import ConfigError, ConfigProblem

Where = TypeVar("Where")


def problems_of(load: Callable[[Where], object], where: Where) -> list[ConfigProblem]:
    """What `load(where)` refuses, every problem; the test fails if it loads."""
    with pytest.raises(ConfigError) as raised:
        load(where)
    return raised.value.problems
