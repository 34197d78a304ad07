"""Every job's preset or style image, and its blend image and share, become its JobStyle rows.

The old first style had the share 1 - blend_weight and the blend image blend_weight; with no blend image the first
style is the only row, at 1. Back again, rows fit the slots when there is one row, or two of which one is an image
(a preset blended with an image, or two images); anything else stops the reversal with the jobs it cannot keep.
"""

from django.db import migrations


def rows_from_slots(apps, schema_editor):
    StyleJob = apps.get_model("gallery", "StyleJob")
    JobStyle = apps.get_model("gallery", "JobStyle")
    rows = []
    for job in StyleJob.objects.only("pk", "preset_id", "style_image_id", "blend_style_id", "blend_weight").iterator():
        blended = job.blend_style_id is not None
        first_share = 1.0 - job.blend_weight if blended else 1.0
        rows.append(
            JobStyle(job_id=job.pk, position=0, preset_id=job.preset_id, image_id=job.style_image_id, weight=first_share)
        )
        if blended:
            rows.append(JobStyle(job_id=job.pk, position=1, image_id=job.blend_style_id, weight=job.blend_weight))
    JobStyle.objects.bulk_create(rows, batch_size=1000)


def slots_from_rows(apps, schema_editor):
    StyleJob = apps.get_model("gallery", "StyleJob")
    unfit = []
    for job in StyleJob.objects.prefetch_related("styles").iterator(chunk_size=1000):
        rows = list(job.styles.all())
        if not (len(rows) == 1 or (len(rows) == 2 and any(row.image_id for row in rows))):
            unfit.append(job.pk)
            continue
        first = next((row for row in rows if row.preset_id), rows[0])  # the blend slot takes an image only
        blend = next((row for row in rows if row is not first), None)
        job.preset_id, job.style_image_id = first.preset_id, first.image_id
        job.blend_style_id = blend.image_id if blend else None
        job.blend_weight = blend.weight / (blend.weight + first.weight) if blend else 0.0
        job.save(update_fields=["preset", "style_image", "blend_style", "blend_weight"])
    if unfit:
        raise RuntimeError(f"These jobs have styles the old slots cannot hold: {unfit}")


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0007_job_styles"),
    ]

    operations = [
        migrations.RunPython(rows_from_slots, slots_from_rows),
    ]
