"""The ops API's request and response bodies as pydantic models: the one source for
validating request bodies (422 answers) and for the OpenAPI document (``openapi.py``).

Each field states its limits as JSON Schema constraints (lengths, patterns, ranges) and runs
the domain rule of :mod:`bot.core.validation` first, so an invalid value gets the same
message as in the CLI and the CSV import; the constraints then only restate what the rule
already enforced. Rules that need the bot's clock or questionnaire (``occurred_at`` not in
the future, ``send_at`` within 365 days, required event properties) take them from the
validation context; rules JSON Schema cannot state are given in the field's description.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from bot.core.contact_rules import TIMEZONE_ATTRIBUTE
from bot.core.keyboards import MAX_SURVEY_ID
from bot.core.records import SurveyKind
from bot.core.validation import (
    MAX_CLOCK_SKEW,
    MAX_DELAY_SECONDS,
    MAX_EVENT_ID_CHARS,
    MAX_PROPERTIES,
    MAX_PROPERTY_NUMBER,
    MAX_PROPERTY_VALUE_CHARS,
    MAX_SEND_AHEAD,
    RESERVED_EVENT_PREFIX,
    FieldError,
    RequiredProperties,
    ValidationFailed,
    customer_id_value,
    delay_seconds,
    event_id_value,
    event_type_name,
    no_required_properties,
    property_name,
    property_value,
    survey_kind,
    time_zone_name,
    timestamp,
)
from bot.core.validation import (
    EventRequest as Event,
)

# What bot.core.linking.validate_customer_id accepts, for the Basic Multilingual Plane: no
# control, format, separator, or non-character code points, and no outer white space
# (tests/ops/test_fuzz.py checks it against the rule for every BMP character).
_ID_EDGE = (
    r"[^\u0000-\u0020\u007f-\u00a0\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891"
    r"\u08e2\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u2066-\u206f\u3000"
    r"\ufdd0-\ufdef\ufeff\ufff9-\ufffb\ufffe-\uffff]"
)
_ID_INNER = (
    r"[^\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891"
    r"\u08e2\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufdd0-\ufdef\ufeff"
    r"\ufff9-\ufffb\ufffe-\uffff]"
)
CUSTOMER_ID_PATTERN = f"^{_ID_EDGE}(?:{_ID_INNER}*{_ID_EDGE})?$"
MAX_CUSTOMER_ID_CHARS = 36  # the rule counts UTF-8 bytes (36); characters are at most that
# An event id: printable, no outer white space.
_EVENT_ID_EDGE = r"[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000]"
EVENT_ID_PATTERN = f"^{_EVENT_ID_EDGE}(?:[^\\u0000-\\u001f\\u007f-\\u009f]*{_EVENT_ID_EDGE})?$"
EVENT_TYPE_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
PROPERTY_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
NO_CONTROLS_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
DEEP_LINK_PATTERN = r"^https://t\.me/[A-Za-z0-9_]+\?start=[A-Za-z0-9_-]{18,64}$"

CUSTOMER_ID_DESCRIPTION = (
    "The company's own customer id: at most 36 UTF-8 bytes, no outer spaces, no control, "
    "format (bidirectional overrides, zero-width characters, BOM), line/paragraph separator "
    "or non-character code points; stored in Unicode NFC, so composed and decomposed "
    "spellings are one customer. The pattern states the characters of the Basic "
    "Multilingual Plane; the byte limit and other planes are checked by the bot (422)."
)
PROPERTIES_DESCRIPTION = (
    f"Customer properties (segment, plan, region, channel, timezone...): at most "
    f"{MAX_PROPERTIES}; names start with a letter, 1-64 of A-Z a-z 0-9 _; string values at "
    f"most {MAX_PROPERTY_VALUE_CHARS} characters without control characters, numbers within "
    "±2^53. `timezone` must be an IANA name known to the bot's time zone database (a list "
    "JSON Schema cannot state; 422 otherwise) and is used for quiet hours. `null` is the "
    "same as `{}`."
)


def _rule(check: Any) -> BeforeValidator:
    """Run a :mod:`bot.core.validation` rule before the field's own (schema) checks."""
    return BeforeValidator(check)


