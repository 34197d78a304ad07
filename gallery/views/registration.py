"""Sign-up, the e-mailed confirmation link that activates a new account, and asking for a new link."""

from django.contrib import messages
from django.contrib.auth import login
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse

from gallery import ratelimit, services, verification
from gallery.forms import ResendVerificationForm, SignUpForm
from gallery.ratelimit import limit_password_resets, limit_posts, limit_signups


def _mail_link(request, user) -> None:
    link = request.build_absolute_uri(reverse("gallery:verify_email", args=[verification.make_token(user)]))
    verification.send_link(user, link)


def _show_sent(request, email: str, *, resent: bool):
    # Redirect after the POST, so reloading the page sends no second mail; the page names the address it was for.
    request.session["verification_sent"] = {"email": email, "resent": resent}
    return redirect("gallery:verification_sent")


def verification_sent(request):
    sent = request.session.get("verification_sent")
    if sent is None:
        return redirect("gallery:resend_verification")
    return render(request, "registration/verify_sent.html", sent)


@limit_posts("signup_attempt")
@limit_signups
def signup(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        # One transaction from validation to insert: the form's lock on the e-mail address holds until commit.
        with transaction.atomic():
            user = form.save() if form.is_valid() else None
            if user is not None:
                services.open_unconfirmed_account(user)
        if user is not None:
            ratelimit.count_signup(request)
            _mail_link(request, user)
            return _show_sent(request, user.email, resent=False)
    return render(request, "registration/signup.html", {"form": form})


def verify_email(request, token: str):
    try:
        user, activated = verification.confirm(token)
    except verification.VerificationError as exc:
        return render(request, "registration/verify_resend.html", {"form": ResendVerificationForm(), "problem": exc})
    if not activated:
        messages.info(request, "Your e-mail address is already confirmed. Log in to continue.")
        return redirect("login")
    login(request, user)
    messages.success(request, "Your e-mail address is confirmed. Welcome to Atelier: upload a photo to paint your first picture.")
    return redirect("gallery:job_new")


# Each resend is a mail to an address: limited like password-reset mails, per client and per address.
@limit_password_resets
def resend_verification(request):
    form = ResendVerificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = verification.account_to_resend(form.cleaned_data["email"])
        if user is not None:
            _mail_link(request, user)
        # The same answer whether or not the address has an account, so the form reveals nobody's address.
        return _show_sent(request, form.cleaned_data["email"], resent=True)
    return render(request, "registration/verify_resend.html", {"form": form})
