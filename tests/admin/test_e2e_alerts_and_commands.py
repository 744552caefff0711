"""The admin side end to end: the real bot process, an admin group in the stand-in.

Detractor alerts with their buttons, the reply relay both ways, every admin command
(including from a non-admin), the CSV round trip with hostile cells, and a burst of alerts
batched within the group limit.
"""

from __future__ import annotations

import asyncio
import csv
import io
import itertools

import pytest

from standin import BotMessage, SimUser
from storage import alerts as alert_store
from tests.admin.conftest import AdminWorld
from tests.e2e.harness import COMPANY, Harness, receive_survey

#: In-process, but slow: alerts, digests and batches go to the admin group at Telegram's 20
#: messages a minute, the limit these tests are about, so the module waits ~45 s on it.
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

_ids = itertools.count(1)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def new_customer(prefix: str = "adm") -> str:
    return f"{prefix}-{next(_ids)}"


def text(message: BotMessage) -> str:
    return message.shown_text or ""


async def answer(h: Harness, user: SimUser, cid: str, score: int, reason: str | None) -> int:
    """The customer receives a survey, presses ``score`` and (optionally) gives a reason."""
    survey_id, question = await receive_survey(
        h, user, cid, event_type="delivery", event_id=f"ev-{cid}", attributes={"plan": "pro"}
    )
    mark = user.last_message_id
    await user.press(question, text=str(score))
    await user.wait_for_message(lambda m: "?" in text(m), since=mark)
    if reason is not None:
        mark = user.last_message_id
        await user.send_text(reason)
        await user.wait_for_message(lambda m: "Thank" in text(m), since=mark)
    return survey_id


async def alert_for(w: AdminWorld, cid: str, marker: str, since: int = 0) -> BotMessage:
    return await w.group.wait_for_message(
        lambda m: cid in text(m) and marker in text(m), timeout=20, since=since
    )


async def test_detractor_alert_reply_relay_and_resolution(admin_world: AdminWorld) -> None:
    w, h = admin_world, admin_world.h
    cid = new_customer()
    user = await h.linked_user(cid)
    mark = w.group.last_message_id
    survey_id = await answer(h, user, cid, 3, None)

    alert = await alert_for(w, cid, "Detractor #", since=mark)
    assert "score 3" in text(alert) and "plan=pro" in text(alert) and "delivery" in text(alert)
    assert f"ev-{cid}" in text(alert) and "not given yet" in text(alert)
    reply_data = next(d for d in alert.button_data if d.startswith("al:r:"))
    resolve_data = next(d for d in alert.button_data if d.startswith("al:x:"))
    assert all(len(d.encode()) <= 64 for d in alert.button_data)

    # The reason arrives: a second alert carries it.
    mark = w.group.last_message_id
    await user.send_text("Parcel <b>late</b> & wet")
    reason_alert = await alert_for(w, cid, "Reason from detractor", since=mark)
    assert "Parcel <b>late</b> & wet" in text(reason_alert)  # escaped, shown literally

    # Reply: the admin's next message in the group goes to the customer.
    mark = w.group.last_message_id
    query = await w.group.press(w.admin, alert, data=reply_data)
    assert "next message" in (await w.admin.wait_for_callback_answer(query)).text  # type: ignore[operator]
    await w.group.wait_for_message(lambda m: "next message in this chat" in text(m), since=mark)
    user_mark = user.last_message_id
    await w.group.send_text(w.admin, "Sorry! A new parcel is on its way.")
    relayed = await user.wait_for_message(lambda m: "new parcel" in text(m), since=user_mark)
    assert f"{COMPANY} team" in text(relayed)
    await w.group.wait_for_message(lambda m: "Sent to customer" in text(m), since=mark)

    # The customer's answer comes back into the group, threaded to the alert.
    mark = w.group.last_message_id
    user_mark = user.last_message_id
    await user.send_text("Thanks, got it!")
    back = await w.group.wait_for_message(lambda m: "Thanks, got it!" in text(m), since=mark)
    assert back.reply_to_message_id == alert.message_id
    await user.wait_for_message(lambda m: "passed your message on" in text(m), since=user_mark)
    # One message answers one reply: the next one is an ordinary message again.
    user_mark = user.last_message_id
    await user.send_text("hello again")
    again = await user.wait_for_message(since=user_mark)
    assert "no survey open" in text(again)

    # Mark resolved: who and when are stored with the answer's alert.
    mark = w.group.last_message_id
    query = await w.group.press(w.admin, alert, data=resolve_data)
    assert (await w.admin.wait_for_callback_answer(query)).text == "Marked resolved."
    await w.group.wait_for_message(lambda m: "marked resolved by Alex" in text(m), since=mark)
    async with h.db() as db, db.read() as tx:
        alert_id = await alert_store.id_for_survey(tx, survey_id)
        assert alert_id is not None
        view = await alert_store.get(tx, alert_id)
    assert view is not None and view.resolved_at is not None and view.followed_up_at is not None
    assert view.resolved_by == f"Alex ({w.admin.id})"

    # /resolve (here from the admin's private chat) adds a note; a second press says it is
    # already resolved.
    mark = w.admin.last_message_id
    await w.admin.send_text(f"/resolve {alert_id} called the customer back")
    await w.admin.wait_for_message(lambda m: "called the customer back" in text(m), since=mark)
    async with h.db() as db, db.read() as tx:
        noted = await alert_store.get(tx, alert_id)
    assert noted is not None and noted.resolved_note == "called the customer back"
    assert noted.resolved_by == view.resolved_by and noted.resolved_at == view.resolved_at
    query = await w.group.press(w.admin, alert, data=resolve_data)
    assert "Already resolved" in ((await w.admin.wait_for_callback_answer(query)).text or "")


