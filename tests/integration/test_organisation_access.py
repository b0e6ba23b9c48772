"""Access per organisation over the real HTTP server: `sobriety run` with a web config's
basic auth users mapped to organisations, polling snmpsim-served recordings on loopback.

Two communes (nord: alice, sud: bob) each own a school with polled devices (a Wi-Fi AP or a
radio link among them, so the radio report has transmitters on both sides), the syndicate
owns the shared server room, one host is of no organisation. On every report endpoint alice
sees nord's devices only, bob sud's only, a filter on the other's organisation or site is
refused (403), the admin sees all, an unmapped user (the scraper's) sees no report but the
scrape, and no credentials get 401. A route added to the server without being listed here
fails the first test.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
import yaml

from sobriety.daemon.web import Served, WebServer
from sobriety.demo.snmpsim_agent import SnmpsimAgent
from tests.integration.test_daemon import free_tcp_port, parse, up_by_target
from tests.integration.tlsfiles import bcrypt_hash

pytestmark = pytest.mark.integration

# target id -> (recording, device class); the ids are unlike anything a recording says, so
# finding one in an answer means that device's row is there
NORD = {"nord-ap": ("unifi_nanohd", "wifi_ap_enterprise"),
        "nord-mfp": ("ricoh_mpc3002", "mfp_a3_office")}  # fmt: skip
SUD = {"sud-radio": ("ubiquiti-m5", "radio_link"), "sud-pc": ("winxp-full-walk", "desktop_pc")}
SALLE = {"salle-ups": ("apc_smx750i", "ups")}  # the syndicate's shared room
ORPHAN = "orphan-host"  # the daemon's own host, on the default site: of no organisation
EVERY = {*NORD, *SUD, *SALLE, ORPHAN}
RADIOS = {"nord": "nord-ap", "sud": "sud-radio"}
NAMES = {"nord": ("Commune de Nord", "Groupe scolaire Nord"),
         "sud": ("Commune de Sud", "Groupe scolaire Sud")}  # fmt: skip
OWN = {"nord": set(NORD), "sud": set(SUD)}
SITE = {"nord": "ecole-nord", "sud": "ecole-sud"}
PASSWORDS = {"alice": "alice pw", "bob": "bob pw", "dsi": "admin pw", "prometheus": "scrape pw"}
USER_OF = {"nord": "alice", "sud": "bob"}
OTHER = {"nord": "sud", "sud": "nord"}

# Every route of the web server, as what it serves: a report (devices, filtered per
# organisation), the scrape (every organisation: the scraper's or an admin's), or no device.
REPORTS = {"/reports/end-of-life", "/reports/end-of-life.csv", "/reports/end-of-life.ods",
           "/reports/end-of-life.json", "/reports/radio"}  # fmt: skip
INDEX, METRICS = "/", "/metrics"
NO_DEVICE = {"/-/healthy", "/-/ready", "/-/reload"}
# measured: every target up and both radios assessed ~6 s after start on an idle 2-core box
# (interval 2 s); x3 plus margin for a loaded machine and snmpsim's first reads
READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def config_text(folder: Path, port: int, agent: SnmpsimAgent) -> dict[str, object]:
    def snmp(tid: str, recording: str, cls: str, site: str) -> dict[str, object]:
        return {"id": tid, "kind": "snmp", "address": "127.0.0.1", "port": agent.port,
                "auth": recording, "class": cls, "site": site}  # fmt: skip

    placed = [(NORD, "ecole-nord"), (SUD, "ecole-sud"), (SALLE, "salle")]
    targets = [snmp(t, rec, cls, site) for group, site in placed
               for t, (rec, cls) in group.items()]  # fmt: skip
    targets.append({"id": ORPHAN, "kind": "host"})
    recordings = sorted(rec for group, _ in placed for rec, _ in group.values())
    return {
        "settings": {
            "listen": f"127.0.0.1:{port}",
            "data_dir": str(folder / "state"),
            "interval": "2s",
            "timeout": "2s",
            "retries": 1,
            "alerting": {"log": False},
            "web_admins": ["dsi"],
        },
        "organisations": {
            "syndicat": {"name": "Syndicat intercommunal", "siren": "000000018"},
            "nord": {"name": NAMES["nord"][0], "siren": "000000026", "users": ["alice"]},
            "sud": {"name": NAMES["sud"][0], "siren": "000000034", "users": ["bob"]},
        },
        "sites": {
            "salle": {
                "name": "Salle serveurs",
                "organisation": "syndicat",
                "shares": {"nord": 0.6, "sud": 0.4},
            },
            "ecole-nord": {"name": NAMES["nord"][1], "organisation": "nord"},
            "ecole-sud": {"name": NAMES["sud"][1], "organisation": "sud"},
        },
        "auths": {rec: {"version": "2c", "community": rec} for rec in recordings},
        "targets": targets,
    }


class Daemon:
    """`sobriety run` in a child process this test owns (stopped by its PID)."""

    def __init__(self, folder: Path, agent: SnmpsimAgent) -> None:
        self.port = free_tcp_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "daemon.log"
        config = folder / "sobriety.yaml"
        config.write_text(yaml.safe_dump(config_text(folder, self.port, agent)))
        web = folder / "web-config.yml"
        users = {user: bcrypt_hash(pw) for user, pw in PASSWORDS.items()}
        web.write_text(yaml.safe_dump({"basic_auth_users": users}))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sobriety", "run", "--config", str(config),
             f"--web.config.file={web}"],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def get(self, path: str, user: str | None = None, password: str | None = None) -> Answer:
        headers = {}
        if user is not None:
            token = f"{user}:{password or PASSWORDS[user]}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return Answer(resp.status, resp.read())
        except urllib.error.HTTPError as refused:
            return Answer(refused.code, refused.read())

    def wait_polled(self) -> None:
        """Until every target is up and both communes' radios are on the radio report."""
        deadline = time.monotonic() + READY_TIMEOUT
        up: dict[str, float] = {}
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            with socket.socket() as probe:
                listening = probe.connect_ex(("127.0.0.1", self.port)) == 0
            if listening:
                up = up_by_target(parse(self.get(METRICS, "dsi").text))
                radio = self.get("/reports/radio", "dsi").text
                if (
                    set(up) == EVERY
                    and all(v == 1 for v in up.values())
                    and all(f'data-target="{t}"' in radio for t in RADIOS.values())
                ):
                    return
            time.sleep(0.5)
        raise AssertionError(f"not polled in {READY_TIMEOUT}s (up: {up}): "
                             f"{self.log.read_text()[-2000:]}")  # fmt: skip

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


