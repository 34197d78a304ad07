import math
from dataclasses import replace

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.db import connection

from gallery import images, printsizes, provenance
from gallery.models import JobStyle, Preset, Profile, SourceImage, StyleJob
from gallery.services import JobRequest, PreviewRequest, StyleChoice

ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif"
MIN_IMAGE_SIDE = 16  # px; the engine refuses smaller photos and styles (stylecore.imageio.check_image)


class CleanImageField(forms.FileField):
    """A file field whose cleaned value is an images.CleanImage: decoded, oriented, stripped.

    ``max_side`` (px) caps the longest side, for endpoints that must stay cheap; ``style`` rejects images without
    any texture, which have no style to transfer, and works whose artist opted out (the blocklist); ``fit_within``
    (px) shrinks a larger image to that longest side (see images.clean_upload).
    """

    widget = forms.ClearableFileInput(attrs={"accept": ACCEPT})

    def __init__(self, *args, max_side: int | None = None, style: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_side = max_side
        self.style = style
        self.fit_within: int | None = None

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
                fit_within=self.fit_within,
            )
        except images.UploadError as exc:
            raise forms.ValidationError(str(exc), code="invalid_image") from None
        width, height = clean.image.size
        if min(width, height) < MIN_IMAGE_SIDE:
            raise forms.ValidationError(
                f"The image is {width} x {height} px; it must be at least {MIN_IMAGE_SIDE} px a side.", code="too_small"
            )
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

    email = forms.EmailField(
        required=True, help_text="We mail you a link to confirm it. Used only for that and to reset your password."
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def save(self, commit: bool = True):
        # Inactive until the owner opens the link mailed to this address (gallery.verification).
        self.instance.is_active = False
        return super().save(commit)

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


class ResendVerificationForm(forms.Form):
    email = forms.EmailField(label="Your e-mail address", help_text="The address you signed up with.")


class PresetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, preset: Preset) -> str:
        return str(preset)


class MyStyleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, source: SourceImage) -> str:
        return source.original_name or f"Style #{source.pk}"


class SharedStyleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, source: SourceImage) -> str:
        return source.credit_label


# Any style first and by default, for presets too: blind, it was preferred to a preset's own network in 22 of 24
# pairs (8 presets x 3 held-out photos). Labels short enough to show whole in a phone's menu; the help says the rest.
METHOD_CHOICES = [
    (StyleJob.Method.ARBITRARY, "Any style (about a second)"),
    (StyleJob.Method.FAST, "Fast (a preset's own network)"),
    (StyleJob.Method.OPTIMIZE, "Optimisation (slow: up to 1½ min)"),
]
# The any-style brush (stylecore.arbitrary): the painting is encoded at this size and the photo painted at this / 512
# of its size, then resized back; a smaller scale makes the strokes larger relative to the picture. Spaced so that
# each step changes the picture about as much: on a 512 px photo with six shipped paintings, fine -> medium moved it
# by 8-17/255 and medium -> bold by 0.93-1.08 times that (tests/gallery/test_controls.py); with fine 768 and bold 320
# the second step was 1.06-1.42 times the first.
STYLE_SCALE_CHOICES = [(896, "Fine (small strokes)"), (512, "Medium"), (352, "Bold (large strokes)")]
DEFAULT_STYLE_SCALE = 512


def offered_brush(style_scale: int) -> int:
    """The brush on offer nearest to ``style_scale`` by ratio: a remix of a job painted before the brushes were
    spaced evenly (fine 768, bold 320) starts from the same kind of brush."""
    return min(dict(STYLE_SCALE_CHOICES), key=lambda offered: abs(math.log(offered / style_scale)))


# A blend row's weight slider (0.05-1) and the weight the engine blends by. The engine takes relative weights, so a
# slider sent as the weight itself made the first step up from 0.05 move a two-style blend 2.6-3.2 times more than
# the last (share = w / (1 + w) against a style at 1). The slider is the odds of half its position instead:
# against a style at full weight a row's share is half its slider, 2.5 % to 50 %, in even steps.
def blend_weight(slider: float) -> float:
    """The relative weight the engine blends a row by, for its slider position (0 < slider <= 1)."""
    return slider / (2 - slider)


