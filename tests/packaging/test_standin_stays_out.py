"""The test stand-in (``standin``) stays out of the bot: out of the wheel, out of the bot's
import graph, and loaded only by ``npsbot demo``."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bot import cli

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PACKAGES = ("bot", "storage")


def _imported_names(source: Path) -> set[str]:
    """The modules a source file imports with ``import`` statements (lazy or not)."""
    tree = ast.parse(source.read_text(), str(source))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.slow  # builds a wheel with pip in a subprocess
@pytest.mark.timeout(120)
def test_the_wheel_ships_the_bot_and_storage_but_not_the_standin(tmp_path: Path) -> None:
    # Built from a copy, so that the build leaves nothing behind in the checkout; the copy
    # holds the stand-in, as the checkout does.
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in (*RUNTIME_PACKAGES, "standin"):
        shutil.copytree(ROOT / package, source / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("npsbot-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/", 1)[0] for name in archive.namelist()}
        names = set(archive.namelist())

    assert tops - {name for name in tops if name.endswith(".dist-info")} == set(RUNTIME_PACKAGES)
    # The ops API's OpenAPI document is generated at run time from the shipped models.
    assert {"bot/adapters/ops_api/models.py", "bot/adapters/ops_api/openapi.py"} <= names


def test_importing_the_cli_does_not_import_the_standin() -> None:
    check = (
        "import sys, bot.cli\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'standin')\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("package", RUNTIME_PACKAGES)
def test_no_runtime_module_imports_the_standin(package: str) -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if any(name.split(".")[0] == "standin" for name in _imported_names(path))
    ]
    assert offenders == []


def test_demo_without_the_standin_says_how_to_get_it_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As in an installation from the wheel: no ``standin`` to import.
    for name in [m for m in sys.modules if m.split(".")[0] == "standin"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "standin", None)  # type: ignore[arg-type]

    with pytest.raises(SystemExit) as exited:
        cli.main(["demo"])

    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "stand-in" in err and "pip install -e ." in err
