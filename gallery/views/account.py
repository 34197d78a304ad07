"""Account control: export one's data, delete one's account."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import redirect, render

from gallery import accounts, services
from gallery.forms_community import DeleteAccountForm


@login_required
def account_export(request):
    archive = accounts.export_user_data(request.user)
    return FileResponse(archive, as_attachment=True, filename=f"atelier-{request.user.get_username()}.zip")


@login_required
def account_delete(request):
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        services.delete_account(user)
        messages.info(request, "Your account, your pictures and every file you uploaded were deleted.")
        return redirect("gallery:home")
    return render(request, "gallery/community/account_delete.html", {"form": form})
