"""Account administration: the agent list and the contact list."""

import pytest

from keydesk.accounts.models import User

from .conftest import events_of

PEOPLE_PAGES = ("/account/agents/", "/account/contacts/")


@pytest.mark.parametrize("role", ["admin", "manager", "supervisor"])
def test_people_lists_render_for_administrators(acme, role):
    client = acme.client(getattr(acme, role))
    agents = client.get("/account/agents/").content.decode()
    assert "agent@acme.test" in agents and "contact@acme.test" not in agents
    contacts = client.get("/account/contacts/").content.decode()
    assert "contact@acme.test" in contacts and "agent@acme.test" not in contacts


@pytest.mark.parametrize("role", ["agent", "contact"])
def test_people_lists_are_404_for_others(acme, role):
    client = acme.client(getattr(acme, role))
    for page in PEOPLE_PAGES:
        assert client.get(page).status_code == 404
        assert client.get(page + "new").status_code == 404
    assert client.get(f"/account/agents/{acme.agent.pk}/").status_code == 404
    assert client.post(f"/account/agents/{acme.manager.pk}/deactivate").status_code == 404


def test_people_search(acme):
    client = acme.client(acme.admin)
    html = client.get("/account/agents/", {"q": "SUPERVISOR"}).content.decode()
    assert "supervisor@acme.test" in html and "agent@acme.test" not in html
    html = client.get("/account/contacts/", {"q": "Otto"}).content.decode()
    assert "other@acme.test" in html and "contact@acme.test" not in html


def test_status_column_shows_inactive_people(acme):
    acme.agent.is_active = False
    acme.agent.save()
    html = acme.client(acme.admin).get("/account/agents/").content.decode()
    row = html.split("agent@acme.test", 1)[1].split("</tr>", 1)[0]
    assert "Inactive" in row and ">Reactivate" in row


def test_supervisor_sees_no_management_buttons(acme):
    html = acme.client(acme.supervisor).get("/account/agents/").content.decode()
    assert "Add agent" not in html and ">Edit" not in html and "Deactivate" not in html
    assert acme.client(acme.supervisor).get("/account/agents/new").status_code == 404


def test_admin_creates_an_agent(acme):
    client = acme.client(acme.admin)
    form = client.get("/account/agents/new").content.decode()
    for label in (
        "Email",
        "Name",
        "Role",
        "Language",
        "Phone",
        "This user is a guest",
        "Initial password",
    ):
        assert f">{label}" in form
    response = client.post(
        "/account/agents/new",
        {
            "email": "New.Agent@acme.test",
            "name": "Nora",
            "role": "supervisor",
            "language": "fr-CA",
            "phone": "+1 555 0100",
            "is_guest": "on",
            "password": "a long enough passphrase",
        },
    )
    assert response.url == "/account/agents/"
    person = User.objects.get(tenant=acme.tenant, email="new.agent@acme.test")
    assert (person.kind, person.role, person.is_guest, person.language) == (
        "staff",
        "supervisor",
        True,
        "fr-CA",
    )
    assert person.check_password("a long enough passphrase")
    event = events_of(acme, "user.created").filter(actor=acme.admin).get()
    assert event.details == {"kind": "staff", "role": "supervisor", "is_guest": True}
    assert "passphrase" not in str(event.details)


def test_create_without_password_leaves_none(acme):
    acme.client(acme.admin).post(
        "/account/agents/new", {"email": "nopass@acme.test", "role": "agent"}
    )
    assert not User.objects.get(email="nopass@acme.test").has_usable_password()


def test_create_errors_land_on_the_fields(acme):
    client = acme.client(acme.admin)
    response = client.post("/account/agents/new", {"email": "agent@acme.test", "role": "agent"})
    assert response.context["form"].errors["email"] == ["A person with this email already exists."]
    response = client.post(
        "/account/agents/new", {"email": "weak@acme.test", "role": "agent", "password": "short"}
    )
    assert response.context["form"].errors["password"]
    assert not User.objects.filter(email="weak@acme.test").exists()


def test_manager_cannot_create_or_edit_admins(acme):
    client = acme.client(acme.manager)
    form = client.get("/account/agents/new").content.decode()
    assert 'value="admin"' not in form and 'value="agent"' in form
    response = client.post("/account/agents/new", {"email": "boss@acme.test", "role": "admin"})
    assert response.context["form"].errors["role"]
    assert not User.objects.filter(email="boss@acme.test").exists()
    assert client.get(f"/account/agents/{acme.admin.pk}/").status_code == 404
    assert client.post(f"/account/agents/{acme.admin.pk}/deactivate").status_code == 404
    acme.admin.refresh_from_db()
    assert acme.admin.is_active


