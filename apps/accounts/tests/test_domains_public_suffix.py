"""A public suffix is never a company's domain: the list's rule kinds, worked out by hand.

Each case below was worked out from the list's algorithm (publicsuffix.org/list/):
the rules that match a name are those whose labels equal its right-hand labels (`*`
matching any one label); an exception rule that matches prevails and its leftmost label
is dropped; otherwise the matching rule with the most labels prevails; with none, the
implicit rule `*`. The public suffix is what the prevailing rule covers; the registrable
domain is it plus one label; a name that is its own public suffix has none and is refused.
The rules each case depends on (and the ones it depends on being absent) are checked
against the snapshot file shipped inside the pinned tldextract, read here directly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tldextract
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

from apps.accounts.domains import (
    PUBLIC_SUFFIX_MESSAGE,
    PUBLIC_SUFFIXES,
    SuffixRules,
    _bundled_rules,
    is_public_suffix,
    matching_key,
    normalize_domain,
)

SNAPSHOT = Path(tldextract.__file__).with_name(".tld_set_snapshot")
REFUSED = None

# (rule kind, input, normalized domain or REFUSED, matching key)
CASES = [
    # Plain rules (ICANN section).
    ("plain", "example.com", "example.com", "example.com"),
    ("plain", "com", REFUSED, None),
    ("plain", "shop.bbc.co.uk", "shop.bbc.co.uk", "bbc.co.uk"),        # co.uk beats uk
    ("plain", "co.uk", REFUSED, None),
    ("plain", "kyoto.jp", REFUSED, None),                              # rule kyoto.jp
    ("plain", "test.kyoto.jp", "test.kyoto.jp", "test.kyoto.jp"),
    ("plain", "ide.kyoto.jp", REFUSED, None),                          # rule ide.kyoto.jp
    ("plain", "a.b.ide.kyoto.jp", "a.b.ide.kyoto.jp", "b.ide.kyoto.jp"),
    ("plain", "ac.jp", REFUSED, None),
    ("plain", "k12.ak.us", REFUSED, None),                             # us, ak.us, k12.ak.us
    ("plain", "www.test.k12.ak.us", "test.k12.ak.us", "test.k12.ak.us"),
    ("plain", "acme.co.za", "acme.co.za", "acme.co.za"),
    # Wildcard rules (ICANN section).
    ("wildcard", "test.ck", REFUSED, None),                            # *.ck: test.ck is a suffix
    ("wildcard", "b.test.ck", "b.test.ck", "b.test.ck"),
    ("wildcard", "a.b.test.ck", "a.b.test.ck", "b.test.ck"),
    ("wildcard", "www.test.ck", "www.test.ck", "www.test.ck"),         # www. kept: test.ck is a suffix
    ("wildcard", "c.kobe.jp", REFUSED, None),                          # *.kobe.jp
    ("wildcard", "b.c.kobe.jp", "b.c.kobe.jp", "b.c.kobe.jp"),
    ("wildcard", "kobe.jp", "kobe.jp", "kobe.jp"),                     # *.kobe.jp needs 3 labels; jp prevails
    ("wildcard", "www.sch.uk", REFUSED, None),                         # *.sch.uk: refused before www. is looked at
    ("wildcard", "acme.www.sch.uk", "acme.www.sch.uk", "acme.www.sch.uk"),
    # Exception rules (ICANN section).
    ("exception", "city.kobe.jp", "city.kobe.jp", "city.kobe.jp"),     # !city.kobe.jp: suffix kobe.jp
    ("exception", "www.city.kobe.jp", "city.kobe.jp", "city.kobe.jp"),
    ("exception", "city.kawasaki.jp", "city.kawasaki.jp", "city.kawasaki.jp"),
    ("exception", "ward.city.kawasaki.jp", "ward.city.kawasaki.jp", "city.kawasaki.jp"),
    ("exception", "town.kawasaki.jp", REFUSED, None),                  # *.kawasaki.jp without exception
    ("exception", "www.ck", "www.ck", "www.ck"),                       # !www.ck: www. is the company
    ("exception", "www.www.ck", "www.ck", "www.ck"),                   # one www. removed, www.ck stays registrable
    ("exception", "mail.www.ck", "mail.www.ck", "www.ck"),
    # Private section: plain, wildcard, wildcard with exceptions.
    ("private", "uk.com", REFUSED, None),
    ("private", "example.uk.com", "example.uk.com", "example.uk.com"),
    ("private", "b.example.uk.com", "b.example.uk.com", "example.uk.com"),
    ("private", "www.uk.com", "www.uk.com", "www.uk.com"),             # www. kept: uk.com is a suffix
    ("private", "github.io", REFUSED, None),
    ("private", "docs.acme.github.io", "docs.acme.github.io", "acme.github.io"),
    ("private", "blogspot.com", REFUSED, None),
    ("private", "futurecms.at", "futurecms.at", "futurecms.at"),       # at prevails: the platform's own domain
    ("private", "ex.futurecms.at", REFUSED, None),                     # *.futurecms.at (tldextract: registrable)
    ("private", "shop.ex.futurecms.at", REFUSED, None),                # *.ex.futurecms.at
    ("private", "a.shop.ex.futurecms.at", "a.shop.ex.futurecms.at", "a.shop.ex.futurecms.at"),
    ("private", "other.wc.psl.hrsn.dev", REFUSED, None),               # *.wc.psl.hrsn.dev
    ("private", "sub.wc.psl.hrsn.dev", REFUSED, None),                 # same rule, though sub.wc… has rules below
    ("private", "ignored.wc.psl.hrsn.dev", "ignored.wc.psl.hrsn.dev", "ignored.wc.psl.hrsn.dev"),
    ("private", "x.sub.wc.psl.hrsn.dev", REFUSED, None),               # *.sub.wc.psl.hrsn.dev
    ("private", "ignored.sub.wc.psl.hrsn.dev", "ignored.sub.wc.psl.hrsn.dev", "ignored.sub.wc.psl.hrsn.dev"),
    # IDN: the list writes 公司.cn and 中国 in Unicode; we store punycode.
    ("idn unicode", "公司.cn", REFUSED, None),
    ("idn unicode", "食狮.公司.cn", "xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"),
    ("idn unicode", "www.食狮.公司.cn", "xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"),
    ("idn unicode", "shishi.公司.cn", "shishi.xn--55qx5d.cn", "shishi.xn--55qx5d.cn"),
    ("idn unicode", "中国", REFUSED, None),
    ("idn unicode", "食狮.中国", "xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s"),
    ("idn unicode", "食狮。中国", "xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s"),  # ideographic full stop
    ("idn punycode", "xn--55qx5d.cn", REFUSED, None),
    ("idn punycode", "xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"),
    ("idn punycode", "xn--fiqs8s", REFUSED, None),
    ("idn punycode", "www.xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s"),
    # Mixed case, trailing dot, URL and email forms.
    ("mixed case", "COM", REFUSED, None),
    ("mixed case", "example.COM", "example.com", "example.com"),
    ("mixed case", "WwW.example.COM", "example.com", "example.com"),
    ("mixed case", "WWW.CK", "www.ck", "www.ck"),
    ("mixed case", "City.Kobe.JP", "city.kobe.jp", "city.kobe.jp"),
    ("mixed case", "UK.COM", REFUSED, None),
    ("mixed case", "XN--55QX5D.CN", REFUSED, None),
    ("mixed case", "K12.AK.US.", REFUSED, None),
    ("url", "https://www.kyoto.jp/about", "www.kyoto.jp", "www.kyoto.jp"),  # www is the label under kyoto.jp
    ("url", "https://uk.com:443/x", REFUSED, None),
    ("email", "jane@kyoto.jp", REFUSED, None),
    ("email", "jane@eu.example.uk.com", "eu.example.uk.com", "example.uk.com"),
]

# The rules the cases stand on, with the section each is listed in…
RULES = {
    "com": "ICANN", "uk": "ICANN", "co.uk": "ICANN", "jp": "ICANN", "kyoto.jp": "ICANN", "ide.kyoto.jp": "ICANN",
    "ac.jp": "ICANN", "us": "ICANN", "ak.us": "ICANN", "k12.ak.us": "ICANN", "co.za": "ICANN",
    "*.ck": "ICANN", "!www.ck": "ICANN", "*.kobe.jp": "ICANN", "!city.kobe.jp": "ICANN",
    "*.kawasaki.jp": "ICANN", "!city.kawasaki.jp": "ICANN", "*.sch.uk": "ICANN", "cn": "ICANN",
    "公司.cn": "ICANN", "中国": "ICANN", "at": "ICANN", "dev": "ICANN", "io": "ICANN",
    "uk.com": "PRIVATE", "github.io": "PRIVATE", "blogspot.com": "PRIVATE", "*.futurecms.at": "PRIVATE",
    "*.ex.futurecms.at": "PRIVATE", "*.wc.psl.hrsn.dev": "PRIVATE", "!ignored.wc.psl.hrsn.dev": "PRIVATE",
    "*.sub.wc.psl.hrsn.dev": "PRIVATE", "!ignored.sub.wc.psl.hrsn.dev": "PRIVATE",
}
# …and the ones whose absence they stand on.
ABSENT = ["ck", "kobe.jp", "kawasaki.jp", "sch.uk", "za", "futurecms.at", "ex.futurecms.at", "wc.psl.hrsn.dev",
          "sub.wc.psl.hrsn.dev", "psl.hrsn.dev", "example"]


def snapshot_rules() -> dict[str, str]:
    """rule → section, read from the shipped file as the list's format says: one rule per
    line up to the first whitespace, `//` comments, the private section after its marker."""
    rules, section = {}, "ICANN"
    for line in SNAPSHOT.read_text(encoding="utf-8").splitlines():
        if "===BEGIN PRIVATE DOMAINS===" in line:
            section = "PRIVATE"
        line = line.strip()
        if line and not line.startswith("//"):
            rules[line.split()[0]] = section
    return rules


def test_the_rules_the_cases_stand_on_are_in_the_bundled_snapshot():
    rules = snapshot_rules()
    assert {rule: rules.get(rule) for rule in RULES} == RULES
    assert [rule for rule in ABSENT if rule in rules] == []


def test_the_rules_read_from_the_snapshot_are_what_tldextract_reads():
    """We read tldextract's snapshot ourselves (importing tldextract costs every process
    requests' import); the rules must be exactly what its own reader gives."""
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
    assert _bundled_rules() == frozenset(extractor.tlds)
    assert "tldextract" not in subprocess.run(
        [sys.executable, "-c", "import sys, apps.accounts.domains; print(sorted(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "sdrops.settings.test"},
    ).stdout


def test_every_rule_of_the_snapshot_is_loaded():
    rules = snapshot_rules()
    exceptions = {r[1:] for r in rules if r.startswith("!")}
    wildcards = {r[2:] for r in rules if r.startswith("*.")}
    plain = {r for r in rules if r[0] not in "!*"}
    as_loaded = {r.encode("idna").decode() for r in plain}
    assert (len(PUBLIC_SUFFIXES.normal), len(PUBLIC_SUFFIXES.wildcard), len(PUBLIC_SUFFIXES.exception)) == (
        len(plain), len(wildcards), len(exceptions))
    assert PUBLIC_SUFFIXES.normal == as_loaded
    assert {"ck", "kobe.jp", "wc.psl.hrsn.dev"} <= PUBLIC_SUFFIXES.wildcard
    assert {"www.ck", "city.kobe.jp"} <= PUBLIC_SUFFIXES.exception


@pytest.mark.parametrize(("kind", "raw", "normalized", "key"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_public_suffix_cases(kind, raw, normalized, key):
    if normalized is REFUSED:
        with pytest.raises(ValidationError) as error:
            normalize_domain(raw)
        assert PUBLIC_SUFFIX_MESSAGE in error.value.messages[0]
    else:
        assert normalize_domain(raw) == normalized
        assert matching_key(normalized) == key
        assert not is_public_suffix(normalized)


def test_refusal_names_the_suffix_as_typed_and_what_a_company_domain_looks_like():
    for raw, shown in [("https://UK.com/x", "uk.com"), ("jane@Kyoto.JP", "kyoto.jp"), ("公司.cn", "公司.cn")]:
        with pytest.raises(ValidationError) as error:
            normalize_domain(raw)
        assert error.value.messages == [
            f"“{shown}” is a public suffix, not a company's domain (companies register names under it, like example.{shown})."
        ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (".com", "expected something like example.com"),               # leading dot
        (".example.com", "expected something like example.com"),
        (".example", "expected something like example.com"),
        ("example", "expected something like example.com"),
        ("example.example", "“example” is not a known top-level domain"),    # the implicit * rule: refused
        ("b.example.example", "“example” is not a known top-level domain"),
        ("acme.za", "no rule of the public suffix list covers it (nothing is registered directly under “za”)"),
    ],
)
def test_names_no_rule_covers_stay_refused(raw, message):
    with pytest.raises(ValidationError) as error:
        normalize_domain(raw)
    assert message in error.value.messages[0]


def test_hosting_platforms_we_add_split_keys_but_are_companies_themselves():
    assert normalize_domain("squarespace.com") == "squarespace.com"
    assert matching_key("squarespace.com") == "squarespace.com"
    assert matching_key("shop.acme.squarespace.com") == "acme.squarespace.com"


def test_only_a_leftmost_wildcard_is_accepted_from_the_list():
    with pytest.raises(ImproperlyConfigured):
        SuffixRules.from_rules(["com", "a.*.com"])


def _reference_suffix(labels: list[str], rules: set[str]) -> int:
    """The list's algorithm spelled out with no shortcuts: every rule length, every
    position of a wildcard."""
    matched, exception = [], None
    for size in range(1, len(labels) + 1):
        tail = labels[len(labels) - size:]
        forms = {".".join(tail)} | {".".join([*tail[:i], "*", *tail[i + 1:]]) for i in range(size)}
        matched += [size for form in forms if form in rules]
        if "!" + ".".join(tail) in rules:
            exception = size
    if exception is not None:
        return exception - 1
    return max(matched, default=1)


def test_algorithm_agrees_with_the_reference_on_names_built_from_every_rule():
    rules = {
        ("!" if r.startswith("!") else "") + ".".join(
            label if label == "*" else label.encode("idna").decode() for label in r.lstrip("!").split(".")
        )
        for r in snapshot_rules()
    }
    names = set()
    for rule in rules:
        base = rule.lstrip("!").replace("*", "wild")
        names.update({base, f"a.{base}", f"b.a.{base}"})
        labels = base.split(".")
        for i in range(1, len(labels)):
            names.update({".".join(labels[i:]), "q." + ".".join(labels[i:])})
    differ = [
        name for name in names
        if PUBLIC_SUFFIXES.suffix(name).labels != _reference_suffix(name.split("."), rules)
    ]
    assert len(names) > 25_000 and differ == []
