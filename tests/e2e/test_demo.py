"""``npsbot demo`` end to end: the real bot, simulated customers, the printed report."""

from __future__ import annotations

import csv
import re
import time

import pytest

from bot.core.records import SurveyStatus
from standin.demo import run_demo

#: Runs a child process of its own.
pytestmark = pytest.mark.slow

_STATUS_LINE = re.compile(
    r"^\s+(" + "|".join(s.value for s in SurveyStatus) + r")\s+(\d+)\b", re.MULTILINE
)
_TOTAL_LINE = re.compile(r"^\s+total\s+(\d+)\s*$", re.MULTILINE)
_NPS_LINE = re.compile(
    r"^NPS: ([+−]?\d+) \(n=(\d+), 95% interval ([+−]?\d+) to ([+−]?\d+)\)$", re.MULTILINE
)


@pytest.mark.timeout(90)
async def test_demo_runs_and_reports(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code = await run_demo(customers=12, seed=3)
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()

    assert code == 0, f"demo failed:\n{out}\n{err}"
    assert elapsed < 60, f"demo took {elapsed:.1f} s"

    section = out.split("Surveys by status", 1)[1].split("Answers by category", 1)[0]
    statuses = {name: int(n) for name, n in _STATUS_LINE.findall(section)}
    assert sum(statuses.values()) == 12, section
    total = _TOTAL_LINE.search(section)
    assert total is not None and int(total.group(1)) == 12
    # One customer opts out before the survey: skipped, with the reason shown.
    assert statuses.get("skipped") == 1 and "opted_out: 1" in section

    nps = _NPS_LINE.search(out)
    assert nps is not None, out
    assert int(nps.group(2)) == statuses["answered"]

    assert "Sample conversations" in out and "Reasons by category" in out

    # The demo ends with the digest, text and chart, posted to the stand-in's admin group.
    admin = out.split("Admin group", 1)[1]
    assert "[chart: PNG image" in admin and "Day: " in admin
    assert "NPS digest · Acme Delivery" in admin and "By plan" in admin
    assert f"n = {statuses['answered']}," in admin.split("NPS digest", 1)[1]
    assert "Follow-up:" in admin
    assert "Bot log" not in out + err  # the log path is printed only on failure

    # The shipped questionnaire, in two languages: Chinese apps see Chinese, one customer
    # switches with /language, and the delivery question shows the order number.
    conversations = out.split("Sample conversations", 1)[1].split("Surveys by status", 1)[0]
    assert "设置完成！" in conversations and "Customer │ /language" in conversations
    assert "好的，我会用简体中文和您交流。" in conversations
    assert "您的订单 A1" in conversations or "Your order A1" in conversations
    # Drivers: picked after the score, reported by the demo, the digest and the export.
    assert "taps [完成]" in conversations or "taps [Done]" in conversations
    drivers = out.split("Drivers picked, by category", 1)[1].split("Admin group", 1)[0]
    assert re.search(r"Promoters\s+\S.* \d", drivers), drivers
    digest = admin.split("NPS digest", 1)[1]
    assert "Drivers" in digest and re.search(r"Promoters: .+ \(\d+\)", digest)
    # Themes: the bot's job themed the comments beside the conversation; the demo's report
    # and the digest show them.
    found = out.split("Themes found in the comments", 1)[1].split("Admin group", 1)[0]
    assert re.search(r"^\s+\S.*\d+ comment\(s\), ", found, re.MULTILINE), found
    assert "Themes · last 7 days" in digest and "impact" in digest
    export = admin.split("[CSV export", 1)[1]
    header = next(csv.reader([export.split("\n")[1].strip()]))
    assert header[8] == "drivers"
    assert re.search(r',"(speed|courier|tracking|price|support|late|damaged)[;"]', export)
