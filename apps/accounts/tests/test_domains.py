import pytest
from django.core.exceptions import ValidationError

from apps.accounts.domains import email_domain, is_webmail, matching_key, normalize_domain


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Example.com/about?x=1", "example.com"),
        ("bob@Acme.COM", "acme.com"),
        ("WWW.ACME.COM.", "acme.com"),
        ("http://acme.com:8080/", "acme.com"),
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("  acme.com  ", "acme.com"),
        ("https://user:secret@shop.acme.co.uk:443/cart#top", "shop.acme.co.uk"),
        ("acme.com/path/only", "acme.com"),
        ("HTTPS://EU.ACME.COM", "eu.acme.com"),
        ("ftp://files.acme.io", "files.acme.io"),
        ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
        ("www2.acme.com", "www2.acme.com"),
    ],
)
def test_normalize_domain(raw, expected):
    assert normalize_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not a domain", "is not a domain"),
        ("", "A domain is required"),
        ("   ", "A domain is required"),
        ("localhost", "expected something like example.com"),
        ("192.168.1.10", "IP addresses are not accepted"),
        ("http://[::1]/", "IP addresses are not accepted"),
        ("acme.notarealtld", "not a known top-level domain"),
        ("-acme.com", "expected something like example.com"),
        ("acme..com", "expected something like example.com"),
        ("http://", "is not a domain"),
    ],
)
def test_normalize_domain_rejects(raw, message):
    with pytest.raises(ValidationError) as error:
        normalize_domain(raw)
    assert message in error.value.messages[0]


@pytest.mark.parametrize(
    ("domain", "key"),
    [
        ("eu.acme.com", "acme.com"),
        ("acme.com", "acme.com"),
        ("shop.example.co.uk", "example.co.uk"),
        ("acme.squarespace.com", "acme.squarespace.com"),
        ("other.squarespace.com", "other.squarespace.com"),
        ("acme.github.io", "acme.github.io"),
        ("bbc.co.uk", "bbc.co.uk"),
    ],
)
def test_matching_key_uses_public_suffix_list_with_private_section(domain, key):
    assert matching_key(domain) == key


def test_matching_key_can_keep_subdomain():
    assert matching_key("shop.example.co.uk", keep_subdomain=True) == "shop.example.co.uk"


def test_email_domain():
    assert email_domain("Jane.Doe@EU.Acme.com") == "eu.acme.com"
    with pytest.raises(ValidationError):
        email_domain("no-at-sign")


@pytest.mark.parametrize("domain", ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me", "gmx.de", "yandex.ru", "qq.com"])
def test_webmail_from_packaged_list(domain):
    assert is_webmail(domain)


def test_webmail_extra_domains_from_admin():
    assert not is_webmail("corp-mail.example")
    assert is_webmail("corp-mail.example", frozenset({"corp-mail.example"}))
    assert not is_webmail("acme.com")


def test_no_network_used(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("domain code tried to use the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert matching_key(normalize_domain("www.somewhere-new.co.jp")) == "somewhere-new.co.jp"
