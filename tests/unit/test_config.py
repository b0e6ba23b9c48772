"""Configuration: the example loads; every mistake is reported at once; secrets never print."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from sobriety.config.load import (
    AuthConfig,
    Config,
    Settings,
    SiteConfig,
    TargetConfig,
    format_problems,
    load_config,
)
from sobriety.config.types import parse_duration
from sobriety.errors import ConfigError, ConfigProblem

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "example" / "sobriety.yaml"
EXAMPLE_ENV = {
    "SOBRIETY_SCHOOL_COMMUNITY": "écoleSecret42",
    "SOBRIETY_V3_AUTH": "auth-passphrase-1",
    "SOBRIETY_V3_PRIV": "priv-passphrase-2",
    "SOBRIETY_SMTP_PASSWORD": "smtp-passphrase-3",
}
BAD = ROOT / "tests" / "unit" / "data" / "config_bad"
FIVE = BAD / "five_mistakes.yaml"
FIVE_INVENTORY = BAD / "five_mistakes_inventory.yaml"
FIVE_SECRETS = ("s3cret-Community-Jaures", "hunter2-Auth-Passphrase", "another-Priv-Passphrase")


def write(tmp_path: Path, text: str, name: str = "sobriety.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={} if env is None else env)
    return caught.value.problems


def where(problems: list[ConfigProblem]) -> dict[tuple[str, str], str]:
    return {(p.entry, p.field): p.message for p in problems}


HOST = "targets:\n  - {id: h, kind: host}\n"

# --- the example and the five mistakes -------------------------------------------------------


def test_example_configuration_loads() -> None:
    config = load_config(EXAMPLE, env=EXAMPLE_ENV)
    assert [t.id for t in config.targets] == [
        "jaures-sw1",
        "jaures-ap-cm1",
        "jaures-imprimante-direction",
        "jaures-vp-cm2",
        "region-ups1",
        "sobriety-host",
    ]
    assert config.source_files == (EXAMPLE, EXAMPLE.parent / "inventory.yaml")
    assert config.base_dir == EXAMPLE.parent
    assert config.settings.interval == 300
    assert config.settings.off_hours_interval == 900
    assert config.settings.data_dir == EXAMPLE.parent / "var"
    assert (config.settings.listen_host, config.settings.listen_port) == ("127.0.0.1", 9471)
    assert set(config.sites) == {"ecole-jaures", "region-dsi", "default"}

    ups = next(t for t in config.targets if t.id == "region-ups1")
    auth = config.auth_for(ups)
    assert auth.security_level == "authPriv"
    assert auth.auth_password is not None
    assert auth.auth_password.get_secret_value() == "auth-passphrase-1"
    assert config.site_for(ups).timezone == "Europe/Paris"
    assert config.interval_for(ups) == 300

    printer = next(t for t in config.targets if t.id == "jaures-imprimante-direction")
    assert printer.device_class == "printer_laser_a4"
    assert config.interval_for(printer) == 900
    assert printer.warranty_end == date(2024, 1, 6)
    community = config.auth_for(printer).community
    assert community is not None
    assert community.get_secret_value() == "écoleSecret42"

    host = next(t for t in config.targets if t.kind == "host")
    with pytest.raises(KeyError):
        config.auth_for(host)
    jaures = config.sites["ecole-jaures"]
    assert jaures.opening_hours["mon"] == (
        (time(8, 20), time(11, 50)),
        (time(13, 30), time(16, 30)),
    )
    for secret in EXAMPLE_ENV.values():
        assert secret not in repr(config)


def test_five_mistakes_reported_together_with_file_entry_field() -> None:
    problems = problems_of(FIVE)
    got = [(p.file, p.entry, p.field, p.message) for p in problems]
    assert got == [
        (
            str(FIVE),
            "auths.region-v3-broken",
            "priv_password",
            "v3 with priv_protocol needs priv_password",
        ),
        (str(FIVE), "targets[0] (id=sw-core-1)", "adress", "unknown key (did you mean 'address'?)"),
        (
            str(FIVE),
            "targets[1] (id=sw-core-2)",
            "address",
            "not a valid IPv4/IPv6 address or host name: '999.1.1.1'",
        ),
        (str(FIVE_INVENTORY), "sites.mars", "timezone", "unknown timezone 'Mars/Olympus'"),
        (
            str(FIVE_INVENTORY),
            "targets[1] (id=vp-1)",
            "auth",
            "unknown auth 'school-v3' (known: region-v3, region-v3-broken, school-v2)",
        ),
    ]
    error = ConfigError(problems)
    for shown in (str(error), repr(error), format_problems(problems), *map(str, problems)):
        for secret in FIVE_SECRETS:
            assert secret not in shown


def test_problem_file_is_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "targets:\n  - {id: a, kind: host, colour: red}\n", "inv.yaml")
    write(tmp_path, "include: [inv.yaml]\n")
    monkeypatch.chdir(tmp_path)
    (problem,) = problems_of(Path("sobriety.yaml"))
    assert (problem.file, problem.entry, problem.field) == (
        "inv.yaml",
        "targets[0] (id=a)",
        "colour",
    )


def test_check_config_cli_prints_every_problem_and_exits_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sobriety", "check-config", "--config", str(FIVE)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.startswith(str(BAD))]
    assert len(lines) == 5
    assert f"{FIVE}: targets[1] (id=sw-core-2): address: " in proc.stderr
    for secret in FIVE_SECRETS:
        assert secret not in proc.stdout + proc.stderr


def test_format_problems_one_a_line() -> None:
    problems = [
        ConfigProblem("a.yaml", "settings", "retries", "x"),
        ConfigProblem("b", "e", "-", "y"),
    ]
    assert format_problems(problems) == "a.yaml: settings: retries: x\nb: e: -: y"


# --- secrets ---------------------------------------------------------------------------------


def test_secret_mistakes_never_echo_the_secret() -> None:
    path = BAD / "secret_mistakes.yaml"
    problems = problems_of(path)
    assert where(problems) == {
        ("auths.short", "auth_password"): "must have at least 8 characters (RFC 3414)",
        ("auths.misspelled", "comunity"): "unknown key (did you mean 'community'?)",
        ("auths.numeric", "community"): "a secret is a quoted string, {env: NAME} or {file: PATH}",
        ("auths.v3-with-community", "community"): "v3 uses a user, not a community",
        ("auths.v2-with-v3-fields", "auth_password"): "only for version 3",
    }
    text = str(ConfigError(problems))
    for secret in ("tiny7Zq", "leaked-if-echoed", "918273645", "fine-community"):
        assert secret not in text


def test_yaml_syntax_error_names_the_line_not_the_text() -> None:
    (problem,) = problems_of(BAD / "syntax_error.yaml")
    assert (problem.entry, problem.field) == ("(top)", "-")
    assert problem.message.startswith("YAML syntax error at line 7")
    assert "quoted scalar at line 4" in problem.message
    assert "leaked-if-echoed" not in str(problem)


def test_yaml_syntax_error_line(tmp_path: Path) -> None:
    path = write(tmp_path, "settings:\n  interval: 5m\n\tretries: 2\n" + HOST)
    (problem,) = problems_of(path)
    assert "line 3" in problem.message
    assert problem.file == str(path)


def test_invalid_yaml_date_is_a_problem_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "targets:\n  - id: h\n    kind: host\n    purchased: 2019-13-01\n")
    (problem,) = problems_of(path)
    assert problem.message.startswith("YAML syntax error at line 4")
    assert "not a valid date" in problem.message


def test_secrets_from_env_and_file_are_masked_everywhere(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "priv").write_text("file-secret-123\n")
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
            priv_password: {file: secrets/priv}
        targets:
          - {id: x, address: 127.0.0.1, auth: a}
        """,
    )
    config = load_config(path, env={"AUTH": "env-secret-456"})
    auth = config.auths["a"]
    assert auth.priv_password is not None
    assert auth.priv_password.get_secret_value() == "file-secret-123"
    assert auth.auth_password is not None
    assert auth.auth_password.get_secret_value() == "env-secret-456"
    shown = (
        repr(config),
        str(config),
        repr(auth),
        str(auth.model_dump()),
        auth.model_dump_json(),
        str(config.model_dump()),
        str(auth.describe()),
    )
    for text in shown:
        assert "file-secret-123" not in text
        assert "env-secret-456" not in text
    assert "**********" in repr(auth)
    assert auth.describe() == {
        "version": "3",
        "user": "u",
        "auth_protocol": "sha512",
        "auth_password": "<secret>",
        "priv_protocol": "aes128",
        "priv_password": "<secret>",
        "context": "",
        "engine": "lean",
    }