def test_edit_an_agent(acme):
    client = acme.client(acme.admin)
    page = client.get(f"/account/agents/{acme.agent.pk}/").content.decode()
    assert 'value="agent@acme.test"' in page and "Initial password" not in page
    response = client.post(
        f"/account/agents/{acme.agent.pk}/",
        {
            "email": "agent@acme.test",
            "name": "Agnes",
            "role": "supervisor",
            "language": "de",
            "phone": "",
            "is_guest": "",
        },
    )
    assert response.url == "/account/agents/"
    acme.agent.refresh_from_db()
    assert (acme.agent.name, acme.agent.role, acme.agent.language) == ("Agnes", "supervisor", "de")
    changes = events_of(acme, "user.updated").get().details["changes"]
    assert changes["role"] == ["agent", "supervisor"]


def test_the_last_admin_keeps_the_role(acme):
    response = acme.client(acme.admin).post(
        f"/account/agents/{acme.admin.pk}/",
        {
            "email": "admin@acme.test",
            "name": "Administrator",
            "role": "agent",
        },
    )
    assert response.context["form"].errors["role"]
    acme.admin.refresh_from_db()
    assert acme.admin.role == "admin"


def test_deactivate_and_reactivate(acme):
    client = acme.client(acme.admin)
    response = client.post(f"/account/agents/{acme.agent.pk}/deactivate")
    assert response.url == "/account/agents/"
    acme.agent.refresh_from_db()
    assert not acme.agent.is_active
    client.post(f"/account/agents/{acme.agent.pk}/reactivate")
    acme.agent.refresh_from_db()
    assert acme.agent.is_active
    assert events_of(acme, "user.deactivated").count() == 1
    assert events_of(acme, "user.reactivated").count() == 1


def test_deactivated_agent_loses_the_session(acme):
    agent_client = acme.client(acme.agent)
    assert agent_client.get("/tickets/").status_code == 200
    acme.client(acme.admin).post(f"/account/agents/{acme.agent.pk}/deactivate")
    assert agent_client.get("/tickets/").status_code == 302


def test_deactivating_oneself_is_refused_with_a_message(acme):
    client = acme.client(acme.admin)
    response = client.post(f"/account/agents/{acme.admin.pk}/deactivate", follow=True)
    assert "You cannot deactivate your own account." in response.content.decode()
    acme.admin.refresh_from_db()
    assert acme.admin.is_active


def test_deactivate_needs_post(acme):
    assert (
        acme.client(acme.admin).get(f"/account/agents/{acme.agent.pk}/deactivate").status_code
        == 405
    )


def test_contact_create_has_no_role(acme):
    client = acme.client(acme.manager)
    form = client.get("/account/contacts/new").content.decode()
    assert "Role" not in form and "This user is a guest" in form
    response = client.post("/account/contacts/new", {"email": "client@example.com", "name": "C"})
    assert response.url == "/account/contacts/"
    person = User.objects.get(email="client@example.com")
    assert person.kind == "contact" and person.role == ""


def test_contact_edit_deactivate(acme):
    client = acme.client(acme.manager)
    url = f"/account/contacts/{acme.contact.pk}/"
    client.post(url, {"email": "contact@acme.test", "name": "Carla C.", "phone": "123"})
    acme.contact.refresh_from_db()
    assert acme.contact.name == "Carla C." and acme.contact.phone == "123"
    client.post(url + "deactivate")
    acme.contact.refresh_from_db()
    assert not acme.contact.is_active


def test_a_person_is_only_reachable_under_their_own_kind(acme):
    client = acme.client(acme.admin)
    assert client.get(f"/account/agents/{acme.contact.pk}/").status_code == 404
    assert client.get(f"/account/contacts/{acme.agent.pk}/").status_code == 404
    assert client.post(f"/account/contacts/{acme.agent.pk}/deactivate").status_code == 404


def test_people_of_another_tenant_are_404(acme, globex):
    client = globex.client(globex.admin)
    for url in (f"/account/agents/{acme.agent.pk}/", f"/account/contacts/{acme.contact.pk}/"):
        assert client.get(url).status_code == 404
        assert client.post(url, {"email": "x@y.test", "role": "agent"}).status_code == 404
        assert client.post(url + "deactivate").status_code == 404
        assert client.post(url + "reactivate").status_code == 404
    acme.agent.refresh_from_db()
    assert acme.agent.is_active and acme.agent.email == "agent@acme.test"
    html = client.get("/account/agents/").content.decode()
    assert "acme.test" not in html
