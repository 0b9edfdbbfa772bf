"""Ticket forms for the agent workspace and the portal: shape only, the services decide."""

from django import forms

from .models import BODY_MAX, SUBJECT_MAX, Ticket

ANY = ""
ME = "me"
UNASSIGNED = "unassigned"


def _person_choices(people) -> list[tuple[str, str]]:
    return [(str(person.pk), person.display_name) for person in people]


def _team_choices(teams) -> list[tuple[str, str]]:
    return [(str(team.pk), team.name) for team in teams]


def _id_or_none(value: str) -> int | None:
    return int(value) if value else None


class TicketFilterForm(forms.Form):
    """The workspace list's filters; every field is optional and invalid values are ignored."""

    q = forms.CharField(label="Search", max_length=200, required=False)
    status = forms.ChoiceField(label="Status", required=False)
    assignee = forms.ChoiceField(label="Assignee", required=False)
    team = forms.ChoiceField(label="Team", required=False)

    def __init__(self, *args, staff, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update({"type": "search", "placeholder": "Words or #number"})
        self.fields["status"].choices = [(ANY, "Any status"), *Ticket.Status.choices]
        self.fields["assignee"].choices = [
            (ANY, "Anyone"),
            (ME, "Me"),
            (UNASSIGNED, "Unassigned"),
            *_person_choices(staff),
        ]
        self.fields["team"].choices = [(ANY, "Any team"), *_team_choices(teams)]

    def selector_filters(self, *, user) -> dict:
        """The keyword arguments of `ticket_list` that the valid fields ask for."""
        self.is_valid()
        data = self.cleaned_data
        filters: dict = {"status": data.get("status") or None, "q": data.get("q") or None}
        assignee = data.get("assignee")
        if assignee == ME:
            filters["assignee_id"] = user.pk
        elif assignee == UNASSIGNED:
            filters["unassigned"] = True
        elif assignee:
            filters["assignee_id"] = int(assignee)
        filters["team_id"] = _id_or_none(data.get("team"))
        return filters


class TicketCreateForm(forms.Form):
    """A ticket opened by staff on a requester's behalf."""

    subject = forms.CharField(label="Subject", max_length=SUBJECT_MAX)
    description = forms.CharField(
        label="Description",
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    requester_email = forms.EmailField(
        label="Requester email",
        max_length=254,
        help_text="A contact of this helpdesk; a new address becomes a new contact.",
    )
    priority = forms.ChoiceField(
        label="Priority", choices=Ticket.Priority.choices, initial=Ticket.Priority.NORMAL
    )


class PortalTicketForm(forms.Form):
    """A ticket a contact opens for themself."""

    subject = forms.CharField(label="Subject", max_length=SUBJECT_MAX)
    description = forms.CharField(
        label="Description",
        max_length=BODY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What happened, what you expected, and anything you already tried.",
    )


class CommentForm(forms.Form):
    """A public reply or an internal note; the form's prefix tells the two apart on one page."""

    body = forms.CharField(
        label="Message", max_length=BODY_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args, label: str = "Message", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].label = label


class AssignForm(forms.Form):
    """Who works on the ticket: an agent and a team, each optional."""

    assignee = forms.ChoiceField(label="Assignee", required=False)
    team = forms.ChoiceField(label="Team", required=False)

    def __init__(self, *args, staff, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [(ANY, "Unassigned"), *_person_choices(staff)]
        self.fields["team"].choices = [(ANY, "No team"), *_team_choices(teams)]

    @classmethod
    def for_ticket(cls, ticket: Ticket, **kwargs) -> "AssignForm":
        initial = {"assignee": str(ticket.assignee_id or ""), "team": str(ticket.team_id or "")}
        return cls(initial=initial, **kwargs)

    def service_arguments(self) -> dict:
        return {
            "assignee_id": _id_or_none(self.cleaned_data["assignee"]),
            "team_id": _id_or_none(self.cleaned_data["team"]),
        }


class StatusForm(forms.Form):
    """Status and priority, changed together."""

    status = forms.ChoiceField(label="Status", choices=Ticket.Status.choices)
    priority = forms.ChoiceField(label="Priority", choices=Ticket.Priority.choices)

    @classmethod
    def for_ticket(cls, ticket: Ticket) -> "StatusForm":
        return cls(initial={"status": ticket.status, "priority": ticket.priority})
