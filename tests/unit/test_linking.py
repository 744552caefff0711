"""Specification of signed deep-link payloads (bot.linking)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.linking import (
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


def test_max_customer_id_is_36_bytes() -> None:
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
def test_payload_round_trips(customer_id: str) -> None:
    payload = make_payload(SECRET, customer_id)
    assert PAYLOAD_RE.fullmatch(payload)
    assert read_payload(SECRET, payload) == customer_id


def test_max_length_id_fills_exactly_64_characters() -> None:
    assert len(make_payload(SECRET, "x" * 36)) == 64
    assert len(make_payload(SECRET, "€" * 12)) == 64


def test_payload_is_deterministic_and_secret_dependent() -> None:
    assert make_payload(SECRET, "c1") == make_payload(SECRET, "c1")
    assert make_payload(SECRET, "c1") != make_payload(OTHER_SECRET, "c1")
    assert make_payload(SECRET, "c1") != make_payload(SECRET, "c2")


@given(customer_ids)
def test_any_valid_id_gives_a_telegram_safe_payload_that_round_trips(customer_id: str) -> None:
    payload = make_payload(SECRET, customer_id)
    assert PAYLOAD_RE.fullmatch(payload)
    assert read_payload(SECRET, payload) == customer_id


@pytest.mark.parametrize("customer_id", ["c1", "Zoë", "x" * 36, "€" * 12])
def test_changing_any_tag_character_is_rejected(customer_id: str) -> None:
    payload = make_payload(SECRET, customer_id)
    for i in range(len(payload) - 16, len(payload)):
        for ch in ALPHABET:
            if ch == payload[i]:
                continue
            with pytest.raises(LinkError):
                read_payload(SECRET, payload[:i] + ch + payload[i + 1 :])


@given(customer_ids, st.data())
def test_tampering_never_yields_an_id_other_than_the_signed_one(
    customer_id: str, data: st.DataObject
) -> None:
    payload = make_payload(SECRET, customer_id)
    i = data.draw(st.integers(0, len(payload) - 1))
    ch = data.draw(st.sampled_from(ALPHABET).filter(lambda c: c != payload[i]))
    try:
        result = read_payload(SECRET, payload[:i] + ch + payload[i + 1 :])
    except LinkError:
        return
    assert result == customer_id


def test_changing_a_full_body_character_is_rejected() -> None:
    # "abc" encodes to exactly 4 base64 characters: every character carries 6 data bits.
    payload = make_payload(SECRET, "abc")
    for i in range(len(payload) - 16):
        for ch in ALPHABET:
            if ch == payload[i]:
                continue
            with pytest.raises(LinkError):
                read_payload(SECRET, payload[:i] + ch + payload[i + 1 :])


def test_changing_the_last_body_character_is_rejected() -> None:
    payload = make_payload(SECRET, "a")  # "YQ" + tag: Q carries 4 unused bits
    tampered = payload[:1] + "R" + payload[2:]
    with pytest.raises(LinkError):
        read_payload(SECRET, tampered)


def test_wrong_secret_is_rejected() -> None:
    payload = make_payload(SECRET, "cust-1")
    with pytest.raises(LinkError, match="bad signature"):
        read_payload(OTHER_SECRET, payload)


def test_swapping_bodies_between_payloads_is_rejected() -> None:
    a, b = make_payload(SECRET, "alice"), make_payload(SECRET, "bob__")
    forged = a[:-16] + b[-16:]
    with pytest.raises(LinkError):
        read_payload(SECRET, forged)


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "short",
        "A" * 16,  # tag only, no body
        "A" * 65,
        "a+b/" + "A" * 16,  # standard (not url-safe) base64 alphabet
        "abc=" + "A" * 16,  # padding
        "ab cd" + "A" * 16,
        "A" + "B" * 16,  # one body character is not valid base64
        "_w" + "A" * 16,  # decodes to a byte that is not UTF-8
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
        make_payload(SECRET, customer_id)


def test_too_long_error_names_the_limit() -> None:
    with pytest.raises(ValueError, match="36 bytes"):
        make_payload(SECRET, "x" * 37)


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
    assert make_payload(SECRET, decomposed) == make_payload(SECRET, composed)
    assert read_payload(SECRET, make_payload(SECRET, decomposed)) == composed


def test_deep_link_format() -> None:
    link = deep_link("my_nps_bot", SECRET, "cust-1")
    assert link == f"https://t.me/my_nps_bot?start={make_payload(SECRET, 'cust-1')}"
    payload = link.split("?start=", 1)[1]
    assert read_payload(SECRET, payload) == "cust-1"


def test_deep_link_validates_the_id() -> None:
    with pytest.raises(ValueError):
        deep_link("my_nps_bot", SECRET, "x" * 37)
