"""The command line's global flags: version, log level and format before or after the
subcommand, and one-line errors."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sobriety import __version__
from sobriety.cli import JsonFormatter, LogfmtFormatter, build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sobriety", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"sobriety {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--log-level", "error", "profiles", "list"],
        ["profiles", "list", "--log-level", "error"],
        ["profiles", "--log.level=error", "list"],
        ["run", "--config", "x.yaml", "--log.level", "error"],
        ["export", "eol", "--config", "x", "--out", "y", "--log-level=error"],
    ],
)
def test_log_level_is_accepted_before_and_after_the_subcommand(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).log_level == "error"


def test_log_level_not_given_sets_nothing_and_a_wrong_one_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert not hasattr(build_parser().parse_args(["profiles", "list"]), "log_level")
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["profiles", "list", "--log-level", "loud"])
    assert exit_.value.code == 2
    assert "invalid choice: 'loud'" in capsys.readouterr().err


def record(message: str, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("sobriety.daemon", logging.WARNING, __file__, 1, message, (), info)


def test_logfmt_lines_quote_what_needs_quoting() -> None:
    line = LogfmtFormatter().format(record('target sw1 said "no"'))
    assert line.startswith("ts=")
    assert ' level=warning logger=sobriety.daemon msg="target sw1 said \\"no\\""' in line
    assert "\n" not in LogfmtFormatter().format(record("two\nlines", exc=True))


def test_json_lines_are_one_object_each() -> None:
    parsed = json.loads(JsonFormatter().format(record("polled 3 targets", exc=True)))
    assert parsed["level"] == "warning" and parsed["msg"] == "polled 3 targets"
    assert parsed["ts"].endswith("Z") and "ValueError: boom" in parsed["exc"]


def test_the_chosen_format_reaches_stderr(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("settings: {listen: '127.0.0.1:1'}\ntargets: [{id: h, kind: host}]\n")
    result = subprocess.run(
        [sys.executable, "-m", "sobriety", "check-config", "--config", str(config),
         "--log.format=json", "--log.level=debug"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for line in result.stderr.splitlines():
        json.loads(line)  # only JSON lines, if any


def test_a_closed_pipe_is_one_line() -> None:
    """`sobriety profiles list | head -1` where the reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        writer = subprocess.run(
            [sys.executable, "-m", "sobriety", "profiles", "list"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert writer.returncode == 1
    assert writer.stderr == "sobriety: output closed before the end (broken pipe)\n"


def test_demo_without_snmpsim_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "snmpsim" else real(name, *a)
    )
    assert main(["demo"]) == 1
    assert "pip install 'sobriety[demo]'" in capsys.readouterr().err
