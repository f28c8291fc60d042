"""Whatever text arrives, normalization either returns a clean domain or a ValidationError."""

import re

from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.accounts.domains import is_public_suffix, matching_key, normalize_domain

CLEAN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.text(max_size=80),
    st.from_regex(r"(https?://)?(www\.)?[A-Za-z0-9ü-]{1,20}\.(com|co\.uk|de|io)(:\d{1,5})?(/[^ ]{0,10})?", fullmatch=True),
    st.emails(),
))
def test_normalize_never_crashes_and_is_idempotent(raw):
    try:
        domain = normalize_domain(raw)
    except ValidationError as error:
        assert error.messages and all(message.strip() for message in error.messages)
        return
    assert CLEAN.match(domain), domain
    assert normalize_domain(domain) == domain
    assert not is_public_suffix(domain)
    # `www.` stays only where what follows is a public suffix (`www.ck`, `www.uk.com`).
    assert not domain.startswith("www.") or is_public_suffix(domain[4:])
    assert domain.endswith(matching_key(domain).split(".", 1)[-1])
