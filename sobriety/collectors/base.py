"""What every collector is: a per-target object that polls once and says what it found."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sobriety.model import CollectResult


@dataclass(frozen=True, slots=True)
class TargetRef:
    """The parts of a target's configuration that collectors put into labels."""

    id: str
    kind: str
    site: str = "default"
    device_class: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    # where it is in the organisation -> site -> building -> room hierarchy ("" when unsaid)
    organisation: str = ""
    building: str = ""
    room: str = ""


class Collector(Protocol):
    """Polls one target. `collect` never raises for device trouble: it reports `up=False`."""

    target: TargetRef

    async def collect(self) -> CollectResult: ...

    async def close(self) -> None: ...


def device_info_labels(target: TargetRef, facts: Mapping[str, str]) -> dict[str, str]:
    """Labels of `sobriety_device_info`: where the device is, what it is."""
    labels = {
        "target": target.id,
        "site": target.site,
        "class": target.device_class,
        "kind": target.kind,
        "vendor": facts.get("vendor", ""),
        "model": facts.get("model", ""),
        "serial": facts.get("serial", ""),
        "firmware": facts.get("firmware", ""),
        "sysobjectid": facts.get("sysobjectid", ""),
    }
    for key, value in (("organisation", target.organisation), ("building", target.building),
                       ("room", target.room)):  # fmt: skip
        if value:  # an empty label is no label to Prometheus: left out, as in the goldens
            labels[key] = value
    for key, value in target.labels.items():
        labels.setdefault(key, value)
    return labels
