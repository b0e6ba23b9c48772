"""Organisations, shared sites and shards: the config's checks, inheritance of electricity
figures, labels, shares that sum to the site, the partition of targets, who sees what,
merged snapshots."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sobriety.cli import main
from sobriety.config.load import load_config
from sobriety.config.organisations import siren_ok
from sobriety.config.shards import chain_roots, owned
from sobriety.daemon.runtime import World, build_runtime
from sobriety.daemon.webusers import UserMap, Viewer, mapping_warnings
from sobriety.energy.accounting import EnergyTracker
from sobriety.energy.classes import load_classes
from sobriety.energy.sitecalendar import SiteCalendar
from sobriety.errors import ConfigError, StoreError
from sobriety.model import CollectResult, Sample
from sobriety.reports.exports import Stored
from sobriety.reports.tables import ENERGY_COLUMNS, Owners, energy_rows
from sobriety.store import EnergyAmount, EnergyDay, EnergyKey, StateStore

SYNDICATE = """\
settings: {interval: 60s, data_dir: ".", web_admins: [dsi]}
organisations:
  syndicat:
    name: Syndicat intercommunal
    siren: "000 000 018"
    electricity: {price_per_kwh: 0.15, grid_gco2e_per_kwh: 30}
  nord: {name: Commune de Nord, siren: "000000026", publisher: Mairie de Nord, users: [alice]}
  sud: {name: Commune de Sud, siren: "000000034", users: [bob]}
  dep: {name: Département, users: [carol, bob]}
sites:
  salle:
    timezone: Europe/Paris
    organisation: syndicat
    shares: {nord: 0.5, sud: 0.3, dep: 0.2}
  ecole-nord: {organisation: nord, price_per_kwh: 0.25}
  ecole-sud: {organisation: sud}
auths:
  v2: {version: 2c, community: public}
targets:
  - {id: ups, address: 127.0.0.1, auth: v2, site: salle, class: ups, building: mairie,
     room: serveurs}
  - {id: pdu, address: 127.0.0.1, auth: v2, site: salle, class: pdu, fed_by: [ups]}
  - {id: srv, address: 127.0.0.1, auth: v2, site: salle, class: server_rack_2s, fed_by: [pdu]}
  - {id: sw-nord, address: 127.0.0.1, auth: v2, site: ecole-nord, class: switch_access_48p}
  - {id: ap-nord, address: 127.0.0.1, auth: v2, site: ecole-nord, class: wifi_ap_enterprise,
     poe: {switch: sw-nord, port: "1"}}
  - {id: pc-sud, address: 127.0.0.1, auth: v2, site: ecole-sud, class: desktop_pc}
  - {id: pc-2, address: 127.0.0.1, auth: v2, site: ecole-sud, class: desktop_pc}
  - {id: pc-3, address: 127.0.0.1, auth: v2, site: ecole-sud, class: desktop_pc}
