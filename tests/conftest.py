"""Shared test helpers. Under CI a missing tool fails the test; on a laptop it skips."""

from __future__ import annotations

import os
import shutil

import pytest


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
