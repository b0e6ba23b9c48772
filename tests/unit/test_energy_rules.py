"""The energy rules one at a time, on hand-made samples: each test states one rule of
docs/energy.md and fails when the code breaks it (issue 21's mutations among them)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sobriety.config.load import TargetConfig
from sobriety.energy.accounting import controller_itself
from sobriety.energy.choose import (
    Context,
    choose,
    device_model,
    is_ups,
    poe_remainder,
    virtualization,
)
from sobriety.energy.classes import ClassOverride, DeviceClass, PowerFigures, load_classes
from sobriety.energy.models import PoeRemainder, estimate, vcpu_share
from sobriety.energy.readings import (
    Fleet,
    PowerReading,
    allocation_estimate,
    delivered_to_monitored,
    from_feed,
    from_outlets,
    from_poe,
    own_measured,
    port_is_allocation,
    states,
    supply_volts_amps,
)
from sobriety.energy.ups import (
    TOPOLOGIES,
    LossTerms,
    Topology,
    UpsOutput,
    load_efficiency,
    losses,
    shipped_efficiency,
)
from sobriety.energy.ups import output as ups_output
from sobriety.errors import ConfigError, ConfigProblem
from sobriety.model import Sample
from tests.problems import problems_of

SERVER = DeviceClass(
    description="a test server", model="cpu_linear", source="test",
    idle_watts=100.0, typical_watts=150.0, max_watts=300.0,
)  # fmt: skip


SWITCH = DeviceClass(
    description="a test switch", model="switch", source="test",
    idle_watts=40.0, typical_watts=50.0, max_watts=80.0,
)  # fmt: skip


def test_a_switch_books_even_a_fraction_of_a_watt_of_unmonitored_poe_and_none_when_zero() -> None:
    half = estimate(SWITCH, "sw", [], PoeRemainder(0.5, allocated=False))
    assert half == PowerReading(50.5, "estimated", "class:sw+poe", 40.5, 80.5, "assumed")
    none_left = estimate(SWITCH, "sw", [], PoeRemainder(0.0, allocated=False))
    assert none_left == PowerReading(50.0, "estimated", "class:sw", 40.0, 80.0, "assumed")
    allocated = estimate(SWITCH, "sw", [], PoeRemainder(30.0, allocated=True))
    assert allocated == PowerReading(65.0, "estimated", "class:sw+poe-allocation", 40.0, 110.0,
                                     "assumed")  # fmt: skip


def powered_device(name: str, group: str | None = None, port: str = "") -> TargetConfig:
    poe = {"poe": {"switch": "sw", "group": group, "port": port}} if group else {}
    return TargetConfig.model_validate({"id": name, "address": "127.0.0.1", "auth": "a", **poe})


def pse(watts: float, *ports: tuple[str, str, float]) -> list[Sample]:
    out = [Sample("sobriety_poe_consumption_watts", {"target": "sw", "group": "1"}, watts)]
    out += [
        Sample("sobriety_poe_port_power_watts", {"target": "sw", "group": g, "port": p}, w)
        for g, p, w in ports
    ]
    return out


def test_the_poe_remainder_is_the_pse_total_less_every_monitored_port_of_its_group() -> None:
    powered = [
        powered_device("printer"),  # no PoE: nothing to take off
        powered_device("ap1", "1", "5"),
        powered_device("ap2", "1", "6"),
        powered_device("cam", "1", "7"),  # its port reports nothing: nothing to take off
    ]
    samples = pse(40.0, ("2", "5", 3.0), ("1", "5", 12.2), ("1", "6", 9.1), ("1", "8", 2.3))
    assert poe_remainder(samples, powered) == PoeRemainder(pytest.approx(40.0 - 12.2 - 9.1), False)
    assert poe_remainder(pse(0.5), []) == PoeRemainder(0.5, False)  # half a watt is PoE too
    assert poe_remainder(pse(0.0, ("1", "5", 0.0)), powered) is None  # no PoE delivered
    assert poe_remainder(pse(10.0, ("1", "5", 12.0)), powered[1:2]) == PoeRemainder(0.0, False)


def test_the_poe_remainder_is_an_allocation_when_the_ports_report_allocations() -> None:
    samples = pse(45.4, ("1", "1", 15.4), ("1", "2", 30.0), ("1", "3", 0.0))
    assert poe_remainder(samples, []) == PoeRemainder(45.4, True)
    assert poe_remainder(pse(20.6, ("1", "1", 15.4), ("1", "2", 5.2)), []) == PoeRemainder(
        20.6, False
    )


def test_an_override_changes_only_the_figures_it_gives_and_says_whose_they_are() -> None:
    assert SERVER.with_override(None) is SERVER
    assert SERVER.with_override(ClassOverride()) is SERVER  # nothing given: nothing changed
    site = SERVER.with_override(ClassOverride(idle_watts=80.0, mass_kg=20.0, source="audit"))
    assert (site.idle_watts, site.typical_watts, site.max_watts, site.mass_kg) == (
        80.0, 150.0, 300.0, 20.0,
    )  # fmt: skip
    assert site.source == "test; overridden by audit: ['idle_watts', 'mass_kg']"
    target = SERVER.with_override(PowerFigures(max_watts=250.0))
    assert (target.max_watts, target.source) == (250.0, "test; overridden by target: ['max_watts']")


def test_every_bad_class_is_a_problem_naming_file_class_and_field(tmp_path: Path) -> None:
    path = tmp_path / "classes.yaml"
    path.write_text(
        "classes:\n"
        "  ok: {description: fine, source: s, typical_watts: 5}\n"
        "  negative: {description: x, source: s, idle_watts: -1}\n"
        "  anonymous: {source: s}\n"
    )
    assert problems_of(load_classes, path) == [
        ConfigProblem(str(path), "class negative", "idle_watts",
                      "Input should be greater than or equal to 0"),
        ConfigProblem(str(path), "class anonymous", "description", "Field required"),
    ]  # fmt: skip
    path.write_text("classes: [a, b]\n")
    assert problems_of(load_classes, path) == [
        ConfigProblem(str(path), "-", "classes", "a mapping of classes")
    ]


def test_a_ups_is_one_by_its_class_or_by_reporting_an_output() -> None:
    ups_class = DeviceClass(description="u", source="t", model="ups_loss")
    assert is_ups([], ups_class) and not is_ups([], SERVER)
    for name in ("sobriety_ups_output_power_watts", "sobriety_ups_output_load_ratio"):
        assert is_ups([Sample(name, {"target": "u"}, 0.2)], None)
    assert not is_ups([Sample("sobriety_ups_input_power_watts", {"target": "u"}, 90.0)], None)


def test_a_virtual_machine_is_one_by_its_info_or_by_the_host_s_virtual_devices() -> None:
    def info(**labels: str) -> Sample:
        return Sample("sobriety_device_virtualization_info", {"target": "h", **labels}, 1.0)

    def devices(count: float) -> Sample:
        return Sample("sobriety_host_virtual_devices", {"target": "h"}, count)

    assert virtualization([info(kind="container")]) == "container"
    assert virtualization([info()]) == "vm"  # the info without a kind: a virtual machine
    assert virtualization([devices(2.0)]) == "vm"
    assert virtualization([devices(1.0)]) == "vm"  # one virtual device is enough
    assert virtualization([devices(0.0)]) is None
    assert virtualization([]) is None


def test_a_class_with_only_an_idle_figure_is_estimated_at_it_and_a_vm_at_its_share() -> None:
    idle_only = DeviceClass(description="x", source="t", idle_watts=3.0)
    assert estimate(idle_only, "x", []) == PowerReading(3.0, "estimated", "class:x", 3.0, 4.5,
                                                        "assumed")  # fmt: skip
    vm = DeviceClass(description="vm", source="t", model="vcpu_share", idle_watts=2.0,
                     max_watts=10.0, typical_watts=6.0)  # fmt: skip
    share = estimate(vm, "vm", [Sample("sobriety_host_processors", {"target": "vm"}, 4.0)])
    assert share is not None and share.origin == "class:vm:vcpu-share"
    assert (share.low, share.high) == (8.0, 40.0)


def own_meter(watts: float, origin: str = "entity-sensor") -> Sample:
    labels = {"target": "sw", "source": "measured", "origin": origin}
    return Sample("sobriety_device_power_watts", labels, watts)


def test_a_switch_that_meters_itself_books_its_own_use_less_what_it_passes_on() -> None:
    """The PoE it delivers to monitored devices is theirs: booked on them, not twice."""
    assert own_measured([own_meter(200.0)], 0.0) == PowerReading.measured(200.0, "entity-sensor")
    less = own_measured([own_meter(200.0)], 50.0)
    assert less == PowerReading.measured(150.0, "entity-sensor-minus-poe")
    # a meter slower than the PoE readings never makes negative power
    assert own_measured([own_meter(40.0)], 50.0) == PowerReading.measured(
        0.0, "entity-sensor-minus-poe"
    )


def test_an_estimated_device_power_sample_is_not_a_meter() -> None:
    labels = {"target": "sw", "source": "estimated", "origin": "class"}
    assert own_measured([Sample("sobriety_device_power_watts", labels, 99.0)], 0.0) is None


def ups(output: list[float], inputs: list[float], rated: float | None = 1000.0) -> list[Sample]:
    samples = [
        Sample("sobriety_ups_output_power_watts", {"target": "ups", "line": str(i)}, w)
        for i, w in enumerate(output, 1)
    ]
    samples += [
        Sample("sobriety_ups_input_power_watts", {"target": "ups", "line": str(i)}, w)
        for i, w in enumerate(inputs, 1)
    ]
    if rated is not None:
        samples.append(Sample("sobriety_ups_rated_power_watts", {"target": "ups"}, rated))
    return samples


def test_ups_losses_are_input_minus_output_where_both_are_measured() -> None:
    found = losses(ups([300.0, 200.0], [290.0, 240.0]), "", "double_conversion")
    assert found is not None
    assert (found.watts, found.source, found.origin) == (30.0, "measured", "ups-input-minus-output")
    assert (found.low, found.high, found.basis) == (30.0, 30.0, "measured")


@pytest.mark.parametrize(
    "inputs",
    [
        [0.0, 0.0],  # upsInputTruePower "not implemented" on a loaded UPS: absent, not 0 W
        [200.0, 100.0],  # less in than out: not a reading of losses (never negative losses)
    ],
)
def test_an_input_reading_below_the_output_is_no_measurement_the_curve_is_used(
    inputs: list[float],
) -> None:
    found = losses(ups([300.0, 200.0], inputs), "", "double_conversion")
    assert found is not None
    assert (found.source, found.origin, found.basis) == (
        "estimated", "ups-curve:double_conversion", "state",
    )  # fmt: skip
    low, typical, high = shipped_efficiency().band("double_conversion", 500.0, 1000.0)
    assert (found.low, found.watts, found.high) == (low, typical, high)
    assert 0 < found.low <= found.watts <= found.high


def test_zero_watts_in_is_never_a_measurement_even_at_no_load() -> None:
    """0 W in and 0 W out: the card does not implement input power; the UPS still draws its
    no-load losses, so the curve is booked, not a measured 0 W."""
    found = losses(ups([0.0], [0.0]), "", "double_conversion")
    assert found is not None
    assert (found.source, found.origin) == ("estimated", "ups-curve:double_conversion")
    assert found.watts > 0


def test_any_input_reading_that_covers_the_output_is_a_measurement() -> None:
    small = losses(ups([0.4], [0.5]), "", "double_conversion")
    assert small is not None and small.origin == "ups-input-minus-output"
    assert small.watts == pytest.approx(0.1)
    even = losses(ups([300.0], [300.0]), "", "double_conversion")
    assert even is not None and (even.watts, even.source) == (0.0, "measured")


def output_source(state: str) -> Sample:
    return Sample("sobriety_ups_output_source", {"target": "ups", "state": state}, 1.0)


@pytest.mark.parametrize(
    ("state", "declared", "origin", "curve"),
    [
        ("bypass", None, "ups-curve:bypass", "eco"),  # a model no table names: unknown
        ("bypass", "double_conversion", "ups-curve:bypass", "eco"),
        ("bypass", "line_interactive", "ups-curve:line_interactive", "line_interactive"),
        ("battery", "line_interactive", "ups-curve:on-battery", "double_conversion"),
    ],
)
def test_bypass_is_eco_for_an_online_or_unknown_ups_and_battery_is_the_inverter(
    state: str, declared: Topology | None, origin: str, curve: Topology
) -> None:
    found = losses([*ups([500.0], []), output_source(state)], "MysteryPower 3000", declared)
    assert found is not None and found.origin == origin
    low, typical, high = shipped_efficiency().band(curve, 500.0, 1000.0)
    assert (found.low, found.watts, found.high) == (low, typical, high)


def test_the_square_law_term_needs_a_rating_and_is_load_squared_over_it() -> None:
    terms = LossTerms(fixed_watts=2.0, no_load=0.01, proportional=0.02, square_law=0.03)
    assert terms.loss(100.0, 0.0) == pytest.approx(2.0 + 0.02 * 100)  # no rating: no term
    assert terms.loss(100.0, 1.0) == pytest.approx(2.0 + 0.01 + 0.02 * 100 + 0.03 * 100 * 100)
    assert terms.loss(100.0, 1000.0) == pytest.approx(2.0 + 10.0 + 2.0 + 0.3)


def test_a_ups_without_rating_nor_input_has_no_loss_reading() -> None:
    assert losses(ups([300.0], [], rated=None), "", None) is None


def host_load(ratio: float) -> list[Sample]:
    return [Sample("sobriety_host_cpu_load_ratio", {"target": "srv"}, ratio)]


@pytest.mark.parametrize(
    ("load", "watts"),
    [(0.0, 100.0), (0.5, 200.0), (1.0, 300.0), (-0.2, 100.0), (1.7, 300.0)],
)
def test_cpu_linear_is_idle_to_max_and_never_leaves_that_band(load: float, watts: float) -> None:
    """idle + (max − idle) × load, the load held to 0..1: an agent's odd load (hrProcessorLoad
    above 100 on some, a negative sentinel) never gives power outside the class's band."""
    found = estimate(SERVER, "server", host_load(load))
    assert found == PowerReading(watts, "estimated", "class:server:cpu", 100.0, 300.0, "state")


