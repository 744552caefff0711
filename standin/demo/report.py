"""The printed report: what the customers did and saw, what the bot stored, what the admin
group received; or, when the demo fails, what went wrong and the bot's last log lines."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bot.core.nps import Category, Counts, NpsEstimate, categorize, estimate
from bot.core.records import SurveyStatus
from standin.botprocess import BotProcess
from standin.demo.company import demo_catalog
from standin.demo.customers import Customer
from standin.demo.outcomes import Outcome
from standin.server import StandIn
from standin.users import SimGroup

EXPORT_LINES_SHOWN = 6
LOG_TAIL_LINES = 30
SAMPLE_REASONS_PER_CATEGORY = 8


def heading(title: str) -> str:
    """A section heading."""
    return f"\n{title}\n{'─' * len(title)}"


def signed(value: float) -> str:
    """A score in points with its sign: +32, −5, 0."""
    rounded = round(value)
    return f"+{rounded}" if rounded > 0 else (f"−{-rounded}" if rounded < 0 else "0")


def nps_line(est: NpsEstimate, label: str = "NPS") -> str:
    """``NPS: +32 (n=30, 95% interval +5 to +52)``."""
    if est.score is None or est.low is None or est.high is None:
        return f"{label}: no answers yet (n=0)"
    return (
        f"{label}: {signed(est.score)} (n={est.n}, 95% interval "
        f"{signed(est.low)} to {signed(est.high)})"
    )


def format_transcript(person: Customer) -> list[str]:
    """What the customer saw and typed, one speaker per block."""
    scored = f" — scored {person.score} ({person.category})" if person.score is not None else ""
    lines = [
        f"\n▸ {person.name}, {person.external_id}: {person.plan} plan, {person.region}, "
        f"after a {person.event_type.replace('_', ' ')}; {person.behaviour}{scored}"
    ]
    for speaker, text in person.transcript:
        label = "Bot" if speaker == "bot" else "Customer"
        first, *rest = text.split("\n")
        lines.append(f"  {label:<9}│ {first}")
        lines += [f"  {'':<9}│ {more}" for more in rest]
    return lines


def pick_samples(outcomes: Sequence[Outcome]) -> list[Customer]:
    """A promoter, a passive and a detractor, preferring different behaviours."""
    chosen: list[Customer] = []
    for category in (Category.PROMOTER, Category.PASSIVE, Category.DETRACTOR):
        candidates = [
            o.person for o in outcomes if o.person.thanked and o.person.category is category
        ]
        shown = {p.behaviour for p in chosen}
        fresh = [p for p in candidates if p.behaviour not in shown]
        if fresh or candidates:
            chosen.append((fresh or candidates)[0])
    return chosen


def status_lines(by_status: dict[SurveyStatus, int], outcomes: Sequence[Outcome]) -> list[str]:
    """Counts of surveys by status, with the reasons of the closed ones."""
    total = sum(by_status.values())
    lines = [heading(f"Surveys by status ({total} queued)")]
    reasons = {
        status: Counter(
            o.survey.status_reason or "no reason" for o in outcomes if o.survey.status is status
        )
        for status in (SurveyStatus.SKIPPED, SurveyStatus.FAILED, SurveyStatus.EXPIRED)
    }
    notes = {SurveyStatus.SENT: "delivered, not answered", SurveyStatus.PENDING: "not sent yet"}
    for status, count in by_status.items():
        if count == 0:
            continue
        why = ", ".join(f"{r}: {n}" for r, n in reasons.get(status, Counter()).items())
        note = why or notes.get(status, "")
        lines.append(f"  {status.value:<9} {count:>4}" + (f"   ({note})" if note else ""))
    lines.append(f"  {'total':<9} {total:>4}")
    return lines


def answer_lines(answered: Sequence[Outcome]) -> list[str]:
    """Answers by category and the NPS with its interval."""
    scores = [o.answer.score for o in answered if o.answer is not None]
    counts = Counts.from_scores(scores)
    lines = [heading(f"Answers by category ({counts.n} answers)")]
    for category in Category:
        share = counts.share(category)
        pct = f"{share:.0%}" if share is not None else "–"
        lines.append(f"  {category.value + 's':<11} {counts.count(category):>4}   {pct:>4}")
    histogram = Counter(scores)
    lines.append(
        "  scores      " + "  ".join(f"{s}:{histogram[s]}" for s in range(11) if histogram[s])
    )
    lines.append("")
    lines.append(nps_line(estimate(counts)))
    return lines


def segment_lines(answered: Sequence[Outcome]) -> list[str]:
    """NPS by event type and by plan (from the attributes stored with each survey)."""
    lines = [heading("NPS by segment")]
    rows: list[tuple[str, list[int]]] = []
    for key, label in (("event_type", "event"), ("plan", "plan"), ("region", "region")):
        groups: dict[str, list[int]] = {}
        for o in answered:
            assert o.answer is not None
            value = o.survey.event_type if key == "event_type" else o.survey.attributes.get(key)
            groups.setdefault(str(value), []).append(o.answer.score)
        for value, scores in sorted(groups.items()):
            rows.append((f"{label} = {value}", scores))
    width = max((len(name) for name, _ in rows), default=0)
    for name, scores in rows:
        lines.append("  " + nps_line(estimate(Counts.from_scores(scores)), name.ljust(width)))
    return lines


def reason_lines(answered: Sequence[Outcome]) -> list[str]:
    """The customers' own words, by category."""
    lines = [heading("Reasons by category")]
    for category in Category:
        rows = [
            o for o in answered if o.answer is not None and categorize(o.answer.score) is category
        ]
        lines.append(f"  {category.value.capitalize()}s ({len(rows)}):")
        for o in sorted(rows, key=lambda o: -(o.answer.score if o.answer else 0))[
            :SAMPLE_REASONS_PER_CATEGORY
        ]:
            assert o.answer is not None
            lines.append(
                f"    [{o.answer.score:>2}] “{o.answer.reason or '(no reason)'}” "
                f"— {o.survey.attributes.get('plan')}, {o.survey.event_type}"
            )
        if len(rows) > SAMPLE_REASONS_PER_CATEGORY:
            lines.append(f"    … and {len(rows) - SAMPLE_REASONS_PER_CATEGORY} more")
    return lines


