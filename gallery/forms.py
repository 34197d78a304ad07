from dataclasses import replace

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.db import connection

from gallery import images, provenance
from gallery.models import Preset, Profile, SourceImage, StyleJob
from gallery.services import MIN_STYLE_SCALE, JobRequest, PreviewRequest

ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif"


class CleanImageField(forms.FileField):
    """A file field whose cleaned value is an images.CleanImage: decoded, oriented, stripped.

    ``max_side`` (px) caps the longest side, for endpoints that must stay cheap; ``style`` rejects images without
    any texture, which have no style to transfer, and works whose artist opted out (the blocklist).
    """

    widget = forms.ClearableFileInput(attrs={"accept": ACCEPT})

    def __init__(self, *args, max_side: int | None = None, style: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_side = max_side
        self.style = style

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if not uploaded:
            return None
        uploaded.seek(0)
        try:
            clean = images.clean_upload(
                uploaded,
                size=uploaded.size,
                max_bytes=settings.UPLOAD_MAX_BYTES,
                max_pixels=settings.UPLOAD_MAX_PIXELS,
                max_side=self.max_side,
            )
        except images.UploadError as exc:
            raise forms.ValidationError(str(exc), code="invalid_image") from None
        if self.style and images.is_flat(clean.image):
            raise forms.ValidationError(
                "This style image is a single flat colour, so there is no style to copy. Pick one with some texture.",
                code="flat_style",
            )
        if self.style:
            try:
                clean = replace(clean, perceptual_hash=provenance.check_style_allowed(clean.image))
            except provenance.BlockedStyleError as exc:
                raise forms.ValidationError(str(exc), code="blocked_style") from None
        uploaded.clean_image = clean
        return uploaded


class SignUpForm(UserCreationForm):
    """One account per e-mail address, compared case-insensitively. The view validates and saves in one transaction."""

    email = forms.EmailField(required=True, help_text="Used only to reset your password.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        # Two sign-ups with one address at once: the second waits here until the first commits, then sees it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"signup-email:{email.casefold()}"])
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail address already exists. Log in, or reset its password.", code="unique"
            )
        return email


class PresetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, preset: Preset) -> str:
        return str(preset)


class MyStyleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, source: SourceImage) -> str:
        return source.original_name or f"Style #{source.pk}"


METHOD_CHOICES = [
    (StyleJob.Method.FAST, "Fast (presets only)"),
    (StyleJob.Method.ARBITRARY, "Any style (about a second)"),
    (StyleJob.Method.OPTIMIZE, "High quality (minutes)"),
]
# The size at which the style image is encoded: a smaller encoding makes its brush strokes larger in the result.
STYLE_SCALE_CHOICES = [(768, "Fine (small strokes)"), (512, "Medium"), (320, "Bold (large strokes)")]
DEFAULT_STYLE_SCALE = 512
DEFAULT_BLEND_WEIGHT = 0.5
BLEND_PRESET, BLEND_STYLE = "preset", "style"


def my_styles(owner):
    """Style images the owner uploaded before and may reuse; a style a moderator hid is not reused."""
    return SourceImage.objects.filter(owner_id=owner.pk, kind=SourceImage.Kind.STYLE, hidden_at__isnull=True)


