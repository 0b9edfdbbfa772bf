"""People (admin tokens only) and the caller's own API tokens over the API."""

from datetime import datetime
from typing import Annotated

from ninja import Field, Path, Query, Router, Schema

from keydesk.api.pagination import BIGINT_MAX, PageQuery, paginate
from keydesk.api.schemas import InputSchema
from keydesk.core.errors import PermissionDenied

from . import api_tokens, selectors, services
from .models import User
from .permissions import Perm, can

users_router = Router(tags=["users"])
tokens_router = Router(tags=["tokens"])

UserId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="The person's id.")]
TokenId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="The token's id.")]


class UserOut(Schema):
    id: int
    email: str
    name: str
    kind: User.Kind
    role: User.Role | None
    is_guest: bool
    language: str
    phone: str
    is_active: bool
    email_verified_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_role(obj) -> str | None:
        return obj.role or None


class UserPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[UserOut]


class UserFilters(PageQuery):
    kind: User.Kind | None = None
    q: str | None = Field(None, max_length=200, description="Text in email or name.")


class UserIn(InputSchema):
    email: str = Field(..., max_length=254)
    kind: User.Kind
    role: User.Role | None = Field(None, description="Required for staff; contacts have none.")
    name: str = Field("", max_length=200)
    is_guest: bool = Field(False, strict=True)
    language: str = Field("", max_length=35)
    phone: str = Field("", max_length=32)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenList(Schema):
    items: list[TokenOut]


def _require_admin(user: User) -> None:
    # The API manages people as the admin pages do: admins only, whatever else a role may see.
    if not can(user, Perm.STAFF_MANAGE_PRIVILEGED):
        raise PermissionDenied()


@users_router.get("", response=UserPage)
def list_users(request, filters: Query[UserFilters]):
    """Staff and contacts, by name."""
    _require_admin(request.auth)
    kinds = [filters.kind] if filters.kind else list(User.Kind)
    people = selectors.person_list(actor=request.auth, kind=kinds[0], q=filters.q)
    for kind in kinds[1:]:
        people = people | selectors.person_list(actor=request.auth, kind=kind, q=filters.q)
    return paginate(people, page=filters.page, page_size=filters.page_size)


@users_router.post("", response={201: UserOut})
def create_user(request, payload: UserIn):
    """Add a staff member or a contact (no password: they sign in by the usual ways)."""
    _require_admin(request.auth)
    return services.user_create(
        tenant=request.tenant,
        actor=request.auth,
        email=payload.email,
        kind=payload.kind.value,
        role=payload.role.value if payload.role else "",
        name=payload.name,
        is_guest=payload.is_guest,
        language=payload.language,
        phone=payload.phone,
        request=request,
    )


@users_router.get("/{user_id}", response=UserOut)
def get_user(request, user_id: UserId):
    """One person by id."""
    _require_admin(request.auth)
    return selectors.person_get(actor=request.auth, user_id=user_id)


@users_router.post("/{user_id}/deactivate", response=UserOut)
def deactivate_user(request, user_id: UserId):
    """Deactivate a person and end their sessions."""
    _require_admin(request.auth)
    person = selectors.person_get(actor=request.auth, user_id=user_id)
    return services.user_deactivate(user=person, actor=request.auth, request=request)


@tokens_router.get("", response=TokenList)
def list_tokens(request):
    """The caller's own API tokens, newest first; secrets are never shown again."""
    return {"items": selectors.token_list(user=request.auth)}


@tokens_router.delete("/{token_id}", response={204: None})
def revoke_token(request, token_id: TokenId):
    """Revoke one of the caller's own tokens."""
    token = selectors.token_get(user=request.auth, token_id=token_id)
    api_tokens.token_revoke(token=token, actor=request.auth, request=request)
