"""The rule tester: the decision for a request an admin describes, explained, never recorded."""

from dataclasses import dataclass

from keydesk.accounts.models import User

from .engine import KINDS, Decision
from .selectors import access_decide
from .services import audience_of

# Mail is judged on its sender and Content-Language: the connecting server is a relay.
MAIL_KINDS = ("email", "domain", "language")


@dataclass(frozen=True)
class TesterAnswer:
    decision: Decision
    audience: str
    # How the audience was found: "chosen" by the admin; else from the email's person, "staff"
    # or "contact"; "unknown" for an address nobody has; "no_email" without an address.
    audience_from: str
    language: str | None
    language_from_profile: bool
    ip_ignored: bool


def rules_try(
    *, tenant, action: str, audience: str, ip: str, email: str, language: str
) -> TesterAnswer:
    """Decide as the checks would for this request; `audience` "auto" follows the email's person."""
    person = (
        User.objects.filter(tenant=tenant, email__iexact=email).only("kind", "language").first()
        if email
        else None
    )
    if audience in ("staff", "contacts"):
        audience_from = "chosen"
    else:
        audience = audience_of(person)
        if person is not None:
            audience_from = "contact" if person.is_contact else "staff"
        else:
            audience_from = "unknown" if email else "no_email"
    language_from_profile = not language and person is not None and bool(person.language)
    if language_from_profile:
        language = person.language
    ip_ignored = action == "ticket.email"
    decision = access_decide(
        tenant=tenant,
        action=action,
        audience=audience,
        ip=None if ip_ignored else ip or None,
        email=email or None,
        language=language or None,
        kinds=MAIL_KINDS if ip_ignored else KINDS,
    )
    return TesterAnswer(
        decision=decision,
        audience=audience,
        audience_from=audience_from,
        language=language or None,
        language_from_profile=language_from_profile,
        ip_ignored=ip_ignored,
    )
