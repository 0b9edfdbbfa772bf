"""Changing tickets: create, update (status, priority, assignee, team), comment."""

from django.db import transaction
from django.utils import timezone

from keydesk.access.services import access_require
from keydesk.accounts.models import Team, User
from keydesk.accounts.permissions import Perm, can, require
from keydesk.accounts.services import normalize_email, user_create
from keydesk.core.errors import ApplicationError, NotFound, PermissionDenied
from keydesk.eventlog.actions import EventAction
from keydesk.eventlog.services import record
from keydesk.mail.outbound import notifications
from keydesk.tenants.limits import creation_take
from keydesk.tenants.models import Tenant

from .models import BODY_MAX, SUBJECT_MAX, Comment, Ticket


def _clean_subject(subject: str) -> str:
    subject = (subject or "").strip()
    if not subject:
        raise ApplicationError("required", "Enter a subject.", field="subject")
    if len(subject) > SUBJECT_MAX:
        raise ApplicationError(
            "too_long", f"Use at most {SUBJECT_MAX} characters.", field="subject"
        )
    return subject


def _clean_body(body: str, *, field: str, required: bool) -> str:
    body = (body or "").strip()
    if required and not body:
        raise ApplicationError("required", "Enter some text.", field=field)
    if len(body) > BODY_MAX:
        raise ApplicationError("too_long", f"Use at most {BODY_MAX:,} characters.", field=field)
    return body


def _next_ticket_number(tenant: Tenant) -> int:
    # The tenant row lock makes numbers gap-free and unique under concurrent creation. It is
    # a NO KEY lock: PostgreSQL's foreign-key checks of other writers (their rows point at
    # the tenant) take KEY SHARE locks at commit, which a full FOR UPDATE would block.
    locked = (
        Tenant.objects.select_for_update(no_key=True).only("last_ticket_number").get(pk=tenant.pk)
    )
    number = locked.last_ticket_number + 1
    Tenant.objects.filter(pk=tenant.pk).update(last_ticket_number=number)
    return number


def _require_access(*, tenant, actor: User, source: str, requester_email: str | None, request):
    """Access lists for a new ticket: the portal (`ticket.web`), the API (`ticket.api`), and a
    contact made on the way (`register`). Checked before the ticket's transaction, so that a
    refusal's event is kept; mail is checked by the inbound path itself."""
    if source == Ticket.Source.EMAIL:
        return
    action = "ticket.api" if source == Ticket.Source.API else "ticket.web"
    if actor.is_contact:
        access_require(tenant=tenant, action=action, user=actor, request=request)
        return
    if not requester_email:
        return
    email = normalize_email(requester_email, field="requester_email")
    requester = User.objects.filter(tenant=tenant, email=email).first()
    if requester is None:
        access_require(
            tenant=tenant,
            action="register",
            request=request,
            email=email,
            audience="contacts",
            kinds=("email", "domain"),
        )
    if source == Ticket.Source.API:
        access_require(
            tenant=tenant,
            action=action,
            request=request,
            user=requester,
            email=email,
            audience="contacts",
        )


def _resolve_requester(*, tenant, actor: User, requester_email: str | None, request) -> User:
    if actor.is_contact:
        return actor
    if not requester_email:
        raise ApplicationError("required", "Name the requester's email.", field="requester_email")
    email = normalize_email(requester_email, field="requester_email")
    requester = User.objects.filter(tenant=tenant, email=email).first()
    if requester is None:
        # Agents open tickets for customers who never wrote in before: the contact is made here.
        return user_create(
            tenant=tenant, actor=None, email=email, kind=User.Kind.CONTACT, request=request
        )
    if not requester.is_contact:
        raise ApplicationError(
            "invalid_requester", "The requester must be a contact.", field="requester_email"
        )
    return requester


def ticket_create(
    *,
    tenant,
    actor: User,
    subject: str,
    description: str = "",
    source: str = Ticket.Source.WEB,
    priority: str = Ticket.Priority.NORMAL,
    requester_email: str | None = None,
    notify_requester: bool = True,
    email_message_id: str = "",
    request=None,
) -> Ticket:
    """Open a ticket; its notifications leave once it commits.

    `notify_requester=False` sends the requester no acknowledgement: mail that was itself
    automatic (an auto-reply, a mailing list) must never be answered automatically.
    `email_message_id` is the Message-ID of the email that opened the ticket, so that the
    acknowledgement and later mail thread under it.
    """
    if not actor.is_contact:
        require(actor, Perm.TICKET_WORK)
    subject = _clean_subject(subject)
    description = _clean_body(description, field="description", required=False)
    if priority not in Ticket.Priority.values:
        raise ApplicationError("invalid_priority", "Unknown priority.", field="priority")
    if source not in Ticket.Source.values:
        raise ApplicationError("invalid_source", "Unknown source.", field="source")
    _require_access(
        tenant=tenant,
        actor=actor,
        source=source,
        requester_email=requester_email,
        request=request,
    )
    with transaction.atomic():
        # The ticket's unit before the new requester's user unit: every creating transaction
        # locks the day's counters in the same order.
        creation_take(tenant=tenant, kind="ticket", request=request, actor=actor)
        # The tenant row (numbering) is locked before a new requester's event takes the event
        # chain's lock, as every other writer does: the opposite order could deadlock.
        number = _next_ticket_number(tenant)
        requester = _resolve_requester(
            tenant=tenant, actor=actor, requester_email=requester_email, request=request
        )
        ticket = Ticket.objects.create(
            tenant=tenant,
            number=number,
            subject=subject,
            description=description,
            requester=requester,
            priority=priority,
            source=source,
            email_message_id=email_message_id[:255],
        )
        record(
            tenant,
            actor,
            EventAction.TICKET_CREATED,
            ticket,
            request,
            source=source,
            requester=requester.email,
            priority=priority,
        )
        notifications.ticket_created(
            ticket=ticket, actor=actor, notify_requester=notify_requester, request=request
        )
    return ticket