class StyleJobForm(forms.Form):
    content = CleanImageField(label="Your photo")
    preset = PresetChoiceField(
        queryset=Preset.objects.filter(is_active=True),
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
        label="Preset style",
    )
    my_style = MyStyleChoiceField(
        queryset=SourceImage.objects.none(), required=False, widget=forms.RadioSelect, empty_label=None,
        label="My styles",
    )
    style = CleanImageField(required=False, style=True, label="…or upload a new style image")
    method = forms.ChoiceField(
        choices=METHOD_CHOICES,
        initial=StyleJob.Method.FAST,
        help_text="Fast uses the preset's own network; Any style takes any painting in one pass.",
    )
    strength = forms.FloatField(
        min_value=0.1,
        max_value=1.0,
        initial=1.0,
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
    )
    preserve_color = forms.BooleanField(required=False, label="Keep the photo's colours")
    style_scale = forms.TypedChoiceField(
        coerce=int,
        choices=STYLE_SCALE_CHOICES,
        initial=DEFAULT_STYLE_SCALE,
        required=False,
        empty_value=DEFAULT_STYLE_SCALE,
        label="Brush strokes",
        help_text="Any-style method only.",
    )
    blend_with = forms.ChoiceField(required=False, label="Blend with a second style", help_text="Any-style method only.")
    blend_weight = forms.FloatField(
        min_value=0.05,
        max_value=0.95,
        initial=DEFAULT_BLEND_WEIGHT,
        required=False,
        label="Share of the second style",
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
    )
    max_side = forms.TypedChoiceField(coerce=int, label="Size (longest side)")

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        sizes = settings.JOB_SIZE_CHOICES
        self.fields["max_side"].choices = [(size, f"{size} px") for size in sizes]
        self.fields["max_side"].initial = sizes[0]
        presets = list(self.fields["preset"].queryset)
        styles = list(my_styles(owner))
        self.fields["my_style"].queryset = my_styles(owner)
        self.fields["blend_with"].choices = [
            ("", "No blend"),
            ("Presets", [(f"{BLEND_PRESET}:{preset.name}", str(preset)) for preset in presets]),
            ("My styles", [(f"{BLEND_STYLE}:{source.pk}", self.fields["my_style"].label_from_instance(source))
                           for source in styles]),
        ]
        if not presets:
            # Without presets only a style image can be used, and the fast method cannot take one.
            self.fields["method"].initial = StyleJob.Method.ARBITRARY

    def clean_blend_weight(self) -> float:
        value = self.cleaned_data["blend_weight"]
        return DEFAULT_BLEND_WEIGHT if value is None else value

    def clean_blend_with(self) -> Preset | SourceImage | None:
        value = self.cleaned_data["blend_with"]
        if not value:
            return None
        kind, key = value.split(":", 1)
        if kind == BLEND_PRESET:
            chosen = self.fields["preset"].queryset.filter(name=key).first()
        else:
            chosen = self.fields["my_style"].queryset.filter(pk=key).first()
        if chosen is None:  # removed since the form was shown
            raise forms.ValidationError("That style is no longer available; pick another.", code="invalid_choice")
        return chosen

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in ("preset", "my_style", "style", "blend_with")):
            return cleaned
        preset, blend = cleaned.get("preset"), cleaned.get("blend_with")
        first = [choice for choice in (preset, cleaned.get("my_style"), cleaned.get("style")) if choice]
        if len(first) != 1:
            raise forms.ValidationError("Pick exactly one style: a preset style, one of My styles, or a new upload.")
        method = cleaned.get("method")
        if method == StyleJob.Method.FAST and (not preset or blend):
            self.add_error(
                "method", "The fast method works with preset styles only, without a blend. Choose \"Any style\"."
            )
        if blend is None:
            return cleaned
        if method == StyleJob.Method.OPTIMIZE:
            self.add_error("blend_with", "Blending works with the \"Any style\" method only.")
        elif blend == first[0]:
            self.add_error("blend_with", "Pick a second style that differs from the first.")
        elif preset and isinstance(blend, Preset):
            self.add_error("blend_with", "Two presets cannot be blended; blend a preset with one of My styles.")
        return cleaned

    def to_request(self) -> JobRequest:
        data = self.cleaned_data
        style, blend = data.get("style"), data.get("blend_with")
        return JobRequest(
            content=data["content"].clean_image,
            content_name=data["content"].name,
            preset=data.get("preset"),
            style=style.clean_image if style else None,
            style_name=style.name if style else "",
            style_source=data.get("my_style"),
            method=data["method"],
            strength=data["strength"],
            preserve_color=data["preserve_color"],
            max_side=data["max_side"],
            style_scale=data["style_scale"],
            blend_preset=blend if isinstance(blend, Preset) else None,
            blend_style=blend if isinstance(blend, SourceImage) else None,
            blend_weight=data["blend_weight"] if blend else 0.0,
        )


class PreviewForm(StyleJobForm):
    """The job form's fields for a live preview: small images only, and the any-style method only."""

    content = CleanImageField(label="Your photo", max_side=settings.PREVIEW_SIDE)
    style = CleanImageField(required=False, style=True, max_side=2 * settings.PREVIEW_SIDE)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("method") != StyleJob.Method.ARBITRARY:
            self.add_error("method", "Live previews are for the \"Any style\" method.")
        return cleaned

    def to_preview(self) -> PreviewRequest:
        data = self.cleaned_data
        style, blend = data.get("style"), data.get("blend_with")
        # The preview is the result scaled down to PREVIEW_SIDE, so the style is encoded scaled down alike:
        # brush strokes keep their size relative to the picture.
        scale = max(MIN_STYLE_SCALE, round(data["style_scale"] * settings.PREVIEW_SIDE / data["max_side"]))
        return PreviewRequest(
            content=data["content"].clean_image.image,
            first=data.get("preset") or data.get("my_style") or style.clean_image.image,
            second=blend,
            blend_weight=data["blend_weight"] if blend else 0.0,
            strength=data["strength"],
            preserve_color=data["preserve_color"],
            style_scale=scale,
        )


class ProfileForm(forms.ModelForm):
    avatar = CleanImageField(required=False, label="Avatar")

    class Meta:
        model = Profile
        fields = ("display_name",)

    @property
    def avatar_image(self):
        avatar = self.cleaned_data.get("avatar")
        return avatar.clean_image if avatar else None
