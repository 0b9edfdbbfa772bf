"""Fixtures: two tenants, people of every role in each, clients bound to a tenant's host."""

import pytest
from django.test import Client

from keydesk.accounts.models import User
from keydesk.accounts.services import token_create, user_create
from keydesk.tenants.services import tenant_create

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "manager", "supervisor", "agent")


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 at production cost is exercised by tests/accounts/test_hashing.py; everywhere
    # else a cheap hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


def host_of(tenant) -> str:
    return f"{tenant.slug}.localhost"


class TenantWorld:
    """One tenant and a person of every role, plus two contacts."""

    def __init__(self, slug: str):
        self.tenant, self.admin, _ = tenant_create(
            slug=slug, name=slug.title(), admin_email=f"admin@{slug}.test", admin_password=PASSWORD
        )
        self.people = {"admin": self.admin}
        for role in ROLES[1:]:
            self.people[role] = user_create(
                tenant=self.tenant,
                actor=None,
                email=f"{role}@{slug}.test",
                kind="staff",
                role=role,
                name=f"{role.title()} {slug.title()}",
                password=PASSWORD,
            )
        self.contact = user_create(
            tenant=self.tenant,
            actor=None,
            email=f"contact@{slug}.test",
            kind="contact",
            name=f"Carla {slug.title()}",
            password=PASSWORD,
        )
        self.other_contact = user_create(
            tenant=self.tenant,
            actor=None,
            email=f"other@{slug}.test",
            kind="contact",
            name=f"Otto {slug.title()}",
            password=PASSWORD,
        )
        self.people["contact"] = self.contact

    @property
    def host(self) -> str:
        return host_of(self.tenant)

    def __getattr__(self, role):
        try:
            return self.__dict__["people"][role]
        except KeyError:
            raise AttributeError(role) from None

    def client(self, user: User | None = None) -> Client:
        """A test client on this tenant's host, signed in as `user` when given."""
        client = Client(HTTP_HOST=self.host)
        if user is not None:
            client.force_login(user, backend="keydesk.accounts.backends.TenantUserBackend")
        return client

    def api(self, user: User) -> Client:
        """A test client on this tenant's host that sends `user`'s bearer token."""
        _, raw = token_create(user=user, actor=None, name="test")
        return Client(HTTP_HOST=self.host, HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def acme(db) -> TenantWorld:
    return TenantWorld("acme")


@pytest.fixture
def globex(db) -> TenantWorld:
    """The second tenant: every isolation test checks nothing of it leaks into acme."""
    return TenantWorld("globex")


@pytest.fixture
def acme_tx(transactional_db) -> TenantWorld:
    """`acme` for tests whose work crosses transactions (the task worker, threads, a live server)."""
    return TenantWorld("acme")