def test_cpu_linear_without_a_load_is_the_assumed_class_figure() -> None:
    found = estimate(SERVER, "server", [])
    assert found == PowerReading(150.0, "estimated", "class:server", 100.0, 300.0, "assumed")


def test_the_shipped_efficiency_file_gives_topologies_ratings_and_curves() -> None:
    table = shipped_efficiency()
    assert table.topology_of("Smart-UPS SRT 3000") == "double_conversion"
    assert table.topology_of("Smart-UPS X 750") == "line_interactive"
    assert table.topology_of("Back-UPS 700") == "standby"
    assert table.topology_of("EATON 93E 80") == "double_conversion"
    assert table.topology_of("a UPS nobody knows") == "unknown"
    assert table.rating_of("Smart-UPS X 750") == 600
    assert table.rating_of("a UPS nobody knows") is None
    # double conversion, typical: 20 + 0.009 × 1000 + 0.025 × 500 + 0.015 × 500² / 1000 W
    assert table.band("double_conversion", 500.0, 1000.0)[1] == pytest.approx(45.25)
    # an unknown topology spans every curve; its typical figure is double conversion's
    low, typical, high = table.band("unknown", 500.0, 1000.0)
    assert (low, high) == (min(table.band(t, 500.0, 1000.0)[0] for t in TOPOLOGIES),
                           max(table.band(t, 500.0, 1000.0)[2] for t in TOPOLOGIES))  # fmt: skip
    assert typical == pytest.approx(45.25)


