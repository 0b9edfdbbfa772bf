"""Teams: listed for administrators, managed by managers and admins."""

import pytest

from keydesk.accounts.models import Team
from keydesk.accounts.services import team_create

from .conftest import events_of


@pytest.fixture
def team(acme):
    return team_create(tenant=acme.tenant, actor=None, name="Hardware", members=[acme.agent])


@pytest.mark.parametrize("role", ["admin", "manager", "supervisor"])
def test_team_list_renders_for_administrators(acme, team, role):
    html = acme.client(getattr(acme, role)).get("/account/teams/").content.decode()
    assert "Hardware" in html and "Agent Acme" in html


@pytest.mark.parametrize("role", ["agent", "contact"])
def test_team_pages_are_404_for_others(acme, team, role):
    client = acme.client(getattr(acme, role))
    assert client.get("/account/teams/").status_code == 404
    assert client.get("/account/teams/new").status_code == 404
    assert client.get(f"/account/teams/{team.pk}/").status_code == 404
    assert client.post(f"/account/teams/{team.pk}/delete").status_code == 404
    assert Team.objects.filter(pk=team.pk).exists()


def test_supervisor_sees_teams_read_only(acme, team):
    client = acme.client(acme.supervisor)
    html = client.get("/account/teams/").content.decode()
    assert "New team" not in html and ">Edit" not in html
    assert client.get(f"/account/teams/{team.pk}/").status_code == 404
    assert client.post("/account/teams/new", {"name": "Mine"}).status_code == 404


def test_manager_creates_a_team(acme):
    client = acme.client(acme.manager)
    form = client.get("/account/teams/new").content.decode()
    assert "<legend>Members</legend>" in form and "Supervisor Acme" in form
    assert "contact@acme.test" not in form
    response = client.post(
        "/account/teams/new", {"name": "Billing", "members": [acme.agent.pk, acme.supervisor.pk]}
    )
    assert response.url == "/account/teams/"
    team = Team.objects.get(tenant=acme.tenant, name="Billing")
    assert set(team.members.all()) == {acme.agent, acme.supervisor}
    assert events_of(acme, "team.created").get().actor == acme.manager


def test_team_name_must_be_unique(acme, team):
    response = acme.client(acme.manager).post("/account/teams/new", {"name": "hardware"})
    assert response.context["form"].errors["name"] == ["A team with this name exists."]


def test_members_must_be_staff_of_this_tenant(acme, globex):
    client = acme.client(acme.manager)
    response = client.post(
        "/account/teams/new", {"name": "Mixed", "members": [acme.contact.pk, globex.agent.pk]}
    )
    assert response.context["form"].errors["members"]
    assert not Team.objects.filter(name="Mixed").exists()


def test_edit_a_team(acme, team):
    client = acme.client(acme.admin)
    page = client.get(f"/account/teams/{team.pk}/").content.decode()
    assert f'value="{acme.agent.pk}"' in page and "checked" in page
    client.post(f"/account/teams/{team.pk}/", {"name": "Devices", "members": [acme.manager.pk]})
    team.refresh_from_db()
    assert team.name == "Devices"
    assert list(team.members.all()) == [acme.manager]
    assert events_of(acme, "team.updated").count() == 1


def test_delete_a_team(acme, team):
    response = acme.client(acme.manager).post(f"/account/teams/{team.pk}/delete")
    assert response.url == "/account/teams/"
    assert not Team.objects.filter(pk=team.pk).exists()
    assert events_of(acme, "team.deleted").count() == 1


def test_teams_of_another_tenant_are_404(acme, globex, team):
    client = globex.client(globex.admin)
    assert client.get(f"/account/teams/{team.pk}/").status_code == 404
    assert client.post(f"/account/teams/{team.pk}/", {"name": "Stolen"}).status_code == 404
    assert client.post(f"/account/teams/{team.pk}/delete").status_code == 404
    assert "Hardware" not in client.get("/account/teams/").content.decode()
    team.refresh_from_db()
    assert team.name == "Hardware"
