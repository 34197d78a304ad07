from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from gallery import images
from gallery.models import Preset, Profile, StyleJob
from gallery.services import JobRequest

ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif"


class CleanImageField(forms.FileField):
    """A file field whose cleaned value is an images.CleanImage: decoded, oriented, stripped."""

    widget = forms.ClearableFileInput(attrs={"accept": ACCEPT})

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
            )
        except images.UploadError as exc:
            raise forms.ValidationError(str(exc), code="invalid_image") from None
        uploaded.clean_image = clean
        return uploaded


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Used only to reset your password.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class PresetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, preset: Preset) -> str:
        return str(preset)


class StyleJobForm(forms.Form):
    content = CleanImageField(label="Your photo")
    preset = PresetChoiceField(
        queryset=Preset.objects.filter(is_active=True),
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
        label="Preset style",
    )
    style = CleanImageField(required=False, label="…or your own style image")
    method = forms.ChoiceField(choices=StyleJob.Method.choices, initial=StyleJob.Method.FAST)
    strength = forms.FloatField(
        min_value=0.1,
        max_value=1.0,
        initial=1.0,
        widget=forms.NumberInput(attrs={"type": "range", "step": "0.05"}),
    )
    preserve_color = forms.BooleanField(required=False, label="Keep the photo's colours")
    max_side = forms.TypedChoiceField(coerce=int, label="Size (longest side)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        sizes = settings.JOB_SIZE_CHOICES
        self.fields["max_side"].choices = [(size, f"{size} px") for size in sizes]
        self.fields["max_side"].initial = sizes[0]
        if not self.fields["preset"].queryset.exists():
            # Without presets only a style image can be used, and the fast method cannot take one.
            self.fields["method"].initial = StyleJob.Method.OPTIMIZE

    def clean(self):
        cleaned = super().clean()
        preset, style = cleaned.get("preset"), cleaned.get("style")
        if "style" in self.errors or "preset" in self.errors:
            return cleaned
        if bool(preset) == bool(style):
            raise forms.ValidationError("Pick one preset style, or upload one style image, not both.")
        if cleaned.get("method") == StyleJob.Method.FAST and not preset:
            self.add_error("method", "The fast method works with preset styles only.")
        return cleaned

    def to_request(self) -> JobRequest:
        data = self.cleaned_data
        style = data.get("style")
        return JobRequest(
            content=data["content"].clean_image,
            content_name=data["content"].name,
            preset=data.get("preset"),
            style=style.clean_image if style else None,
            style_name=style.name if style else "",
            method=data["method"],
            strength=data["strength"],
            preserve_color=data["preserve_color"],
            max_side=data["max_side"],
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