def test_missing_env_secret_and_unreadable_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        auths:
          a: {version: 2c, community: {env: NOPE}}
          b: {version: 2c, community: {file: missing.txt}}
          c: {version: 2c, community: {vault: x}}
        targets:
          - {id: x, address: 127.0.0.1, auth: a}
        """,
    )
    got = where(problems_of(path, env={"OTHER": "1"}))
    assert got[("auths.a", "community")] == "environment variable NOPE is not set"
    assert got[("auths.b", "community")].startswith(
        f"cannot read secret file {tmp_path / 'missing.txt'}"
    )
    assert (
        got[("auths.c", "community")] == "a secret is a quoted string, {env: NAME} or {file: PATH}"
    )
    assert len(got) == 3


def test_env_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        """\
        auths:
          a: {version: "1", community: {env: SOBRIETY_TEST_COMMUNITY}}
        targets:
          - {id: x, address: 127.0.0.1, auth: a}
        """,
    )
    monkeypatch.setenv("SOBRIETY_TEST_COMMUNITY", "from-os-environ")
    community = load_config(path).auths["a"].community
    assert community is not None
    assert community.get_secret_value() == "from-os-environ"


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=st.text(alphabet="abcdefghijkXYZ0123456789-_", min_size=10, max_size=40))
def test_no_problem_ever_contains_a_secret(tmp_path: Path, secret: str) -> None:
    path = write(
        tmp_path,
        f"""\
        auths:
          v2: {{version: 2c, community: "{secret}", user: "x"}}
          v3: {{version: "3", user: u, auth_protocol: md5, auth_password: "{secret}",
                priv_password: "{secret}"}}
          v3b: {{version: "3", user: u, auth_protocol: sha, auth_password: "{secret[:7]}"}}
          v3c: {{version: "3", user: u, comunity: "{secret}"}}
        targets:
          - {{id: x, address: 192.0.2.1, auth: v2, port: 0}}
        """,
    )
    problems = problems_of(path)
    assert len(problems) >= 5
    text = str(ConfigError(problems))
    assert secret not in text
    assert secret[:7] not in text


# --- auth rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("auth", "field", "message"),
    [
        ({"version": "2c"}, "community", "v2c needs a community"),
        ({"version": 1, "community": ""}, "community", "must not be empty"),
        ({"version": "2c", "community": "c", "user": "u"}, "user", "only for version 3"),
        ({"version": "3"}, "user", "v3 needs a user"),
        (
            {"version": "3", "user": "u", "auth_protocol": "sha"},
            "auth_password",
            "v3 with auth_protocol needs auth_password",
        ),
        (
            {"version": "3", "user": "u", "auth_password": "12345678"},
            "auth_protocol",
            "auth_password given without auth_protocol",
        ),
        (
            {"version": "3", "user": "u", "priv_protocol": "des", "priv_password": "12345678"},
            "priv_protocol",
            "v3 privacy (priv_protocol) needs auth_protocol",
        ),
        (
            {"version": "3", "user": "u", "auth_protocol": "md5", "auth_password": "12345678"}
            | {"priv_password": "12345678"},
            "priv_protocol",
            "priv_password given without priv_protocol",
        ),
        ({"version": "3", "user": "u", "engine": "net-snmp"}, "engine", None),
        ({"version": "4"}, "version", None),
    ],
)
def test_auth_rules(
    tmp_path: Path, auth: dict[str, object], field: str, message: str | None
) -> None:
    path = tmp_path / "sobriety.yaml"
    path.write_text(f"auths:\n  a: {auth!r}\n" + HOST)
    problems = problems_of(path)
    assert [(p.entry, p.field) for p in problems] == [("auths.a", field)]
    if message is not None:
        assert problems[0].message == message


def test_auth_version_aliases_and_security_levels() -> None:
    assert AuthConfig.model_validate({"version": 2, "community": SecretStr("c")}).version == "2c"
    assert AuthConfig.model_validate({"version": 1, "community": "c"}).security_level == "community"
    v3 = {"version": 3, "user": "u"}
    assert AuthConfig.model_validate(v3).security_level == "noAuthNoPriv"
    auth = {"auth_protocol": "sha", "auth_password": "12345678"}
    assert AuthConfig.model_validate(v3 | auth).security_level == "authNoPriv"
    with pytest.raises(ValidationError, match="need load_config"):
        AuthConfig.model_validate({"version": "2c", "community": {"env": "X"}})


# --- settings, durations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1m30s", 90),
        (90, 90),
        ("2.5", 2.5),
        (0.5, 0.5),
        ("1.5h", 5400),
        (" 10s ", 10),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "bad", ["", "5 minutes", "1d", True, "m", "30m1h", "inf", float("nan"), None]
)
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@given(h=st.integers(0, 48), m=st.integers(0, 59), s=st.integers(0, 59))
def test_duration_units_add_up(h: int, m: int, s: int) -> None:
    assert parse_duration(f"{h}h{m}m{s}s") == h * 3600 + m * 60 + s


def test_settings_values_and_paths(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        settings:
          listen: "[::1]:9999"
          data_dir: state/here
          interval: 1h30m
          timeout: 1.5
          profile_dirs: [profiles, /opt/sobriety/profiles]
          shard: "2/3"
        targets:
          - {id: h, kind: host}
        """,
    )
    s = load_config(path, env={}).settings
    assert (s.listen_host, s.listen_port) == ("::1", 9999)
    assert s.data_dir == tmp_path / "state" / "here"
    assert s.data_dir.is_absolute()
    assert s.interval == 5400
    assert s.timeout == 1.5  # plain numbers are seconds
    assert s.profile_dirs == (tmp_path / "profiles", Path("/opt/sobriety/profiles"))
    assert s.shard == "2/3"


