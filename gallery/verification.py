"""E-mail verification at sign-up: a new account stays inactive until its owner opens the link mailed to them.

The link carries the account's id and address, signed with the secret key and timestamped (django.core.signing):
it cannot be forged, names one address (changing the address voids it), and expires after PASSWORD_RESET_TIMEOUT,
as long as a password-reset link lives. An account awaits verification while its profile says so (set at sign-up, cleared by the link), it is inactive and
has never logged in; a banned account is inactive too, and the audit log of its ban keeps a link from reactivating
it; an account an administrator deactivated was never awaiting, so no link is mailed for it and none activates it.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from gallery.models import ModerationAction, Profile, target_label

SALT = "gallery.verification.email"
UNCONFIRMED_MESSAGE = (
    "Confirm your e-mail address first: open the link we sent when you signed up. "
    "No e-mail? Ask for a new link below."
)


class VerificationError(Exception):
    """A verification link that cannot activate an account; the message says why, for the person who opened it."""


def awaiting_verification(user) -> bool:
    if user.is_active or user.last_login is not None:
        return False
    if not Profile.objects.filter(user=user, awaiting_confirmation=True).exists():
        return False
    return not ModerationAction.objects.filter(kind=ModerationAction.Kind.BAN, target=target_label(user)).exists()


def make_token(user) -> str:
    return signing.dumps({"user": user.pk, "email": user.email.casefold()}, salt=SALT)


def send_link(user, link: str) -> None:
    """Mail ``link`` (the absolute address of make_token's token) to the account's address."""
    context = {"user": user, "link": link, "days": round(settings.PASSWORD_RESET_TIMEOUT / 86400)}
    subject = render_to_string("registration/verify_email_subject.txt", context).strip()
    send_mail(subject, render_to_string("registration/verify_email.txt", context), None, [user.email])


def confirm(token: str) -> tuple:
    """Activate the account a token names: ``(user, True)``, or ``(user, False)`` for one confirmed before.

    Raises VerificationError for a link that expired, was altered, or names an address the account no longer has.
    """
    try:
        claim = signing.loads(token, salt=SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
    except signing.SignatureExpired:
        raise VerificationError("This confirmation link has expired. Enter your e-mail address for a new one.") from None
    except signing.BadSignature:
        raise VerificationError(
            "This confirmation link is not valid: it may be cut short or altered. Copy the whole link from the "
            "e-mail, or ask for a new one."
        ) from None
    user = get_user_model().objects.filter(pk=claim["user"], email__iexact=claim["email"]).first()
    if user is None or not (user.is_active or awaiting_verification(user)):
        raise VerificationError("This confirmation link no longer belongs to an account that can be confirmed.")
    if user.is_active:
        return user, False
    with transaction.atomic():
        user.is_active = True
        user.save(update_fields=["is_active"])
        Profile.objects.filter(user=user).update(awaiting_confirmation=False)
    return user, True


def account_to_resend(email: str):
    """The account at ``email`` that still awaits verification, or None."""
    user = get_user_model().objects.filter(email__iexact=email, is_active=False, last_login__isnull=True,
                                           profile__awaiting_confirmation=True).first()
    return user if user is not None and awaiting_verification(user) else None