@pytest.fixture(scope="module")
def daemon(
    tmp_path_factory: pytest.TempPathFactory, snmpsim_agent: SnmpsimAgent
) -> Iterator[Daemon]:
    running = Daemon(tmp_path_factory.mktemp("organisations"), snmpsim_agent)
    try:
        running.wait_polled()
        yield running
    finally:
        running.stop()
    assert running.proc.returncode == 0, running.log.read_text()[-2000:]
    assert "Traceback" not in running.log.read_text()


def shown(answer: Answer, path: str) -> set[str]:
    """The targets an answer shows (every id of the config looked for in it)."""
    assert answer.status == 200, (path, answer.status, answer.text[:300])
    if path.endswith(".json"):
        rows = json.loads(answer.body)["rows"]
        targets = {str(r["target"]) for r in rows}
        assert len(targets) == len(rows)  # one row per device
        return targets
    if path.endswith(".csv"):
        rows = list(csv.reader(io.StringIO(answer.text), delimiter=";"))
        column = rows[0].index("Appareil")  # French by default
        return {r[column] for r in rows[1:]}
    return shown_ids(text_of(answer, path))


def text_of(answer: Answer, path: str) -> str:
    """What an answer says, a spreadsheet's cells included."""
    if not path.endswith(".ods"):
        return answer.text
    with zipfile.ZipFile(io.BytesIO(answer.body)) as ods:
        return ods.read("content.xml").decode("utf-8")


def shown_ids(text: str) -> set[str]:
    return {t for t in EVERY if t in text}


