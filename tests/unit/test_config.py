"""Configuration: the example loads; every mistake is reported at once; secrets never print."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sobriety.config import load_config
from sobriety.config_types import parse_duration
from sobriety.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example" / "sobriety.yaml"
EXAMPLE_ENV = {
    "SOBRIETY_SCHOOL_COMMUNITY": "écoleSecret42",
    "SOBRIETY_V3_AUTH": "auth-passphrase-1",
    "SOBRIETY_V3_PRIV": "priv-passphrase-2",
}
SECRETS = ("s3cret-community", "hunter2hunter2", "another-priv-pass")

BAD = """\
settings:
  interval: 1m
auths:
  good-v2:
    version: "2c"
    community: s3cret-community
  v3-no-priv:
    version: "3"
    user: monitor
    auth_protocol: sha256
    auth_password: hunter2hunter2
    priv_protocol: aes128
  v3-ok:
    version: "3"
    user: monitor
    auth_protocol: sha
    auth_password: hunter2hunter2
    priv_protocol: aes256
    priv_password: another-priv-pass
sites:
  mars:
    timezone: Mars/Olympus_Mons
targets:
  - id: sw1
    address: 192.0.2.1
    auth: good-v2
    adress: typo
  - id: sw2
    address: 999.1.1.1
    auth: good-v2
  - id: sw3
    address: sw3.example
    auth: nowhere
  - id: ap1
    address: 192.0.2.9
    auth: v3-ok
"""


def write(tmp_path: Path, text: str, name: str = "sobriety.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_example_configuration_loads() -> None:
    config = load_config(EXAMPLE, env=EXAMPLE_ENV)
    assert len(config.targets) == 6
    assert config.settings.interval == 300
    assert config.settings.data_dir == EXAMPLE.parent / "var"
    ups = next(t for t in config.targets if t.id == "region-ups1")
    auth = config.auth_for(ups)
    assert auth.security_level == "authPriv"
    assert auth.auth_password is not None
    assert auth.auth_password.get_secret_value() == "auth-passphrase-1"
    assert config.interval_for(ups) == 300
    assert config.site_for(ups).timezone == "Europe/Paris"
    assert next(t for t in config.targets if t.id == "jaures-sw1").device_class == (
        "switch_access_48p"
    )


def test_five_mistakes_reported_together_with_file_entry_field(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    got = {(p.entry, p.field): p.message for p in caught.value.problems}
    assert all(p.file == str(path) for p in caught.value.problems)
    assert got[("targets[0] (id=sw1)", "adress")] == "unknown key (did you mean 'address'?)"
    assert "999.1.1.1" in got[("targets[1] (id=sw2)", "address")]
    assert got[("auths.v3-no-priv", "-")] == "v3 with priv_protocol needs priv_password"
    assert got[("targets[2] (id=sw3)", "auth")].startswith("unknown auth 'nowhere' (known: ")
    assert got[("sites.mars", "timezone")] == "unknown timezone 'Mars/Olympus_Mons'"
    assert len(caught.value.problems) == 5
    text = str(caught.value)
    for secret in SECRETS:
        assert secret not in text


def test_check_config_cli_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    proc = subprocess.run(
        [sys.executable, "-m", "sobriety", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith(str(path))]
    assert len(lines) == 5
    assert f"{path}: targets[1] (id=sw2): address: " in proc.stderr
    for secret in SECRETS:
        assert secret not in proc.stdout + proc.stderr


def test_secrets_are_masked_everywhere(tmp_path: Path) -> None:
    (tmp_path / "priv").write_text("file-secret-123\n")
    path = write(
        tmp_path,
        """\
        auths:
          a:
            version: 3
            user: u
            auth_protocol: sha512
            auth_password: {env: AUTH}
            priv_protocol: aes128
            priv_password: {file: priv}
        targets:
          - {id: x, address: 127.0.0.1, auth: a}
        """,
    )
    config = load_config(path, env={"AUTH": "env-secret-456"})
    auth = config.auths["a"]
    assert auth.priv_password is not None
    assert auth.priv_password.get_secret_value() == "file-secret-123"
    for shown in (repr(config), str(auth), str(auth.model_dump()), str(auth.describe())):
        assert "file-secret-123" not in shown
        assert "env-secret-456" not in shown
    assert auth.describe()["auth_password"] == "<secret>"


def test_missing_env_secret_and_unreadable_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        auths:
          a: {version: 2c, community: {env: NOPE}}
          b: {version: 2c, community: {file: missing.txt}}
        targets:
          - {id: x, address: 127.0.0.1, auth: a}
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    messages = {(p.entry, p.field): p.message for p in caught.value.problems}
    assert messages[("auths.a", "community")] == "environment variable NOPE is not set"
    assert messages[("auths.b", "community")].startswith("cannot read secret file")


def test_includes_merge_and_duplicates_across_files_are_errors(tmp_path: Path) -> None:
    write(tmp_path, "targets:\n  - {id: a, kind: host}\n  - {id: b, kind: host}\n", "inv.yaml")
    path = write(tmp_path, "include: [inv.yaml, gone.yaml]\ntargets:\n  - {id: a, kind: host}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    problems = [str(p) for p in caught.value.problems]
    assert any("inv.yaml: targets[0] (id=a): id: duplicate target id 'a'" in p for p in problems)
    assert any("include: included file not found" in p for p in problems)
    path.write_text("include: [inv.yaml]\n")
    assert [t.id for t in load_config(path, env={}).targets] == ["a", "b"]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "targets:\n  - {id: a, kind: host\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert caught.value.problems[0].entry.startswith("line ")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), (90, 90), ("2.5", 2.5), (0.5, 0.5)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "5 minutes", "1d", True, "m"])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_labels_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        targets:
          - {id: x, kind: host, labels: {Room: a}}
          - {id: y, kind: host, labels: {site: a}}
          - {id: z, kind: host, labels: {room: a}}
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    entries = [p.entry for p in caught.value.problems]
    assert entries == ["targets[0] (id=x)", "targets[1] (id=y)"]


def test_site_opening_hours_in_its_own_timezone(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        sites:
          school:
            timezone: Europe/Paris
            opening_hours: {mon: ["08:00-12:00", "13:30-17:00"]}
        targets:
          - {id: h, kind: host, site: school}
        """,
    )
    site = load_config(path, env={}).sites["school"]
    monday = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)  # 08:30 in Paris (UTC+1)
    assert site.is_open(monday)
    assert not site.is_open(monday.replace(hour=11, minute=45))  # 12:45 Paris: lunch
    assert not site.is_open(monday.replace(day=6))  # Tuesday: no hours given
    with pytest.raises(ValueError, match="aware"):
        site.is_open(datetime(2026, 1, 5, 9, 0))