def write_efficiency(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ups-efficiency.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


CURVES = """\
curves:
  double_conversion: &c
    low: {fixed_watts: 1, no_load: 0, proportional: 0, square_law: 0}
    typical: {fixed_watts: 2, no_load: 0, proportional: 0, square_law: 0}
    high: {fixed_watts: 3, no_load: 0, proportional: 0, square_law: 0}
  line_interactive: *c
  standby: *c
"""


def test_an_efficiency_file_missing_a_topology_names_it(tmp_path: Path) -> None:
    path = write_efficiency(tmp_path, CURVES)
    with pytest.raises(ConfigError) as caught:
        load_efficiency(path)
    assert caught.value.problems == [ConfigProblem(str(path), "curves", "eco", "missing")]
    found = load_efficiency(write_efficiency(tmp_path, CURVES + "  eco: *c\n"))
    assert found.band("eco", 0.0, 100.0) == (1.0, 2.0, 3.0)
    assert (found.topologies, found.ratings) == ((), ())


def test_an_invalid_efficiency_file_names_entry_and_field(tmp_path: Path) -> None:
    text = (
        CURVES
        + """\
  eco: *c
ratings:
  - {match: 'X', watts: -5, source: "a typo"}
topologies:
  - {match: 'Y', topology: flywheel, source: "s"}
"""
    )
    path = write_efficiency(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_efficiency(path)
    where = {(p.file, p.entry, p.field) for p in caught.value.problems}
    assert where == {(str(path), "ratings.0", "watts"), (str(path), "topologies.0", "topology")}
    assert all(p.message for p in caught.value.problems)


def test_a_section_of_the_wrong_shape_is_named_as_a_field_of_the_file(tmp_path: Path) -> None:
    path = write_efficiency(tmp_path, CURVES + "  eco: *c\nratings: 5\n")
    with pytest.raises(ConfigError) as caught:
        load_efficiency(path)
    assert [(p.entry, p.field) for p in caught.value.problems] == [("-", "ratings")]


VM = DeviceClass(
    description="vm", model="vcpu_share", source="test", idle_watts=2.0, max_watts=12.0
)  # fmt: skip


def vm_samples(processors: float | None, load: float | None) -> list[Sample]:
    out = []
    if processors is not None:
        out.append(Sample("sobriety_host_processors", {"target": "vm"}, processors))
    if load is not None:
        out.append(Sample("sobriety_host_cpu_load_ratio", {"target": "vm"}, load))
    return out


@pytest.mark.parametrize(
    ("processors", "load", "watts"),
    [(4, 0.0, 8.0), (4, 0.5, 28.0), (4, 1.0, 48.0), (4, 1.5, 48.0), (4, -1.0, 8.0), (0, 0.5, 7.0)],
)
def test_a_vm_is_its_processors_share_of_a_host(
    processors: float, load: float, watts: float
) -> None:
    """processors × (idle + (max − idle) × load), the load held to 0..1, at least one CPU."""
    n = max(processors, 1)
    found = vcpu_share(VM, "virtual_machine", vm_samples(processors, load))
    assert found == PowerReading(
        watts, "estimated", "class:virtual_machine:vcpu-share", 2.0 * n, 12.0 * n, "state"
    )


def test_a_vm_without_load_is_the_middle_of_its_band_and_without_cpus_unknown() -> None:
    found = vcpu_share(VM, "virtual_machine", vm_samples(2, None))
    assert found == PowerReading(
        14.0, "estimated", "class:virtual_machine:vcpu-share", 4.0, 24.0, "assumed"
    )
    assert vcpu_share(VM, "virtual_machine", vm_samples(None, 0.5)) is None
    no_max = DeviceClass(description="vm", model="vcpu_share", source="t", idle_watts=2.0)
    assert vcpu_share(no_max, "virtual_machine", vm_samples(2, 0.5)) is None
    no_idle = DeviceClass(description="vm", model="vcpu_share", source="t", max_watts=12.0)
    assert vcpu_share(no_idle, "virtual_machine", vm_samples(2, 0.5)) is None


AP = DeviceClass(
    description="ap", source="test", idle_watts=6.0, typical_watts=10.0, max_watts=13.0
)  # fmt: skip


@pytest.mark.parametrize(
    ("allocated", "cls", "expected"),
    [
        # the class estimate, the allocation capped by the class maximum as the upper bound
        (30.0, AP, PowerReading(10.0, "estimated", "class:ap:poe-allocation", 6.0, 13.0, "state")),
        # an allocation below the class figures caps them all
        (8.0, AP, PowerReading(8.0, "estimated", "class:ap:poe-allocation", 6.0, 8.0, "state")),
        (5.0, AP, PowerReading(5.0, "estimated", "class:ap:poe-allocation", 5.0, 5.0, "state")),
        # no class: anywhere between 0 and the allocation, its middle booked
        (30.0, None, PowerReading(15.0, "estimated", "poe-allocation", 0.0, 30.0, "assumed")),
        (
            30.0,
            DeviceClass(description="x", source="t", max_watts=20.0),
            PowerReading(10.0, "estimated", "poe-allocation", 0.0, 20.0, "assumed"),
        ),
        (
            30.0,
            DeviceClass(description="x", source="t", typical_watts=9.0),
            PowerReading(9.0, "estimated", "class:ap:poe-allocation", 0.0, 30.0, "state"),
        ),
    ],
)
def test_a_poe_allocation_bounds_the_estimate(
    allocated: float, cls: DeviceClass | None, expected: PowerReading
) -> None:
    assert allocation_estimate(allocated, cls, "ap") == expected


def managed(device: str, **labels: str) -> Sample:
    base = {"target": "iap", "device": device, "serial": "", "name": "", "model": ""}
    return Sample("sobriety_managed_device_info", {**base, **labels}, 1.0)


def test_the_controller_is_found_among_its_aps_by_serial_then_name_then_only_model() -> None:
    """An Aruba Instant conductor is one of its own APs: booked once, as the target."""
    aps = [
        managed("a", serial="S1", name="hall", model="225"),
        managed("b", serial="S2", name="lab", model="635"),
        managed("c", serial="S3", name="lab", model="635"),
    ]
    assert controller_itself(aps, {"serial": "S2", "name": "hall"}) == "b"  # serial first
    assert controller_itself(aps, {"serial": "S9", "name": "hall"}) == "a"  # then the name
    assert controller_itself(aps, {"name": "lab", "model": "225"}) == "a"  # 2 named lab: model
    assert controller_itself(aps, {"model": "225"}) == "a"  # the only one of its model
    assert controller_itself(aps, {"model": "635"}) is None  # two of that model: none
    assert controller_itself(aps, {"model": ""}) is None
    assert controller_itself(aps, {}) is None
    blank = [managed("a"), managed("b")]
    assert controller_itself(blank, {"serial": "", "name": "", "model": ""}) is None


PRINTER = DeviceClass(
    description="printer", model="printer_state", source="t",
    idle_watts=1.0, typical_watts=30.0, max_watts=450.0,
)  # fmt: skip
PROJECTOR = DeviceClass(
    description="projector", model="power_state", source="t",
    idle_watts=0.5, typical_watts=310.0, max_watts=700.0,
)  # fmt: skip


def state(name: str, *states: str) -> list[Sample]:
    return [Sample(name, {"target": "d", "state": s}, 1.0) for s in states] + [
        Sample(name, {"target": "d", "state": "other"}, 0.0)  # a state not current: ignored
    ]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (("printing",), PowerReading(450.0, "estimated", "class:p:printing", 1.0, 450.0, "state")),
        (("warmup",), PowerReading(450.0, "estimated", "class:p:printing", 1.0, 450.0, "state")),
        (("idle",), PowerReading(30.0, "estimated", "class:p:idle", 1.0, 450.0, "state")),
        ((), PowerReading(15.5, "estimated", "class:p:state-unknown", 1.0, 30.0, "assumed")),
        (
            ("other",),
            PowerReading(15.5, "estimated", "class:p:state-unknown", 1.0, 30.0, "assumed"),
        ),
    ],
)
def test_a_printer_is_estimated_on_its_reported_status(
    status: tuple[str, ...], expected: PowerReading
) -> None:
    """Printing or warming up: the class maximum; idle: typical; else the middle of
    standby..typical, labelled assumed (never "on" around the clock)."""
    samples = state("sobriety_printer_status", *status) if status else []
    assert estimate(PRINTER, "p", samples) == expected


