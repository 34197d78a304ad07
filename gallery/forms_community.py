from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UserChangeForm

from gallery import provenance, ratelimit, verification
from gallery.forms import CleanImageField
from gallery.models import BlockedStyle, Report, SourceImage


class RedialForm(forms.Form):
    """New settings for a finished artwork: a re-dial of its kept render, or a re-render."""

    strength = forms.FloatField(
        min_value=0.1,
        max_value=1.0,
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05", "min": "0.1", "max": "1"}),
    )
    preserve_color = forms.BooleanField(required=False, label="Keep the photo's colours")


class ReportForm(forms.Form):
    reason = forms.ChoiceField(choices=Report.Reason.choices, widget=forms.RadioSelect, label="What is wrong?")
    details = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Anything a moderator should know",
    )


class ModerationForm(forms.Form):
    """A moderator's action from the queue. The reason goes into the audit log."""

    ACTIONS = [("hide", "Hide item"), ("restore", "Restore item"), ("dismiss", "Dismiss reports"), ("ban", "Ban user")]

    action = forms.ChoiceField(choices=ACTIONS)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class StyleCreditForm(forms.ModelForm):
    """The uploader's credit for a style image, shown on public pages."""

    source = forms.URLField(required=False, max_length=500, assume_scheme="https", label="Source (a link)")

    class Meta:
        model = SourceImage
        fields = ("title", "artist", "source", "licence")


class BlockedStyleForm(forms.ModelForm):
    """Block a work by its hash, or by an image of it (the hash is computed)."""

    # The site's upload field: the same byte and pixel limits, checked before the image is decoded.
    image = CleanImageField(required=False, help_text="An image of the work; fills in the hash.")

    class Meta:
        model = BlockedStyle
        fields = ("perceptual_hash", "note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["perceptual_hash"].required = False

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("image")
        if upload:
            cleaned["perceptual_hash"] = provenance.perceptual_hash(upload.clean_image.image)
            self.instance.perceptual_hash = cleaned["perceptual_hash"]
        if not cleaned.get("perceptual_hash") and "image" not in self.errors:
            raise forms.ValidationError("Give a perceptual hash or an image of the work.")
        return cleaned


class AdminUserChangeForm(UserChangeForm):
    """The admin's user form: an address another account has (in any case) is a form error. The database refuses it
    anyway (a unique index on lower(email), migration 0015)."""

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        others = get_user_model().objects.exclude(pk=self.instance.pk)
        if email and others.filter(email__iexact=email).exists():
            raise forms.ValidationError("Another account has this e-mail address.", code="unique")
        return email


class DeleteAccountForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, label="Your password, to confirm")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


SUSPENDED_MESSAGE = "This account is suspended: a moderator banned it. You cannot log in with it."


class LoginFailuresMixin:
    """For a log-in form: count each failure against the rate limits, and tell a banned user why they are refused.

    Django's backend refuses an inactive account as if the password were wrong; a banned account is inactive, and so
    is one whose e-mail address is not confirmed yet. Only someone who typed that account's right password learns
    which.
    """

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError as error:
            ratelimit.count_login_failure(self.request)
            refused = self._refused_account() if error.code == "invalid_login" else None
            if refused is not None and verification.awaiting_verification(refused):
                raise forms.ValidationError(verification.UNCONFIRMED_MESSAGE, code="unconfirmed") from None
            if refused is not None:
                raise forms.ValidationError(SUSPENDED_MESSAGE, code="suspended") from None
            raise

    def _refused_account(self):
        """The inactive account the right password was given for: banned, or awaiting its e-mail confirmation."""
        model = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: self.cleaned_data.get("username")}).first()
        if user is not None and not user.is_active and user.check_password(self.cleaned_data.get("password")):
            return user
        return None


class LoginForm(LoginFailuresMixin, AuthenticationForm):
    pass


class AdminLoginForm(LoginFailuresMixin, AdminAuthenticationForm):
    pass
