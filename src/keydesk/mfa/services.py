"""Setting up, using and removing second factors; each change is an event and a mail."""

from django.db import transaction
from django.utils import timezone

from keydesk.accounts.models import User
from keydesk.accounts.permissions import Perm, require
from keydesk.core.errors import ApplicationError, PermissionDenied
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record

from . import codes, recovery_codes, totp
from .models import Authenticator, MfaPolicy
from .policy import CHALLENGE_TYPES, allowed_types, allowed_types_for, is_required, policy_for


def _event(type_: str, what: str) -> EventAction:
    return EventAction(f"mfa.{type_}.{what}")


def _notify(user: User, change: str, request=None) -> None:
    """Tell the person about any change to their second factors (guests get nothing)."""
    from keydesk.mail.services import email_queue

    email_queue(
        tenant=user.tenant,
        template="mfa_changed",
        to=user,
        request=request,
        context={"change": change},
    )


def _check_allowed(user: User, type_: str) -> None:
    if type_ not in allowed_types_for(user):
        raise ApplicationError("method_off", "Your helpdesk does not offer this method.")


def _ensure_recovery_codes(user: User, actor, request) -> list[str] | None:
    """Create recovery codes with the first method; returns them (to show once) when created."""
    if Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists():
        return None
    authenticator = Authenticator.objects.create(
        tenant_id=user.tenant_id, user=user, type=Authenticator.Type.RECOVERY_CODES
    )
    new = recovery_codes.new_codes()
    recovery_codes.store(authenticator, new)
    record(
        user.tenant, actor, EventAction.MFA_RECOVERY_CODES_ENABLED, user, request, count=len(new)
    )
    return new


def totp_enable(
    *, user: User, actor: User, secret: str, code: str, request=None
) -> list[str] | None:
    """Activate an authenticator app once a correct code proves it was set up.

    Returns new recovery codes when this is the person's first method (shown once).
    """
    _check_allowed(user, Authenticator.Type.TOTP)
    step = totp.matching_step(secret, code)
    if step is None:
        raise ApplicationError(
            "wrong_code", "That code is not right. Try the newest one.", field="code"
        )
    with transaction.atomic():
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
        Authenticator.objects.create(
            tenant_id=user.tenant_id,
            user=user,
            type=Authenticator.Type.TOTP,
            secret_encrypted=totp.encrypt_secret(secret),
            last_step=step,
        )
        record(user.tenant, actor, EventAction.MFA_TOTP_ENABLED, user, request)
        created = _ensure_recovery_codes(user, actor, request)
        _notify(user, "An authenticator app was set up for your account.", request)
    return created


def totp_setup_by_admin(*, user: User, actor: User, secret: str, request=None) -> list[str] | None:
    """An admin sets up the app for a staff member and hands over the QR code (Deskpro)."""
    require(actor, Perm.SECURITY_MANAGE)
    if actor.pk == user.pk:
        raise PermissionDenied("Set up your own methods in your preferences.")
    if not user.is_staff_member:
        raise PermissionDenied("Admins set up authenticator apps for staff only.")
    _check_allowed(user, Authenticator.Type.TOTP)
    with transaction.atomic():
        Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).delete()
        Authenticator.objects.create(
            tenant_id=user.tenant_id,
            user=user,
            type=Authenticator.Type.TOTP,
            secret_encrypted=totp.encrypt_secret(secret),
        )
        record(user.tenant, actor, EventAction.MFA_TOTP_SETUP_BY_ADMIN, user, request)
        created = _ensure_recovery_codes(user, actor, request)
        _notify(user, "An administrator set up an authenticator app for your account.", request)
    return created


