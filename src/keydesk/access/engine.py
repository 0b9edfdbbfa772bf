"""The compiled form of a tenant's rules and the one decision function.

Semantics (docs/access-lists.md): for an action, an audience and a subject (IP, email,
language), a matching deny rule refuses; otherwise, for each kind that has allow rules for
that action and audience, the subject must match one of them; otherwise the request is
allowed.

Every lookup costs the same whatever the number of rules: an IP is masked to each prefix
length that rules use and looked up in a hash table per length (at most 33 lengths for IPv4
and 129 for IPv6, in practice a handful); a domain is looked up as itself and then by each
parent suffix; emails and languages (and each shorter prefix of a language tag) are hash
lookups. Each entry carries a bit mask of the (action, audience) pairs its rule covers.
"""

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime

from .models import ACTIONS
from .values import ip_address_parse, subject_email, subject_language

AUDIENCES = ("staff", "contacts")
KINDS = ("ip", "email", "domain", "language")
_ACTION_INDEX = {action: i for i, action in enumerate(ACTIONS)}


def bit(action: str, audience: str) -> int:
    return 1 << (_ACTION_INDEX[action] * 2 + AUDIENCES.index(audience))


def rule_mask(actions: list[str], audience: str) -> int:
    """The (action, audience) pairs a rule covers; no actions listed means all of them."""
    audiences = AUDIENCES if audience == "both" else (audience,)
    mask = 0
    for action in actions or ACTIONS:
        for who in audiences:
            mask |= bit(action, who)
    return mask


@dataclass(frozen=True)
class RuleRef:
    """What a decision reports about the rule that decided it."""

    id: int
    list_type: str
    kind: str
    value: str
    include_subdomains: bool = False

    def describe(self) -> str:
        suffix = " and subdomains" if self.include_subdomains else ""
        return f"{self.list_type} {self.kind} {self.value}{suffix} (rule {self.id})"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    rule: RuleRef | None = None


@dataclass(frozen=True)
class Subject:
    """Who is asking, already normalised (see `subject_from`)."""

    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    email: str | None = None
    language: str | None = None

    @property
    def domain(self) -> str | None:
        return self.email.rpartition("@")[2] if self.email else None


def subject_from(*, ip: str | None, email: str | None, language: str | None) -> Subject:
    return Subject(
        ip=ip_address_parse(ip), email=subject_email(email), language=subject_language(language)
    )


# An entry: (mask, RuleRef). Tables map a key to the entries of the rules with that value.
Entries = list[tuple[int, RuleRef]]