def test_settings_defaults(tmp_path: Path) -> None:
    s = load_config(write(tmp_path, HOST), env={}).settings
    assert (s.listen_host, s.listen_port) == ("127.0.0.1", 9471)
    assert s.data_dir == tmp_path / "var"
    assert (s.interval, s.timeout, s.retries, s.jitter) == (300, 2, 1, 0.1)
    assert s.off_hours_interval is None


def test_bad_settings_each_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        settings:
          listen: "::1:9471"
          interval: 0.5s
          retries: 6
          jitter: 0.6
          shard: "3/2"
          intervall: 5m
        inclde: [x.yaml]
        targets:
          - {id: h, kind: host}
        """,
    )
    got = where(problems_of(path))
    assert set(got) == {
        ("settings", "listen"),
        ("settings", "interval"),
        ("settings", "retries"),
        ("settings", "jitter"),
        ("settings", "shard"),
        ("settings", "intervall"),
        ("(top)", "inclde"),
    }
    assert got[("settings", "intervall")] == "unknown key (did you mean 'interval'?)"
    assert got[("(top)", "inclde")] == "unknown key (did you mean 'include'?)"
    assert "'3/2'" in got[("settings", "shard")]


# --- targets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "field"),
    [
        ({"Target": "x"}, "labels.Target"),
        ({"__meta": "x"}, "labels.__meta"),
        ({"site": "x"}, "labels.site"),
        ({"job": "x"}, "labels.job"),
        ({"room-1": "x"}, "labels.room-1"),
        ({"floor": "x" * 129}, "labels.floor"),
        ({"room": "x"}, "labels.room"),
        ({"floor": 2}, "labels.floor"),
        ({f"l{i}": "x" for i in range(9)}, "labels"),
    ],
)
def test_label_rules(tmp_path: Path, labels: dict[str, object], field: str) -> None:
    path = tmp_path / "sobriety.yaml"
    path.write_text(f"targets:\n  - {{id: h, kind: host, labels: {labels!r}}}\n")
    assert [(p.entry, p.field) for p in problems_of(path)] == [("targets[0] (id=h)", field)]


def test_good_labels_pass(tmp_path: Path) -> None:
    labels = {f"l{i}": "x" * 128 for i in range(7)} | {"_room": "cm1"}
    path = tmp_path / "sobriety.yaml"
    path.write_text(f"targets:\n  - {{id: h, kind: host, labels: {labels!r}}}\n")
    assert load_config(path, env={}).targets[0].labels == labels


def test_target_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        auths:
          v2: {version: 2c, community: c}
        targets:
          - id: sw.1
            address: fe80::1
            port: 1161
            auth: v2
            class: switch_access_48p
            interval: 45s
            purchased: 2019-09-01
            commissioned: "2019-10-01"
            warranty_months: 60
            nameplate_watts: 150
            disabled: true
        """,
    )
    config = load_config(path, env={})
    (target,) = config.targets
    assert target.device_class == "switch_access_48p"
    assert (target.address, target.port, target.site) == ("fe80::1", 1161, "default")
    assert (target.purchased, target.commissioned) == (date(2019, 9, 1), date(2019, 10, 1))
    assert config.interval_for(target) == 45
    assert target.disabled
    assert config.site_for(target).timezone == "UTC"
    assert config.site_for(target).grid_gco2e_per_kwh == 46.1


