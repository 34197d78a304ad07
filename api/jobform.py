"""The API's job fields, checked by the web's StyleJobForm: the API renames fields, it adds no rules of its own."""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from ninja import Schema

from gallery.forms import DEFAULT_STYLE_SCALE, StyleJobForm
from gallery.models import JobStyle, Preset, StyleJob

ROWS = range(1, JobStyle.MAX_PER_JOB + 1)  # the API numbers style rows from 1, as people count
FORM_TO_API = {"content": "photo", "max_side": "size", "__all__": "request"}
ROW_TO_API = {"preset": "preset", "upload": "image", "weight": "weight", "__all__": "style"}


class JobFields(Schema):
    """The text parts of a new job's multipart request. Each style row i is preset<i> or image<i>, and weight<i>."""

    preset1: str | None = None
    preset2: str | None = None
    preset3: str | None = None
    preset4: str | None = None
    weight1: float | None = None
    weight2: float | None = None
    weight3: float | None = None
    weight4: float | None = None
    method: StyleJob.Method = StyleJob.Method.ARBITRARY  # the web form's default
    strength: float = 1.0
    preserve_color: bool = False
    # The result's longest side in px, one of JOB_SIZE_CHOICES (the smallest by default), or "photo": the photo's own
    # size. Either is capped by the photo, JOB_MAX_SIDE and JOB_MAX_PIXELS; the high-quality method refuses more
    # than JOB_OPTIMIZE_MAX_SIDE. The web form's size field checks it, with its messages; the artwork's "size" is
    # the side painted.
    size: str | None = None
    style_scale: int = DEFAULT_STYLE_SCALE


class JobFieldsError(Exception):
    """Bad job fields: ``errors`` maps each API field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(" ".join(f"{field}: {msg}" for field, msgs in errors.items() for msg in msgs))
        self.errors = errors


def _preset_pk(name: str, field: str, errors: dict) -> int | None:
    pk = Preset.objects.filter(name=name, is_active=True).values_list("pk", flat=True).first()
    if pk is None:
        errors[field] = [f"There is no preset named {name!r}; GET /api/v1/presets lists them."]
    return pk


def build_form(owner, fields: JobFields, photo: UploadedFile, images: dict[int, UploadedFile | None]) -> StyleJobForm:
    """The web form, filled from the API's fields and files. Raises JobFieldsError when it is not valid."""
    data = {
        "method": fields.method,
        "strength": fields.strength,
        "max_side": fields.size or settings.JOB_SIZE_CHOICES[0],
        "style_scale": fields.style_scale,
    }
    if fields.preserve_color:  # a checkbox: present means on
        data["preserve_color"] = "on"
    files, errors, rows = {"content": photo}, {}, []
    for i in ROWS:
        name, image, weight = getattr(fields, f"preset{i}"), images.get(i), getattr(fields, f"weight{i}")
        if name is None and image is None:
            if weight is not None:
                errors[f"weight{i}"] = [f"There is no preset{i} or image{i} for this weight."]
            continue
        prefix = f"styles-{len(rows)}"
        rows.append(i)
        data[f"{prefix}-weight"] = 1.0 if weight is None else weight
        if name is not None:
            data[f"{prefix}-preset"] = _preset_pk(name, f"preset{i}", errors)
        if image is not None:
            files[f"{prefix}-upload"] = image
    if errors:
        raise JobFieldsError(errors)
    data.update({"styles-TOTAL_FORMS": len(rows), "styles-INITIAL_FORMS": 0})
    form = StyleJobForm(data, files, owner=owner)
    if not form.is_valid():
        raise JobFieldsError(_api_errors(form, rows))
    return form


def _api_errors(form: StyleJobForm, rows: list[int]) -> dict[str, list[str]]:
    """The form's errors under the API's field names."""
    errors = {FORM_TO_API.get(field, field): list(msgs) for field, msgs in form.errors.items()}
    if form.styles.non_form_errors():
        errors["styles"] = list(form.styles.non_form_errors())
    for i, row_errors in zip(rows, form.styles.errors):
        for field, msgs in row_errors.items():
            errors[f"{ROW_TO_API[field]}{i}"] = list(msgs)
    return errors