@pytest.mark.parametrize("metric", ["sobriety_device_power_state", "sobriety_eo_power_state"])
def test_a_projector_is_estimated_on_its_power_state(metric: str) -> None:
    on = estimate(PROJECTOR, "pj", state(metric, "on"))
    assert on == PowerReading(310.0, "estimated", "class:pj:on", 0.5, 700.0, "state")
    standby = estimate(PROJECTOR, "pj", state(metric, "standby"))
    assert standby == PowerReading(0.5, "estimated", "class:pj:standby", 0.5, 0.5, "state")
    unknown = estimate(PROJECTOR, "pj", state(metric, "lampFailure"))
    assert unknown == PowerReading(155.25, "estimated", "class:pj:state-unknown", 0.5, 310.0,
                                   "assumed")  # fmt: skip


def ports(
    *watts: float, allocated: float | None = None, drawn: float | None = None
) -> list[Sample]:
    out = []
    for i, w in enumerate(watts, 1):
        labels = {"target": "sw", "group": "1", "port": str(i)}
        out.append(Sample("sobriety_poe_port_power_watts", labels, w))
        if allocated is not None:
            out.append(Sample("sobriety_poe_port_allocated_watts", labels, allocated))
        if drawn is not None:
            out.append(Sample("sobriety_poe_port_max_drawn_watts", labels, drawn))
    return out


