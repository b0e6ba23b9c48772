"""The wheel as a user installs it: built from this tree, installed with the `demo` extra in a
fresh venv outside the repository; then `sobriety demo` polls every recording, the shipped
assets come out with `install-assets`, and the systemd unit passes `systemd-analyze verify`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import require_tool
from tests.integration.test_daemon import ALL_TARGETS, free_tcp_port, up_by_target, wait_for

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
# measured here: build 6 s, install with a warm pip cache 25 s; x3 for a loaded machine
BUILD_TIMEOUT = 180
INSTALL_TIMEOUT = 600


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv's bin folder, with sobriety[demo] installed from a freshly built wheel."""
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True, timeout=BUILD_TIMEOUT, cwd=work,
    )  # fmt: skip
    (wheel,) = dist.glob("sobriety-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"{wheel}[demo]"],
        check=True, timeout=INSTALL_TIMEOUT, cwd=work,
    )  # fmt: skip
    return venv / "bin"


def outside(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(bin_dir / "sobriety"), *args], capture_output=True, text=True, timeout=60,
        cwd=cwd, env=env, check=False,
    )  # fmt: skip


def test_the_installed_command_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    from sobriety import __version__

    result = outside(installed, "--version", cwd=tmp_path)
    assert result.stdout.strip() == f"sobriety {__version__}"
    where = subprocess.run(
        [str(installed / "python"), "-c", "import sobriety; print(sobriety.__file__)"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert not where.stdout.strip().startswith(str(ROOT))


def test_assets_come_out_of_the_wheel_and_the_unit_verifies(
    installed: Path, tmp_path: Path
) -> None:
    result = outside(installed, "install-assets", str(tmp_path / "assets"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = {Path(line).relative_to(tmp_path / "assets").as_posix()
               for line in result.stdout.split()}  # fmt: skip
    boards = {f"dashboards/{p.name}" for p in (ROOT / "dashboards").glob("*.json")}
    assert boards and boards <= written
    assert {"rules/sobriety-alerts.yml", "systemd/sobriety.service", "systemd/sobriety.default",
            "dashboards/provisioning/dashboards.yml"} <= written  # fmt: skip
    shipped = (ROOT / "rules" / "sobriety-alerts.yml").read_text()
    assert (tmp_path / "assets" / "rules" / "sobriety-alerts.yml").read_text() == shipped
    unit = tmp_path / "assets" / "systemd" / "sobriety.service"
    assert f"ExecStart={installed / 'sobriety'} run" in unit.read_text()
    manpath = installed.parent / "share" / "man"
    assert (manpath / "man1" / "sobriety.1").is_file()
    verify = subprocess.run(
        [require_tool("systemd-analyze"), "verify", str(unit)],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "MANPATH": str(manpath)},  # Documentation=man:sobriety(1) is checked
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stderr.strip() == ""


def every_target_up(metrics: dict[str, dict[str, float]]) -> bool:
    up = up_by_target(metrics)
    return set(up) == ALL_TARGETS and all(v == 1 for v in up.values())


def test_sobriety_demo_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    port = free_tcp_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.Popen(
        [str(installed / "sobriety"), "demo", "--listen", f"127.0.0.1:{port}",
         "--data-dir", str(tmp_path / "demo"), "--interval", "5s", "--timeout", "4s"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    async def all_up() -> None:
        # measured: every target up ~12 s after start on an idle 2-core box; x3 plus the start
        deadline = time.monotonic() + 60
        while True:
            try:
                await wait_for(url, every_target_up, timeout=5)
                return
            except (aiohttp.ClientError, AssertionError):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                await asyncio.sleep(1)

    try:
        asyncio.run(all_up())
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "demo stopped." in out and "Traceback" not in out
