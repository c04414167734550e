from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tunery.apikeys.forms import ApiKeyForm
from tunery.apikeys.models import ApiKey
from tunery.orgs.access import member_required
from tunery.orgs.roles import Scope
from tunery.orgs.tenancy import get_for_member, scoped


@member_required(Scope.ADMIN)
def key_list(request):
    form = ApiKeyForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        key, new_secret = ApiKey.issue(
            request.organization,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by=request.user,
            expires_at=form.cleaned_data["expires_at"],
        )
        messages.success(request, f"Created “{key.name}”. Copy the key now: it will not be shown again.")
        form = ApiKeyForm()
    keys = scoped(ApiKey, request.organization).select_related("created_by")
    return render(request, "apikeys/list.html", {"form": form, "keys": keys, "new_secret": new_secret})


@member_required(Scope.ADMIN)
@require_POST
def revoke(request, key_id: str):
    key = get_for_member(request, ApiKey, key_id)
    key.revoke()
    messages.success(request, f"Revoked “{key.name}”: it no longer works.")
    return redirect("apikeys:list")