def test_target_mistakes_each_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        auths:
          v2: {version: 2c, community: c}
        targets:
          - {id: h1, kind: host, address: 192.0.2.1, auth: v2}
          - {id: s1, address: 192.0.2.1}
          - {id: s2, kind: snmpp, address: 192.0.2.1, auth: v2}
          - {id: "-bad", address: "-bad.example", auth: v2, port: 70000}
          - {id: s3, address: 192.0.2.1, auth: v2, warranty_end: 2024-01-01, warranty_months: 3}
          - {id: s4, address: 192.0.2.1, auth: v2, purchased: 2019, class: Switch}
          - {id: s5, address: 192.0.2.1, auth: v2, site: nowhere, interval: 0s}
          - {address: 192.0.2.1, auth: v2}
          - just a string
        """,
    )
    got = [(p.entry, p.field) for p in problems_of(path)]
    assert got == [
        ("targets[0] (id=h1)", "address"),
        ("targets[0] (id=h1)", "auth"),
        ("targets[1] (id=s1)", "auth"),
        ("targets[2] (id=s2)", "kind"),
        ("targets[3] (id=-bad)", "id"),
        ("targets[3] (id=-bad)", "address"),
        ("targets[3] (id=-bad)", "port"),
        ("targets[4] (id=s3)", "warranty_months"),
        ("targets[5] (id=s4)", "class"),
        ("targets[5] (id=s4)", "purchased"),
        ("targets[6] (id=s5)", "interval"),
        ("targets[6] (id=s5)", "site"),
        ("targets[7]", "id"),
        ("targets[8]", "-"),
    ]


def test_at_least_one_target(tmp_path: Path) -> None:
    (problem,) = problems_of(write(tmp_path, "settings: {interval: 1m}\n"))
    assert (problem.entry, problem.field) == ("(top)", "targets")


# --- includes and duplicates -----------------------------------------------------------------


def test_includes_merge(tmp_path: Path) -> None:
    (tmp_path / "inv").mkdir()
    write(
        tmp_path,
        """\
        auths:
          v2: {version: 2c, community: c}
        sites:
          ecole: {timezone: Europe/Paris}
        targets:
          - {id: b, address: b.example, auth: v2, site: ecole}
        """,
        "inv/one.yaml",
    )
    write(tmp_path, "targets:\n  - {id: c, kind: host, site: ecole}\n", "two.yaml")
    path = write(tmp_path, "include: [inv/one.yaml, two.yaml]\n" + HOST.replace("h,", "a,"))
    config = load_config(path, env={})
    assert [t.id for t in config.targets] == ["a", "b", "c"]
    assert set(config.auths) == {"v2"}
    assert set(config.sites) == {"ecole", "default"}
    assert config.source_files == (path, tmp_path / "inv" / "one.yaml", tmp_path / "two.yaml")


def test_duplicates_within_and_across_files() -> None:
    main, inventory = BAD / "duplicates.yaml", BAD / "duplicates_inventory.yaml"
    got = [(p.file, p.entry, p.field, p.message) for p in problems_of(main)]
    assert got == [
        (str(main), "targets[1] (id=sw1)", "id", "duplicate target id 'sw1' (first at targets[0])"),
        (str(inventory), "auths.school", "-", f"duplicate auth 'school' (first in {main})"),
        (str(inventory), "sites.college", "-", "duplicate key 'college' (first at line 4)"),
        (
            str(inventory),
            "targets[0] (id=sw1)",
            "id",
            f"duplicate target id 'sw1' (first at {main} targets[0])",
        ),
    ]


def test_include_problems(tmp_path: Path) -> None:
    write(tmp_path, "settings: {interval: 1m}\ninclude: [x.yaml]\n" + HOST, "inv.yaml")
    write(tmp_path, "targets: [{id: b, kind: host}]\n", "ok.yaml")
    path = write(tmp_path, "include: [inv.yaml, gone.yaml, ok.yaml, ./ok.yaml, 3]\n")
    got = where(problems_of(path))
    assert got == {
        ("(top)", "include[1]"): f"included file not found: {tmp_path / 'gone.yaml'}",
        ("(top)", "include[3]"): "./ok.yaml is already part of the configuration",
        ("(top)", "include[4]"): "a file name",
        ("(top)", "settings"): "an included file holds only auths, sites, targets",
        ("(top)", "include"): "an included file holds only auths, sites, targets",
    }


def test_cross_references_checked_even_when_entries_fail(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        auths:
          broken: {version: 2c}
        targets:
          - {id: a, address: 192.0.2.1, auth: broken, colour: red}
          - {id: b, address: 192.0.2.1, auth: missing, colour: red, site: mars}
          - {id: a, kind: host}
        """,
    )
    got = where(problems_of(path))
    assert ("targets[0] (id=a)", "auth") not in got  # the auth exists, though broken
    assert got[("targets[1] (id=b)", "auth")] == "unknown auth 'missing' (known: broken)"
    assert got[("targets[1] (id=b)", "site")] == "unknown site 'mars' (known: default)"
    assert got[("targets[2] (id=a)", "id")] == "duplicate target id 'a' (first at targets[0])"
    assert len(got) == 6