def _staff_member(tenant, user_id: int | None, *, field: str) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(
        tenant=tenant, pk=user_id, kind=User.Kind.STAFF, is_active=True
    ).first()
    if user is None:
        raise ApplicationError("invalid_assignee", "No such active agent.", field=field, status=400)
    return user


def _team(tenant, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(tenant=tenant, pk=team_id).first()
    if team is None:
        raise ApplicationError("invalid_team", "No such team.", field="team", status=400)
    return team


UNSET = object()


def ticket_update(
    *,
    ticket: Ticket,
    actor: User,
    status: str | None = None,
    priority: str | None = None,
    assignee_id=UNSET,
    team_id=UNSET,
    request=None,
) -> Ticket:
    """Change status, priority, assignee or team; each kind of change is its own event."""
    require(actor, Perm.TICKET_WORK)
    tenant = ticket.tenant
    if status is not None and status not in Ticket.Status.values:
        raise ApplicationError("invalid_status", "Unknown status.", field="status")
    if priority is not None and priority not in Ticket.Priority.values:
        raise ApplicationError("invalid_priority", "Unknown priority.", field="priority")
    if assignee_id is not UNSET or team_id is not UNSET:
        require(actor, Perm.TICKET_ASSIGN)
    if assignee_id is not UNSET and assignee_id is not None and assignee_id == ticket.assignee_id:
        # Keeping the current assignee is no change, even if they were deactivated since.
        assignee_id = UNSET
    assignee = (
        _staff_member(tenant, assignee_id, field="assignee") if assignee_id is not UNSET else UNSET
    )
    team = _team(tenant, team_id) if team_id is not UNSET else UNSET
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk, tenant=tenant)
        if locked.status == Ticket.Status.CLOSED:
            raise ApplicationError("closed", "A closed ticket cannot be changed.", status=409)
        changed: list[str] = []
        if status is not None and status != locked.status:
            before = locked.status
            locked.status = status
            now = timezone.now()
            locked.solved_at = now if status == Ticket.Status.SOLVED else locked.solved_at
            locked.closed_at = now if status == Ticket.Status.CLOSED else None
            changed += ["status", "solved_at", "closed_at"]
            record(
                tenant,
                actor,
                EventAction.TICKET_STATUS_CHANGED,
                locked,
                request,
                status=[before, status],
            )
            if status == Ticket.Status.SOLVED:
                notifications.ticket_solved(ticket=locked, actor=actor, request=request)
        if assignee is not UNSET and assignee != locked.assignee:
            before = locked.assignee.email if locked.assignee else None
            locked.assignee = assignee
            changed.append("assignee")
            record(
                tenant,
                actor,
                EventAction.TICKET_ASSIGNED,
                locked,
                request,
                assignee=[before, assignee.email if assignee else None],
            )
            if assignee is not None:
                notifications.ticket_assigned(
                    ticket=locked, assignee=assignee, actor=actor, request=request
                )
        updates = {}
        if priority is not None and priority != locked.priority:
            updates["priority"] = [locked.priority, priority]
            locked.priority = priority
            changed.append("priority")
        if team is not UNSET and team != locked.team:
            updates["team"] = [
                locked.team.name if locked.team else None,
                team.name if team else None,
            ]
            locked.team = team
            changed.append("team")
        if updates:
            record(tenant, actor, EventAction.TICKET_UPDATED, locked, request, changes=updates)
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
    return locked


def comment_add(
    *,
    ticket: Ticket,
    actor: User,
    body: str,
    is_public: bool = True,
    notify_requester: bool = True,
    request=None,
) -> Comment:
    """A public reply or, for staff, an internal note; replies move the ticket along.

    `notify_requester=False` mails the requester nothing about this comment (see
    `ticket_create`).
    """
    if actor.is_contact:
        if ticket.requester_id != actor.pk:
            raise NotFound("ticket")
        if not is_public:
            raise PermissionDenied("Contacts can only add public replies.")
    else:
        require(actor, Perm.TICKET_WORK)
    body = _clean_body(body, field="body", required=True)
    tenant = ticket.tenant
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk, tenant=tenant)
        if locked.status == Ticket.Status.CLOSED:
            raise ApplicationError(
                "closed", "This ticket is closed; open a new one instead.", status=409
            )
        comment = Comment.objects.create(
            tenant=tenant, ticket=locked, author=actor, body=body, is_public=is_public
        )
        new_status = None
        if (
            is_public
            and actor.is_contact
            and locked.status in (Ticket.Status.PENDING, Ticket.Status.SOLVED)
        ):
            new_status = Ticket.Status.OPEN  # the customer answered: back to the agents
        elif is_public and not actor.is_contact and locked.status == Ticket.Status.NEW:
            new_status = Ticket.Status.OPEN
        if new_status is not None:
            record(
                tenant,
                actor,
                EventAction.TICKET_STATUS_CHANGED,
                locked,
                request,
                status=[locked.status, new_status],
            )
            locked.status = new_status
        locked.save(update_fields=["status", "updated_at"])
        action = EventAction.TICKET_COMMENTED if is_public else EventAction.TICKET_NOTE_ADDED
        record(tenant, actor, action, locked, request, comment_id=comment.pk)
        notifications.comment_added(
            comment=comment, actor=actor, notify_requester=notify_requester, request=request
        )
    return comment


def can_see_internal_notes(user: User) -> bool:
    return can(user, Perm.TICKET_WORK)