"""


def write(tmp: Path, text: str) -> Path:
    path = tmp / "sobriety.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(tmp: Path, text: str) -> dict[tuple[str, str], str]:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp, text))
    return {(p.entry, p.field): p.message for p in caught.value.problems}


# --- the configuration -----------------------------------------------------------------------


def test_siren_check_digit() -> None:
    assert siren_ok("000000018") and siren_ok("356000000")  # La Poste's passes Luhn too
    assert not siren_ok("000000019") and not siren_ok("12345678") and not siren_ok("00000001a")


def test_organisations_sites_and_places_load(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SYNDICATE))
    assert config.organisations["syndicat"].siren == "000000018"  # spaces dropped
    assert config.organisations["nord"].publisher_name == "Mairie de Nord"
    assert config.organisations["sud"].publisher_name == "Commune de Sud"
    salle, nord, sud = (config.sites[s] for s in ("salle", "ecole-nord", "ecole-sud"))
    # the owner's contract unless the site says otherwise; where each figure comes from
    assert (salle.price_per_kwh, salle.grid_gco2e_per_kwh) == (0.15, 30)
    assert config.inherited["salle"] == ("grid_gco2e_per_kwh", "price_per_kwh")
    assert (nord.price_per_kwh, nord.grid_gco2e_per_kwh) == (0.25, 46.1)  # no contract: default
    assert "ecole-nord" not in config.inherited and sud.price_per_kwh == 0.20
    assert salle.keys() == {"nord": 0.5, "sud": 0.3, "dep": 0.2}
    assert nord.keys() == {"nord": 1.0} and config.sites["default"].keys() == {}
    ups = next(t for t in config.targets if t.id == "ups")
    assert (ups.building, ups.room, config.organisation_of(ups)) == ("mairie", "serveurs",
                                                                       "syndicat")  # fmt: skip


def test_every_organisation_mistake_at_once(tmp_path: Path) -> None:
    got = problems(tmp_path, """\
        settings: {web_admins: [dsi]}
        organisations:
          a: {name: A, siren: "000000019", users: [dsi, "x y"]}
          b: {name: B, siren: "12345", electricity: {price_per_kwh: -1}}
          C: {name: C}
          d: {}
        sites:
          s1: {organisation: z, shares: {a: 0.5, b: 0.4}}
          s2: {organisation: a, shares: {a: 1.5, y: 0.5}}
        targets:
          - {id: h, kind: host, site: s1, labels: {building: x}}
        """)  # fmt: skip
    assert got[("organisations.a", "siren")] == (
        "000000019 fails the SIREN check digit (Luhn): a typo?"
    )
    assert "not a web user name" in got[("organisations.a", "users")]
    assert got[("organisations.b", "siren")].startswith("a SIREN is 9 digits")
    assert ("organisations.b", "electricity.price_per_kwh") in got
    assert "not a valid name" in got[("organisations.C", "-")]
    assert got[("organisations.d", "name")] == "required"
    assert got[("sites.s1", "organisation")] == "unknown organisation 'z' (known: C, a, b, d)"
    assert got[("sites.s1", "shares")] == "the shares sum to 0.9, not 1"
    assert got[("sites.s2", "shares")] == "a: a share is above 0 and at most 1"
    assert got[("sites.s2", "shares.y")].startswith("unknown organisation 'y'")
    assert "an admin sees every organisation" in got[("organisations.a", "users[0]")]
    assert got[("targets[0] (id=h)", "labels.building")].startswith("building is a target field")


def test_device_info_places_the_device(tmp_path: Path) -> None:
    runtime = build_runtime(write(tmp_path, SYNDICATE), World())
    ref = runtime.collectors["ups"].target
    assert (ref.organisation, ref.building, ref.room) == ("syndicat", "mairie", "serveurs")
    assert runtime.collectors["pc-sud"].target.building == ""


# --- shards ----------------------------------------------------------------------------------


def shards(tmp: Path, text: str, n: int) -> list[set[str]]:
    config = load_config(write(tmp, text))
    return [owned(config.model_copy(update={"settings": config.settings.model_copy(
        update={"shard": f"{k}/{n}"})})) for k in range(1, n + 1)]  # fmt: skip


def test_power_chains_stay_on_one_daemon(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SYNDICATE))
    roots = chain_roots(config.targets)
    assert roots["srv"] == roots["pdu"] == roots["ups"] == "pdu"  # the smallest id of the chain
    assert roots["ap-nord"] == roots["sw-nord"] == "ap-nord"
    assert roots["pc-sud"] == "pc-sud"
    for n in (2, 3, 5):
        parts = shards(tmp_path, SYNDICATE, n)
        assert set().union(*parts) == {t.id for t in config.targets}
        assert sum(len(p) for p in parts) == len(config.targets)  # each target once
        assert all({"ups", "pdu", "srv"} <= p or not {"ups", "pdu", "srv"} & p for p in parts)
        assert all({"ap-nord", "sw-nord"} <= p or not {"ap-nord"} & p for p in parts)


@pytest.mark.parametrize(("by", "groups"), [
    ("site", [{"ups", "pdu", "srv"}, {"sw-nord", "ap-nord"}, {"pc-sud", "pc-2", "pc-3"}]),
    ("organisation", [{"ups", "pdu", "srv"}, {"sw-nord", "ap-nord"}, {"pc-sud", "pc-2", "pc-3"}]),
])  # fmt: skip
def test_shard_by_site_or_organisation(tmp_path: Path, by: str, groups: list[set[str]]) -> None:
    text = SYNDICATE.replace("web_admins: [dsi]}", f"web_admins: [dsi], shard_by: {by}}}")
    for n in (2, 3):
        parts = shards(tmp_path, text, n)
        assert sum(len(p) for p in parts) == 8
        for group in groups:
            assert [p for p in parts if group & p] == [p for p in parts if group <= p]


# --- energy: shares of a shared room ---------------------------------------------------------


def tracker(tmp: Path) -> tuple[EnergyTracker, StateStore]:
    config = load_config(write(tmp, SYNDICATE))
    store = StateStore(tmp / "state.sqlite3")
    calendars = {n: SiteCalendar.load(s) for n, s in config.sites.items()}
    return EnergyTracker(config, load_classes(), calendars, store, lambda _: None), store


def feed(energy: EnergyTracker, target: str, watts: float, start: datetime) -> None:
    for minute in range(61):
        at = start + timedelta(minutes=minute)
        labels = {"target": target, "source": "measured", "origin": "test"}
        result = CollectResult(
            target=target, up=True, samples=[Sample("sobriety_device_power_watts", labels, watts)]
        )
        energy.observe(result, at)  # fmt: skip


def test_site_series_carry_the_owner_and_shares_sum_to_the_room(tmp_path: Path) -> None:
    energy, store = tracker(tmp_path)
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    feed(energy, "srv", 400.0, start)  # 0.4 kWh in the shared room
    feed(energy, "pc-sud", 60.0, start)
    samples = energy.site_samples()
    room = [s for s in samples if s.name == "sobriety_site_energy_joules_total"
            and s.labels["site"] == "salle"]  # fmt: skip
    assert {s.labels["organisation"] for s in room} == {"syndicat"}
    total = sum(s.value for s in room)
    assert total == pytest.approx(0.4 * 3.6e6)
    shares = {
        s.labels["organisation"]: s.value
        for s in samples
        if s.name == "sobriety_site_share_energy_joules_total" and s.labels["site"] == "salle"
    }
    assert shares == pytest.approx({"nord": 0.5 * total, "sud": 0.3 * total, "dep": 0.2 * total})
    assert sum(shares.values()) == pytest.approx(total)
    cost = {
        s.labels["organisation"]: s.value
        for s in samples
        if s.name == "sobriety_site_share_cost_euros_total" and s.labels["site"] == "salle"
    }
    assert cost["nord"] == pytest.approx(0.4 * 0.15 * 0.5)  # the syndicate's contract price
    ratio = {(s.labels["site"], s.labels["organisation"]): s.value for s in samples
             if s.name == "sobriety_site_share_ratio"}  # fmt: skip
    assert ratio[("ecole-sud", "sud")] == 1.0 and ratio[("salle", "dep")] == 0.2
    assert all(s.labels.get("organisation") == "syndicat" for s in samples
               if s.name == "sobriety_site_open" and s.labels["site"] == "salle")  # fmt: skip
    store.close()


def day(target: str, site: str, joules: float, cost: float = 0.0) -> EnergyDay:
    key = EnergyKey(target, "", site, "x", "measured", "measured")
    return EnergyDay("2026-03-02", key, EnergyAmount(joules, (joules, 0.0, 0.0), 0.0, cost))


def test_energy_rows_split_the_shared_room_by_its_keys(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SYNDICATE))
    owners = Owners.of(config)
    days = [day("srv", "salle", 3.6e6, 0.15), day("ups", "salle", 7.2e6, 0.30),
            day("pc-sud", "ecole-sud", 1.8e6, 0.1)]  # fmt: skip
    col = {name: i for i, name in enumerate(ENERGY_COLUMNS)}
    rows = energy_rows(days, owners)
    shares = [r for r in rows if r[0] == "share"]
    assert [(r[col["organisation"]], r[col["share"]]) for r in shares] == [
        ("dep", 0.2), ("nord", 0.5), ("sud", 0.3)]  # fmt: skip
    assert sum(float(r[col["kwh"]]) for r in shares) == pytest.approx(3.0)  # the room's 3 kWh
    totals = {r[col["organisation"]]: r[col["kwh"]] for r in rows if r[0] == "organisation"}
    assert totals == pytest.approx({"dep": 0.6, "nord": 1.5, "sud": 0.9 + 0.5})
    sud = energy_rows(days, owners, "sud")
    assert {r[0] for r in sud} == {"device", "class", "site", "share", "organisation"}
    assert {r[col["site"]] for r in sud if r[0] in ("device", "site")} == {"ecole-sud"}
    (share,) = [r for r in sud if r[0] == "share"]
    assert share[col["kwh"]] == pytest.approx(0.9) and share[col["cost"]] == pytest.approx(0.135)
    assert [r[col["organisation"]] for r in sud if r[0] == "organisation"] == ["sud"]


# --- who sees what ---------------------------------------------------------------------------


def test_users_see_their_organisations(tmp_path: Path) -> None:
    users = UserMap.of(load_config(write(tmp_path, SYNDICATE)))
    assert users.viewer("alice") == Viewer("alice", frozenset({"nord"}))
    assert users.viewer("bob").organisations == {"sud", "dep"}
    assert users.viewer("dsi").everything and users.viewer(None).everything
    assert users.viewer("mallory").organisations == frozenset()  # mapped: unknown sees nothing
    assert not users.viewer("alice").sees("sud") and users.viewer("alice").sees("nord")
    assert UserMap().viewer("anyone").everything  # nobody mapped: as before
    assert mapping_warnings(users, {"alice", "bob", "carol", "dsi"}) == []
    assert "cannot log in): bob, carol, dsi" in mapping_warnings(users, {"alice"})[0]
    assert "no basic_auth_users" in mapping_warnings(users, set())[0]


# --- central reports from daemons' snapshots ------------------------------------------------


def test_snapshots_merge_and_refuse_the_same_daemon_twice(tmp_path: Path) -> None:
    a, b = StateStore(tmp_path / "a.sqlite3"), StateStore(tmp_path / "b.sqlite3")
    assert a.instance != b.instance and len(a.instance) == 32
    a.record_device_facts("srv", 100.0, {"action": "keep"})
    b.record_device_facts("srv", 200.0, {"action": "repair"})  # newer: it moved to b
    b.record_device_facts("pc", 50.0, {"action": "reuse"})
    a.add_energy_day(day("srv", "salle", 1.0))
    b.add_energy_day(day("srv", "salle", 2.0))
    for store in (a, b):
        store.snapshot(tmp_path / f"snap-{store.path.stem}.sqlite3")
    with pytest.raises(StoreError, match="exists already"):
        a.snapshot(tmp_path / "snap-a.sqlite3")
    snaps = [StateStore(tmp_path / f"snap-{n}.sqlite3") for n in ("a", "b")]
    assert [s.instance for s in snaps] == [a.instance, b.instance]  # the copy keeps its id
    merged = Stored.merge(snaps, None, None, None)
    assert merged.facts["srv"] == (200.0, {"action": "repair"}) and "pc" in merged.facts
    assert sum(d.joules for d in merged.days) == 3.0
    assert merged.overlaps == [("srv", "2026-03-02")]
    with pytest.raises(ValueError, match="same daemon"):
        Stored.merge([snaps[0], StateStore(tmp_path / "snap-a.sqlite3")], None, None, None)


def test_export_state_then_a_central_energy_report(tmp_path: Path) -> None:
    config = write(tmp_path, SYNDICATE)
    store = StateStore(tmp_path / "state.sqlite3")
    store.add_energy_day(day("srv", "salle", 3.6e6, 0.15))
    store.close()
    snap = tmp_path / "central" / "a.sqlite3"
    assert main(["export", "state", "--config", str(config), "--out", str(snap)]) == 0
    assert main(["export", "state", "--config", str(config), "--out", str(snap)]) == 1
    assert main(["export", "state", "--config", str(config), "--out", str(snap),
                 "--site", "salle"]) == 2  # fmt: skip
    out = tmp_path / "nord.json"
    args = ["export", "energy", "--config", str(config), "--state", str(snap),
            "--organisation", "nord", "--format", "json", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    body = json.loads(out.read_text(encoding="utf-8"))
    assert body["organisation"] == "nord"
    (share,) = [r for r in body["rows"] if r["level"] == "share"]
    assert (share["site"], share["share"], share["kwh"]) == ("salle", 0.5, 0.5)
    assert main([*args[:-2], "--out", str(out), "--organisation", "zzz"]) == 2
    assert main(["export", "energy", "--config", str(config), "--state",
                 str(tmp_path / "none.sqlite3"), "--out", str(out)]) == 2  # fmt: skip


def test_each_share_is_its_key_of_the_room_s_energy_by_source_and_of_its_carbon(
    tmp_path: Path,
) -> None:
    """A measured server (0.4 kWh) and an estimated PDU (10 W: 0.01 kWh) in the shared room,
    at the syndicate's 30 g/kWh: each organisation's share of each source, and of the grams
    of every class together, is its key of them (nothing added, nothing taken away)."""
    energy, store = tracker(tmp_path)
    start = datetime(2026, 3, 2, 10, tzinfo=UTC)
    feed(energy, "srv", 400.0, start)
    for minute in range(61):
        energy.observe(CollectResult(target="pdu", up=True, samples=[]),
                       start + timedelta(minutes=minute))  # fmt: skip
    samples = energy.site_samples()
    share = {
        (s.labels["organisation"], s.labels["source"]): s.value
        for s in samples
        if s.name == "sobriety_site_share_energy_joules_total" and s.labels["site"] == "salle"
    }
    measured, estimated = 0.4 * 3.6e6, 0.01 * 3.6e6
    assert share == pytest.approx(
        {(org, src): key * joules for org, key in (("nord", 0.5), ("sud", 0.3), ("dep", 0.2))
         for src, joules in (("measured", measured), ("estimated", estimated))},
        rel=1e-12,
    )  # fmt: skip
    grams = {
        s.labels["organisation"]: s.value
        for s in samples
        if s.name == "sobriety_site_share_carbon_grams_total" and s.labels["site"] == "salle"
    }
    assert grams == pytest.approx({"nord": 0.5 * 12.3, "sud": 0.3 * 12.3, "dep": 0.2 * 12.3})
    store.close()
