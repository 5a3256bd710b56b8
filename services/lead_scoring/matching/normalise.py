"""How emails, domains and company names are normalised so that one person or company compares equal to itself."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from events.emails import ascii_domain, email_parts

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        # Google, Microsoft, Yahoo, Apple, AOL
        "gmail.com", "googlemail.com", "outlook.com", "outlook.fr", "outlook.de", "hotmail.com", "hotmail.co.uk",
        "hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es", "live.com", "live.co.uk", "live.fr", "live.de",
        "msn.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.it", "yahoo.es", "yahoo.co.jp",
        "yahoo.com.br", "ymail.com", "rocketmail.com", "aol.com", "aim.com", "icloud.com", "me.com", "mac.com",
        # privacy-first and independent providers
        "proton.me", "protonmail.com", "pm.me", "tutanota.com", "tuta.io", "fastmail.com", "zoho.com", "zohomail.com",
        "hey.com", "mail.com", "email.com", "inbox.com", "hushmail.com",
        # Europe
        "gmx.com", "gmx.net", "gmx.de", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de", "posteo.de",
        "mailbox.org", "free.fr", "orange.fr", "wanadoo.fr", "sfr.fr", "laposte.net", "libero.it", "virgilio.it",
        "tiscali.it", "btinternet.com", "sky.com", "virginmedia.com", "seznam.cz", "wp.pl", "o2.pl", "onet.pl",
        "interia.pl", "mail.ru", "bk.ru", "list.ru", "inbox.ru", "rambler.ru", "yandex.ru", "yandex.com", "ya.ru",
        # Asia and the Americas
        "qq.com", "163.com", "126.com", "sina.com", "naver.com", "daum.net", "rediffmail.com", "comcast.net",
        "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net", "cox.net", "shaw.ca", "rogers.com",
        "bigpond.com", "uol.com.br", "bol.com.br",
    }
)  # fmt: skip
"""Consumer mailbox providers: an address there says nothing about the person's company."""

# Providers with a domain per country (yahoo.com.ar, gmx.fr, ...): the list above cannot name them all.
_FREE_MAIL_BRANDS = frozenset({"gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "gmx", "yandex", "aol"})

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class InvalidEmail(ValueError):  # noqa: N818 - reads as what the value is, like ValueError
    """An email address that cannot be normalised; `reason` says what is wrong with it."""

    def __init__(self, raw: object, reason: str) -> None:
        super().__init__(f"value is not a valid email address: {reason} (got {raw!r})")
        self.reason = reason


def normalise_email(raw: str) -> str:
    """The comparable form of an email: lowercase, trimmed, no +tag, no gmail dots; InvalidEmail if invalid."""
    if not isinstance(raw, str):
        raise InvalidEmail(raw, "not a string")
    try:
        # The contracts' own check: an address an event may carry is one this function normalises.
        local, domain = email_parts(raw.strip())
    except ValueError as error:
        raise InvalidEmail(raw, str(error)) from None
    # Plus-addressing delivers jane+news@ to jane@: one person, one contact.
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        # Gmail ignores dots and treats googlemail.com as gmail.com; other providers do not.
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def email_domain(email: str) -> str:
    """The domain of an email address, normalised."""
    return normalise_email(email).rsplit("@", 1)[1]


def is_free_mail(domain: str) -> bool:
    """Whether `domain` belongs to a consumer mailbox provider (gmail.com, yahoo.co.uk, gmx.fr, ...)."""
    domain = domain.strip().rstrip(".").lower()
    if domain in FREE_MAIL_DOMAINS:
        return True
    brand, _, suffix = domain.partition(".")
    # yahoo.com.ar, gmx.fr: a known brand followed by a public suffix, not a company's subdomain (gmx.acme.com).
    return brand in _FREE_MAIL_BRANDS and bool(suffix) and all(len(label) <= 3 for label in suffix.split("."))


def corporate_domain(email: str) -> str | None:
    """The company domain of an email address, or None for a free-mail address."""
    domain = email_domain(email)
    return None if is_free_mail(domain) else domain


def normalise_domain(url_or_domain: str) -> str:
    """A bare lowercase domain from a URL or domain: no scheme, www., port, path or trailing dot."""
    text = url_or_domain.strip()
    if not text:
        raise ValueError("an empty value is not a domain")
    host = urlsplit(text if "://" in text else f"//{text}").hostname or ""
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return ascii_domain(host)


LEGAL_SUFFIXES: frozenset[str] = frozenset(
    {
        "inc", "incorporated", "llc", "llp", "lp", "ltd", "limited", "corp", "corporation", "co", "company", "plc",
        "pty", "pvt", "private limited", "pte", "gmbh", "mbh", "ag", "kg", "kgaa", "ohg", "ug", "eg", "ev", "se",
        "sa", "s a", "sas", "sasu", "sarl", "eurl", "sca", "snc", "scs", "cie", "bv", "b v", "nv", "n v", "vof", "oy",
        "oyj", "ab", "as", "asa", "aps", "spa", "s p a", "srl", "s r l", "sl", "slu", "sll", "lda", "ltda",
        "sa de cv", "kk", "gk", "bhd", "sdn bhd", "sp z oo", "sro", "zrt", "kft", "doo", "ooo", "oao", "zao", "pjsc",
        "jsc", "ojsc", "cv",
    }
)  # fmt: skip
"""Legal forms and corporate wrappers that do not tell two companies apart (compared after normalisation)."""

NORMALISED_NAME_LENGTH = 300
"""The longest normalised company name (account.normalised_name): normalising can lengthen a name (ß -> ss)."""

_DROPPED_MARKS = re.compile(r"[.'`\u2019]")
_NOT_WORD = re.compile(r"[\W_]+")


def _legal_suffix_length(tokens: list[str]) -> int:
    """How many trailing tokens form a legal suffix (longest first), 0 if none."""
    for size in (3, 2, 1):
        if len(tokens) > size and " ".join(tokens[-size:]) in LEGAL_SUFFIXES:
            return size
    return 0


def normalise_company_name(name: str) -> str:
    """The comparable form of a company name: no accents, case, punctuation or legal suffix ("Acme Robotics"),
    at most NORMALISED_NAME_LENGTH characters."""
    decomposed = unicodedata.normalize("NFKD", name)
    text = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    # Dots and apostrophes join (S.A. -> sa, McDonald's -> mcdonalds); other punctuation separates words.
    text = _NOT_WORD.sub(" ", _DROPPED_MARKS.sub("", text.replace("&", " and ")))
    tokens = text.split()
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    while size := _legal_suffix_length(tokens):
        tokens = tokens[:-size]
        # "Smith & Co" -> "smith and": the connective goes with the suffix it introduced.
        if len(tokens) > 1 and tokens[-1] == "and":
            tokens = tokens[:-1]
    # Cut, not refused: the same name always gives the same cut, so matching by equality stays deterministic.
    return " ".join(tokens)[:NORMALISED_NAME_LENGTH].rstrip()
