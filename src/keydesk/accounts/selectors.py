"""Reading people, teams and tokens of one tenant, as the acting person may see them."""

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from keydesk.core.errors import NotFound
from keydesk.core.queries import Param, PreparedLookup, read_together

from .models import AccountLockout, ApiToken, SignInSession, Team, User
from .permissions import Perm, require


def _with_lock_state(people: QuerySet[User]) -> QuerySet[User]:
    """Annotate `is_locked` and `locked_until` (sign-in lockout) for the admin lists."""
    locks = AccountLockout.objects.filter(user=OuterRef("pk"), locked_until__gt=timezone.now())
    return people.annotate(
        is_locked=Exists(locks), locked_until=Subquery(locks.values("locked_until")[:1])
    )


def person_list(
    *, actor: User, kind: str, q: str | None = None, include_inactive: bool = True
) -> QuerySet[User]:
    require(actor, Perm.USER_VIEW)
    people = _with_lock_state(User.objects.filter(tenant_id=actor.tenant_id, kind=kind))
    if q:
        q = q.strip()
        people = people.filter(Q(email__icontains=q) | Q(name__icontains=q))
    if not include_inactive:
        people = people.filter(is_active=True)
    return people.order_by("name", "email")


def person_get(*, actor: User, user_id: int, kind: str | None = None) -> User:
    require(actor, Perm.USER_VIEW)
    people = _with_lock_state(User.objects.filter(tenant_id=actor.tenant_id))
    if kind:
        people = people.filter(kind=kind)
    person = people.filter(pk=user_id).first()
    if person is None:
        raise NotFound("person")
    return person


# Every page of the agent workspace lists these for its filters and forms.
_active_staff = PreparedLookup(
    User.objects.filter(tenant_id=Param("tenant_id"), kind=User.Kind.STAFF, is_active=True)
    .only("id", "name", "email")
    .order_by("name", "email")
)
_teams = PreparedLookup(
    Team.objects.filter(tenant_id=Param("tenant_id")).only("id", "name").order_by("name")
)


def staff_and_team_choices(*, tenant) -> tuple[list[User], list[Team]]:
    """Active staff a ticket can be assigned to, and the tenant's teams (not their members),
    with what a choice list shows of them; read in one round trip."""
    staff, teams = read_together(
        _active_staff.read(tenant_id=tenant.pk), _teams.read(tenant_id=tenant.pk)
    )
    return staff, teams


def team_list(*, tenant) -> QuerySet[Team]:
    return Team.objects.filter(tenant=tenant).prefetch_related("members").order_by("name")


def team_get(*, tenant, team_id: int) -> Team:
    team = Team.objects.filter(tenant=tenant, pk=team_id).first()
    if team is None:
        raise NotFound("team")
    return team


def token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(tenant_id=user.tenant_id, user=user).order_by("-created_at")


def token_get(*, user: User, token_id: int) -> ApiToken:
    token = token_list(user=user).filter(pk=token_id).first()
    if token is None:
        raise NotFound("token")
    return token


def session_list(*, user: User) -> QuerySet[SignInSession]:
    """A person's open sessions, newest sign-in first."""
    return SignInSession.objects.filter(
        tenant_id=user.tenant_id, user=user, ended_at__isnull=True
    ).order_by("-auth_time")
