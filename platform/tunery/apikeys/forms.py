from django import forms
from django.utils import timezone

from tunery.orgs.roles import Scope


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Scope.READ, Scope.FINE_TUNE, Scope.INFERENCE],
    )
    expires_at = forms.DateTimeField(
        required=False,
        help_text="Optional. After this moment the key stops working.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def clean_expires_at(self):
        value = self.cleaned_data["expires_at"]
        if value is not None and value <= timezone.now():
            raise forms.ValidationError("Choose a moment in the future.")
        return value
