"""The host collector over a fake probe: CPU deltas, RAPL wrap, identity, no crash on errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sobriety.clock import ManualClock
from sobriety.collectors.base import TargetRef
from sobriety.collectors.host import (
    CpuTimes,
    HostCollector,
    PsutilProbe,
    RaplZone,
    Virtualization,
    detect_virtualization,
)


class FakeProbe:
    def __init__(self) -> None:
        self.cpu = CpuTimes(busy=100.0, total=400.0)
        self.zones = [RaplZone("intel-rapl:0", "package-0", 900_000_000, 999_999_999)]
        self.virtual: Virtualization | None = None
        self.fail = False

    def cpu_times(self) -> CpuTimes:
        if self.fail:
            raise OSError("proc unreadable")
        return self.cpu

    def cpu_count(self) -> int:
        return 4

    def memory(self) -> tuple[int, int]:
        return 8_000, 2_000

    def disks(self) -> tuple[int, int]:
        return 100_000, 40_000

    def boot_time(self) -> float:
        return 0.0

    def process_count(self) -> int:
        return 123

    def rapl_zones(self) -> list[RaplZone]:
        return self.zones

    def describe(self) -> dict[str, str]:
        return {"vendor": "Linux", "model": "x86_64", "firmware": "6.1"}

    def virtualization(self) -> Virtualization | None:
        return self.virtual


def values(result: object) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {s.key(): s.value for s in result.samples}  # type: ignore[attr-defined]


async def test_cpu_load_is_the_busy_share_between_polls_and_rapl_wraps() -> None:
    clock, probe = ManualClock(), FakeProbe()
    collector = HostCollector(TargetRef("localhost", "host"), probe, clock)
    first = await collector.collect()
    v = values(first)
    assert first.up
    assert v[("sobriety_host_cpu_load_ratio", (("target", "localhost"),))] == pytest.approx(0.25)
    assert (
        "sobriety_device_power_watts",
        (
            ("basis", "measured"),
            ("origin", "rapl"),
            ("source", "measured"),
            ("target", "localhost"),
        ),
    ) not in v  # one reading is not yet a rate

    probe.cpu = CpuTimes(busy=160.0, total=480.0)  # 60 busy of 80 seconds
    probe.zones = [RaplZone("intel-rapl:0", "package-0", 200_000_000, 999_999_999)]  # wrapped
    clock.advance(10)
    second = values(await collector.collect())
    assert second[("sobriety_host_cpu_load_ratio", (("target", "localhost"),))] == pytest.approx(
        0.75
    )
    joules = 300.0  # (999_999_999 + 1 - 900_000_000 + 200_000_000) µJ
    key = (
        "sobriety_host_rapl_energy_joules_total",
        (("target", "localhost"), ("zone", "intel-rapl:0/package-0")),
    )
    assert second[key] == pytest.approx(joules)
    power = (
        "sobriety_device_power_watts",
        (
            ("basis", "measured"),
            ("origin", "rapl"),
            ("source", "measured"),
            ("target", "localhost"),
        ),
    )
    assert second[power] == pytest.approx(joules / 10)
    assert second[("sobriety_host_processes", (("target", "localhost"),))] == 123


async def test_probe_failure_is_a_down_target_not_a_crash() -> None:
    probe = FakeProbe()
    probe.fail = True
    result = await HostCollector(TargetRef("localhost", "host"), probe, ManualClock()).collect()
    assert not result.up
    assert result.reason == "error"
    assert result.samples == []


def test_real_probe_reads_rapl_from_an_injected_sysfs(tmp_path: Path) -> None:
    zone = tmp_path / "class" / "powercap" / "intel-rapl:0"
    sub = tmp_path / "class" / "powercap" / "intel-rapl:0:0"
    for folder, name in ((zone, "package-0"), (sub, "core")):
        folder.mkdir(parents=True)
        (folder / "name").write_text(name + "\n")
        (folder / "energy_uj").write_text("12345\n")
        (folder / "max_energy_range_uj").write_text("262143328850\n")
    zones = PsutilProbe(tmp_path).rapl_zones()
    assert zones == [RaplZone("intel-rapl:0", "package-0", 12345, 262143328850)]
    probe = PsutilProbe(tmp_path / "nowhere")
    assert probe.rapl_zones() == []
    mem_total, mem_used = probe.memory()
    assert 0 < mem_used <= mem_total
    assert probe.cpu_count() >= 1


def test_virtualization_is_detected_from_files_a_real_machine_has(tmp_path: Path) -> None:
    assert detect_virtualization(tmp_path) is None  # nothing says virtual: physical
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_text("processor\t: 0\nflags\t\t: fpu vme hypervisor\n")
    assert detect_virtualization(tmp_path) == Virtualization("vm", "unknown")
    dmi = tmp_path / "sys" / "class" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text("QEMU\n")
    assert detect_virtualization(tmp_path) == Virtualization("vm", "kvm")
    (tmp_path / "proc" / "1").mkdir()
    (tmp_path / "proc" / "1" / "cgroup").write_text("0::/kubepods/besteffort/pod1/abc\n")
    assert detect_virtualization(tmp_path) == Virtualization("container", "kubernetes")
    (tmp_path / ".dockerenv").write_text("")
    assert detect_virtualization(tmp_path) == Virtualization("container", "docker")


async def test_a_virtual_host_says_so() -> None:
    probe = FakeProbe()
    probe.virtual = Virtualization("container", "docker")
    result = await HostCollector(TargetRef("h", "host"), probe, ManualClock()).collect()
    info = [s for s in result.samples if s.name == "sobriety_device_virtualization_info"]
    assert [dict(s.labels) for s in info] == [
        {"target": "h", "kind": "container", "technology": "docker"}
    ]
