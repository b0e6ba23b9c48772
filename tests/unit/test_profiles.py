"""Profiles: the shipped ones validate; bad ones are reported with file, entry and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sobriety.cli import main
from sobriety.collectors.profiles import DeviceFacts, builtin_profile_dir, load_profiles
from sobriety.errors import ConfigError
from sobriety.metrics import BY_NAME
from sobriety.snmp.types import parse_oid

ROOT = Path(__file__).resolve().parents[2]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_shipped_profiles_load_and_use_only_catalogue_metrics() -> None:
    profiles = load_profiles([builtin_profile_dir()])
    names = {p.name for p in profiles.profiles}
    assert {"system", "entity", "host-resources", "ups-mib", "power-ethernet"} <= names
    for profile in profiles.profiles:
        assert profile.source.strip(), profile.name
        fields = [*profile.scalars, *(c for t in profile.tables for c in t.columns)]
        for field in fields:
            if field.metric:
                assert field.metric in BY_NAME


def test_every_problem_is_reported_with_file_entry_and_field(tmp_path: Path) -> None:
    bad = write(
        tmp_path,
        "bad.yaml",
        """
        name: bad-one
        title: Broken on purpose
        source: test
        match: {probe: [1.3.6.1.2.1.33]}
        scalars:
          - name: power
            oid: 1.3.6.1.2.1.33.1.4.4.1.4.1
            metric: sobriety_no_such_metric
            colour: red
          - name: state
            oid: 1.3.6.1.2.1.33.1.2.1.0
            type: enum
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_profiles([tmp_path])
    text = str(caught.value)
    problems = caught.value.problems
    assert all(p.file == str(bad) and p.entry == "profile bad-one" for p in problems)
    fields = {p.field for p in problems}
    assert "scalars[power].colour" in fields
    assert any(
        f.startswith("scalars[power]") and "catalogue" in p.message
        for p in problems
        for f in [p.field]
    )
    assert any(f.startswith("scalars[state]") for f in fields)
    assert "Extra inputs are not permitted" in text


def test_labels_must_match_the_catalogue(tmp_path: Path) -> None:
    write(
        tmp_path,
        "labels.yaml",
        """
        name: wrong-labels
        title: t
        source: s
        match: {always: true}
        tables:
          - name: upsOutputTable
            oid: 1.3.6.1.2.1.33.1.4.4.1
            index: [phase]
            columns:
              - {name: power, column: 4, metric: sobriety_ups_output_power_watts}
        """,
    )
    with pytest.raises(ConfigError, match="catalogue declares"):
        load_profiles([tmp_path])


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "syntax.yaml", "name: x\nmatch: [unclosed\n")
    with pytest.raises(ConfigError) as caught:
        load_profiles([tmp_path])
    assert caught.value.problems[0].entry.startswith("line ")


def test_matching_by_sysobjectid_sysdescr_probe_and_exclusion(tmp_path: Path) -> None:
    write(
        tmp_path,
        "m.yaml",
        """
        name: vendor
        title: t
        source: s
        match:
          sysobjectid: [1.3.6.1.4.1.705]
          sysdescr: ["(?i)unifi"]
          exclude_sysdescr: ["simulator"]
        """,
    )
    write(
        tmp_path,
        "p.yaml",
        """
        name: generic
        title: t
        source: s
        match: {probe: [1.3.6.1.2.1.33.1.1]}
        """,
    )
    profiles = load_profiles([tmp_path])

    def decide(oid: str | None, descr: str) -> tuple[list[str], list[str]]:
        matched, probe = profiles.decide(DeviceFacts(parse_oid(oid) if oid else None, descr))
        return [p.name for p in matched], [p.name for p in probe]

    assert decide("1.3.6.1.4.1.705.1", "") == (["vendor"], ["generic"])
    assert decide("1.3.6.1.4.1.7050", "") == ([], ["generic"])  # prefix is per sub-id
    assert decide("1.3.6.1.4.1.8072.3.2.10", "UAP-nanoHD UniFi 5.43") == (["vendor"], ["generic"])
    assert decide("1.3.6.1.4.1.705.1", "UniFi simulator") == ([], ["generic"])


def test_profiles_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "check", str(builtin_profile_dir())]) == 0
    write(tmp_path, "x.yaml", "name: x\ntitle: t\nsource: s\nmatch: {}\n")
    assert main(["profiles", "check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'x.yaml'}: profile x: match:" in err


def test_profiles_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "list"]) == 0
    assert "ups-mib" in capsys.readouterr().out
    assert main(["profiles", "show", "power-ethernet"]) == 0
    assert "pethMainPseTable" in capsys.readouterr().out
    assert main(["profiles", "show", "nope"]) == 1


def test_profiles_reference_page_is_generated_from_the_profiles() -> None:
    from sobriety.gen.profile_docs import render

    page = (ROOT / "docs" / "profiles.md").read_text(encoding="utf-8")
    expected = render(load_profiles([builtin_profile_dir()]))
    assert page == expected, "docs/profiles.md drifted: make docs"