async def test_a_survey_waiting_for_an_answer_takes_precedence_over_a_relay(
    admin_world: AdminWorld,
) -> None:
    # Alerts go to every admin chat; this test works in the admin's private chat.
    w, h, me = admin_world, admin_world.h, admin_world.admin
    cid = new_customer()
    user = await h.linked_user(cid)
    mark = me.last_message_id
    await answer(h, user, cid, 1, "bad")
    alert = await me.wait_for_message(
        # The score and the reason may come in one alert or two: wait for the reason.
        lambda m: f"Customer {cid}\n" in text(m) and "Reason: bad" in text(m),
        timeout=20,
        since=mark,
    )
    await me.press(alert, data=alert.button_data[0])
    await me.wait_for_message(lambda m: "next message" in text(m), since=mark)
    user_mark = user.last_message_id
    await me.send_text("Could you tell us more?")
    await user.wait_for_message(lambda m: "tell us more" in text(m), since=user_mark)

    # A new survey arrives before the customer answers the admin: "7" is its score.
    await receive_survey(h, user, cid)
    user_mark = user.last_message_id
    mark = me.last_message_id
    await user.send_text("7")
    await user.wait_for_message(lambda m: "make it a 10" in text(m), since=user_mark)
    await user.send_text("fine now")  # the reason, still the survey's
    await user.wait_for_message(lambda m: "Thank you" in text(m), since=user_mark)
    # The survey is finished: now the message answers the admin, threaded to the alert.
    await user.send_text("More: the box was crushed")
    back = await me.wait_for_message(lambda m: "box was crushed" in text(m), since=mark)
    assert back.reply_to_message_id == alert.message_id
    assert not any("fine now" in text(m) for m in me.messages)
    assert not any("fine now" in text(m) or "crushed" in text(m) for m in w.group.messages)


async def test_alert_buttons_are_refused_to_non_admins_and_forgeries(
    admin_world: AdminWorld,
) -> None:
    w, h = admin_world, admin_world.h

    async def resolved() -> int:
        async with h.db() as db, db.read() as tx:
            n = await tx.fetchval("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NOT NULL")
        return int(n)

    cid = new_customer()
    user = await h.linked_user(cid)
    mark = w.group.last_message_id
    await answer(h, user, cid, 2, None)
    alert = await alert_for(w, cid, "Detractor #", since=mark)
    alert_id = int(alert.button_data[0].rsplit(":", 1)[1])
    before = await resolved()
    # A customer forging the admin button in their own chat.
    query = await user.press_raw(user.last_message_id, f"al:x:{alert_id}")
    got = await user.wait_for_callback_answer(query)
    assert "Only the feedback team" in (got.text or "")
    # Malformed data in the admin group: refused, nothing changes.
    for data in (
        "al:x:0",
        f"al:x:0{alert_id}",
        f"al:y:{alert_id}",
        "al:x:١٢",
        f"al:x:{alert_id}:extra",
        f" al:x:{alert_id}",
    ):
        query = await w.group.press_raw(w.admin, alert.message_id, data)
        got = await w.admin.wait_for_callback_answer(query)
        # " al:..." is not ours at all: the customers' handler calls it invalid too.
        assert got.text in (
            "This button is not valid (any more).",
            "This button is no longer valid.",
        ), data
    query = await w.group.press_raw(w.admin, alert.message_id, "al:x:99999999")
    assert (await w.admin.wait_for_callback_answer(query)).text == "There is no alert #99999999."
    assert await resolved() == before


