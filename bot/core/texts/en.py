"""English: the reference language. Every key here exists in every built-in language.

HTML tags are Telegram's (``parse_mode=HTML``) and only where the text is sent as HTML;
values are escaped by the callers. Placeholders are ``{name}`` (admin texts may format
numbers, ``{rows:,}``).
"""

from __future__ import annotations

#: What customers read; a questionnaire file may override any of these per language.
CUSTOMER: dict[str, str] = {
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
    "press_wait": "One moment…",
    "press_busy": "Too many presses: one moment, please.",
    "flood_slow_down": "You're sending messages faster than I can read them. Please slow down; "
    "I'll skip the extra messages for a minute.",
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
    "link_expired": ("Sorry, this link has expired. Please ask {company} for a new one."),
    "link_used": (
        "Sorry, this link has already been used and works only once. If you need to link this "
        "chat, please ask {company} for a new link."
    ),
    "link_taken": (
        "This account is already linked to another Telegram chat, so this chat was not linked. "
        "If you have a new phone or account, please ask {company} to move it for you."
    ),
    "moved_away": (
        "Your {company} feedback account has been moved to another Telegram chat, as "
        "requested. You won't receive surveys here any more. If you did not ask for this, "
        "please contact {company}."
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
    # Since questionnaires: kinds of question, drivers, languages.
    "question_transactional": (
        "How likely are you to recommend {company} to a friend or colleague, based on your "
        "recent {event}?\n0 = not at all likely, 10 = extremely likely"
    ),
    "question_relationship": (
        "How likely are you to recommend {company} to a friend or colleague?\n"
        "0 = not at all likely, 10 = extremely likely"
    ),
    "question_episode": (
        "Thinking of your whole experience with {company} so far, how likely are you to "
        "recommend us to a friend or colleague?\n0 = not at all likely, 10 = extremely likely"
    ),
    "event_default": "experience",
    "drivers_prompt": "What mattered most? Tap all that apply, then Done.",
    "drivers_done_button": "Done",
    "drivers_chosen": "What mattered most: {drivers}",
    "drivers_none": "What mattered most: (nothing picked)",
    "drivers_pending": "Please tap the factors that mattered, then Done.",
    "promoter_link_button": "Leave a review",
    "language_prompt": "Which language would you like?",
    "language_set": "Done. I'll write to you in English.",
    "language_invalid": "That language isn't available.",
}

#: What the feedback team reads in the admin chats: commands, alerts, the relay, /stats.
ADMIN: dict[str, str] = {
    # Usage lines: the answer to bad arguments, after the problem itself.
    "usage_nps": (
        "Usage: /nps [period] [filter]. Period: today, yesterday, 7d, 30d, Nd, "
        "YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD (default 7d). Filter: event=<type>, "
        "kind=<transactional|relationship|episode> or <attribute>=<value>."
    ),
    "usage_digest": "Usage: /digest [today|yesterday|YYYY-MM-DD] (default today, so far).",
    "usage_export": (
        "Usage: /export [csv|xlsx] [period] [filter] (default csv, 30d): the answers as a "
        "CSV file or an Excel workbook."
    ),
    "usage_survey": "Usage: /survey <customer id>: queue a survey for that customer now.",
    "usage_stats": "Usage: /stats (no arguments): queue and delivery health.",
    "usage_resolve": "Usage: /resolve <alert number> [note]: mark a detractor alert resolved.",
    "usage_themes": (
        "Usage: /themes [period] [filter] (default 30d): what customers' comments are about, "
        "each theme's NPS, impact and change, with a chart."
    ),
    "usage_cancel": "Usage: /cancel: stop writing a reply to a customer.",
    "usage_trend": (
        "Usage: /trend [weeks|months] (default weeks): the NPS of each of the last 12 weeks "
        "or months, with n and its interval, and a chart."
    ),
    # Refusals and button answers.
    "not_admin": (
        "Sorry, this command is only for {company}'s feedback team. "
        "If you are on the team, use it in the team's admin chat."
    ),
    "not_admin_button": "Only the feedback team's admins can use this button.",
    "button_invalid": "This button is not valid (any more).",
    "alert_unknown": "There is no alert #{alert_id}.",
    "customer_unreachable": "Customer {customer} can't be reached in Telegram ({why}).",
    "unreachable_not_linked": "not linked to a chat",
    "unreachable_blocked": "they blocked the bot",
    "unreachable_unknown_alert": "unknown alert",
    # The reply relay, admin side.
    "reply_prompt": (
        "✍️ {admin}, your next message in this chat goes to customer <code>{customer}</code> "
        "(alert #{alert_id}). Send /cancel to cancel."
    ),
    "reply_prompt_answer": "Write your reply as your next message in this chat.",
    "reply_sent": (
        "✅ Sent to customer <code>{customer}</code> (alert #{alert_id}). "
        "Their next message will appear here as a reply to the alert."
    ),
    "reply_not_text": "Only text can be sent to a customer. Send your reply as text, or /cancel.",
    "reply_too_long": (
        "That reply is too long ({length:,} characters; at most {limit:,}). Please shorten it."
    ),
    "reply_cancelled": "Reply cancelled.",
    "nothing_to_cancel": "There is no reply in progress.",
    "customer_replied": (
        "💬 Customer <code>{customer}</code> answered (alert #{alert_id}):\n<i>{text}</i>"
    ),
    "customer_sent_media": (
        "💬 Customer <code>{customer}</code> answered (alert #{alert_id}) with a {kind}, "
        "which can't be relayed."
    ),
    "media_sticker": "sticker",
    "media_photo": "photo",
    "media_voice": "voice",
    "media_video": "video",
    "media_video_note": "video_note",
    "media_document": "document",
    "media_audio": "audio",
    "media_animation": "animation",
    "media_location": "location",
    "media_contact": "contact",
    "media_poll": "poll",
    "media_other": "other",
    "media_message": "message",
    # Resolving alerts.
    "resolved": (
        "✅ Alert #{alert_id} (customer <code>{customer}</code>) marked resolved by {admin}."
    ),
    "resolved_note": "\nNote: <i>{note}</i>",
    "already_resolved": "Already resolved by {who} at {when}.",
    "resolved_answer": "Marked resolved.",
    "note_too_long": "The note is too long ({length:,} characters; at most {limit:,}).",
    # /survey
    "survey_queued": "📨 Survey #{survey_id} queued for customer <code>{customer}</code>.",
    "survey_skipped": (
        "Survey #{survey_id} for customer <code>{customer}</code> was not sent: {reason}."
    ),
    "skip_reason_not_linked": "the customer has not opened their link to the bot yet",
    "skip_reason_opted_out": "the customer opted out (/stop)",
    "skip_reason_blocked": "the customer blocked the bot",
    "bad_customer": "“{value}” is not a valid customer id: {problem}",
    # /export and /digest
    "no_answers_export": "No answers in {period}{filters}: nothing to export.",
    "export_caption": "{rows:,} answers · {period}{filters}",
    "export_truncated": " · only the first {rows:,}: choose a shorter period",
    "export_failed": "Sorry, the export could not be built. The error was logged; try again.",
    "export_interrupted": (
        "The export was interrupted: the bot is restarting. Send /export again in a minute."
    ),
    "digest_failed": "Sorry, the digest could not be sent. The error was logged.",
    "digest_one_day": "Give one day.",
    # Report arguments (periods and filters), as the admin typed them.
    "period_help": (
        "Use today, yesterday, 7d, 30d, Nd (1–366 days up to today), "
        "YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD."
    ),
    "filter_help": "Use event=<type> or <attribute>=<value>, e.g. event=delivery or plan=pro.",
    "period_not_a_date": "“{text}” is not a date in the form YYYY-MM-DD. {help}",
    "period_bad_date": "“{text}” is not a valid calendar date.",
    "period_days_range": "The number of days must be 1 to {most}, got {count}.",
    "period_reversed": "The period starts ({start}) after it ends ({end}).",
    "period_unknown": "“{text}” is not a period I understand. {help}",
    "period_too_long": "The period covers {days} days; the most is {most}.",
    "period_in_future": "The period starts in the future ({start}).",
    "period_at_most_one": "Give at most one period. {help}",
    "filter_not_a_filter": "“{text}” is not a filter. {help}",
    "filter_bad_name": "“{key}” is not a valid filter name: use 1–32 letters, digits or _. {help}",
    "filter_no_value": "The filter {key}= needs a value. {help}",
    "filter_value_too_long": (
        "The value of {key} is too long ({length} characters; the most is {most})."
    ),
    "filter_control_characters": "The value of {key} contains control characters.",
    "filter_one_event": "Only one event filter can be given.",
    "filter_one_attribute": "Only one attribute filter can be given.",
    "filter_not_a_kind": (
        "“{value}” is not a survey kind: use transactional, relationship or episode."
    ),
    # How a period was asked for ("last 7 days (2026-11-17 – 2026-11-23)").
    "period_today": "today",
    "period_yesterday": "yesterday",
    "period_last_days": "last {days} days",
    "period_day_before": "{days} day before",
    "period_days_before": "{days} days before",
    "period_label": "{description} ({dates})",
    # Detractor alerts.
    "alert_title_score": "🚨 <b>Detractor #{alert_id}</b> · score <b>{score}</b>",
    "alert_title_reason": "💬 <b>Reason from detractor #{alert_id}</b> · score <b>{score}</b>",
    "alert_customer": "Customer <code>{customer}</code>",
    "alert_attributes": "Attributes: {attributes}",
    "alert_attributes_more": ", … ({count} more)",
    "alert_no_event_type": "no event type",
    "alert_event": "Event: {event} · {kind} survey · {when}",
    "alert_reason": "Reason: <i>{reason}</i>",
    "alert_no_reason": "Reason: <i>not given yet</i>",
    "alert_resolved_by": "Resolved by {admin}",
    "alert_batch": "🚨 <b>{count} detractor alerts</b>",
    "alert_reply_button": "↩️ Reply{suffix}",
    "alert_resolve_button": "✅ Mark resolved{suffix}",
    # /stats
    "stats_title": "<b>Queue and delivery health</b>",
    "stats_surveys": "Surveys: {statuses}",
    "stats_status": "{status} {count}",
    "stats_outbox": "Outbox: {pending} pending{oldest} · {failed} failed",
    "stats_outbox_oldest": " (oldest since {when})",
    "stats_last_send": "Last successful send: {when}",
    "stats_last_survey": "Last survey sent: {when}",
    "stats_rate": (
        "429 (Too Many Requests) since start: {count} · send rate now {rate}/s of {configured}/s"
    ),
    "stats_alerts": "Alerts: {open} unresolved · {waiting} waiting to be posted",
    "stats_last_digest": "Last scheduled digest: {day}",
    "stats_none_yet": "none yet",
    "stats_never": "never",
    "stats_sent_since_start": "Surveys sent since start: {count}",
    "stats_flood": "Flood limits: {collapsed} presses collapsed, {presses} presses and {texts} "
    "texts dropped, {warned} slow-down replies, {replies} replies over the per-chat outbox cap",
    "stats_privacy": "Privacy: {retention} · {erasures} erasures",
    "stats_link_refusals": (
        "Links: {count} refused in the last {days} days (opened in a chat while the customer "
        "is linked elsewhere, or used already; details per customer in the ops API)"
    ),
    "stats_retention_off": "retention off",
    "stats_retention": "retention {days} days, {last}",
    "stats_retention_last_run": "last run {when}: {count} anonymised",
    "stats_retention_not_run": "not run yet",
    "stats_webhooks_none": "Webhooks: none configured",
    "stats_webhooks_ok": "Webhooks: {endpoints} endpoint(s) OK, {pending} pending",
    "stats_webhooks_failing": "Webhooks: ⚠️ failing: {endpoints}",
    "stats_webhook_endpoint": "{url} ({failed} failed/24h, {retrying} retrying{error})",
    "stats_webhook_error": "; {error}",
    # Names of survey statuses and kinds in admin texts.
    "status_pending": "pending",
    "status_sent": "sent",
    "status_answered": "answered",
    "status_expired": "expired",
    "status_failed": "failed",
    "status_skipped": "skipped",
    "kind_transactional": "transactional",
    "kind_relationship": "relationship",
    "kind_episode": "episode",
}

#: The reports: the daily digest, /nps and the digest chart's labels.
REPORT: dict[str, str] = {
    # Shared by the digest and /nps.
    "no_answers": "no answers",
    "estimate": "{score} (n = {n}, {low} to {high})",
    "estimate_few": "{score} (n = {n}, too few answers for an interval)",
    "beyond": "beyond the noise",
    "within": "within the noise",
    "shares": "Promoters {p} ({pp}) · Passives {s} ({sp}) · Detractors {d} ({dp})",
    "one_kind": "<i>All answers are from {kind} surveys.</i>",
    "by_kind": "By survey kind",
    "by_event_type": "By event type",
    "and_more": "… and {n} more",
    "no_value": "(none)",
    "days_in": "<i>Days in {tz}; intervals are 95%.</i>",
    "cutoffs": (
        "<i>Scores use non-standard cut-offs ({cutoffs}); "
        "they are not comparable with published NPS.</i>"
    ),
    "cutoffs_promoters": "promoters {span}",
    "cutoffs_passives": "passives {span}",
    "cutoffs_detractors": "detractors {span}",
    "cutoffs_no_detractors": "no detractors",
    # The daily digest.
    "in_this_period": "in this period",
    "on_the_day_before": "on the day before",
    "in_the_previous": "in the previous {days} days",
    "no_comparison": "no comparison (no answers {missing})",
    "change": "{points} points, {verdict}",
    "no_answers_on": "No answers on {day}.",
    "headline": "<b>NPS {score}</b> on {day} (n = {n}, 95% interval {low} to {high})",
    "headline_few": "<b>NPS {score}</b> on {day} (n = {n}, too few answers for an interval)",
    "trend": "<b>Trend</b>",
    "vs_day_before": "vs the day before, {estimate}: {change}",
    "last_days": "Last {days} days {current} vs {previous}: {change}",
    "no_surveys": "No surveys sent.",
    "answered_of": "Answered {answered} of {sent} sent ({rate} response rate)",
    "responses": "<b>Responses</b>",
    "responses_line": "{line} · {expired} expired · {failed} failed",
    "by_named": "By {name}",
    "by_attribute": "By attribute",
    "digest_week_title": "<b>{company}: weekly NPS digest</b>",
    "digest_month_title": "<b>{company}: monthly NPS digest</b>",
    "drivers": "<b>Drivers</b>",
    "detractors": "Detractors",
    "passives": "Passives",
    "promoters": "Promoters",
    "comments": "<b>Latest comments</b>",
    "follow_up": "<b>Follow-up:</b> {detractors}, {followed} followed up",
    "detractor_one": "{n} detractor",
    "detractor_many": "{n} detractors",
    "title": "<b>NPS digest · {company} · {day}</b>",
    "caption_day": "Day: {estimate}",
    "caption_7": "7 days: {estimate}",
    "caption_30": "30 days: {estimate}",
    "caption_cutoffs": "<i>Non-standard cut-offs.</i>",
    # The on-demand /nps report.
    "nps_title": "<b>NPS · {period}</b>",
    "nps_no_answers": "No answers in this period.",
    "nps_headline": "<b>NPS {score}</b> (n = {n}, 95% interval {low} to {high})",
    "nps_headline_few": "<b>NPS {score}</b> (n = {n}, too few answers for an interval)",
    "nps_previous": "Previous {period}: {estimate}",
    "nps_no_comparison": "{previous}; no comparison possible.",
    "nps_change": "{previous}; change {points} points, {verdict}.",
    # The digest chart (plain text, no HTML).
    "chart_title": "{company} · NPS, 30 days to {day}",
    "chart_daily_nps": "Daily NPS",
    "chart_no_answers_period": "No answers in this period",
    "chart_interval": "95% interval",
    "chart_nps": "NPS",
    "chart_score": "Score",
    "chart_answers": "Answers",
    "chart_no_answers": "No answers",
    "chart_rolling_nps": "7-day NPS",
    "chart_shares": "Share of answers",
    "chart_no_answers_yet": "No answers yet",
    # /trend, and the charts of the weekly and monthly digests.
    "trend_title_weeks": "<b>NPS by week, last {count} weeks</b>",
    "trend_title_months": "<b>NPS by month, last {count} months</b>",
    "trend_zone": "<i>Weeks from Monday; days in {tz}; intervals are 95%.</i>",
    "trend_row": "{period}: {value}",
    "trend_so_far": "(so far)",
    "trend_chart_title_weeks": "{company} · NPS by week",
    "trend_chart_title_months": "{company} · NPS by month",
    "trend_chart_too_few": "Fewer than {min_sample} answers",
    # Comment themes: the digest's section, /themes and its chart (plain text).
    "themes": "<b>Themes</b> · {period}",
    "themes_title": "<b>Themes · {period}</b>",
    "themes_none": "No themed comments in this period.",
    "themes_detractors": "Detractors mention: {listed}",
    "themes_promoters": "Promoters mention: {listed}",
    "themes_row": "{name}: NPS {estimate} · impact {impact} · vs before: {change}",
    "themes_no_previous": "no answers with it in the period before",
    "themes_new": "new",
    "themes_note": (
        "<i>Impact: the NPS of all answers minus the NPS of the answers without the theme "
        "(negative: the theme pulls the score down).</i>"
    ),
    "themes_last_days": "last {days} days",
    "themes_chart_title": "{company} · NPS by theme, {period}",
    "themes_chart_axis": "NPS with 95% interval",
}