def test_unreadable_main_file(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path / "nope.yaml")
    assert problem.message == "cannot read: No such file or directory"
    (problem,) = problems_of(write(tmp_path, "- a list\n"))
    assert problem.message == "a configuration file holds one mapping of sections"


# --- sites -----------------------------------------------------------------------------------


def test_site_opening_hours_in_its_own_timezone(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        sites:
          ecole-jaures:
            name: École Jean Jaurès
            timezone: Europe/Paris
            country: FR
            opening_hours:
              mon: ["00:00-01:00", "08:00-12:00", "13:30-17:00"]
              sat: ["20:00-24:00"]
            grid_gco2e_per_kwh: 30
            price_per_kwh: 0.25
            currency: EUR
        targets:
          - {id: h, kind: host, site: ecole-jaures}
        """,
    )
    config = load_config(path, env={})
    site = config.site_for(config.targets[0])
    winter = datetime(2026, 1, 5, 7, 30, tzinfo=UTC)  # Monday 08:30 in Paris (UTC+1)
    assert site.is_open(winter)
    assert not site.is_open(datetime(2026, 1, 5, 11, 45, tzinfo=UTC))  # 12:45: lunch
    assert not site.is_open(datetime(2026, 1, 5, 6, 30, tzinfo=UTC))  # 07:30: not yet
    assert site.is_open(datetime(2026, 1, 5, 15, 59, tzinfo=UTC))  # 16:59
    assert not site.is_open(datetime(2026, 1, 5, 16, 0, tzinfo=UTC))  # 17:00: the end is out
    assert not site.is_open(datetime(2026, 1, 6, 7, 30, tzinfo=UTC))  # Tuesday: no hours
    summer = datetime(2026, 7, 6, 6, 30, tzinfo=UTC)  # Monday 08:30 in Paris (UTC+2)
    assert site.is_open(summer)
    assert not site.is_open(datetime(2026, 7, 6, 5, 30, tzinfo=UTC))  # 07:30 in summer
    assert site.is_open(datetime(2026, 1, 4, 23, 30, tzinfo=UTC))  # Sunday UTC, Monday in Paris
    assert site.is_open(datetime(2026, 1, 10, 22, 59, 59, tzinfo=UTC))  # Sat 23:59:59 Paris
    with pytest.raises(ValueError, match="aware"):
        site.is_open(datetime(2026, 1, 5, 9, 0))


def test_default_site_is_utc_and_always_closed() -> None:
    site = SiteConfig()
    assert site.timezone == "UTC"
    assert (site.grid_gco2e_per_kwh, site.price_per_kwh, site.currency) == (46.1, 0.20, "EUR")
    assert not site.is_open(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


def test_site_mistakes_each_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        sites:
          Ecole:
            timezone: Europe/Pariss
          ecole-2:
            country: France
            currency: eur
            grid_gco2e_per_kwh: -1
            opening_hours:
              mon: ["08:00-12:00", "14:00-13:00", "8h-12h"]
              lun: ["08:00-12:00"]
              tue: "08:00-12:00"
              wed: ["25:00-26:00"]
        targets:
          - {id: h, kind: host}
        """,
    )
    got = where(problems_of(path))
    assert got[("sites.Ecole", "-")].startswith("not a valid name")
    assert got[("sites.Ecole", "timezone")] == "unknown timezone 'Europe/Pariss'"
    assert "'France'" in got[("sites.ecole-2", "country")]
    assert ("sites.ecole-2", "currency") in got
    assert ("sites.ecole-2", "grid_gco2e_per_kwh") in got
    assert got[("sites.ecole-2", "opening_hours.mon[1]")] == (
        "'14:00-13:00': the start must come before the end"
    )
    assert got[("sites.ecole-2", "opening_hours.mon[2]")] == (
        "opening hours are HH:MM-HH:MM, not '8h-12h'"
    )
    assert got[("sites.ecole-2", "opening_hours.lun")].startswith("not a weekday")
    assert got[("sites.ecole-2", "opening_hours.tue")] == 'a list of "HH:MM-HH:MM"'
    assert got[("sites.ecole-2", "opening_hours.wed[0]")] == "not a time of day in '25:00-26:00'"
    assert len(got) == 10