def test_a_port_s_consumption_is_an_allocation_when_every_port_sits_on_a_class_maximum() -> None:
    """Without allocation columns: a port on 4.0, 7.0, 15.4, 30.0 … W is an allocation only if
    every delivering port is (a real measurement never lands on them all)."""
    assert port_is_allocation(ports(15.4, 30.0, 0.0, 7.0), "1", "1")
    assert not port_is_allocation(ports(15.4, 30.0, 5.2), "1", "1")  # one measured port
    assert not port_is_allocation(ports(5.2, 30.0), "1", "1")  # not on a maximum itself
    assert not port_is_allocation(ports(0.0, 15.4), "1", "1")  # delivers nothing
    assert not port_is_allocation(ports(15.4), "1", "9")  # no such port
    # with the allocation and max-drawn columns: allocated and never drawn
    assert port_is_allocation(ports(15.4, allocated=15.4, drawn=0.0), "1", "1")
    assert not port_is_allocation(ports(15.4, allocated=15.4, drawn=6.0), "1", "1")
    assert not port_is_allocation(ports(12.0, allocated=15.4, drawn=0.0), "1", "1")


def test_an_allocation_is_the_exact_figure_never_drawn_and_a_dark_port_is_none() -> None:
    assert not port_is_allocation(ports(15.0, allocated=15.4, drawn=0.0), "1", "1")  # 0.4 W off
    assert not port_is_allocation(ports(0.0, allocated=0.0, drawn=0.0), "1", "1")  # no power
    assert not port_is_allocation(ports(0.0, 0.0), "1", "1")
    # without allocation columns: every delivering port exactly on a maximum, however small
    assert not port_is_allocation(ports(15.4, 15.0), "1", "1")  # 0.4 W off 15.4: measured
    assert not port_is_allocation(ports(15.4, 0.5), "1", "1")  # half a watt is delivered


def test_without_the_max_drawn_column_the_class_maxima_decide() -> None:
    assert port_is_allocation(ports(15.4, 30.0, allocated=15.4), "1", "1")
    assert not port_is_allocation(ports(15.4, 5.2, allocated=15.4), "1", "1")
    assert port_is_allocation(ports(15.4, 30.0, drawn=0.0), "1", "1")


