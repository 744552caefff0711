"""The ops API's pydantic models are the one source: the served document's schemas are
theirs, and the schema and the validator agree on what a body may be."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from bot.adapters.ops_api import models
from bot.adapters.ops_api.openapi import REF, openapi_document
from bot.core.validation import ValidationFailed

NOW = datetime(2024, 6, 3, 12, tzinfo=UTC)
DOC = openapi_document()
REGISTRY: Registry[Any] = Registry().with_resource("urn:doc", Resource(DOC, DRAFT202012))


def _schema_accepts(name: str, body: Any) -> bool:
    schema = {"$ref": f"urn:doc#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=REGISTRY).is_valid(body)


def test_the_served_schemas_are_the_models() -> None:
    for model in (models.EventRequest, models.CustomerRequest, models.Survey, models.Health):
        generated = model.model_json_schema(ref_template=REF)
        generated.pop("$defs", None)
        assert DOC["components"]["schemas"][model.__name__] == generated


EVENT = {"customer_id": "c-1", "event_type": "delivery", "event_id": "o-1"}
BODIES = [
    EVENT,
    {**EVENT, "event_id": "relationship:x"},
    {**EVENT, "event_id": " o-1"},
    {**EVENT, "event_id": "x" * 129},
    {**EVENT, "event_type": "a b"},
    {**EVENT, "customer_id": "c\u202e1"},
    {**EVENT, "customer_id": ""},
    {**EVENT, "delay_seconds": 60},
    {**EVENT, "delay_seconds": 60.0},
    {**EVENT, "delay_seconds": -1},
    {**EVENT, "delay_seconds": 7776001},
    {**EVENT, "delay_seconds": 60, "send_at": "2024-06-04T10:00:00Z"},
    {**EVENT, "delay_seconds": None, "send_at": "2024-06-04T10:00:00Z"},
    {**EVENT, "occurred_at": 5},
    {**EVENT, "kind": "weekly"},
    {**EVENT, "kind": "episode"},
    {**EVENT, "properties": None},
    {**EVENT, "properties": {"plan": "pro", "seats": 3, "vip": True, "gone": None}},
    {**EVENT, "properties": {"1bad": "x"}},
    {**EVENT, "properties": {"nested": {"a": 1}}},
    {**EVENT, "properties": {"note": "x" * 501}},
    {**EVENT, "properties": {"note": "a\nb"}},
    {**EVENT, "properties": {"big": 2**53 + 1}},
    {**EVENT, "properties": {f"p{i}": i for i in range(51)}},
    {**EVENT, "colour": "red"},
    {"event_type": "delivery"},
    [1, 2],
]


@pytest.mark.parametrize("body", BODIES)
def test_schema_and_validator_agree_on_events(body: Any) -> None:
    try:
        models.parse_event(body, NOW)
        accepted = True
    except ValidationFailed:
        accepted = False
    assert _schema_accepts("EventRequest", body) == accepted


def test_refusals_name_each_field_with_the_domain_rules_message() -> None:
    body = {**EVENT, "event_id": "relationship:1", "properties": {"timezone": "Mars/Base"}}
    with pytest.raises(ValidationFailed) as caught:
        models.parse_event(body, NOW)
    assert [e.as_json() for e in caught.value.errors] == [
        {"field": "event_id", "message": "ids starting with 'relationship:' are reserved"},
        {
            "field": "properties.timezone",
            "message": "must be an IANA time zone such as Europe/Berlin",
        },
    ]
    with pytest.raises(ValidationFailed) as caught:
        models.parse_customer("x")
    assert [e.as_json() for e in caught.value.errors] == [
        {"field": "body", "message": "must be a JSON object"}
    ]