def test_models_are_frozen_and_strict() -> None:
    target = TargetConfig.model_validate({"id": "h", "kind": "host"})
    with pytest.raises(ValidationError):
        target.id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        TargetConfig.model_validate({"id": "h", "kind": "host", "colour": "red"})
    with pytest.raises(ValidationError, match="unknown auth"):
        Config(
            settings=Settings(),
            auths={},
            sites={"default": SiteConfig()},
            targets=(TargetConfig(id="x", address="192.0.2.1", auth="nope"),),
            source_files=(),
            base_dir=Path("/"),
        )


def test_targets_given_the_same_fields_share_what_they_can_and_stay_apart() -> None:
    def target(i: int, **more: object) -> TargetConfig:
        def fresh(text: str) -> str:  # a new string object each time, as YAML makes them
            return "".join(list(text))

        raw = {"id": f"t{i}", "address": "192.0.2.1", "auth": fresh("v2"),
               "site": fresh("ecole"), "class": fresh("desktop_pc"),
               "labels": {fresh("wing"): f"W{i % 2}"}, **more}  # fmt: skip
        return TargetConfig.model_validate(raw)

    one, two, other = target(1), target(2), target(3, building="A")
    assert one.model_fields_set == {"id", "address", "auth", "site", "device_class", "labels"}
    assert one.__pydantic_fields_set__ is two.__pydantic_fields_set__  # one set for both
    assert other.model_fields_set == one.model_fields_set | {"building"}
    assert one.site is two.site and one.device_class is two.device_class  # interned text
    assert next(iter(one.labels)) is next(iter(two.labels))
    copy = one.model_copy(update={"room": "B12"})
    assert copy.model_fields_set == one.model_fields_set | {"room"}
    assert "room" not in two.model_fields_set  # the shared set was not changed
    assert one.model_dump(exclude_unset=True)["labels"] == {"wing": "W1"}