def test_a_state_is_current_only_at_1_for_that_metric_and_those_labels() -> None:
    port = {"group": "1", "port": "5"}
    samples = [
        Sample("sobriety_poe_port_detection_status", {**port, "state": "deliveringPower"}, 1.0),
        Sample("sobriety_poe_port_detection_status", {**port, "state": "searching"}, 0.0),
        Sample("sobriety_poe_port_detection_status", {"group": "1", "port": "6",
                                                      "state": "fault"}, 1.0),
        Sample("sobriety_printer_status", {**port, "state": "idle"}, 1.0),
        Sample("sobriety_poe_port_detection_status", port, 1.0),  # no state label: ""
    ]  # fmt: skip
    assert states(samples, "sobriety_poe_port_detection_status", **port) == {"deliveringPower", ""}
    assert states(samples, "sobriety_poe_port_detection_status", port="6") == {"fault"}


def test_a_port_is_read_in_its_own_group() -> None:
    group_2 = [Sample(s.name, {**s.labels, "group": "2"}, s.value) for s in ports(5.2)]
    assert port_is_allocation([*group_2, *ports(15.4)], "1", "1") is False  # 5.2 W is measured
    assert not port_is_allocation([*ports(15.4, allocated=15.4, drawn=6.0), *group_2], "2", "1")


def test_an_allocation_is_read_from_the_port_s_own_columns_whatever_its_size() -> None:
    """Port 2's columns say nothing of port 1; half a watt allocated and never drawn is an
    allocation all the same (any delivering port, not only those over a watt)."""
    other = {"target": "sw", "group": "1", "port": "2"}
    mine = {"target": "sw", "group": "1", "port": "1"}
    samples = [
        Sample("sobriety_poe_port_power_watts", other, 6.2),
        Sample("sobriety_poe_port_allocated_watts", other, 30.0),
        Sample("sobriety_poe_port_max_drawn_watts", other, 6.5),
        Sample("sobriety_poe_port_power_watts", mine, 15.4),
        Sample("sobriety_poe_port_allocated_watts", mine, 15.4),
        Sample("sobriety_poe_port_max_drawn_watts", mine, 0.0),
    ]
    assert port_is_allocation(samples, "1", "1")
    assert not port_is_allocation(samples, "1", "2")
    assert port_is_allocation(ports(0.5, allocated=0.5, drawn=0.0), "1", "1")


def test_a_class_problem_names_a_nested_field_by_its_path_and_a_whole_class_by_a_dash(
    tmp_path: Path,
) -> None:
    path = tmp_path / "classes.yaml"
    path.write_text(
        "classes:\n"
        "  old: {description: x, source: s, end_of_life: {weee_source: w, lamp_rated_hours: -1}}\n"
        "  bare: 3\n"
        "  2026: {description: a year as a name, source: s}\n"
    )
    found = problems_of(load_classes, path)
    assert [(p.entry, p.field) for p in found] == [
        ("class old", "end_of_life.lamp_rated_hours"),
        ("class bare", "-"),
    ]
    path.write_text("classes:\n  2026: {description: a year as a name, source: s}\n")
    assert list(load_classes(path)) == ["2026"]


def _supply(entity: str, name: str, metric: str, value: float) -> Sample:
    return Sample(f"sobriety_supply_sensor_{metric}", {"target": "sw", "entity": entity,
                                                        "name": name}, value)  # fmt: skip


def test_supply_volts_times_amps_bound_the_power_from_below_and_above() -> None:
    """Output V × A (DC delivered) is the low bound, input V × A (apparent) the high one,
    summed over the supplies in entity order; one side alone is the reading; what the
    switch passes on is taken from both."""
    both = [
        _supply("12", "PSU2 Input voltage sensor", "volts", 230.0),
        _supply("11", "PSU1 Input voltage sensor", "volts", 220.0),
        _supply("11", "PSU1 Input current sensor", "amperes", 0.5),
        _supply("12", "PSU2 Input current sensor", "amperes", 0.4),
        _supply("11", "PSU1 Output voltage sensor", "volts", 12.0),
        _supply("11", "PSU1 Output current sensor", "amperes", 7.0),
        _supply("12", "PSU2 Output voltage sensor", "volts", 12.0),
        _supply("12", "PSU2 Output current sensor", "amperes", 6.0),
    ]
    high, low = 220 * 0.5 + 230 * 0.4, 12 * 7.0 + 12 * 6.0  # 202 W apparent, 156 W DC
    assert supply_volts_amps(both, 0.0) == PowerReading.measured(
        (low + high) / 2, "supply-volts-amps", low, high
    )
    assert supply_volts_amps(both, 20.0) == PowerReading.measured(
        (low + high) / 2 - 20, "supply-volts-amps", low - 20, high - 20
    )
    inputs, outputs = both[:4], both[4:]
    assert supply_volts_amps(inputs, 0.0) == PowerReading.measured(high, "supply-volts-amps")
    assert supply_volts_amps(outputs, 0.0) == PowerReading.measured(low, "supply-volts-amps")
    assert supply_volts_amps(both[:3], 0.0) is None  # two volts, one amps: no pairs to trust


def test_a_switch_passes_on_its_ports_watts_or_an_allocated_pd_s_booking() -> None:
    """Port 1/5 measures 6.5 W for ap1; port 2/5 (same port number, another group) 9 W for
    ap2; ap3's port reports its allocation (allocated 15.4 W, never drawn), so what passes on
    to ap3 is what ap3 is booked at, and nothing while it is booked at nothing."""
    powered = [powered_device("printer"), powered_device("ap0", "1", "9"),  # no PoE; no reading
               powered_device("ap1", "1", "5"), powered_device("ap2", "2", "5"),
               powered_device("ap3", "1", "7")]  # fmt: skip
    samples = pse(0.0, ("1", "5", 6.5), ("2", "5", 9.0), ("1", "7", 15.4))
    on_7 = {"target": "sw", "group": "1", "port": "7"}
    samples += [Sample("sobriety_poe_port_allocated_watts", on_7, 15.4),
                Sample("sobriety_poe_port_max_drawn_watts", on_7, 0.0)]  # fmt: skip
    booked = {"ap3": 5.0}
    assert delivered_to_monitored(samples, powered, booked.get) == 6.5 + 9.0 + 5.0
    assert delivered_to_monitored(samples, powered, lambda _: None) == 6.5 + 9.0  # ap3 not booked