def blend_sliders(shares: list[float]) -> list[float]:
    """Slider positions whose blend weights give ``shares`` (a stored job's): the largest at 1."""
    largest = max(shares)
    return [round(2 * relative / (1 + relative), 4) for relative in (share / largest for share in shares)]


STYLE_SOURCES = ("preset", "my_style", "shared_style", "upload")


def size_choices() -> list[tuple[str, str]]:
    sizes = [(str(size), f"{size} px") for size in settings.JOB_SIZE_CHOICES]
    return sizes + [(printsizes.OWN_SIZE, "The photo's own size")]


class SizeField(forms.ChoiceField):
    """The picture's longest side: one of JOB_SIZE_CHOICES or the photo's own size (printsizes.OWN_SIZE). Cleans to
    the side in px, or None for the photo's own size; the form then caps it by the photo (printsizes.picture_side)."""

    widget = forms.RadioSelect

    def __init__(self, **kwargs):
        super().__init__(choices=size_choices, initial=lambda: str(settings.JOB_SIZE_CHOICES[0]), **kwargs)

    def validate(self, value):
        if value and not self.valid_value(value):
            sizes = ", ".join(str(size) for size in settings.JOB_SIZE_CHOICES)
            raise forms.ValidationError(
                f"{value} is not a size on offer: choose {sizes} px, or \"{printsizes.OWN_SIZE}\" for the photo's own "
                "size.",
                code="invalid_choice",
            )
        super().validate(value)

    def clean(self, value):
        value = super().clean(value)
        return None if value == printsizes.OWN_SIZE else int(value)


def my_styles(owner):
    """Style images the owner uploaded before and may reuse: not hidden by a moderator, and large enough to run."""
    return SourceImage.objects.filter(
        owner_id=owner.pk,
        kind=SourceImage.Kind.STYLE,
        hidden_at__isnull=True,
        width__gte=MIN_IMAGE_SIDE,
        height__gte=MIN_IMAGE_SIDE,
    )