def driver_lines(answered: Sequence[Outcome]) -> list[str]:
    """How often each driver was picked, by category (from the stored answers)."""
    catalog = demo_catalog()
    lines = [heading("Drivers picked, by category")]
    for category in Category:
        counts = Counter(
            d
            for o in answered
            if o.answer is not None and o.answer.category == category.value
            for d in o.answer.drivers or ()
        )
        labels = {d.id: catalog.driver_label(d, "en") for d in catalog.drivers(category)}
        listed = ", ".join(f"{labels.get(d, d)} {n}" for d, n in counts.most_common())
        lines.append(f"  {category.value.capitalize() + 's':<11} {listed or '–'}")
    return lines


def theme_lines(answered: Sequence[Outcome]) -> list[str]:
    """What the comments are about: each theme the bot found, how often, in which
    languages, with one comment as an example."""
    lines = [heading("Themes found in the comments (by the bot's themes job)")]
    by_theme: dict[str, list[Outcome]] = {}
    for o in answered:
        for name in o.themes:
            by_theme.setdefault(name, []).append(o)
    if not by_theme:
        return [*lines, "  –"]
    for name, rows in sorted(by_theme.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        languages = "/".join(sorted({o.person.lang for o in rows}))
        example = rows[0].answer.reason if rows[0].answer is not None else ""
        lines.append(f"  {name:<16} {len(rows):>3} comment(s), {languages}: “{example}”")
    return lines


def admin_lines(group: SimGroup) -> list[str]:
    """What the admin group received (nothing at all when it received nothing)."""
    messages = group.messages
    if not messages:
        return []
    lines = [heading(f"Admin group “{group.title}” received {len(messages)} message(s)")]
    for message in messages:
        text = message.shown_text or ""
        kind = "" if message.kind == "text" else f"[{message.kind}] "
        if message.kind == "photo" and message.file_bytes:
            size = len(message.file_bytes)
            kind = f"[chart: PNG image, {size // 1024} KB, caption:] "
        lines += ["  " + line for line in (kind + text).split("\n")]
        if message.kind == "document" and message.file_bytes:
            rows = message.file_bytes.decode("utf-8", "replace").splitlines()
            lines.append(f"  [CSV export, {len(rows) - 1} rows; the first {EXPORT_LINES_SHOWN}:]")
            lines += ["    " + row for row in rows[: EXPORT_LINES_SHOWN + 1]]
        lines.append("")
    return lines


def report(
    people: Sequence[Customer],
    outcomes: Sequence[Outcome],
    by_status: dict[SurveyStatus, int],
    server: StandIn,
    admins: SimGroup,
    seconds: float,
) -> str:
    """The whole printed report."""
    answered = [o for o in outcomes if o.answer is not None]
    behaviours = Counter(p.behaviour for p in people)
    stats = server.stats
    lines = [
        heading("The customers"),
        f"  {len(people)} customers in {seconds:.1f} s: "
        + ", ".join(f"{n} {b}" for b, n in behaviours.most_common()),
        f"  The bot made {sum(stats.calls.values())} Bot API calls and sent "
        f"{stats.total_deliveries} messages; the stand-in refused {stats.rate_limited} "
        f"for going too fast (429) and {stats.bad_requests} as malformed (400).",
    ]
    lines.append(heading("Sample conversations"))
    for person in pick_samples(outcomes):
        lines += format_transcript(person)
    lines += status_lines(by_status, outcomes)
    lines += answer_lines(answered)
    lines += segment_lines(answered)
    lines += reason_lines(answered)
    lines += driver_lines(answered)
    lines += theme_lines(answered)
    lines += admin_lines(admins)
    return "\n".join(lines)


def print_failure(problems: Sequence[str], bot: BotProcess, tmp: Path) -> None:
    """Say what went wrong, where the bot's log is, and its last lines."""
    print("\nDEMO FAILED:", file=sys.stderr)
    for problem in problems[:20]:
        print(f"  - {problem}", file=sys.stderr)
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20} more", file=sys.stderr)
    if bot.exited and bot.proc is not None:
        print(f"The bot process exited with code {bot.proc.returncode}.", file=sys.stderr)
    print(f"Bot log: {bot.log_path} (the directory {tmp} is kept for inspection)", file=sys.stderr)
    print(f"Last {LOG_TAIL_LINES} lines of the bot's log:", file=sys.stderr)
    print(bot.tail(LOG_TAIL_LINES), file=sys.stderr)
