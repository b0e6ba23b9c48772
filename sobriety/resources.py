"""Where the data shipped with sobriety lives: inside the wheel, or in a source checkout.

The wheel carries the device knowledge (`collectors`), the demo's `recordings`, the Grafana
`dashboards` (with their provisioning files), the generated Prometheus `rules` and the
`systemd` unit, flags file and examples; `install_assets` copies the last three out.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
# where each shipped folder sits in a source checkout, when it differs from its name
_CHECKOUT = {"systemd": Path("config") / "systemd"}
ASSETS = {
    "dashboards": ("*.json", "prometheus.yml", "provisioning/*.yml"),
    "rules": ("*.yml",),
    "systemd": ("sobriety.service", "sobriety.default", "sobriety.yaml", "web-config.yml"),
}
UNIT_EXEC = "/usr/local/bin/sobriety"


def data_dir(name: str) -> Path:
    """Folder of shipped data (`collectors`, `recordings`, `dashboards`, `rules`, `systemd`);
    FileNotFoundError if absent."""
    checkout = _PACKAGE.parent / _CHECKOUT.get(name, Path(name))
    for candidate in (_PACKAGE / "_data" / name, checkout):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"sobriety's {name!r} data folder is missing from this install")


def install_assets(dest: Path, executable: Path | None = None) -> list[Path]:
    """Copy the dashboards, Prometheus rules and systemd files into `dest/<kind>/`; the unit's
    ExecStart names `executable` (default: the `sobriety` beside this Python, if any)."""
    command = executable or Path(sys.executable).parent / "sobriety"
    written: list[Path] = []
    for kind, patterns in ASSETS.items():
        source = data_dir(kind)
        for pattern in patterns:
            for path in sorted(source.glob(pattern)):
                target = dest / kind / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                if path.name == "sobriety.service" and command.exists():
                    text = path.read_text(encoding="utf-8")
                    target.write_text(text.replace(UNIT_EXEC, str(command)), encoding="utf-8")
                else:
                    shutil.copyfile(path, target)
                written.append(target)
    return written