@dataclass
class _Side:
    """The rules of one list (allow or deny)."""

    # version → prefix length → network as an int → entries; lengths longest first.
    networks: dict[int, dict[int, dict[int, Entries]]] = field(
        default_factory=lambda: {4: {}, 6: {}}
    )
    prefix_lengths: dict[int, list[int]] = field(default_factory=lambda: {4: [], 6: []})
    emails: dict[str, Entries] = field(default_factory=dict)
    domains: dict[str, Entries] = field(default_factory=dict)
    domain_trees: dict[str, Entries] = field(default_factory=dict)  # the domain and below
    languages: dict[str, Entries] = field(default_factory=dict)
    # kind → OR of the masks of its rules: which (action, audience) pairs have rules at all.
    kind_masks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    def add(self, kind: str, value: str, include_subdomains: bool, entry: tuple[int, RuleRef]):
        self.kind_masks[kind] |= entry[0]
        if kind == "ip":
            network = ipaddress.ip_network(value)
            by_length = self.networks[network.version].setdefault(network.prefixlen, {})
            by_length.setdefault(int(network.network_address), []).append(entry)
        elif kind == "email":
            self.emails.setdefault(value, []).append(entry)
        elif kind == "domain":
            table = self.domain_trees if include_subdomains else self.domains
            table.setdefault(value, []).append(entry)
        else:
            self.languages.setdefault(value, []).append(entry)

    def seal(self) -> None:
        for version, by_length in self.networks.items():
            self.prefix_lengths[version] = sorted(by_length, reverse=True)

    def match(self, kind: str, subject: Subject, wanted: int) -> RuleRef | None:
        """The most specific rule of this kind matching the subject for the wanted pair."""
        if not self.kind_masks[kind] & wanted:
            return None
        for entries in self._candidates(kind, subject):
            for mask, ref in entries:
                if mask & wanted:
                    return ref
        return None

    def _candidates(self, kind: str, subject: Subject):
        if kind == "ip":
            ip = subject.ip
            if ip is None:
                return
            value, width = int(ip), ip.max_prefixlen
            by_length = self.networks[ip.version]
            for length in self.prefix_lengths[ip.version]:
                masked = value >> (width - length) << (width - length) if length else 0
                entries = by_length[length].get(masked)
                if entries:
                    yield entries
        elif kind == "email":
            if subject.email and subject.email in self.emails:
                yield self.emails[subject.email]
        elif kind == "domain":
            domain = subject.domain
            if not domain:
                return
            if domain in self.domains:
                yield self.domains[domain]
            labels = domain.split(".")
            for start in range(len(labels)):
                entries = self.domain_trees.get(".".join(labels[start:]))
                if entries:
                    yield entries
        else:
            tag = subject.language
            while tag:
                entries = self.languages.get(tag)
                if entries:
                    yield entries
                tag = tag.rpartition("-")[0]


@dataclass
class CompiledRules:
    deny: _Side = field(default_factory=_Side)
    allow: _Side = field(default_factory=_Side)
    # The compiled copy is stale from the first expiry on (rules are compiled without the
    # expired ones, so a decision never has to look at dates).
    valid_until: datetime | None = None
    rule_count: int = 0


EMPTY = CompiledRules()


def rules_compile(rows, *, now: datetime) -> CompiledRules:
    """Compile rule rows (dicts of the model's fields, as `.values()` gives); expired ones are left out."""
    compiled = CompiledRules()
    for row in rows:
        get = row.get
        expires_at = get("expires_at")
        if expires_at is not None:
            if expires_at <= now:
                continue
            if compiled.valid_until is None or expires_at < compiled.valid_until:
                compiled.valid_until = expires_at
        ref = RuleRef(
            id=get("id"),
            list_type=get("list_type"),
            kind=get("kind"),
            value=get("value"),
            include_subdomains=get("include_subdomains"),
        )
        side = compiled.deny if ref.list_type == "deny" else compiled.allow
        side.add(
            ref.kind,
            ref.value,
            ref.include_subdomains,
            (rule_mask(get("actions"), get("audience")), ref),
        )
        compiled.rule_count += 1
    compiled.deny.seal()
    compiled.allow.seal()
    return compiled


def decide(
    compiled: CompiledRules,
    *,
    action: str,
    audience: str,
    subject: Subject,
    kinds: tuple[str, ...] = KINDS,
) -> Decision:
    """Deny wins; then each kind with allow rules must be matched; else allowed.

    `kinds` limits the decision to some kinds, for subjects that only have some (a contact
    created by staff is judged on its address, not on the agent's IP).
    """
    wanted = bit(action, audience)
    for kind in kinds:
        ref = compiled.deny.match(kind, subject, wanted)
        if ref is not None:
            return Decision(False, f"refused by {ref.describe()}", ref)
    allowed_by = None
    for kind in kinds:
        if not compiled.allow.kind_masks[kind] & wanted:
            continue
        ref = compiled.allow.match(kind, subject, wanted)
        if ref is None:
            what = "unknown" if getattr(subject, kind, None) is None else "not on it"
            return Decision(False, f"the {kind} allow list applies and the {kind} is {what}")
        allowed_by = allowed_by or ref
    if allowed_by is not None:
        return Decision(True, f"allowed by {allowed_by.describe()}", allowed_by)
    return Decision(True, "no rule applies")
