"""The container and service files: what can be checked without a Docker engine.

* the systemd unit passes ``systemd-analyze verify`` (skipped where systemd is not installed)
  and carries the restart, stop and sandboxing options the README promises;
* compose.yaml parses, and every ``NPSBOT_*`` variable it or the Dockerfile sets is a real
  setting;
* the Dockerfile's build steps, reproduced in a fresh virtualenv, give a working ``npsbot``
  (slow: it installs the dependencies).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.settings import AdminSettings, OpsSettings, PrivacySettings, Settings, WebhookSettings

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "npsbot.service"
_WEBHOOK_VARIABLE = re.compile(r"^NPSBOT_WEBHOOK_\d{1,2}_(URL|SECRET|EVENTS)$")


def setting_variables() -> set[str]:
    """Every NPSBOT_* variable the settings read (each field's alias)."""
    found: set[str] = set()
    for model in (Settings, OpsSettings, AdminSettings, PrivacySettings, WebhookSettings):
        for info in model.model_fields.values():
            if isinstance(info.validation_alias, str):
                found.add(info.validation_alias)
    return found


def is_setting(name: str) -> bool:
    return name in setting_variables() or bool(_WEBHOOK_VARIABLE.fullmatch(name))


def unit_options() -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            options.setdefault(key.strip(), []).append(value.strip())
    return options


def test_the_unit_restarts_stops_in_time_and_is_sandboxed() -> None:
    options = unit_options()
    assert options["Restart"] == ["on-failure"]
    assert options["RestartPreventExitStatus"] == ["2"]  # configuration errors
    stop = options["TimeoutStopSec"][0]
    assert int(stop.removesuffix("s")) >= 15  # the orderly stop is bounded at 10 s
    for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "DynamicUser"):
        assert options[key] == ["yes"], key
    assert options["ProtectSystem"] == ["strict"]
    assert options["CapabilityBoundingSet"] == [""]
    assert options["StateDirectory"] == ["npsbot"]
    database = [v for v in options["Environment"] if v.startswith("NPSBOT_DATABASE=")]
    assert database == ["NPSBOT_DATABASE=/var/lib/npsbot/npsbot.sqlite3"]


def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    # verify checks that ExecStart exists: point it at this checkout's npsbot.
    npsbot = Path(sys.executable).with_name("npsbot")
    assert npsbot.exists(), "install the checkout (pip install -e .) first"
    unit = tmp_path / "npsbot.service"
    unit.write_text(UNIT.read_text().replace("/opt/npsbot/bin/npsbot", str(npsbot)))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    complaints = [
        line for line in (result.stdout + result.stderr).splitlines() if str(unit) in line
    ]
    assert result.returncode == 0 and complaints == [], result.stdout + result.stderr


def test_compose_parses_and_sets_only_real_settings() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    bot = compose["services"]["npsbot"]
    environment = bot["environment"]
    assert environment["NPSBOT_DATABASE"] == "/data/npsbot.sqlite3"
    assert [name for name in environment if not is_setting(name)] == []
    assert bot["env_file"] == ".env"
    assert "npsbot-data:/data" in bot["volumes"] and "npsbot-data" in compose["volumes"]
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])  # loopback only
    assert int(bot["stop_grace_period"].removesuffix("s")) >= 15
    assert "postgres" not in compose["services"]  # no PostgreSQL backend yet


def dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(part.split("=", 1) for part in shlex.split(line[4:]))  # type: ignore[misc]
    return env


def test_the_dockerfile_runs_as_a_user_with_a_data_volume_and_a_health_check() -> None:
    text = (ROOT / "Dockerfile").read_text()
    env = dockerfile_env()
    assert env["NPSBOT_DATABASE"] == "/data/npsbot.sqlite3"
    assert [name for name in env if name.startswith("NPSBOT_") and not is_setting(name)] == []
    assert re.search(r"^USER npsbot$", text, re.M)
    assert 'VOLUME ["/data"]' in text
    assert "FROM python:3.11-slim AS builder" in text and text.count("FROM ") == 2
    health = re.search(r"^HEALTHCHECK .*\\\n(.*)$", text, re.M)
    assert health is not None and "urllib.request" in health.group(1)
    assert "/livez" in health.group(1) and "curl" not in health.group(1)


def builder_steps() -> tuple[list[str], list[str]]:
    """The builder stage's COPY sources and the commands of its RUN step."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    stage = text.split("FROM python:3.11-slim AS builder", 1)[1].split("\nFROM ", 1)[0]
    sources: list[str] = []
    commands: list[str] = []
    for line in stage.splitlines():
        if line.startswith("COPY "):
            sources += shlex.split(line[5:])[:-1]
        elif line.startswith("RUN "):
            commands += [c.strip() for c in line[4:].split("&&")]
    return sources, commands


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_dockerfiles_build_steps_give_a_working_npsbot(tmp_path: Path) -> None:
    sources, commands = builder_steps()
    assert sources == ["pyproject.toml", "README.md", "bot", "storage"]
    src = tmp_path / "src"
    src.mkdir()
    for name in sources:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, src / name)
    venv, wheels = tmp_path / "venv", tmp_path / "wheels"
    for command in commands:
        # The same commands, with this machine's python and temporary paths.
        command = command.replace("/opt/npsbot", str(venv)).replace("/wheels", str(wheels))
        command = command.replace("python -m venv", f"{shlex.quote(sys.executable)} -m venv")
        if "--upgrade pip" in command:
            continue  # offline here; the image's pip is new enough either way
        result = subprocess.run(
            command, shell=True, cwd=src, capture_output=True, text=True, timeout=500, check=False
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    npsbot = venv / "bin" / "npsbot"
    helped = subprocess.run(
        [str(npsbot), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert helped.returncode == 0 and "check" in helped.stdout, helped.stderr
    # The runtime's own dependencies came with the wheel.
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import bot.usecases.metrics, prometheus_client"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
