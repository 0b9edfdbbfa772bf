"""The compiled decision against a straightforward reading of the documented semantics."""

import ipaddress
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from keydesk.access.engine import KINDS, decide, rules_compile, subject_from
from keydesk.access.models import ACTIONS
from keydesk.access.values import value_normalise

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
AUDIENCES = ("staff", "contacts")


# The reference: every rule looked at, one by one, exactly as docs/access-lists.md says.


def _ref_matches(rule: dict, subject) -> bool:
    kind, value = rule["kind"], rule["value"]
    if kind == "ip":
        return subject.ip is not None and subject.ip in ipaddress.ip_network(value)
    if kind == "email":
        return subject.email == value
    if kind == "domain":
        domain = subject.domain
        if domain is None:
            return False
        return domain == value or (rule["include_subdomains"] and domain.endswith("." + value))
    language = subject.language
    return language is not None and (language == value or language.startswith(value + "-"))


def _ref_applies(rule: dict, action: str, audience: str) -> bool:
    return (
        (not rule["actions"] or action in rule["actions"])
        and rule["audience"] in ("both", audience)
        and (rule["expires_at"] is None or rule["expires_at"] > NOW)
    )


def reference_decide(rules, *, action, audience, subject, kinds=KINDS) -> tuple[bool, bool]:
    """(allowed, refused by a deny rule)."""
    applicable = [r for r in rules if _ref_applies(r, action, audience) and r["kind"] in kinds]
    if any(r["list_type"] == "deny" and _ref_matches(r, subject) for r in applicable):
        return False, True
    for kind in kinds:
        allows = [r for r in applicable if r["list_type"] == "allow" and r["kind"] == kind]
        if allows and not any(_ref_matches(r, subject) for r in allows):
            return False, False
    return True, False


# Small universes, so that random rules and requests often meet.

V4_NETWORKS = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.8/29", "10.1.2.9", "0.0.0.0/0"]
V6_NETWORKS = [
    "2001:db8::/32",
    "2001:db8:1::/48",
    "2001:db8:1::5/128",
    "::/0",
    "::ffff:10.1.2.0/120",
]
IPS = [
    "10.1.2.9",
    "10.1.2.200",
    "10.9.9.9",
    "192.0.2.1",
    "2001:db8:1::5",
    "2001:db8:2::1",
    "::ffff:10.1.2.9",
    "fe80::1",
    None,
]
DOMAINS = [
    "example.com",
    "eu.example.com",
    "a.eu.example.com",
    "other.org",
    "bücher.example",
    "com",
]
EMAILS = [
    "ana@example.com",
    "bob@eu.example.com",
    "Carla@A.EU.Example.com",
    "dan@other.org",
    "eve@bücher.example",
    None,
]
LANGUAGES = ["fr", "fr-CA", "fr-ca-x-y", "de", "pt-BR", "pt", None]


@st.composite
def rules(draw):
    kind = draw(st.sampled_from(KINDS))
    if kind == "ip":
        raw = draw(st.sampled_from(V4_NETWORKS + V6_NETWORKS))
    elif kind == "email":
        raw = draw(st.sampled_from([e for e in EMAILS if e]))
    elif kind == "domain":
        raw = draw(st.sampled_from(DOMAINS))
    else:
        raw = draw(st.sampled_from([lang for lang in LANGUAGES if lang]))
    return {
        "list_type": draw(st.sampled_from(["allow", "deny"])),
        "kind": kind,
        "value": value_normalise(kind, raw),
        "include_subdomains": kind == "domain" and draw(st.booleans()),
        "actions": draw(st.lists(st.sampled_from(ACTIONS), max_size=3, unique=True)),
        "audience": draw(st.sampled_from(["both", "staff", "contacts"])),
        "expires_at": draw(
            st.sampled_from([None, None, NOW - timedelta(minutes=1), NOW + timedelta(days=1)])
        ),
    }