def test_every_route_is_covered() -> None:
    async def reload() -> list[str]:
        return []

    server = WebServer(cast(Served, None), reload, "127.0.0.1", 0)
    routes = {r.canonical for r in server.app.router.resources()}
    assert routes == REPORTS | {INDEX, METRICS} | NO_DEVICE, (
        "a route was added or removed: say here whether it shows devices, and test it below"
    )


def test_without_credentials_every_route_answers_401(daemon: Daemon) -> None:
    for path in sorted(REPORTS | {INDEX, METRICS} | NO_DEVICE):
        assert daemon.get(path).status == 401, path
        assert daemon.get(path, "alice", "bob pw").status == 401, path  # another's password
        assert daemon.get(path, "mallory", "alice pw").status == 401, path  # no such user
    for path in NO_DEVICE - {"/-/reload"}:
        for user in PASSWORDS:
            answer = daemon.get(path, user)
            assert answer.status == 200 and not shown(answer, path), (path, user)


@pytest.mark.parametrize("org", ["nord", "sud"])
def test_a_member_sees_only_its_organisation_on_every_report(daemon: Daemon, org: str) -> None:
    user, other = USER_OF[org], OTHER[org]
    for path in sorted(REPORTS | {INDEX}):
        answer = daemon.get(path, user)
        got = shown(answer, path)
        assert got == ({RADIOS[org]} if path == "/reports/radio" else OWN[org]), (user, path)
        page = text_of(answer, path)
        for name in NAMES[other]:  # the other's names are not in the choices either
            assert name not in page, (user, path, name)
        # own filters answer, the other's are refused, and so is a site of no one of theirs
        own = f"{path}?organisation={org}&site={SITE[org]}"
        assert daemon.get(own, user).status == 200, own
        for query in (f"organisation={other}", f"site={SITE[other]}", "site=salle",
                      "site=default", f"organisation=syndicat&site={SITE[org]}"):  # fmt: skip
            if path == "/reports/radio" and query.startswith("organisation="):
                continue  # the radio page filters by site only
            if path == INDEX:
                continue  # the index takes no filter
            refused = daemon.get(f"{path}?{query}", user)
            assert refused.status == 403, (user, path, query, refused.status)
            assert not shown_ids(refused.text), (user, path, query)
    # a repeated parameter is read as its first value by the check and the filter alike
    twice = f"/reports/end-of-life.json?organisation={org}&organisation={other}"
    assert shown(daemon.get(twice, user), twice) == OWN[org]
    twice = f"/reports/end-of-life.json?organisation={other}&organisation={org}"
    assert daemon.get(twice, user).status == 403
    # a filter the radio page does not have changes nothing: still only its own radio
    radio = daemon.get(f"/reports/radio?organisation={other}", user)
    assert shown(radio, "/reports/radio") == {RADIOS[org]}
    # the scrape shows every organisation: not for a member
    refused = daemon.get(METRICS, user)
    assert refused.status == 403 and not shown_ids(refused.text)


def test_the_admin_sees_every_organisation(daemon: Daemon) -> None:
    for path in sorted(REPORTS | {INDEX}):
        got = shown(daemon.get(path, "dsi"), path)
        assert got == (set(RADIOS.values()) if path == "/reports/radio" else EVERY), path
    for org in ("nord", "sud"):
        path = f"/reports/end-of-life.json?organisation={org}"
        assert shown(daemon.get(path, "dsi"), path) == OWN[org]
        path = f"/reports/radio?site={SITE[org]}"
        assert shown(daemon.get(path, "dsi"), path) == {RADIOS[org]}
    assert set(up_by_target(parse(daemon.get(METRICS, "dsi").text))) == EVERY


def test_an_unmapped_user_sees_no_report_but_the_scrape(daemon: Daemon) -> None:
    for path in sorted(REPORTS):
        refused = daemon.get(path, "prometheus")
        assert refused.status == 403 and not shown_ids(refused.text), path
    assert shown(daemon.get(INDEX, "prometheus"), INDEX) == set()
    # the scraper's account is in the web config and no organisation's: it scrapes everything
    assert set(up_by_target(parse(daemon.get(METRICS, "prometheus").text))) == EVERY
