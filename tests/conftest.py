"""Shared test helpers. Under CI a missing tool fails the test; on a laptop it skips."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import settings


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_tool(name: str) -> str:
    """Path of a command-line tool the test needs."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        message = f"{name} is not installed (Debian: see .ci/run)"
        if in_ci():
            pytest.fail(f"{message}; under CI a missing tool is a failure")
        pytest.skip(message)
    return path


# `make mutate` runs the fast tests once per mutant under mutmut's trampolines, slower than
# usual and on a loaded machine: no deadlines, and the same examples every run, so that a
# mutant's verdict does not depend on the draw (`--hypothesis-profile=mutate`).
settings.register_profile("mutate", deadline=None, derandomize=True, database=None)