class StyleRowForm(forms.Form):
    """One style of the job: a preset, one of My styles, the style of a remixed artwork, or a new upload."""

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
    shared_style = SharedStyleChoiceField(
        queryset=SourceImage.objects.none(), required=False, widget=forms.RadioSelect, empty_label=None,
        label="The style of the picture you remix",
    )
    upload = CleanImageField(required=False, style=True, label="…or upload a new style image")
    weight = forms.FloatField(
        min_value=0.05,
        max_value=1.0,
        initial=1.0,
        label="Weight in the blend",
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
    )

    def __init__(self, *args, owner, shared, upload_max_side=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["my_style"].queryset = my_styles(owner)
        self.fields["shared_style"].queryset = shared
        self.fields["upload"].max_side = upload_max_side

    def clean(self):
        cleaned = super().clean()
        if any(name in self.errors for name in STYLE_SOURCES):
            return cleaned
        if sum(1 for name in STYLE_SOURCES if cleaned.get(name)) != 1:
            raise forms.ValidationError(
                "Pick exactly one style here: a preset style, one of My styles, or a new upload.", code="one_style"
            )
        return cleaned

    def to_choice(self) -> StyleChoice:
        data = self.cleaned_data
        upload = data.get("upload")
        return StyleChoice(
            preset=data.get("preset"),
            image=data.get("my_style") or data.get("shared_style"),
            upload=upload.clean_image if upload else None,
            upload_name=upload.name if upload else "",
            weight=blend_weight(data["weight"]),
        )


class BaseStyleRowFormSet(forms.BaseFormSet):
    default_error_messages = {"too_many_forms": "A blend takes at most %(num)d styles."}

    def clean(self):
        if any(self.errors):
            return
        if not self.filled():
            raise forms.ValidationError("Pick a style.", code="no_style")
        chosen = [row.cleaned_data.get("preset") or row.cleaned_data.get("my_style")
                  or row.cleaned_data.get("shared_style") for row in self.filled()]
        stored = [style for style in chosen if style is not None]
        if len(stored) != len(set(stored)):
            raise forms.ValidationError("Each style of a blend must differ from the others.", code="same_style")

    def filled(self) -> list[StyleRowForm]:
        """The rows with a style, in order: a row added in the page and left empty is no style."""
        return [row for row in self.forms if row.cleaned_data]


# A formset: one row for the common case, and rows the page adds for a blend, up to the engine's four.
StyleRowFormSet = forms.formset_factory(
    StyleRowForm, formset=BaseStyleRowFormSet, extra=0, min_num=1,
    max_num=JobStyle.MAX_PER_JOB, validate_max=True,
)


class StyleJobForm(forms.Form):
    """The new-picture form. Its styles are the formset ``styles``; ``is_valid`` checks both."""

    content = CleanImageField(label="Your photo")
    method = forms.ChoiceField(
        choices=METHOD_CHOICES,
        initial=StyleJob.Method.ARBITRARY,
        help_text="Any style paints from any painting, a preset's or your own, or a blend of them, in one pass, "
                  "and looks best. Fast uses a preset's own network, one preset only. Both can paint on your device. "
                  "Optimisation paints one style slowly, on our server.",
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
    max_side = SizeField(label="Size (longest side)")
    upload_max_side = None  # px; the preview takes small style uploads only

    def __init__(self, data=None, files=None, *, owner, style_rows=(), shared_styles=None, **kwargs):
        super().__init__(data, files, **kwargs)
        # No job paints the photo larger than JOB_MAX_SIDE, so decoding and storing more pixels is wasted work in
        # the request: a 12-megapixel photo took most of a second (docs/reliability.md, Load).
        self.fields["content"].fit_within = settings.JOB_MAX_SIDE
        if "max_side" in self.initial and str(self.initial["max_side"]) not in dict(size_choices()):
            # A remixed artwork painted at its photo's own size (or capped by it): the remix starts from that choice.
            self.initial = {**self.initial, "max_side": printsizes.OWN_SIZE}
        if isinstance(self.initial.get("style_scale"), int):
            self.initial = {**self.initial, "style_scale": offered_brush(self.initial["style_scale"])}
        shared = SourceImage.objects.none() if shared_styles is None else shared_styles
        self.styles = StyleRowFormSet(
            data, files, prefix="styles", initial=list(style_rows) or None,
            form_kwargs={"owner": owner, "shared": shared, "upload_max_side": self.upload_max_side},
        )

    @classmethod
    def as_sent(cls, data, *, owner, shared_styles=None) -> "StyleJobForm":
        """An unbound form showing the choices in ``data`` as they were sent, unchecked and with no upload read: for
        a submission refused before it is looked at (the upload rate limit). A file input cannot be filled again."""
        sent = cls(data, owner=owner, shared_styles=shared_styles)
        # A bound field's value() is the raw value sent; reading it validates nothing.
        initial = {name: sent[name].value() for name in sent.fields if name != "content"}
        rows = [{name: row[name].value() for name in row.fields if name != "upload"} for row in sent.styles]
        return cls(initial=initial, style_rows=rows[:JobStyle.MAX_PER_JOB], owner=owner, shared_styles=shared_styles)

    def is_valid(self) -> bool:
        return self.styles.is_valid() & super().is_valid()  # both, so that every error is shown at once

    def all_errors(self) -> list[str]:
        rows = [msg for errors in self.styles.errors for field in errors.values() for msg in field]
        return [msg for errors in self.errors.values() for msg in errors] + list(self.styles.non_form_errors()) + rows

    def clean(self):
        cleaned = super().clean()
        method, content = cleaned.get("method"), cleaned.get("content")
        if content and "max_side" in cleaned:
            side = cleaned["max_side"] = self.picture_side(content.clean_image.image, cleaned["max_side"])
            limit = settings.JOB_OPTIMIZE_MAX_SIDE
            if method == StyleJob.Method.OPTIMIZE and side > limit:
                self.add_error(
                    "max_side",
                    f"Optimisation paints at most {limit} px on the longest side, and this picture would be {side} px. "
                    f"Choose {limit} px or smaller, or the fast or \"Any style\" method for a larger print.",
                )
        if not self.styles.is_valid():
            return cleaned
        rows = [row.cleaned_data for row in self.styles.filled()]
        if method == StyleJob.Method.FAST and (len(rows) != 1 or not rows[0].get("preset")):
            self.add_error(
                "method", "The fast method works with one preset style, without a blend. Choose \"Any style\"."
            )
        elif method == StyleJob.Method.OPTIMIZE and len(rows) != 1:
            self.add_error(
                "method",
                "Optimisation paints with exactly one style. Remove the other styles, or choose \"Any style\" to "
                "blend them.",
            )
        return cleaned

    def picture_side(self, photo, asked: int | None) -> int:
        """The longest side the job paints: ``asked`` px (None: the photo's own size) capped by the photo."""
        return printsizes.picture_side(*photo.size, asked)

    def to_request(self) -> JobRequest:
        data = self.cleaned_data
        return JobRequest(
            content=data["content"].clean_image,
            content_name=data["content"].name,
            styles=tuple(row.to_choice() for row in self.styles.filled()),
            method=data["method"],
            strength=data["strength"],
            preserve_color=data["preserve_color"],
            max_side=data["max_side"],
            style_scale=data["style_scale"],
        )


class DevicePaintForm(StyleJobForm):
    """The job form plus the picture the visitor's browser painted with the job's network (a fast preset's, or the
    any-style network with the job's styles), at the size the job asks for: it goes through the same upload checks as
    any image."""

    result = CleanImageField(label="The painted picture")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("method") not in (StyleJob.Method.FAST, StyleJob.Method.ARBITRARY):
            self.add_error("method", "Optimisation paints on our server only; choose \"Paint it\".")
        content, result, side = cleaned.get("content"), cleaned.get("result"), cleaned.get("max_side")
        if content and result and side:
            expected = printsizes.picture_size(*content.clean_image.image.size, side)
            # One pixel of slack: the browser rounds halves up, Python to even.
            if any(abs(got - want) > 1 for got, want in zip(result.clean_image.image.size, expected)):
                self.add_error("result", f"The painted picture must be {expected[0]} x {expected[1]} px.")
        return cleaned


class PreviewForm(StyleJobForm):
    """The job form's fields for a live preview: small images only, and the any-style method only."""

    content = CleanImageField(label="Your photo", max_side=settings.PREVIEW_SIDE)
    # The page sends the photo shrunk, so it sends the longest side the job would paint it at too (sizes.js).
    max_side = forms.IntegerField(min_value=MIN_IMAGE_SIDE, max_value=settings.JOB_MAX_SIDE)
    upload_max_side = 2 * settings.PREVIEW_SIDE

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("method") != StyleJob.Method.ARBITRARY:
            self.add_error("method", "Live previews are for the \"Any style\" method.")
        return cleaned

    def picture_side(self, photo, asked: int | None) -> int:
        """As the page computed it for the whole photo: ``photo`` here is the shrunk copy."""
        return asked

    def to_preview(self) -> PreviewRequest:
        data = self.cleaned_data
        choices = [row.to_choice() for row in self.styles.filled()]
        return PreviewRequest(
            content=data["content"].clean_image.image,
            styles=tuple(choice.preset or choice.image or choice.upload.image for choice in choices),
            weights=tuple(choice.weight for choice in choices),
            strength=data["strength"],
            preserve_color=data["preserve_color"],
            # The same brush as the result: the engine paints the preview at the brush's share of its own size.
            style_scale=data["style_scale"],
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
