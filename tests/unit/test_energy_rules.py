"""The energy rules one at a time, on hand-made samples: each test states one rule of
docs/energy.md and fails when the code breaks it (issue 21's mutations among them)."""

from __future__ import annotations

import pytest

from sobriety.energy.classes import DeviceClass
from sobriety.energy.models import estimate
from sobriety.energy.readings import PowerReading, own_measured
from sobriety.energy.ups import losses, shipped_efficiency
from sobriety.model import Sample

SERVER = DeviceClass(
    description="a test server", model="cpu_linear", source="test",
    idle_watts=100.0, typical_watts=150.0, max_watts=300.0,
)  # fmt: skip


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
