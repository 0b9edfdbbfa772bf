"""Event log filters: shape only; the selector applies them within the tenant."""

from django import forms

from .actions import EventAction


class EventFilterForm(forms.Form):
    """Every filter is optional; invalid values are reported and left out."""

    actor = forms.CharField(label="Actor email", max_length=254, required=False)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any action"), *EventAction.choices]
    )
    target = forms.CharField(label="Target", max_length=300, required=False)
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def selector_filters(self) -> dict:
        """The keyword arguments of `event_list` that the valid fields ask for."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "actor_q": data.get("actor") or None,
            "action": data.get("action") or None,
            "target_q": data.get("target") or None,
            "since": data.get("since"),
            "until": data.get("until"),
        }
