"""What makes an email address one leadflow can use: one check, shared by the event contracts and the services
that normalise addresses, so that an event the contract accepts is never refused for its email afterwards."""

from __future__ import annotations

import functools
import re

MAX_EMAIL_LENGTH = 254
"""The longest address (RFC 5321 path limit), counted with the domain in its ASCII (punycode) form."""

MAX_MAILBOX_LENGTH = 64
"""The longest mailbox name, the part before the @ (RFC 5321)."""

EMAIL_RULES = (
    "Checked beyond the pattern: exactly one @; a mailbox name of at most 64 characters made of letters, digits and "
    "!#$%&'*+/=?^`{|}~- in dot-separated parts (no leading, trailing or double dot) and not empty before a +tag; "
    "a DNS domain of two labels or more (internationalised names allowed); at most 254 characters with the domain "
    "in ASCII (punycode)."
)
"""What `email_parts` checks, in words, for the contracts' readers."""

# Letters of any script are allowed: internationalised mailboxes (RFC 6531) exist.
_MAILBOX = re.compile(r"^[\w!#$%&'*+/=?^`{|}~-]+(\.[\w!#$%&'*+/=?^`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


# Decoding checks every email of every event: a contact's address and an account's domain come back with each of
# their touches, so the answers are remembered (a ValueError is not, and is raised again each time).
@functools.lru_cache(maxsize=16_384)
def ascii_domain(domain: str) -> str:
    """`domain` lowercased and IDNA-encoded, or ValueError naming why it is not a domain."""
    domain = domain.strip().rstrip(".").lower()
    try:
        # Internationalised domains compare in their ASCII (punycode) form.
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{domain!r} is not a valid domain name") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise ValueError(f"{domain!r} is not a valid domain name")
    return domain


@functools.lru_cache(maxsize=65_536)
def email_parts(email: str) -> tuple[str, str]:
    """The mailbox name (lowercased) and ASCII domain of an address; ValueError saying what is wrong with it."""
    email = email.lower()
    if email.count("@") != 1:
        raise ValueError("needs exactly one @")
    mailbox, domain = email.split("@")
    try:
        domain = ascii_domain(domain)
    except ValueError:
        raise ValueError(f"{domain!r} is not a valid domain") from None
    if not _MAILBOX.match(mailbox) or len(mailbox) > MAX_MAILBOX_LENGTH:
        raise ValueError(f"{mailbox!r} is not a valid mailbox name")
    if not mailbox.split("+", 1)[0]:
        # Plus-addressing delivers jane+news@ to jane@: with nothing before the +, there is no one to deliver to.
        raise ValueError("the mailbox name is empty once the +tag is removed")
    if len(mailbox) + 1 + len(domain) > MAX_EMAIL_LENGTH:
        raise ValueError(f"longer than {MAX_EMAIL_LENGTH} characters")
    return mailbox, domain


def valid_email(email: str) -> str:
    """The address unchanged if leadflow can use it, else ValueError saying why (the contracts' Email type)."""
    email_parts(email)
    return email
