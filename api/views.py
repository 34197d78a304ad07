"""The profile's API token pages: create one (shown once, on the page that answers the POST) and revoke one."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from api.models import ApiToken


class TokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("name",)


@login_required
@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the token a name, at most 80 characters, so you can tell it apart later.")
        return redirect("gallery:profile")
    token, raw = ApiToken.issue(request.user, form.cleaned_data["name"])
    # Rendered, not redirected: the token is never stored, so this answer is the only place it appears.
    response = render(request, "api/token_created.html", {"token": token, "raw": raw})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user_id=request.user.pk)
    token.delete()
    messages.info(request, f"The token “{token.name}” was revoked; programs using it can no longer sign in.")
    return redirect("gallery:profile")
