"""A bad questionnaire file stops the real bot process at start-up: exit code 2 and one
line naming the file, the key (or line) and the problem, before anything else happens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT, SECRET, TOKEN

#: Runs a child process of its own.
pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('languages = ["en"]\n[drivers]\npromoter = ["Speed!"]\n', "drivers.promoter[0]"),
        ('company = "Acme"\nproduct = = 1\n', "line 2"),
        ('[texts.en]\nfollowup_promoter = "What about {order_id}?"\n', "unknown placeholder"),
    ],
)
def test_a_bad_questionnaire_stops_start_up_with_one_line(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NPSBOT_")}
    env.update(
        {
            "NPSBOT_ENV_FILE": os.devnull,
            "NPSBOT_TOKEN": TOKEN,
            "NPSBOT_LINK_SECRET": SECRET,
            "NPSBOT_COMPANY_NAME": "Acme",
            "NPSBOT_DATABASE": str(tmp_path / "bot.sqlite3"),
            "NPSBOT_API_BASE_URL": "http://127.0.0.1:9/bot",  # never reached
            "NPSBOT_QUESTIONNAIRE": str(path),
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"npsbot: questionnaire error: {path}: ")
    assert message in lines[0]
    assert not (tmp_path / "bot.sqlite3").exists()  # stopped before touching anything