# --- request fields -------------------------------------------------------------------------

CustomerId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_CUSTOMER_ID_CHARS,
        pattern=CUSTOMER_ID_PATTERN,
        description=CUSTOMER_ID_DESCRIPTION,
    ),
    _rule(customer_id_value),
]
PropertyName = Annotated[str, Field(pattern=PROPERTY_NAME_PATTERN), _rule(property_name)]
PropertyValue = Annotated[
    Annotated[str, Field(max_length=MAX_PROPERTY_VALUE_CHARS, pattern=NO_CONTROLS_PATTERN)]
    | Annotated[int, Field(strict=True, ge=-MAX_PROPERTY_NUMBER, le=MAX_PROPERTY_NUMBER)]
    | Annotated[
        float,
        Field(strict=True, allow_inf_nan=False, ge=-MAX_PROPERTY_NUMBER, le=MAX_PROPERTY_NUMBER),
    ]
    | Annotated[bool, Field(strict=True)]
    | None,
    _rule(property_value),
]


def _properties_count(value: Any) -> Any:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    if len(value) > MAX_PROPERTIES:
        raise ValueError(f"at most {MAX_PROPERTIES} properties")
    return value


def _with_time_zone(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """The properties, and the ``timezone`` property an IANA name: reported beside the
    other properties' errors, not instead of them."""
    value = _properties_count(value)
    zone_error: dict[str, str] = {}
    zone = value.get(TIMEZONE_ATTRIBUTE)
    if isinstance(zone, str) and len(zone) <= MAX_PROPERTY_VALUE_CHARS:
        try:
            time_zone_name(zone)
        except ValueError as exc:
            zone_error[TIMEZONE_ATTRIBUTE] = str(exc)
    try:
        result = handler(value)
    except ValidationError as exc:
        if not zone_error:
            raise
        details = [
            InitErrorDetails(type=e["type"], loc=e["loc"], input=e["input"], ctx=e.get("ctx", {}))
            for e in exc.errors(include_url=False)
        ]
        raise ValidationError.from_exception_data(
            "properties", [*details, *_invalid_details(zone_error, value)]
        ) from None
    if zone_error:
        raise _invalid(zone_error, value)
    return result


Properties = Annotated[
    dict[PropertyName, PropertyValue],
    # Names that do not match the pattern are refused: no other properties.
    Field(max_length=MAX_PROPERTIES, json_schema_extra={"additionalProperties": False}),
    WrapValidator(_with_time_zone),
]


def _invalid(messages: Mapping[str, str], value: Any) -> ValidationError:
    """A ValidationError with one error per (nested) field; pydantic prefixes the field
    that raised it."""
    return ValidationError.from_exception_data("properties", _invalid_details(messages, value))


def _invalid_details(messages: Mapping[str, str], value: Any) -> list[InitErrorDetails]:
    return [
        InitErrorDetails(type=PydanticCustomError("value_error", message), loc=(name,), input=value)
        for name, message in messages.items()
    ]


def _now(info: ValidationInfo) -> datetime:
    context = info.context
    if not isinstance(context, dict) or not isinstance(context.get("now"), datetime):
        raise RuntimeError("validate with context={'now': <aware datetime>}")
    now: datetime = context["now"]
    return now


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", regex_engine="python-re", frozen=True)


class EventRequest(_Request):
    """The body of ``POST /v1/events``."""

    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "description": "`send_at` and `delay_seconds` cannot both be given (non-null).",
                "required": ["send_at", "delay_seconds"],
                "properties": {"send_at": {"type": "string"}, "delay_seconds": {"type": "integer"}},
            }
        },
    )

    customer_id: CustomerId
    event_type: Annotated[
        str,
        Field(
            pattern=EVENT_TYPE_PATTERN,
            description="e.g. delivery.completed; selects the configured delay and contact "
            "interval.",
        ),
        _rule(event_type_name),
    ]
    event_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=MAX_EVENT_ID_CHARS,
            pattern=EVENT_ID_PATTERN,
            description="The idempotency key: printable, no outer spaces. Ids starting with "
            f"`{RESERVED_EVENT_PREFIX}` are reserved.",
            json_schema_extra={"not": {"pattern": f"^{RESERVED_EVENT_PREFIX}"}},
        ),
        _rule(event_id_value),
    ]
    occurred_at: Annotated[
        datetime | None,
        Field(
            description="When the service happened (default: now), RFC 3339 with an offset, "
            "years 2000-9000; delays count from it. At most "
            f"{int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes ahead of the bot's clock.",
        ),
        _rule(lambda v: None if v is None else timestamp(v)),
    ] = None
    properties: Annotated[Properties | None, Field(description=PROPERTIES_DESCRIPTION)] = None
    kind: Annotated[
        SurveyKind | None,
        Field(description="`null` is the default, `transactional`."),
        _rule(lambda v: None if v is None else survey_kind(v)),
    ] = None
    delay_seconds: Annotated[
        Annotated[int, Field(ge=0, le=MAX_DELAY_SECONDS)] | None,
        Field(
            description="Overrides the configured delay for the event type; counts from "
            "occurred_at. Not with send_at."
        ),
        _rule(lambda v: None if v is None else delay_seconds(v)),
    ] = None
    send_at: Annotated[
        datetime | None,
        Field(
            description="Exact send time (not with delay_seconds), RFC 3339 with an offset; "
            f"at most {MAX_SEND_AHEAD.days} days ahead of the bot's clock.",
        ),
        _rule(lambda v: None if v is None else timestamp(v)),
    ] = None

    @field_validator("occurred_at")
    @classmethod
    def _not_in_the_future(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is not None and value > _now(info) + MAX_CLOCK_SKEW:
            raise ValueError("is in the future")
        return value

    @field_validator("properties")
    @classmethod
    def _required(cls, value: dict[str, Any] | None, info: ValidationInfo) -> dict[str, Any]:
        """Properties the questionnaire declares for the event type (its question uses them
        as placeholders) must come with the event, non-empty: a survey never shows a broken
        placeholder, and a stale value from an earlier event is no substitute."""
        properties = value or {}
        event_type = info.data.get("event_type")
        context = info.context if isinstance(info.context, dict) else {}
        required: RequiredProperties = context.get("required", no_required_properties)
        if event_type is None:
            return properties
        missing = {
            name: f"is required for event type {event_type!r} (the questionnaire's question "
            "uses it)"
            for name in required(event_type)
            if properties.get(name) is None or not str(properties[name]).strip()
        }
        if missing:
            raise _invalid(missing, value)
        return properties

    @field_validator("send_at")
    @classmethod
    def _send_at(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is None:
            return None
        if info.data.get("delay_seconds") is not None:
            raise ValueError("give either send_at or delay_seconds, not both")
        if value > _now(info) + MAX_SEND_AHEAD:
            raise ValueError(f"is more than {MAX_SEND_AHEAD.days} days ahead")
        return value


class CustomerRequest(_Request):
    """The body of ``POST /v1/customers``."""

    customer_id: CustomerId
    properties: Annotated[Properties | None, Field(description=PROPERTIES_DESCRIPTION)] = None


def _field_errors(exc: ValidationError) -> list[FieldError]:
    """Pydantic's errors in the API's 422 shape: a dotted field name and a message."""
    result: list[FieldError] = []
    seen: set[str] = set()
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"] if part != "[key]"]
        # A union member's name (``str``, ``int``...) is not a field.
        loc = [part for part in loc if not part.startswith(("constrained-", "function-"))]
        kind = error["type"]
        if kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
            name, message = "body", "must be a JSON object"
        elif kind == "missing":
            name, message = ".".join(loc), "is required"
        elif kind == "extra_forbidden":
            name, message = ".".join(loc), "unknown field"
        else:
            name = ".".join(loc)
            context = error.get("ctx") or {}
            message = str(context["error"]) if "error" in context else error["msg"]
        if name not in seen:  # one message per field, as the rules give them
            seen.add(name)
            result.append(FieldError(name, message))
    return result


def parse_event(
    body: Any, now: datetime, required: RequiredProperties = no_required_properties
) -> Event:
    """A ``POST /v1/events`` body (also ``npsbot event``'s); :class:`ValidationFailed`
    lists every problem. ``required`` names the properties an event type must carry."""
    try:
        event = EventRequest.model_validate(body, context={"now": now, "required": required})
    except ValidationError as exc:
        raise ValidationFailed(_field_errors(exc)) from None
    return Event(
        customer_id=event.customer_id,
        event_type=event.event_type,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        properties=event.properties or {},
        kind=event.kind or SurveyKind.TRANSACTIONAL,
        delay=None if event.delay_seconds is None else timedelta(seconds=event.delay_seconds),
        send_at=event.send_at,
    )


def parse_customer(body: Any) -> tuple[str, dict[str, Any]]:
    """A ``POST /v1/customers`` body: (customer id, properties)."""
    try:
        customer = CustomerRequest.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed(_field_errors(exc)) from None
    return customer.customer_id, dict(customer.properties or {})


# --- responses ------------------------------------------------------------------------------


class _Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


Timestamp = Annotated[
    datetime, Field(description="RFC 3339, UTC, e.g. 2024-05-01T12:00:00.000000Z")
]
StoredProperties = dict[str, str | float | bool | None]


class EventOutcome(_Response):
    survey_id: int
    event_id: str
    outcome: Literal["queued", "skipped"]
    reason: Annotated[
        Literal["not_linked", "opted_out", "blocked", "contact_rule", "duplicate"] | None,
        Field(
            description="Why it was skipped (null when queued). `duplicate`: the event id "
            "already belongs to a survey queued another way (CLI `survey --event-id`, admins)."
        ),
    ]
    send_at: Annotated[
        datetime | None,
        Field(
            description="When the survey will be sent (after delay and quiet hours); null "
            "when skipped."
        ),
    ]


class Customer(_Response):
    customer_id: str
    created: bool
    deep_link: Annotated[
        Annotated[str, Field(pattern=DEEP_LINK_PATTERN)] | None,
        Field(
            description="A signed deep link that links one Telegram chat to the customer, "
            "once, until `link_expires_at`. `null` when the customer is already linked: no "
            "new link is handed out then; moving them to another chat is "
            "`POST /v1/customers/{customer_id}/relink`."
        ),
    ]
    link_expires_at: Annotated[
        datetime | None,
        Field(
            description="When `deep_link` stops working (`NPSBOT_LINK_TTL_DAYS` after the "
            "start of the hour it was minted in); `null` with `deep_link`."
        ),
    ]
    linked: Annotated[bool, Field(description="The customer opened the link and pressed Start.")]
    opted_out: bool
    blocked: bool
    properties: StoredProperties


class LinkRefusal(_Response):
    at: datetime
    reason: Literal["linked_elsewhere", "used"]


class LinkRefusals(_Response):
    """Links of this customer opened in a chat that was refused: `linked_elsewhere` (the
    customer is linked to another chat) or `used` (the link had been used). No chat ids are
    kept."""

    count: Annotated[int, Field(ge=0)]
    last: Annotated[
        list[LinkRefusal], Field(max_length=10, description="The latest refusals, newest first.")
    ]


class CustomerStatus(_Response):
    customer_id: str
    linked: bool
    linked_at: datetime | None
    relink_pending: Annotated[bool, Field(description="A relink link was minted and not used yet.")]
    opted_out: bool
    blocked: bool
    properties: StoredProperties
    link_refusals: LinkRefusals


class Relink(_Response):
    customer_id: str
    deep_link: Annotated[
        str,
        Field(
            pattern=DEEP_LINK_PATTERN,
            description="The one link that may move the customer to the chat that opens it; "
            "single use.",
        ),
    ]
    link_expires_at: datetime
    linked: Annotated[
        bool,
        Field(
            description="Whether the customer is linked to a chat now (which will be told "
            "when the link is used)."
        ),
    ]


class Erasure(_Response):
    customer_id: Annotated[str, Field(description="The id as given; it is no longer stored.")]
    erased: Literal[True]
    erased_at: datetime
    counts: Annotated[
        dict[str, Annotated[int, Field(ge=1)]],
        Field(description="Rows changed or deleted per table (tables with none are left out)."),
    ]
    total: Annotated[int, Field(ge=1)]


class Answer(_Response):
    score: Annotated[int, Field(ge=0, le=10)]
    category: Literal["promoter", "passive", "detractor"]
    reason: str | None
    scored_at: Timestamp
    completed_at: datetime | None
    drivers: Annotated[
        list[str] | None,
        Field(
            description="The driver ids the customer picked (in the order picked); null when "
            "the survey had no drivers step, or the customer was erased."
        ),
    ]


class Survey(_Response):
    survey_id: Annotated[int, Field(ge=1, le=MAX_SURVEY_ID)]
    customer_id: str
    kind: SurveyKind
    event_type: str | None
    event_id: str | None
    status: Literal["pending", "sent", "answered", "expired", "failed", "skipped"]
    reason: Annotated[
        str | None,
        Field(
            description="Why it was skipped or failed, or the last transient error of a "
            "pending one."
        ),
    ]
    send_at: Timestamp
    sent_at: datetime | None
    reminded_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    properties: Annotated[
        dict[str, Any], Field(description="The customer's properties when the survey was created.")
    ]
    answer: Answer | None


class Queue(_Response):
    pending: Annotated[int, Field(ge=0)]
    due: Annotated[int, Field(ge=0)]


class Retention(_Response):
    """Only when NPSBOT_RETENTION_DAYS is set: the latest daily retention run."""

    days: Annotated[int, Field(ge=1)]
    last_run: datetime | None
    anonymised: Annotated[
        Annotated[int, Field(ge=0)] | None, Field(description="Rows anonymised by that run.")
    ]


class WebhookEndpoint(_Response):
    url: Annotated[
        str,
        Field(
            description="The endpoint's scheme, host and port only (no user info, path or query)."
        ),
    ]
    failing: bool
    pending: Annotated[int, Field(ge=0)]
    retrying: Annotated[int, Field(ge=0)]
    failed_last_24h: Annotated[int, Field(ge=0)]
    last_error: str | None


class Health(_Response):
    status: Literal["ok", "unavailable"]
    database: Literal["ok", "unreachable"]
    queue: Queue | None
    last_successful_send: datetime | None
    retention: Retention | None = None
    webhooks: Annotated[
        list[WebhookEndpoint] | None,
        Field(
            description="Only when webhook endpoints are configured: each endpoint's "
            "deliveries over the last 24 hours."
        ),
    ] = None


class HealthStatus(_Response):
    status: Literal["ok", "unavailable"]


class Liveness(BaseModel):
    status: Literal["ok"]


class ReadinessChecks(_Response):
    database: Annotated[str, Field(description="ok, or unreachable")]
    migrations: Annotated[str, Field(description="ok, or the schema version found")]
    bot_api: Annotated[str, Field(description="ok, or when the Bot API last answered")]


class Readiness(_Response):
    status: Literal["ok", "unavailable"]
    checks: ReadinessChecks


class Period(BaseModel):
    start: date
    end: date


class PreviousThemeFigures(BaseModel):
    n: int
    nps: float | None


class Theme(BaseModel):
    id: str
    name: str
    kind: Literal["driver", "emerging"]
    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    interval: list[float] | None
    impact: float | None
    previous: PreviousThemeFigures
    change: float | None
    significant: bool


class Themes(BaseModel):
    period: Period
    previous_period: Period
    timezone: str
    themes: list[Theme]


class Error(BaseModel):
    error: str
    message: str


class InvalidField(_Response):
    field: str
    message: str


class InvalidFields(_Response):
    """A 422 answer: every invalid field with the reason."""

    error: Literal["invalid_fields"]
    message: str
    errors: Annotated[list[InvalidField], Field(min_length=1)]