def email_code_send(*, user: User, request=None) -> None:
    """Mail a fresh 6-digit code (for sign-in or to set up email codes)."""
    from keydesk.mail.services import email_queue

    code = codes.issue(user, codes.OneTimeCode.Channel.EMAIL)
    with transaction.atomic():
        email_queue(
            tenant=user.tenant,
            template="mfa_code",
            to=user,
            sensitive=True,
            request=request,
            context={"code": code, "minutes": int(codes.VALID_FOR.total_seconds() // 60)},
        )
        record(user.tenant, user, EventAction.MFA_CODE_SENT, user, request, channel="email")


def email_enable(*, user: User, actor: User, code: str, request=None) -> list[str] | None:
    """Turn on email codes once the person typed the code mailed to them."""
    _check_allowed(user, Authenticator.Type.EMAIL)
    if not codes.consume(user, codes.OneTimeCode.Channel.EMAIL, code):
        raise ApplicationError("wrong_code", "That code is not right or has expired.", field="code")
    with transaction.atomic():
        Authenticator.objects.get_or_create(
            tenant_id=user.tenant_id, user=user, type=Authenticator.Type.EMAIL
        )
        record(user.tenant, actor, EventAction.MFA_EMAIL_ENABLED, user, request)
        created = _ensure_recovery_codes(user, actor, request)
        _notify(user, "Sign-in codes by email were turned on for your account.", request)
    return created


def recovery_codes_regenerate(*, user: User, actor: User, request=None) -> list[str]:
    """A new set of recovery codes; the old set stops working."""
    authenticator = Authenticator.objects.filter(
        user=user, type=Authenticator.Type.RECOVERY_CODES
    ).first()
    if authenticator is None:
        raise ApplicationError("no_methods", "Set up a second factor first.")
    new = recovery_codes.new_codes()
    with transaction.atomic():
        recovery_codes.store(authenticator, new)
        record(
            user.tenant,
            actor,
            EventAction.MFA_RECOVERY_CODES_ENABLED,
            user,
            request,
            count=len(new),
            regenerated=True,
        )
        _notify(user, "New recovery codes were made; the earlier ones no longer work.", request)
    return new


def method_disable(*, user: User, actor: User, type_: str, request=None) -> None:
    """A person removes one of their methods; never the last one while 2FA is required."""
    if type_ not in CHALLENGE_TYPES:
        raise ApplicationError("invalid_method", "Unknown method.")
    with transaction.atomic():
        methods = list(
            Authenticator.objects.select_for_update().filter(user=user, type__in=CHALLENGE_TYPES)
        )
        target = next((m for m in methods if m.type == type_), None)
        if target is None:
            return
        last = len(methods) == 1
        if last and is_required(user):
            raise ApplicationError(
                "required",
                "Two-factor authentication is required for you: set up another "
                "method before removing this one.",
            )
        target.delete()
        record(user.tenant, actor, _event(type_, "disabled"), user, request)
        if last:
            Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).delete()
            record(user.tenant, actor, EventAction.MFA_RECOVERY_CODES_DISABLED, user, request)
        _notify(user, f"{target.get_type_display()} was removed from your account.", request)


def mfa_remove_by_admin(*, user: User, actor: User, request=None) -> int:
    """Remove every second factor of a person who lost them (Mojo's way back in)."""
    require(actor, Perm.SECURITY_MANAGE)
    if actor.pk == user.pk:
        raise PermissionDenied("Remove your own methods in your preferences.")
    with transaction.atomic():
        removed = list(Authenticator.objects.filter(user=user))
        for authenticator in removed:
            record(
                user.tenant, actor, _event(authenticator.type, "removed_by_admin"), user, request
            )
        Authenticator.objects.filter(user=user).delete()
        if removed:
            _notify(
                user,
                "An administrator removed two-factor authentication from your "
                "account. You may be asked to set it up again at your next sign-in.",
                request,
            )
    return len(removed)


def mfa_enforce_set(*, user: User, actor: User, enforce: bool, request=None) -> None:
    """The per-person "Enforce 2FA" switch."""
    require(actor, Perm.SECURITY_MANAGE)
    with transaction.atomic():
        if User.objects.filter(pk=user.pk).exclude(enforce_mfa=enforce).update(enforce_mfa=enforce):
            user.enforce_mfa = enforce
            record(
                user.tenant,
                actor,
                EventAction.MFA_ENFORCEMENT_CHANGED,
                user,
                request,
                enforce=enforce,
            )


POLICY_FIELDS = (
    "totp_enabled",
    "email_enabled",
    "sms_enabled",
    "require_staff",
    "require_contacts",
    "grace_until",
)


def mfa_policy_update(*, tenant, actor: User | None, request=None, **changes) -> MfaPolicy:
    if actor is not None:
        require(actor, Perm.SECURITY_MANAGE)
    unknown = set(changes) - set(POLICY_FIELDS)
    if unknown:
        raise ApplicationError("invalid_field", f"Unknown setting {', '.join(sorted(unknown))}.")
    policy = policy_for(tenant)
    changed = {k: [getattr(policy, k), v] for k, v in changes.items() if getattr(policy, k) != v}
    for key, (_, value) in changed.items():
        setattr(policy, key, value)
    if (policy.require_staff or policy.require_contacts) and not allowed_types(policy):
        raise ApplicationError(
            "no_methods",
            "Turn on at least one method before requiring 2FA.",
            field="totp_enabled",
        )
    with transaction.atomic():
        policy.save()
        if changed:
            record(
                tenant,
                actor,
                EventAction.MFA_POLICY_UPDATED,
                ("settings", "mfa", "Two-factor authentication"),
                request,
                changes={
                    k: [str(a) if a is not None else None, str(b) if b is not None else None]
                    for k, (a, b) in changed.items()
                },
            )
    return policy


def mark_used(authenticator: Authenticator) -> None:
    Authenticator.objects.filter(pk=authenticator.pk).update(last_used_at=timezone.now())


# SMS codes

SMS_PER_DAY = 10


def phone_of(user: User):
    """The person's PhoneNumber row (verified number and pending one), or None."""
    from .models import PhoneNumber

    return PhoneNumber.objects.filter(user=user).first()


def _sms_budget_check(user: User) -> None:
    # Each text costs money and a premium-rate number pays whoever owns it: cap them per person.
    from datetime import timedelta

    from keydesk.sms.models import OutboundSms

    since = timezone.now() - timedelta(days=1)
    sent_today = OutboundSms.objects.filter(recipient_user=user, created_at__gte=since).count()
    if sent_today >= SMS_PER_DAY:
        raise ApplicationError(
            "too_many_sms",
            "Too many text messages were sent to you today. Use another method or try tomorrow.",
            status=429,
        )


def _code_minutes() -> int:
    return int(codes.VALID_FOR.total_seconds() // 60)


def phone_verification_send(*, user: User, phone: str, request=None) -> str:
    """Text a code to `phone` to prove the person holds it; returns the number in E.164."""
    from keydesk.sms.numbers import mask_number, normalize_number
    from keydesk.sms.services import sms_queue

    from .models import PhoneNumber

    _check_allowed(user, Authenticator.Type.SMS)
    number = normalize_number(phone)
    _sms_budget_check(user)
    with transaction.atomic():
        code = codes.issue(user, codes.OneTimeCode.Channel.SMS)
        PhoneNumber.objects.update_or_create(
            user=user,
            defaults={"pending_number": number},
            create_defaults={"tenant_id": user.tenant_id, "pending_number": number},
        )
        sms_queue(
            tenant=user.tenant,
            template="phone_verify",
            to=number,
            user=user,
            sensitive=True,
            request=request,
            context={"code": code, "minutes": _code_minutes()},
        )
        record(
            user.tenant,
            user,
            EventAction.MFA_CODE_SENT,
            user,
            request,
            channel="sms",
            purpose="verify_phone",
            phone=mask_number(number),
        )
    return number


def sms_enable(*, user: User, actor: User, phone: str, code: str, request=None) -> list[str] | None:
    """Verify `phone` with the code texted to it and turn on SMS codes for the person.

    Returns new recovery codes when this is the person's first method (shown once).
    """
    from keydesk.sms.numbers import last_digits, mask_number, normalize_number

    from .models import PhoneNumber

    _check_allowed(user, Authenticator.Type.SMS)
    number = normalize_number(phone)
    with transaction.atomic():
        row = PhoneNumber.objects.select_for_update().filter(user=user).first()
        # The code is bound to the person, not the number: only the number it went to counts.
        if row is None or row.pending_number != number:
            raise ApplicationError("not_sent", "Send a code to this number first.", field="phone")
        if not codes.consume(user, codes.OneTimeCode.Channel.SMS, code):
            raise ApplicationError(
                "wrong_code", "That code is not right or has expired.", field="code"
            )
        replaced = bool(row.number)
        row.number, row.verified_at, row.pending_number = number, timezone.now(), ""
        row.save(update_fields=["number", "verified_at", "pending_number"])
        record(
            user.tenant,
            actor,
            EventAction.MFA_PHONE_VERIFIED,
            user,
            request,
            phone=mask_number(number),
        )
        Authenticator.objects.get_or_create(
            tenant_id=user.tenant_id, user=user, type=Authenticator.Type.SMS
        )
        record(
            user.tenant,
            actor,
            EventAction.MFA_SMS_ENABLED,
            user,
            request,
            phone=mask_number(number),
            replaced=replaced,
        )
        created = _ensure_recovery_codes(user, actor, request)
        _notify(
            user,
            f"Sign-in codes by SMS now go to your phone number ending in {last_digits(number)}.",
            request,
        )
    return created


def sms_code_send(*, user: User, request=None) -> str:
    """Text a fresh sign-in code to the person's verified phone; returns its last four digits."""
    from keydesk.sms.numbers import last_digits, mask_number
    from keydesk.sms.services import sms_queue

    from .models import PhoneNumber

    phone = phone_of(user)
    has_sms = Authenticator.objects.filter(user=user, type=Authenticator.Type.SMS).exists()
    if phone is None or not phone.number or not has_sms:
        raise ApplicationError("no_phone", "SMS codes are not set up for your account.")
    _sms_budget_check(user)
    with transaction.atomic():
        code = codes.issue(user, codes.OneTimeCode.Channel.SMS)
        # Issuing voided any verification code, so no number is awaiting one any more.
        PhoneNumber.objects.filter(pk=phone.pk).update(pending_number="")
        sms_queue(
            tenant=user.tenant,
            template="mfa_code",
            to=phone.number,
            user=user,
            sensitive=True,
            request=request,
            context={"code": code, "minutes": _code_minutes()},
        )
        record(
            user.tenant,
            user,
            EventAction.MFA_CODE_SENT,
            user,
            request,
            channel="sms",
            phone=mask_number(phone.number),
        )
    return last_digits(phone.number)