rule_sets = st.lists(rules(), max_size=12).map(
    lambda drawn: [dict(rule, id=number) for number, rule in enumerate(drawn, start=1)]
)
requests = st.fixed_dictionaries(
    {
        "ip": st.sampled_from(IPS),
        "email": st.sampled_from(EMAILS),
        "language": st.sampled_from(LANGUAGES),
        "action": st.sampled_from(ACTIONS),
        "audience": st.sampled_from(AUDIENCES),
    }
)


@settings(max_examples=600, deadline=None)
@given(rule_set=rule_sets, request=requests)
def test_decision_matches_the_reference(rule_set, request):
    compiled = rules_compile(rule_set, now=NOW)
    subject = subject_from(ip=request["ip"], email=request["email"], language=request["language"])
    decision = decide(
        compiled, action=request["action"], audience=request["audience"], subject=subject
    )
    allowed, by_deny = reference_decide(
        rule_set, action=request["action"], audience=request["audience"], subject=subject
    )
    assert decision.allowed == allowed, decision.reason
    if by_deny:
        # The deciding rule is reported, and it is a deny rule that matches the request.
        deciding = next(r for r in rule_set if r["id"] == decision.rule.id)
        assert deciding["list_type"] == "deny"
        assert _ref_matches(deciding, subject)
        assert _ref_applies(deciding, request["action"], request["audience"])
    elif not allowed:
        assert decision.rule is None and "allow list" in decision.reason


@settings(max_examples=200, deadline=None)
@given(rule_set=rule_sets, request=requests)
def test_limiting_the_kinds_matches_the_reference(rule_set, request):
    kinds = ("email", "domain")
    subject = subject_from(ip=request["ip"], email=request["email"], language=request["language"])
    decision = decide(
        rules_compile(rule_set, now=NOW),
        action=request["action"],
        audience=request["audience"],
        subject=subject,
        kinds=kinds,
    )
    allowed, _ = reference_decide(
        rule_set,
        action=request["action"],
        audience=request["audience"],
        subject=subject,
        kinds=kinds,
    )
    assert decision.allowed == allowed


def _rule(rule_id, list_type, kind, value, **extra):
    return {
        "id": rule_id,
        "list_type": list_type,
        "kind": kind,
        "value": value_normalise(kind, value),
        "include_subdomains": extra.get("include_subdomains", False),
        "actions": extra.get("actions", ["login"]),
        "audience": extra.get("audience", "staff"),
        "expires_at": extra.get("expires_at"),
    }


def _decide(rule_set, *, audience="staff", action="login", **subject):
    return decide(
        rules_compile(rule_set, now=NOW),
        action=action,
        audience=audience,
        subject=subject_from(
            ip=subject.get("ip"), email=subject.get("email"), language=subject.get("language")
        ),
    )


def test_the_documented_examples():
    documented = [
        _rule(1, "deny", "ip", "203.0.113.0/24"),
        _rule(2, "allow", "domain", "example.com"),
    ]
    ana = _decide(documented, email="ana@example.com", ip="198.51.100.4")
    assert ana.allowed and ana.rule.id == 2
    refused = _decide(documented, email="ana@example.com", ip="203.0.113.9")
    assert not refused.allowed and refused.rule.id == 1
    bob = _decide(documented, email="bob@other.org", ip="198.51.100.4")
    assert not bob.allowed and bob.rule is None
    carla = _decide(documented, audience="contacts", email="carla@other.org", ip="203.0.113.9")
    assert carla.allowed and carla.reason == "no rule applies"


def test_ipv6_networks_and_their_edges():
    rule_set = [_rule(1, "deny", "ip", "2001:db8:abcd::/48")]
    assert not _decide(rule_set, ip="2001:db8:abcd::").allowed
    assert not _decide(rule_set, ip="2001:db8:abcd:ffff:ffff:ffff:ffff:ffff").allowed
    assert _decide(rule_set, ip="2001:db8:abce::").allowed
    assert _decide(rule_set, ip="2001:db8:abcc:ffff:ffff:ffff:ffff:ffff").allowed
    # An IPv4 rule never matches an IPv6 request, and the reverse.
    assert _decide([_rule(1, "deny", "ip", "0.0.0.0/0")], ip="2001:db8::1").allowed
    assert _decide([_rule(1, "deny", "ip", "::/0")], ip="192.0.2.1").allowed