def test_supply_sensors_without_an_entity_count_as_entity_zero() -> None:
    bare = [
        Sample("sobriety_supply_sensor_volts", {"target": "sw", "name": "Input voltage"}, 230.0),
        Sample("sobriety_supply_sensor_amperes", {"target": "sw", "name": "Input current"}, 0.5),
    ]
    assert supply_volts_amps(bare, 0.0) == PowerReading.measured(115.0, "supply-volts-amps")


def _fed(**feed: object) -> TargetConfig:
    return TargetConfig.model_validate({"id": "pd", "address": "127.0.0.1", "auth": "a", **feed})


def test_a_poe_port_gives_its_measurement_its_allocation_estimate_or_off_else_nothing() -> None:
    """The port that powers the device, on a switch polled recently: what it measures; what
    it allocates, as the class estimate; 0 W when it detects no powered device; else no
    reading (a port that says it delivers but gives no figure is not 0 W)."""
    pd = _fed(poe={"switch": "sw", "group": "1", "port": "5"})
    here = {"target": "sw", "group": "1", "port": "5"}
    elsewhere = {"target": "sw", "group": "2", "port": "5"}
    measured = [Sample("sobriety_poe_port_power_watts", elsewhere, 9.0),
                Sample("sobriety_poe_port_power_watts", here, 6.5)]  # fmt: skip
    assert from_poe(pd, None, {"sw": measured}.get) == PowerReading.measured(6.5, "poe-port")
    assert from_poe(pd, None, lambda _: None) is None  # the switch not polled recently
    assert from_poe(_fed(), None, {"sw": measured}.get) is None  # not powered over Ethernet
    allocated = [Sample("sobriety_poe_port_power_watts", here, 15.4),
                 Sample("sobriety_poe_port_allocated_watts", here, 15.4),
                 Sample("sobriety_poe_port_max_drawn_watts", here, 0.0)]  # fmt: skip
    assert from_poe(pd, AP, {"sw": allocated}.get) == allocation_estimate(15.4, AP, "")

    def status(state: str) -> list[Sample]:
        name = "sobriety_poe_port_detection_status"
        return [Sample(name, {**here, "state": state}, 1.0),
                Sample(name, {**here, "state": "other"}, 0.0)]  # fmt: skip

    off = from_poe(pd, None, {"sw": status("searching")}.get)
    assert off == PowerReading.measured(0.0, "poe-port-off")
    assert from_poe(pd, None, {"sw": status("deliveringPower")}.get) is None
    assert from_poe(pd, None, {"sw": []}.get) is None


def test_outlets_give_the_sum_of_every_outlet_read_or_nothing_when_one_is_unread() -> None:
    def outlet(pdu: str, number: str, watts: float) -> Sample:
        return Sample("sobriety_pdu_outlet_power_watts", {"target": pdu, "outlet": number}, watts)

    feeds = {"a": [outlet("a", "2", 50.0), outlet("a", "3", 120.0)], "b": [outlet("b", "3", 143.0)]}
    one = _fed(outlet={"pdu": "a", "outlet": "3"})
    assert from_outlets(one, feeds.get) == PowerReading.measured(120.0, "pdu-outlet")
    both = _fed(outlets=[{"pdu": "a", "outlet": "3"}, {"pdu": "b", "outlet": "3"}])
    assert from_outlets(both, feeds.get) == PowerReading.measured(263.0, "pdu-outlets")
    half = _fed(outlets=[{"pdu": "a", "outlet": "3"}, {"pdu": "b", "outlet": "4"}])
    assert from_outlets(half, feeds.get) is None  # one supply unread: not half a server
    assert from_outlets(both, {"a": feeds["a"]}.get) is None  # PDU b not polled recently
    assert from_outlets(_fed(), feeds.get) is None
    assert from_feed(one, None, feeds.get) == PowerReading.measured(120.0, "pdu-outlet")


def test_a_ups_output_is_its_lines_measured_else_its_mean_load_times_its_rating() -> None:
    """Per-line output watts summed; a line at -1 (not measured) makes the load ratio the
    figure: the mean of the lines' loads times the rating the UPS reports, else (0 or none
    reported) its model's datasheet rating; no rating, no figure."""

    def ups(name: str, value: float, line: str = "1") -> Sample:
        return Sample(f"sobriety_ups_{name}", {"target": "ups", "line": line}, value)

    table = shipped_efficiency()
    lines = [ups("output_power_watts", 200.0), ups("output_power_watts", 150.0, "2"),
             ups("rated_power_watts", 3000.0)]  # fmt: skip
    assert ups_output(lines, "", table) == UpsOutput(350.0, "ups-output", 3000.0)
    loads = [ups("output_power_watts", -1.0), ups("output_load_ratio", 0.2),
             ups("output_load_ratio", 0.4, "2"), ups("rated_power_watts", 3000.0)]  # fmt: skip
    derived = ups_output(loads, "", table)
    assert derived is not None and derived.watts == pytest.approx(900.0)  # (0.2 + 0.4) / 2
    assert (derived.origin, derived.rating) == ("ups-load-x-rating", 3000.0)
    unrated = [ups("output_load_ratio", 0.5), ups("rated_power_watts", 0.0)]
    assert ups_output(unrated, "Smart-UPS X 750", table) == UpsOutput(
        300.0, "ups-load-x-rating", 600.0
    )
    assert ups_output(unrated, "unknown model", table) is None
    assert ups_output([ups("rated_power_watts", 3000.0)], "", table) is None


