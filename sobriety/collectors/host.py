"""The local host, through psutil behind a small facade, plus RAPL energy counters from sysfs.

No per-person data: counts of processes only, never their names or owners.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil

from sobriety.clock import Clock
from sobriety.collectors.base import TargetRef, device_info_labels
from sobriety.model import CollectIssue, CollectResult, Sample


@dataclass(frozen=True, slots=True)
class CpuTimes:
    """Seconds all CPUs spent busy, and in total, since boot."""

    busy: float
    total: float


@dataclass(frozen=True, slots=True)
class RaplZone:
    """One powercap zone: its name, energy counter and the value at which it wraps."""

    path: str
    name: str
    energy_uj: int
    max_energy_range_uj: int


class HostProbe(Protocol):
    """What the host collector reads about the machine it runs on."""

    def cpu_times(self) -> CpuTimes: ...

    def cpu_count(self) -> int: ...

    def memory(self) -> tuple[int, int]: ...

    def disks(self) -> tuple[int, int]: ...

    def boot_time(self) -> float: ...

    def process_count(self) -> int: ...

    def rapl_zones(self) -> list[RaplZone]: ...

    def describe(self) -> dict[str, str]: ...

    def virtualization(self) -> Virtualization | None: ...


@dataclass(frozen=True, slots=True)
class Virtualization:
    """The machine is not physical: a container, or a virtual machine, and of what kind."""

    kind: str  # container | vm
    technology: str  # docker, podman, lxc, kubernetes, kvm, vmware... or "unknown"


# What /sys/class/dmi/id/sys_vendor or product_name say on a guest, and what it is.
_DMI_HYPERVISORS = (
    ("qemu", "kvm"), ("kvm", "kvm"), ("vmware", "vmware"), ("virtualbox", "virtualbox"),
    ("innotek", "virtualbox"), ("xen", "xen"), ("microsoft corporation", "hyperv"),
    ("amazon ec2", "kvm"), ("google compute engine", "kvm"), ("bochs", "kvm"),
    ("parallels", "parallels"), ("openstack", "kvm"),
)  # fmt: skip
_CGROUP_RUNTIMES = (("kubepods", "kubernetes"), ("docker", "docker"), ("libpod", "podman"),
                    ("lxc", "lxc"), ("containerd", "containerd"))  # fmt: skip


def detect_virtualization(root: Path) -> Virtualization | None:
    """A container first (its marker files or cgroups), else a virtual machine (DMI strings,
    the CPU's `hypervisor` flag), read under `root` ("/" on the real machine)."""
    if (root / ".dockerenv").exists():
        return Virtualization("container", "docker")
    if (root / "run" / ".containerenv").exists():
        return Virtualization("container", "podman")
    cgroups = _read(root / "proc" / "1" / "cgroup").lower()
    for marker, runtime in _CGROUP_RUNTIMES:
        if marker in cgroups:
            return Virtualization("container", runtime)
    dmi = " ".join(
        _read(root / "sys" / "class" / "dmi" / "id" / name).lower()
        for name in ("sys_vendor", "product_name")
    )
    for marker, hypervisor in _DMI_HYPERVISORS:
        if marker in dmi:
            return Virtualization("vm", hypervisor)
    flags = next(
        (
            line
            for line in _read(root / "proc" / "cpuinfo").splitlines()
            if line.startswith("flags")
        ),
        "",
    )
    if " hypervisor" in f" {flags.split(':', 1)[-1]} ":
        return Virtualization("vm", "unknown")
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


class PsutilProbe:
    """The real machine: psutil, and `/sys/class/powercap` under an injectable root."""

    def __init__(self, sysfs_root: Path = Path("/sys"), root: Path = Path("/")) -> None:
        self.powercap = sysfs_root / "class" / "powercap"
        self.root = root

    def cpu_times(self) -> CpuTimes:
        t = psutil.cpu_times()
        idle = t.idle + getattr(t, "iowait", 0.0)
        total = sum(t)
        return CpuTimes(busy=total - idle, total=total)

    def cpu_count(self) -> int:
        return psutil.cpu_count(logical=True) or 1

    def memory(self) -> tuple[int, int]:
        vm = psutil.virtual_memory()
        return vm.total, vm.total - vm.available

    def disks(self) -> tuple[int, int]:
        total = used = 0
        seen: set[str] = set()
        for part in psutil.disk_partitions(all=False):
            if part.device in seen:
                continue
            seen.add(part.device)
            try:
                usage = psutil.disk_usage(part.mountpoint)
            except OSError:
                continue
            total += usage.total
            used += usage.used
        return total, used

    def boot_time(self) -> float:
        return psutil.boot_time()

    def process_count(self) -> int:
        return len(psutil.pids())

    def rapl_zones(self) -> list[RaplZone]:
        zones: list[RaplZone] = []
        if not self.powercap.is_dir():
            return zones
        for zone_dir in sorted(self.powercap.glob("intel-rapl:*")):
            if zone_dir.name.count(":") != 1:
                continue  # sub-zones (core, uncore, dram) are inside their package: skip
            try:
                zones.append(
                    RaplZone(
                        path=zone_dir.name,
                        name=(zone_dir / "name").read_text().strip(),
                        energy_uj=int((zone_dir / "energy_uj").read_text()),
                        max_energy_range_uj=int((zone_dir / "max_energy_range_uj").read_text()),
                    )
                )
            except (OSError, ValueError):
                continue  # unreadable without privileges on recent kernels
        return zones

    def describe(self) -> dict[str, str]:
        import platform

        return {
            "vendor": platform.system(),
            "model": platform.machine(),
            "firmware": platform.release(),
        }

    def virtualization(self) -> Virtualization | None:
        return detect_virtualization(self.root)


class HostCollector:
    """Collects the local host. CPU load is the busy share since the previous poll
    (on the first poll: since boot)."""

    def __init__(self, target: TargetRef, probe: HostProbe, clock: Clock) -> None:
        self.target = target
        self.probe = probe
        self.clock = clock
        self._last_cpu: CpuTimes | None = None
        self._rapl_last: dict[str, int] = {}
        self._rapl_joules: dict[str, float] = {}
        self._rapl_at: float | None = None

    async def close(self) -> None:
        return None

    async def collect(self) -> CollectResult:
        t0 = self.clock.monotonic()
        result = CollectResult(target=self.target.id, up=True, started=self.clock.now())
        tid = {"target": self.target.id}
        try:
            self._collect(result, tid)
        except (OSError, psutil.Error) as exc:
            result.up = False
            result.reason = "error"
            result.samples.clear()
            result.issues.append(CollectIssue("error", f"{type(exc).__name__}: {exc}"[:200]))
        result.profiles = ("host",)
        result.duration_seconds = self.clock.monotonic() - t0
        return result

    def _collect(self, result: CollectResult, tid: dict[str, str]) -> None:
        cpu = self.probe.cpu_times()
        prev = self._last_cpu or CpuTimes(0.0, 0.0)
        span = cpu.total - prev.total
        if span > 0:
            load = min(max((cpu.busy - prev.busy) / span, 0.0), 1.0)
            result.samples.append(Sample("sobriety_host_cpu_load_ratio", tid, load))
        self._last_cpu = cpu
        mem_total, mem_used = self.probe.memory()
        disk_total, disk_used = self.probe.disks()
        uptime = max(self.clock.now().timestamp() - self.probe.boot_time(), 0.0)
        result.samples.extend(
            [
                Sample("sobriety_host_processors", tid, float(self.probe.cpu_count())),
                Sample("sobriety_host_memory_bytes", tid, float(mem_total)),
                Sample("sobriety_host_memory_used_bytes", tid, float(mem_used)),
                Sample("sobriety_host_storage_bytes", tid, float(disk_total)),
                Sample("sobriety_host_storage_used_bytes", tid, float(disk_used)),
                Sample("sobriety_host_processes", tid, float(self.probe.process_count())),
                Sample("sobriety_device_uptime_seconds", tid, uptime),
            ]
        )
        self._rapl(result, tid)
        virtual = self.probe.virtualization()
        if virtual is not None:
            labels = {**tid, "kind": virtual.kind, "technology": virtual.technology}
            result.samples.append(Sample("sobriety_device_virtualization_info", labels, 1.0))
        facts = self.probe.describe()
        result.samples.append(
            Sample("sobriety_device_info", device_info_labels(self.target, facts), 1.0)
        )

    def _rapl(self, result: CollectResult, tid: dict[str, str]) -> None:
        """Accumulate RAPL counters into joules (wrap-safe) and derive measured power."""
        zones = self.probe.rapl_zones()
        if not zones:
            return
        now = self.clock.monotonic()
        gained = 0.0
        for zone in zones:
            last = self._rapl_last.get(zone.path)
            if last is not None:
                delta = zone.energy_uj - last
                if delta < 0:
                    delta += zone.max_energy_range_uj + 1
                self._rapl_joules[zone.path] = self._rapl_joules.get(zone.path, 0.0) + delta / 1e6
                gained += delta / 1e6
            else:
                self._rapl_joules.setdefault(zone.path, 0.0)
            self._rapl_last[zone.path] = zone.energy_uj
            result.samples.append(
                Sample(
                    "sobriety_host_rapl_energy_joules_total",
                    {**tid, "zone": f"{zone.path}/{zone.name}"},
                    self._rapl_joules[zone.path],
                )
            )
        if self._rapl_at is not None and now > self._rapl_at:
            result.samples.append(
                Sample(
                    "sobriety_device_power_watts",
                    {**tid, "source": "measured", "origin": "rapl", "basis": "measured"},
                    gained / (now - self._rapl_at),
                )
            )
        self._rapl_at = now
