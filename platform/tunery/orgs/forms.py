from django import forms

from tunery.orgs.models import Organization
from tunery.orgs.roles import Role

INVITABLE_ROLES = [(r.value, r.label) for r in Role if r != Role.OWNER]


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["name"]


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=INVITABLE_ROLES, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=INVITABLE_ROLES)
