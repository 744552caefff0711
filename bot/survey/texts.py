"""Customer-facing wording. One place, so translations can be added beside English."""

from __future__ import annotations

from bot.domain.nps import Category

EN: dict[str, str] = {
    "question": (
        "How likely are you to recommend {company} to a friend or colleague?\n"
        "0 = not at all likely, 10 = extremely likely"
    ),
    "question_answered": "{question}\n\nYour answer: {score} ✓",
    "question_expired": "{question}\n\n(This survey has closed.)",
    "followup_promoter": "Thank you! What do you value most about {company}?",
    "followup_passive": "Thanks! What would make it a 10 for you?",
    "followup_detractor": (
        "We're sorry to hear that. What went wrong, and what should we fix first?"
    ),
    "thanks_promoter": "Thank you, that means a lot to us! 💚",
    "thanks_passive": "Thank you for your feedback. We'll work on earning that 10.",
    "thanks_detractor": (
        "Thank you for telling us. Your feedback goes straight to the team that can fix it."
    ),
    "reason_truncated": "(Your message was long, so we kept the first {limit} characters.)",
    "press_recorded": "Thanks, you chose {score}.",
    "press_already_answered": "You've already answered this survey. Thank you!",
    "press_closed": "This survey has closed.",
    "press_invalid": "This button is no longer valid.",
    "score_out_of_range": (
        "Scores go from 0 to 10. Please send a whole number in that range, or tap a button above."
    ),
    "score_not_whole": (
        "Please send a whole number from 0 to 10 (no decimals), or tap a button above."
    ),
    "score_not_a_number": (
        "I didn't catch a score there. Please tap a button above or type a whole number "
        "from 0 to 10."
    ),
    "score_media": "Please tap a number from 0 to 10 above, or type it.",
    "reason_media": "I can only read text. Please type a few words about your score.",
    "reason_updated": "Got it, we've updated your comment.",
    "edit_ignored": "Edits to earlier messages aren't picked up. Please send a new message.",
    "no_open_survey": (
        "There's no survey open for you right now. We'll ask you here after your next "
        "experience with {company}. Send /stop to stop receiving surveys."
    ),
    "not_linked": (
        "This bot collects feedback for {company}. To take part, open the link {company} sent you."
    ),
    "greeting": (
        "Hello! I'm the feedback bot of {company}. After you've used our service I may ask "
        "you one quick question: how likely you are to recommend us, from 0 to 10. "
        "To connect your account, open the link {company} sent you. "
        "Send /stop at any time to stop receiving surveys."
    ),
    "linked": (
        "You're all set! After your next experience with {company} I'll ask you one quick "
        "question. Send /stop at any time to stop receiving surveys."
    ),
    "opted_back_in": (
        "Welcome back! You'll receive surveys from {company} again. Send /stop at any time to stop."
    ),
    "link_invalid": (
        "Sorry, this link isn't valid. Please use the link {company} sent you, "
        "or ask them for a new one."
    ),
    "stopped": (
        "Done: you won't receive any more surveys from {company}. Changed your mind? Send /start."
    ),
    "already_stopped": "You're already unsubscribed. Send /start to receive surveys again.",
    # Ops side: the one reminder to a non-responder (a reply to the question message).
    "reminder": (
        "A quick reminder: how likely are you to recommend {company}? Tap a number from 0 to 10 "
        "on the question above, it takes a second."
    ),
    # Admin side: a team member answers a detractor through the bot (the reply relay).
    "relay_from_team": "A message from the {company} team about your feedback:\n\n{text}",
    "relay_received": "Thank you, we've passed your message on to the {company} team.",
    # Privacy: /mydata (what is stored) and /delete_me (erasure, confirmed with buttons).
    "mydata_header": "This is everything {company} stores about you through this bot.",
    "mydata_customer": (
        "Customer id: {customer_id}\nLinked on: {linked_at}\nLanguage: {language}\n"
        "Attributes: {attributes}"
    ),
    "mydata_none": "none",
    "mydata_surveys": "Surveys: {count}",
    "mydata_survey": "Survey {survey_id}: {kind}, {event}, {status}",
    "mydata_survey_dates": "Created {created_at} · sent {sent_at} · closed {closed_at}",
    "mydata_attributes": "Attributes then: {attributes}",
    "mydata_answer": "Your score: {score} ({category}), {scored_at}",
    "mydata_drivers": "What mattered: {drivers}",
    "mydata_reason": "Your comment: {reason}",
    "mydata_footer": (
        "The same data follows as a JSON file. Send /delete_me to erase it, /stop to stop "
        "receiving surveys."
    ),
    "mydata_document_caption": "Your data stored by {company} (JSON, UTF-8).",
    "mydata_not_linked": (
        "This chat isn't linked to a customer account of {company}, so nothing is stored "
        "about you here."
    ),
    "delete_confirm": (
        "Erase your data held by {company}? Your customer link, attributes and comments are "
        "erased; your scores stay only as anonymous counts. You won't receive surveys any "
        "more unless you open a new link from {company}. This cannot be undone."
    ),
    "delete_yes_button": "Yes, erase",
    "delete_no_button": "No, keep",
    "delete_done": (
        "Done: your data has been erased. Thank you for your feedback. If you ever want "
        "surveys again, open a new link from {company}."
    ),
    "delete_cancelled": "OK, nothing was erased.",
    "delete_expired": (
        "This confirmation has expired and nothing was erased. Send /delete_me again."
    ),
    "delete_nothing": "There is nothing to erase for this chat any more.",
}


def render(key: str, **params: object) -> str:
    """The text for ``key`` with ``params`` filled in."""
    return EN[key].format(**params)


def followup_key(category: Category) -> str:
    """The follow-up question for a score's category."""
    return f"followup_{category.value}"


def thanks_key(category: Category) -> str:
    """The closing thank-you for a score's category."""
    return f"thanks_{category.value}"
