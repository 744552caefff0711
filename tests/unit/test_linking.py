"""Specification of signed, expiring, single-use deep-link payloads (bot.core.linking)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.linking import (
    MAX_CUSTOMER_ID_BYTES,
    LinkError,
    deep_link,
    make_payload,
    read_payload,
    validate_customer_id,
)

SECRET = "s3cr3t-" * 6
OTHER_SECRET = "another-secret-" * 3
PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
NOW = datetime(2025, 6, 1, 12, 34, 56, tzinfo=UTC)
HOUR = datetime(2025, 6, 1, 12, tzinfo=UTC)

# Ids that validate_customer_id accepts: no control chars, no surrounding space, <= 36 bytes.
customer_ids = (
    st.text(
        st.characters(min_codepoint=32, exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp")),
        min_size=1,
        max_size=36,
    )
    .filter(lambda s: s == s.strip())
    .filter(lambda s: unicodedata.normalize("NFC", s) == s)
    .filter(lambda s: not any(0xFDD0 <= ord(c) <= 0xFDEF or ord(c) & 0xFFFE == 0xFFFE for c in s))
    .filter(lambda s: len(s.encode()) <= MAX_CUSTOMER_ID_BYTES)
)


def test_max_customer_id_is_still_36_bytes() -> None:
    assert MAX_CUSTOMER_ID_BYTES == 36


@pytest.mark.parametrize(
    "customer_id",
    [
        "1",
        "cust-42",
        "user@example.com",
        "Zoë Müller",
        "顧客-7",
        "🙂",
        "a" * 36,
        "€" * 12,
        "with space inside",
    ],
)
def test_payload_round_trips_with_its_issue_hour(customer_id: str) -> None:
    payload = make_payload(SECRET, customer_id, NOW)
    assert PAYLOAD_RE.fullmatch(payload)
    link = read_payload(SECRET, payload)
    assert link.customer_id == customer_id
    assert link.issued_at == HOUR


def test_max_length_id_fills_exactly_64_characters() -> None:
    assert len(make_payload(SECRET, "x" * 36, NOW)) == 64
    assert len(make_payload(SECRET, "€" * 12, NOW)) == 64


def test_the_shortest_payload_is_accepted() -> None:
    payload = make_payload(SECRET, "a", NOW)
    assert len(payload) == 18
    assert read_payload(SECRET, payload).customer_id == "a"


def test_payload_depends_on_secret_id_time_and_nonce() -> None:
    base = make_payload(SECRET, "c1", NOW, nonce=1)
    assert base == make_payload(SECRET, "c1", NOW, nonce=1)
    assert base != make_payload(OTHER_SECRET, "c1", NOW, nonce=1)
    assert base != make_payload(SECRET, "c2", NOW, nonce=1)
    assert base != make_payload(SECRET, "c1", NOW + timedelta(hours=1), nonce=1)
    assert base != make_payload(SECRET, "c1", NOW, nonce=2)


def test_the_key_tells_links_of_one_customer_apart() -> None:
    keys = {
        read_payload(SECRET, make_payload(SECRET, "c1", when, nonce=n)).key
        for when in (NOW, NOW + timedelta(hours=1))
        for n in (0, 1, 255)
    }
    assert len(keys) == 6
    # ...and is the same for one link however often it is read.
    payload = make_payload(SECRET, "c1", NOW)
    assert read_payload(SECRET, payload).key == read_payload(SECRET, payload).key


def test_minted_links_get_random_nonces() -> None:
    keys = {read_payload(SECRET, make_payload(SECRET, "c1", NOW)).key for _ in range(64)}
    assert len(keys) > 32  # 256 possible nonces: 64 draws all alike would be a broken RNG


def test_a_link_expires_ttl_days_after_its_issue_hour() -> None:
    link = read_payload(SECRET, make_payload(SECRET, "c1", NOW))
    assert link.expires_at(30) == HOUR + timedelta(days=30)
    assert not link.expired(NOW, 30)
    assert not link.expired(HOUR + timedelta(days=30) - timedelta(seconds=1), 30)
    assert link.expired(HOUR + timedelta(days=30), 30)
    assert link.expired(NOW + timedelta(days=31), 30)
    assert not link.expired(NOW + timedelta(days=31), 60)


def test_a_link_cannot_be_issued_outside_the_encodable_range() -> None:
    with pytest.raises(ValueError):
        make_payload(SECRET, "c1", datetime(2023, 12, 31, tzinfo=UTC))


@given(customer_ids)
def test_any_valid_id_gives_a_telegram_safe_payload_that_round_trips(customer_id: str) -> None:
    payload = make_payload(SECRET, customer_id, NOW)
    assert PAYLOAD_RE.fullmatch(payload) and len(payload) <= 64
    assert read_payload(SECRET, payload).customer_id == customer_id


@pytest.mark.parametrize("customer_id", ["c1", "Zoë", "x" * 36, "€" * 12, "abc"])
def test_changing_any_character_is_rejected(customer_id: str) -> None:
    payload = make_payload(SECRET, customer_id, NOW)
    for i in range(len(payload)):
        for ch in ALPHABET:
            if ch == payload[i]:
                continue
            with pytest.raises(LinkError):
                read_payload(SECRET, payload[:i] + ch + payload[i + 1 :])


@given(customer_ids, st.data())
def test_tampering_is_always_refused(customer_id: str, data: st.DataObject) -> None:
    payload = make_payload(SECRET, customer_id, NOW)
    i = data.draw(st.integers(0, len(payload) - 1))
    ch = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != payload[i]))
    with pytest.raises(LinkError):
        read_payload(SECRET, payload[:i] + ch + payload[i + 1 :])


def test_wrong_secret_is_rejected() -> None:
    payload = make_payload(SECRET, "cust-1", NOW)
    with pytest.raises(LinkError, match="bad signature"):
        read_payload(OTHER_SECRET, payload)


def test_an_older_issue_time_cannot_be_grafted_onto_a_signature() -> None:
    fresh = make_payload(SECRET, "alice", NOW, nonce=7)
    old = make_payload(SECRET, "alice", NOW - timedelta(days=40), nonce=7)
    # The first 11 characters carry the tag (and a little of the hour): swap the rest.
    with pytest.raises(LinkError):
        read_payload(SECRET, fresh[:11] + old[11:])
    with pytest.raises(LinkError):
        read_payload(SECRET, old[:11] + fresh[11:])


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "short",
        "A" * 17,  # shorter than the header and a one-byte id
        "A" * 16,  # a tag and a header, no id
        "A" * 65,
        "a+b/" + "A" * 16,  # standard (not url-safe) base64 alphabet
        "abc=" + "A" * 16,  # padding
        "ab cd" + "A" * 16,
        "A" * 17 + "B",  # non-zero padding bits
    ],
)
def test_malformed_payload_is_rejected(payload: str) -> None:
    with pytest.raises(LinkError):
        read_payload(SECRET, payload)


def test_link_error_is_a_value_error() -> None:
    assert issubclass(LinkError, ValueError)


@pytest.mark.parametrize(
    "customer_id",
    ["", " lead", "trail ", "\ttab", "x" * 37, "€" * 13, "a\nb", "a\x00b", "a\x1fb"],
)
def test_unlinkable_id_is_rejected_with_value_error(customer_id: str) -> None:
    with pytest.raises(ValueError):
        validate_customer_id(customer_id)
    with pytest.raises(ValueError):
        make_payload(SECRET, customer_id, NOW)


def test_too_long_error_names_the_limit() -> None:
    with pytest.raises(ValueError, match="36 bytes"):
        make_payload(SECRET, "x" * 37, NOW)


@pytest.mark.parametrize("customer_id", ["a\x7fb", "a\x85b"])
def test_every_control_character_is_rejected(customer_id: str) -> None:
    with pytest.raises(ValueError):
        validate_customer_id(customer_id)


def test_validate_returns_the_id() -> None:
    assert validate_customer_id("cust-1") == "cust-1"


@pytest.mark.parametrize(
    "customer_id",
    [
        "cust\u202e1-",  # right-to-left override: shows as "cust-1"
        "cust-\u20661",  # left-to-right isolate
        "cust\u200b-1",  # zero-width space
        "cust-1\u200d",  # zero-width joiner
        "\ufeffcust-1",  # byte-order mark
        "cust\u2028-1",  # line separator
        "cust-\ufdd0",  # non-character
        "cust-\uffff",  # non-character
        "cust-\U0001fffe",  # non-character of a supplementary plane
    ],
)
def test_look_alike_ids_are_refused(customer_id: str) -> None:
    with pytest.raises(ValueError, match="U\\+"):
        validate_customer_id(customer_id)


def test_ids_are_nfc_normalised_so_twins_are_one_customer() -> None:
    composed, decomposed = "caf\u00e9-1", "cafe\u0301-1"
    assert validate_customer_id(decomposed) == composed
    twin = make_payload(SECRET, decomposed, NOW, nonce=1)
    assert twin == make_payload(SECRET, composed, NOW, nonce=1)
    assert read_payload(SECRET, twin).customer_id == composed


def test_deep_link_format() -> None:
    link = deep_link("my_nps_bot", SECRET, "cust-1", NOW)
    assert link.startswith("https://t.me/my_nps_bot?start=")
    payload = link.split("?start=", 1)[1]
    assert PAYLOAD_RE.fullmatch(payload)
    found = read_payload(SECRET, payload)
    assert (found.customer_id, found.issued_at) == ("cust-1", HOUR)


def test_deep_link_validates_the_id() -> None:
    with pytest.raises(ValueError):
        deep_link("my_nps_bot", SECRET, "x" * 37)