def test_a_reading_is_the_first_there_is_feed_then_virtual_then_own_then_ups_then_class() -> None:
    """choose's order (energy/choose.py): a feed reading even for a device that does not
    answer; a silent device without one has none; a VM its vCPU share (none when its host
    is counted); a device's own meter; a UPS's losses; the class estimate; else nothing."""
    classes = load_classes()
    pc = _fed(**{"class": "desktop_pc", "outlet": {"pdu": "a", "outlet": "3"}})
    bare = _fed(**{"class": "desktop_pc"})
    outlet = Sample("sobriety_pdu_outlet_power_watts", {"target": "a", "outlet": "3"}, 120.0)
    ctx = Context(Fleet.of([pc]), {"a": [outlet]}.get, lambda _: None, classes.get)
    desktop = classes["desktop_pc"]
    assert choose(pc, desktop, False, [], ctx) == PowerReading.measured(120.0, "pdu-outlet")
    assert choose(bare, desktop, False, [], ctx) is None
    vm = [Sample("sobriety_device_virtualization_info", {"target": "pd", "kind": "container"}, 1),
          Sample("sobriety_host_processors", {"target": "pd"}, 2.0)]  # fmt: skip
    share = vcpu_share(classes["virtual_machine"], "virtual_machine", vm)
    assert share is not None
    expected = PowerReading(share.watts, share.source, "virtual:container:vcpu-share",
                            share.low, share.high, share.basis)  # fmt: skip
    assert choose(bare, desktop, True, vm, ctx) == expected
    assert (
        choose(bare.model_copy(update={"virtual": "not_counted"}), desktop, True, vm, ctx) is None
    )
    assert choose(bare, desktop, True, [own_meter(90.0)], ctx) == PowerReading.measured(
        90.0, "entity-sensor"
    )
    line = {"target": "pd", "line": "1"}
    ups = [Sample("sobriety_ups_output_power_watts", line, 300.0),
           Sample("sobriety_ups_input_power_watts", line, 330.0)]  # fmt: skip
    assert choose(bare, None, True, ups, ctx) == PowerReading.measured(
        30.0, "ups-input-minus-output"
    )
    assert choose(bare, desktop, True, [], ctx) == estimate(desktop, "desktop_pc", [])
    assert choose(bare, None, True, [], ctx) is None


def test_the_device_model_is_what_its_info_says_or_empty() -> None:
    info = Sample("sobriety_device_info", {"target": "u", "model": "Smart-UPS X 750"}, 1.0)
    other = Sample("sobriety_entity_info", {"target": "u", "model": "chassis"}, 1.0)
    assert device_model([other, info]) == "Smart-UPS X 750"
    assert device_model([other]) == ""
    assert device_model([Sample("sobriety_device_info", {"target": "u"}, 1.0)]) == ""


def test_an_own_meter_without_an_origin_is_the_device_s_and_what_it_passes_on_is_off() -> None:
    meter = Sample("sobriety_device_power_watts", {"target": "sw", "source": "measured"}, 20.0)
    assert own_measured([meter], 0.0) == PowerReading.measured(20.0, "device")
    assert own_measured([meter], 0.5) == PowerReading.measured(19.5, "device-minus-poe")


def test_supply_sensors_of_no_direction_or_another_kind_are_left_out() -> None:
    """Only voltage and current sensors named input or output pair up: a temperature
    sensor named "Input" and a voltage sensor naming no direction change nothing."""
    pair = [
        _supply("11", "PSU1 Input voltage sensor", "volts", 220.0),
        _supply("11", "PSU1 Input current sensor", "amperes", 0.5),
        _supply("11", "PSU1 Output voltage sensor", "volts", 12.0),
        _supply("11", "PSU1 Output current sensor", "amperes", 7.0),
    ]
    noise = [
        _supply("12", "PSU1 Input temperature sensor", "celsius", 41.0),
        _supply("13", "PSU1 voltage sensor", "volts", 5.0),
        _supply("13", "PSU1 current sensor", "amperes", 2.0),
    ]
    assert supply_volts_amps(pair + noise, 0.0) == supply_volts_amps(pair, 0.0)
    assert supply_volts_amps(pair, 0.0) == PowerReading.measured(97.0, "supply-volts-amps",
                                                                 84.0, 110.0)  # fmt: skip


def test_a_supply_band_is_ordered_and_never_below_zero_whatever_is_passed_on() -> None:
    """Output above input (two sensors that disagree): the band is still low..high. Passing
    on more than the output leaves 0 W at the bottom; more than the input, 0 W at all."""

    def sides(inp: float, out: float) -> list[Sample]:
        return [_supply("1", "Input voltage", "volts", inp), _supply("1", "Input current",
                "amperes", 1.0), _supply("1", "Output voltage", "volts", out),
                _supply("1", "Output current", "amperes", 1.0)]  # fmt: skip

    origin = "supply-volts-amps"
    assert supply_volts_amps(sides(100.0, 120.0), 0.0) == PowerReading.measured(
        110.0, origin, 100.0, 120.0
    )
    assert supply_volts_amps(sides(202.0, 156.0), 200.0) == PowerReading.measured(
        1.0, origin, 0.0, 2.0
    )
    assert supply_volts_amps(sides(202.0, 156.0), 300.0) == PowerReading.measured(
        0.0, origin, 0.0, 0.0
    )
