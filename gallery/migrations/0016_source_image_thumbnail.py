"""A thumbnail for each style image, which My styles shows instead of the full-size upload (up to 26 MP)."""

import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import migrations, models
from PIL import Image

import gallery.models.base


def make_thumbnails(apps, schema_editor):
    """The stored style images get the thumbnail a new upload gets (services._store_source): a JPEG at most
    THUMBNAIL_SIDE px a side. A stored file that cannot be read is left without one and listed."""
    SourceImage = apps.get_model("gallery", "SourceImage")
    unreadable = []
    for source in SourceImage.objects.filter(kind="style", thumbnail="").iterator():
        try:
            with source.file.open("rb") as handle, Image.open(handle) as opened:
                picture = opened.convert("RGB")
        except (OSError, SyntaxError, ValueError):
            unreadable.append(source.pk)
            continue
        picture.thumbnail((settings.THUMBNAIL_SIDE, settings.THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=88, optimize=True)
        source.thumbnail.save("thumb.jpg", ContentFile(buffer.getvalue()), save=False)
        source.save(update_fields=["thumbnail"])
    if unreadable:
        print(f"\n  No thumbnail for {len(unreadable)} style image(s) whose file could not be read: ids {unreadable}")


def delete_thumbnails(apps, schema_editor):
    for source in apps.get_model("gallery", "SourceImage").objects.exclude(thumbnail="").iterator():
        source.thumbnail.storage.delete(source.thumbnail.name)


class Migration(migrations.Migration):

    dependencies = [
        ("gallery", "0015_user_email_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="sourceimage",
            name="thumbnail",
            field=models.FileField(blank=True, upload_to=gallery.models.base.source_thumbnail_path),
        ),
        migrations.RunPython(make_thumbnails, delete_thumbnails),
    ]