def test_ipv4_cidr_edges_and_mapped_addresses():
    rule_set = [_rule(1, "deny", "ip", "192.0.2.64/26")]
    assert _decide(rule_set, ip="192.0.2.63").allowed
    assert not _decide(rule_set, ip="192.0.2.64").allowed
    assert not _decide(rule_set, ip="192.0.2.127").allowed
    assert _decide(rule_set, ip="192.0.2.128").allowed
    # An IPv4 address written as IPv6 is the same address.
    assert not _decide(rule_set, ip="::ffff:192.0.2.100").allowed
    mapped_rule = [_rule(1, "deny", "ip", "::ffff:192.0.2.0/120")]
    assert mapped_rule[0]["value"] == "192.0.2.0/24"
    assert not _decide(mapped_rule, ip="192.0.2.5").allowed


def test_unknown_values_never_match_an_allow_rule():
    assert not _decide([_rule(1, "allow", "language", "fr")]).allowed
    assert not _decide([_rule(1, "allow", "ip", "0.0.0.0/0")], ip=None).allowed
    assert not _decide([_rule(1, "allow", "ip", "0.0.0.0/0")], ip="not an address").allowed
    assert _decide([_rule(1, "deny", "language", "fr")]).allowed


def test_languages_match_more_specific_tags_only():
    rule_set = [_rule(1, "allow", "language", "fr")]
    assert _decide(rule_set, language="fr-CA").allowed
    assert _decide(rule_set, language="FR").allowed
    assert not _decide(rule_set, language="fry").allowed
    assert not _decide([_rule(1, "allow", "language", "fr-CA")], language="fr").allowed


def test_idn_domains_match_in_either_form():
    rule_set = [_rule(1, "deny", "domain", "bücher.example", include_subdomains=True)]
    assert rule_set[0]["value"] == "xn--bcher-kva.example"
    assert not _decide(rule_set, email="ana@BÜCHER.example").allowed
    assert not _decide(rule_set, email="ana@shop.xn--bcher-kva.example").allowed
    assert _decide(rule_set, email="ana@xbücher.example").allowed


def test_subdomains_only_when_asked():
    exact = [_rule(1, "deny", "domain", "example.com")]
    assert not _decide(exact, email="a@example.com").allowed
    assert _decide(exact, email="a@eu.example.com").allowed
    assert _decide(exact, email="a@notexample.com").allowed
    tree = [_rule(1, "deny", "domain", "example.com", include_subdomains=True)]
    assert not _decide(tree, email="a@eu.example.com").allowed
    assert _decide(tree, email="a@notexample.com").allowed


def test_expired_rules_are_left_out_and_bound_the_compiled_copy():
    soon = NOW + timedelta(hours=1)
    rule_set = [
        _rule(1, "deny", "email", "ana@example.com", expires_at=NOW - timedelta(seconds=1)),
        _rule(2, "deny", "email", "bob@example.com", expires_at=soon),
    ]
    compiled = rules_compile(rule_set, now=NOW)
    assert compiled.rule_count == 1
    assert compiled.valid_until == soon
    assert _decide(rule_set, email="ana@example.com").allowed
    assert not _decide(rule_set, email="bob@example.com").allowed


def test_the_most_specific_deny_rule_is_reported():
    rule_set = [
        _rule(1, "deny", "ip", "10.0.0.0/8"),
        _rule(2, "deny", "ip", "10.1.2.0/24"),
    ]
    assert _decide(rule_set, ip="10.1.2.3").rule.id == 2
    assert _decide(rule_set, ip="10.9.2.3").rule.id == 1
