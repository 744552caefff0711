"""Reading the results back from the bot's database and checking them against what each
customer did."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.core.records import Answer, Survey, SurveyStatus
from bot.usecases.themes import theme_names
from standin.demo.company import demo_catalog
from standin.demo.customers import Behaviour, Customer
from standin.demo.errors import DemoError
from storage import Database, answers, surveys, themes


@dataclass(frozen=True)
class Outcome:
    """One customer's survey and answer as stored by the bot."""

    person: Customer
    survey: Survey
    answer: Answer | None
    themes: tuple[str, ...] = ()  # the themes the bot found in the reason, by name


async def read_outcomes(
    db_path: Path, people: Iterable[Customer]
) -> tuple[list[Outcome], dict[SurveyStatus, int]]:
    """Every customer's survey and answer, and the status counts, from the bot's database."""
    db = await Database.open(db_path, migrate=False)
    try:
        outcomes = []
        async with db.read() as tx:
            for person in people:
                if person.survey_id is None:
                    continue
                survey = await surveys.get(tx, person.survey_id)
                if survey is None:
                    raise DemoError(
                        f"survey {person.survey_id} of {person.external_id} is "
                        "missing from the database"
                    )
                answer = await answers.get_for_survey(tx, survey.id)
                outcomes.append(Outcome(person, survey, answer))
            found = await themes.themes_of(tx, [o.survey.id for o in outcomes])
            names = await theme_names(tx, demo_catalog(), "en")
            outcomes = [
                replace(o, themes=tuple(names.get(t, t) for t in found.get(o.survey.id, ())))
                for o in outcomes
            ]
            by_status = await surveys.count_by_status(tx)
    finally:
        await db.close()
    return outcomes, by_status


def check_outcomes(outcomes: Iterable[Outcome]) -> list[str]:
    """Differences between what each customer did and what the bot stored."""
    problems = []
    for o in outcomes:
        who = f"{o.person.external_id} ({o.person.behaviour})"
        if o.person.answers:
            if o.answer is None:
                problems.append(f"{who}: no answer stored (survey {o.survey.status})")
            elif (o.answer.score, o.answer.reason) != (o.person.score, o.person.reason):
                problems.append(
                    f"{who}: stored {o.answer.score} / {o.answer.reason!r}, "
                    f"gave {o.person.score} / {o.person.reason!r}"
                )
            elif o.answer.drivers != o.person.drivers:
                problems.append(
                    f"{who}: stored drivers {o.answer.drivers}, picked {o.person.drivers}"
                )
        elif o.person.behaviour is Behaviour.IGNORE and o.survey.status is not SurveyStatus.SENT:
            problems.append(f"{who}: survey is {o.survey.status}, expected sent")
        elif o.person.behaviour is Behaviour.OPT_OUT and (
            o.survey.status,
            o.survey.status_reason,
        ) != (SurveyStatus.SKIPPED, "opted_out"):
            problems.append(
                f"{who}: survey is {o.survey.status} ({o.survey.status_reason}), "
                "expected skipped (opted_out)"
            )
    return problems
