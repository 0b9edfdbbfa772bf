"""People over the API: admin tokens only."""

import pytest

from keydesk.accounts.models import User
from keydesk.eventlog.models import Event

from .utils import fields_of, post_json, problem_of

USER_KEYS = {
    "id",
    "email",
    "name",
    "kind",
    "role",
    "is_guest",
    "language",
    "phone",
    "is_active",
    "email_verified_at",
    "created_at",
}


def test_admin_lists_people(acme, globex):
    body = acme.api(acme.admin).get("/api/v1/users").json()
    emails = {u["email"] for u in body["items"]}
    assert body["count"] == 6 == len(emails)
    assert acme.contact.email in emails and acme.agent.email in emails
    assert not any(e.endswith("globex.test") for e in emails)
    assert set(body["items"][0]) == USER_KEYS
    assert (body["page"], body["page_size"]) == (1, 50)


def test_list_filters_and_pages(acme):
    client = acme.api(acme.admin)
    staff = client.get("/api/v1/users?kind=staff").json()
    assert staff["count"] == 4 and {u["kind"] for u in staff["items"]} == {"staff"}
    contacts = client.get("/api/v1/users?kind=contact").json()
    assert {u["email"] for u in contacts["items"]} == {acme.contact.email, acme.other_contact.email}
    assert all(u["role"] is None for u in contacts["items"])
    assert [u["email"] for u in client.get("/api/v1/users?q=otto").json()["items"]] == [
        acme.other_contact.email
    ]
    page = client.get("/api/v1/users?page_size=4&page=2").json()
    assert page["count"] == 6 and len(page["items"]) == 2
    assert fields_of(problem_of(client.get("/api/v1/users?kind=robot"), 422)) == ["kind"]


@pytest.mark.parametrize("role", ["manager", "supervisor", "agent", "contact"])
def test_only_admins_use_the_users_endpoints(acme, role):
    client = acme.api(acme.people[role])
    user_id = acme.other_contact.pk
    problem_of(client.get("/api/v1/users"), 403)
    problem_of(client.get(f"/api/v1/users/{user_id}"), 403)
    problem_of(post_json(client, "/api/v1/users", {"email": "n@acme.test", "kind": "contact"}), 403)
    problem_of(client.post(f"/api/v1/users/{user_id}/deactivate"), 403)
    assert not User.objects.filter(email="n@acme.test").exists()
    assert User.objects.get(pk=user_id).is_active


def test_admin_creates_people(acme):
    client = acme.api(acme.admin)
    response = post_json(
        client,
        "/api/v1/users",
        {
            "email": "Nina@Acme.test",
            "kind": "staff",
            "role": "agent",
            "name": "Nina",
            "language": "fr-CA",
            "phone": "+1 555 0100",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == USER_KEYS
    assert (body["email"], body["kind"], body["role"], body["language"]) == (
        "nina@acme.test",
        "staff",
        "agent",
        "fr-CA",
    )
    assert body["is_active"] is True and body["email_verified_at"] is None
    created = User.objects.get(pk=body["id"])
    assert created.tenant == acme.tenant and not created.has_usable_password()
    assert Event.objects.filter(
        tenant=acme.tenant, action="user.created", target_id=str(created.pk)
    ).exists()

    guest = post_json(
        client, "/api/v1/users", {"email": "guest@acme.test", "kind": "contact", "is_guest": True}
    ).json()
    assert guest["is_guest"] is True and guest["role"] is None


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"email": "x@acme.test", "kind": "robot"}, "kind", 422),
        ({"email": "x@acme.test"}, "kind", 422),
        ({"email": "x@acme.test", "kind": "staff", "role": "boss"}, "role", 422),
        ({"email": "x@acme.test", "kind": "contact", "is_guest": "yes"}, "is_guest", 422),
        ({"email": "x@acme.test", "kind": "contact", "name": "n" * 201}, "name", 422),
        (
            {"email": "x@acme.test", "kind": "contact", "password": "hunter2hunter2"},
            "password",
            422,
        ),
        ({"email": "nope", "kind": "contact"}, "email", 400),
        ({"email": "x@acme.test", "kind": "staff"}, "role", 400),
        ({"email": "x@acme.test", "kind": "contact", "role": "agent"}, "role", 400),
        ({"email": "CONTACT@acme.test", "kind": "contact"}, "email", 409),
    ],
)
def test_create_bad_input(acme, payload, field, status):
    client = acme.api(acme.admin)
    counts = (User.objects.count(), Event.objects.count())
    body = problem_of(post_json(client, "/api/v1/users", payload), status)
    assert fields_of(body) == [field]
    assert (User.objects.count(), Event.objects.count()) == counts


def test_get_user(acme):
    body = acme.api(acme.admin).get(f"/api/v1/users/{acme.manager.pk}").json()
    assert (body["email"], body["role"]) == (acme.manager.email, "manager")


def test_unknown_and_other_tenants_users_are_404(acme, globex):
    client = acme.api(acme.admin)
    for user_id in (globex.agent.pk, 999_999):
        problem_of(client.get(f"/api/v1/users/{user_id}"), 404)
        problem_of(client.post(f"/api/v1/users/{user_id}/deactivate"), 404)
    assert User.objects.get(pk=globex.agent.pk).is_active
    problem_of(client.get("/api/v1/users/abc"), 422)


def test_admin_deactivates(acme):
    client = acme.api(acme.admin)
    response = client.post(f"/api/v1/users/{acme.agent.pk}/deactivate")
    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert not User.objects.get(pk=acme.agent.pk).is_active
    assert client.post(f"/api/v1/users/{acme.agent.pk}/deactivate").status_code == 200


def test_admin_cannot_deactivate_self(acme):
    body = problem_of(acme.api(acme.admin).post(f"/api/v1/users/{acme.admin.pk}/deactivate"), 400)
    assert body["code"] == "self_deactivation"
    assert User.objects.get(pk=acme.admin.pk).is_active
