"""Normalising rule values and request subjects, so that rules and requests compare as equals.

Rules and subjects go through the same functions: an internationalised domain becomes its
ASCII (punycode) form, addresses and language tags become lower case, and an IPv4 address
written as IPv6 (`::ffff:192.0.2.1`) becomes plain IPv4.
"""

import ipaddress
import re
from datetime import datetime

import idna

from keydesk.core.errors import ApplicationError

from .models import ACTIONS, AccessRule

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_LANGUAGE = re.compile(r"^[a-z]{1,8}(-[a-z0-9]{1,8})*$")
_MAPPED_V4 = ipaddress.ip_network("::ffff:0:0/96")


def _invalid(message: str) -> ApplicationError:
    return ApplicationError("invalid_value", message, field="value")


def ip_network_parse(raw: str) -> IPNetwork:
    """An address or a CIDR block, IPv4 or IPv6; host bits are cleared (`10.1.2.3/8` → `10.0.0.0/8`)."""
    try:
        network = ipaddress.ip_network(raw.strip(), strict=False)
    except ValueError:
        raise _invalid(
            "Enter an IP address or a network such as 192.0.2.0/24 or 2001:db8::/32."
        ) from None
    if network.version == 6 and network.prefixlen >= 96 and network.subnet_of(_MAPPED_V4):
        v4 = ipaddress.IPv4Address(int(network.network_address) & 0xFFFFFFFF)
        network = ipaddress.ip_network(f"{v4}/{network.prefixlen - 96}")
    return network


def ip_address_parse(raw: str | None) -> IPAddress | None:
    """A request's address, or None when it is missing or not an address."""
    if not raw:
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def domain_to_ascii(raw: str) -> str:
    """An email domain in its ASCII form (IDNA 2008 with UTS #46 mapping), lower case."""
    domain = raw.strip().lower().lstrip("@").rstrip(".")
    if not domain:
        raise _invalid("Enter a domain such as example.com.")
    if "*" in domain:
        raise _invalid("Wildcards are not used: enter the domain and tick “include subdomains”.")
    if domain.isascii():
        ascii_domain = domain  # already its own ASCII form; the label check below suffices
    else:
        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise _invalid(f"{raw.strip()!r} is not a valid domain name.") from None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or not all(_LABEL.match(label) for label in labels):
        raise _invalid(f"{raw.strip()!r} is not a valid domain name.")
    return ascii_domain


def email_normalise(raw: str) -> str:
    """`Name@Exämple.COM` → `name@xn--exmple-cua.com`: the comparison is case-insensitive."""
    address = raw.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or any(c.isspace() for c in local):
        raise _invalid("Enter an email address such as someone@example.com.")
    return f"{local}@{domain_to_ascii(domain)}"


def language_normalise(raw: str) -> str:
    """A language tag such as `fr` or `pt-BR`, lower case, with `_` read as `-`."""
    tag = raw.strip().lower().replace("_", "-")
    if not _LANGUAGE.match(tag):
        raise _invalid("Enter a language tag such as fr, de or pt-BR.")
    return tag


def value_normalise(kind: str, raw: str) -> str:
    """A rule's value in the one form the engine compares; ApplicationError names the field."""
    if kind == "ip":
        return str(ip_network_parse(raw))
    if kind == "domain":
        return domain_to_ascii(raw)
    if kind == "email":
        return email_normalise(raw)
    if kind == "language":
        return language_normalise(raw)
    raise ApplicationError("invalid_kind", f"Unknown rule kind {kind!r}.", field="kind")


def subject_email(raw: str | None) -> str | None:
    """A request's email in rule form, or None when there is none or it cannot be read."""
    if not raw:
        return None
    try:
        return email_normalise(raw)
    except ApplicationError:
        return None


def subject_language(raw: str | None) -> str | None:
    try:
        return language_normalise(raw) if raw else None
    except ApplicationError:
        return None


def accept_language_first(header: str) -> str | None:
    """The preferred language of an Accept-Language header: highest q, the earliest among equals."""
    best, best_q = None, -1.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        tag = subject_language(tag)
        if tag is None or q <= 0:
            continue
        if q > best_q:  # equal weights keep the earlier tag
            best, best_q = tag, q
    return best


def rule_fields_clean(
    *,
    list_type: str,
    kind: str,
    value: str,
    include_subdomains: bool,
    actions: list[str] | None,
    audience: str,
    note: str,
    expires_at: datetime | None,
) -> dict:
    """A rule's fields checked and normalised; ApplicationError names the field at fault."""
    if list_type not in AccessRule.List.values:
        raise ApplicationError("invalid_list", "Choose allow or deny.", field="list_type")
    if kind not in AccessRule.Kind.values:
        raise ApplicationError(
            "invalid_kind", "Choose ip, domain, email or language.", field="kind"
        )
    unknown = [a for a in actions or [] if a not in ACTIONS]
    if unknown:
        raise ApplicationError(
            "invalid_actions",
            f"Unknown action {unknown[0]!r}: use {', '.join(ACTIONS)}.",
            field="actions",
        )
    actions = sorted(set(actions or []), key=ACTIONS.index)
    if set(actions) == set(ACTIONS):
        actions = []  # every action is stored as none listed, so future actions count too
    if audience not in AccessRule.Audience.values:
        raise ApplicationError(
            "invalid_audience", "Choose staff, contacts or both.", field="audience"
        )
    if include_subdomains and kind != "domain":
        raise ApplicationError(
            "invalid_subdomains",
            "Only domain rules can include subdomains.",
            field="include_subdomains",
        )
    note = note.strip()
    if len(note) > 500:
        raise ApplicationError("note_too_long", "Keep the note under 500 characters.", field="note")
    return {
        "list_type": list_type,
        "kind": kind,
        "value": value_normalise(kind, value),
        "include_subdomains": include_subdomains,
        "actions": actions,
        "audience": audience,
        "note": note,
        "expires_at": expires_at,
    }