async def test_commands_are_refused_politely_to_non_admins(admin_world: AdminWorld) -> None:
    h = admin_world.h
    cid = new_customer()
    user = await h.linked_user(cid)
    for command in ("/nps", "/digest", "/export", "/survey x", "/stats", "/resolve 1", "/cancel"):
        mark = user.last_message_id
        await user.send_text(command)
        reply = await user.wait_for_message(since=mark)
        assert "only for Acme Delivery's feedback team" in text(reply), command
    # A non-admin group too.
    outsider = h.server.add_group("Random group", members=[user])
    await outsider.send_text(user, "/stats")
    reply = await outsider.wait_for_message(timeout=15)
    assert "only for" in text(reply)
    assert not any(m.kind != "text" for m in user.messages)


async def test_nps_command_with_period_and_filter_and_bad_arguments(
    admin_world: AdminWorld,
) -> None:
    w, h = admin_world, admin_world.h
    cid = new_customer()
    user = await h.linked_user(cid)
    await answer(h, user, cid, 10, "great")
    me = w.admin
    mark = me.last_message_id
    await me.send_text("/nps 7d event=delivery")
    report = await me.wait_for_message(lambda m: "NPS ·" in text(m), timeout=15, since=mark)
    body = text(report)
    assert "last 7 days" in body and "event=delivery" in body
    assert (
        "n = " in body and "95% interval" in body and "noise" in body
    ) or "no comparison" in body
    for bad in ("/nps 9999d", "/nps 2020-13-01", "/nps 7d 30d", "/nps kind=weird", "/nps =x"):
        mark = me.last_message_id
        await me.send_text(bad)
        reply = await me.wait_for_message(since=mark, timeout=15)
        assert "Usage: /nps" in text(reply), bad


async def test_digest_command_sends_chart_and_text(admin_world: AdminWorld) -> None:
    w = admin_world
    mark = w.group.last_message_id
    await w.group.send_text(w.admin, "/digest")
    photo = await w.group.wait_for_message(lambda m: m.kind == "photo", timeout=30, since=mark)
    assert photo.file_bytes is not None and photo.file_bytes.startswith(PNG_SIGNATURE)
    assert COMPANY in text(photo) and "30 days" in text(photo)
    digest = await w.group.wait_for_message(
        lambda m: "NPS digest" in text(m), timeout=30, since=mark
    )
    assert "Follow-up:" in text(digest)
    mark = w.admin.last_message_id
    await w.admin.send_text("/digest last week")
    reply = await w.admin.wait_for_message(since=mark, timeout=15)
    assert "Usage: /digest" in text(reply)


async def test_export_round_trips_through_csv_with_hostile_cells(admin_world: AdminWorld) -> None:
    w, h = admin_world, admin_world.h
    cid = '=HYPERLINK("http://x")'
    user = await h.linked_user(cid)
    hostile = '@SUM(1+1), "quoted"\nsecond line'
    await answer(h, user, cid, 8, hostile)
    me = w.admin
    mark = me.last_message_id
    await me.send_text("/export today")
    doc = await me.wait_for_message(lambda m: m.kind == "document", timeout=30, since=mark)
    assert doc.file_name is not None and doc.file_name.endswith(".csv")
    assert doc.file_bytes is not None
    # A UTF-8 byte-order mark by default (NPSBOT_EXPORT_BOM): Excel reads it as UTF-8.
    assert doc.file_bytes.startswith(b'\xef\xbb\xbf"survey_id",')
    rows = list(csv.DictReader(io.StringIO(doc.file_bytes.decode("utf-8-sig"), newline="")))
    mine = [r for r in rows if r["customer_id"] == "'" + cid]
    assert len(mine) == 1, rows
    assert mine[0]["reason"] == "'" + hostile
    assert mine[0]["score"] == "8" and mine[0]["category"] == "passive"
    assert mine[0]["plan"] == "pro" and mine[0]["event_type"] == "delivery"
    assert "answers" in text(doc)
    for bad in ("/export yesterday today", "/export 400d"):
        mark = me.last_message_id
        await me.send_text(bad)
        reply = await me.wait_for_message(since=mark, timeout=15)
        assert "Usage: /export" in text(reply), bad


