"""The architecture's import rules (import-linter contracts in pyproject.toml) hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> subprocess.CompletedProcess[str]:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command is not None, "import-linter is part of the dev extra"
    return subprocess.run(
        [command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_every_import_contract_is_kept() -> None:
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_cover_every_layer() -> None:
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for layer in ("bot.core", "bot.usecases", "bot.adapters", "bot.composition", "storage"):
        assert f'"{layer}' in config, layer
    for rule in ("forbidden", "independence", "layers", "acyclic_siblings"):
        assert f'type = "{rule}"' in config, rule
