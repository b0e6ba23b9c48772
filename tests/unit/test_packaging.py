"""What ships beside the code stays true to it: the changelog names the version, the man page
every flag of `run`, the unit its sandboxing; install-assets writes what the wheel carries."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sobriety import __version__
from sobriety.cli import build_parser
from sobriety.resources import install_assets

ROOT = Path(__file__).resolve().parents[2]


def test_the_changelog_has_the_version_the_code_carries() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d\d-\d\d$", text, re.M)


def subcommand(name: str) -> argparse.ArgumentParser:
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            parser: argparse.ArgumentParser = action.choices[name]
            return parser
    raise KeyError(name)


def test_the_man_page_names_every_flag_of_run_and_every_command() -> None:
    page = (ROOT / "man" / "sobriety.1").read_text(encoding="utf-8").replace("\\-", "-")
    flags = [
        max(action.option_strings, key=len)
        for action in subcommand("run")._actions
        if action.option_strings and action.dest != "help"
    ]
    assert flags, "no flags found"
    missing = [flag for flag in flags if flag not in page]
    assert not missing
    commands = next(
        a.choices for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    assert [
        c for c in commands if f"sobriety {c}" not in page.replace(".B sobriety ", "sobriety ")
    ] == []


def test_the_unit_is_sandboxed() -> None:
    unit = (ROOT / "config" / "systemd" / "sobriety.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and line[:1].isalpha()
    )
    assert settings["DynamicUser"] == "yes"
    assert settings["ProtectSystem"] == "strict"
    assert settings["StateDirectory"] == "sobriety"
    assert settings["CapabilityBoundingSet"] == ""
    assert settings["NoNewPrivileges"] == "yes"
    assert settings["EnvironmentFile"] == "-/etc/default/sobriety"
    assert "$ARGS" in settings["ExecStart"]


def test_install_assets_writes_dashboards_rules_and_systemd(tmp_path: Path) -> None:
    command = tmp_path / "bin" / "sobriety"
    command.parent.mkdir()
    command.write_text("#!/bin/sh\n")
    written = {
        p.relative_to(tmp_path / "out").as_posix()
        for p in install_assets(tmp_path / "out", command)
    }
    assert {f"dashboards/{p.name}" for p in (ROOT / "dashboards").glob("*.json")} <= written
    assert "dashboards/generate.py" not in written
    assert {
        "rules/sobriety-alerts.yml",
        "systemd/sobriety.service",
        "systemd/web-config.yml",
    } <= written
    unit = (tmp_path / "out" / "systemd" / "sobriety.service").read_text()
    assert f"ExecStart={command} run --config" in unit