async def test_export_xlsx_is_typed_and_keeps_chinese_and_formulas_as_text(
    admin_world: AdminWorld,
) -> None:
    from openpyxl import load_workbook

    w, h = admin_world, admin_world.h
    cid = "=1+1"
    user = await h.linked_user(cid)
    reason = "=送货太慢了，客服态度很好"
    await answer(h, user, cid, 3, reason)
    me = w.admin
    mark = me.last_message_id
    await me.send_text("/export XLSX today")
    doc = await me.wait_for_message(lambda m: m.kind == "document", timeout=30, since=mark)
    assert doc.file_name is not None and doc.file_name.endswith(".xlsx")
    assert doc.file_bytes is not None and doc.file_bytes.startswith(b"PK")
    sheet = load_workbook(io.BytesIO(doc.file_bytes))["answers"]
    header, *rows = list(sheet.iter_rows())
    names = [cell.value for cell in header]
    mine = [r for r in rows if r[names.index("customer_id")].value == cid]
    assert len(mine) == 1
    row = {name: cell for name, cell in zip(names, mine[0], strict=True)}
    assert row["reason"].value == reason and row["reason"].data_type == "s"
    assert row["customer_id"].data_type == "s"  # text, not a formula
    assert row["score"].value == 3 and row["score"].data_type == "n"
    assert row["answered_at (UTC)"].is_date
    assert isinstance(row["survey_id"].value, int)
    assert row["plan"].value == "pro"
    mark = me.last_message_id
    await me.send_text("/export xlsx 400d")
    reply = await me.wait_for_message(since=mark, timeout=15)
    assert "Usage: /export [csv|xlsx]" in text(reply)


async def test_survey_and_stats_commands(admin_world: AdminWorld) -> None:
    h, me = admin_world.h, admin_world.admin
    cid = new_customer()
    user = await h.linked_user(cid)
    mark = me.last_message_id
    user_mark = user.last_message_id
    await me.send_text(f"/survey {cid}")
    await me.wait_for_message(lambda m: "queued for customer" in text(m), since=mark)
    await user.wait_for_message(lambda m: bool(m.button_data), since=user_mark, timeout=15)

    mark = me.last_message_id
    await me.send_text("/survey nobody-linked-yet")
    reply = await me.wait_for_message(lambda m: "was not sent" in text(m), since=mark)
    assert "not opened their link" in text(reply)
    # Numbers beyond SQLite's integer range get the usage line too, not an OverflowError.
    too_big = ("/resolve 99999999999999999999999", "/resolve #9223372036854775808")
    for bad in ("/survey", "/survey a b", "/stats now", *too_big):
        mark = me.last_message_id
        await me.send_text(bad)
        reply = await me.wait_for_message(since=mark, timeout=15)
        assert "Usage: /" + bad.split()[0][1:] in text(reply), bad

    mark = me.last_message_id
    await me.send_text("/stats")
    stats = await me.wait_for_message(lambda m: "delivery health" in text(m), since=mark)
    body = text(stats)
    assert "sent" in body and "Outbox:" in body and "429" in body and "Last successful send" in body
    assert "Last successful send: never" not in body


async def test_a_burst_of_detractors_is_batched_within_the_group_limit(
    admin_world: AdminWorld,
) -> None:
    w, h = admin_world, admin_world.h
    await asyncio.sleep(0)  # let earlier group sends settle into the pacing
    people = [new_customer("burst") for _ in range(30)]
    users = await asyncio.gather(*(h.linked_user(cid) for cid in people))
    mark = w.group.last_message_id
    rate_limited = h.server.stats.rate_limited
    await asyncio.gather(
        *(answer(h, u, cid, 0, None) for u, cid in zip(users, people, strict=True))
    )

    def covered() -> bool:
        seen = "\n".join(text(m) for m in w.group.messages if m.message_id > mark)
        return all(f"Customer {cid}\n" in seen for cid in people)

    await h.wait_for(covered, 60, "every burst detractor in an alert")
    new = [m for m in w.group.messages if m.message_id > mark]
    assert len(new) < 19, [text(m)[:40] for m in new]
    assert any("detractor alerts" in text(m) for m in new)  # at least one batch
    assert h.server.stats.rate_limited == rate_limited  # the stand-in refused nothing
    for message in new:
        assert len(text(message)) <= 4096
        assert all(len(d.encode()) <= 64 for d in message.button_data)
