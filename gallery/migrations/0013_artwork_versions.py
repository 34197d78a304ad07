import django.db.models.deletion
import django.utils.timezone
import gallery.models.base
from django.db import migrations, models


def add_first_versions(apps, schema_editor):
    """Every artwork's picture becomes its version 1, with its job's settings, and its current version. Their
    full-strength renders were never kept, so they stay without one (the page offers a re-render instead)."""
    Artwork = apps.get_model("gallery", "Artwork")
    ArtworkVersion = apps.get_model("gallery", "ArtworkVersion")
    for artwork in Artwork.objects.select_related("job").iterator():
        version = ArtworkVersion.objects.create(
            artwork=artwork,
            number=1,
            image=artwork.image.name,
            thumbnail=artwork.thumbnail.name,
            strength=artwork.job.strength,
            preserve_color=artwork.job.preserve_color,
            created_at=artwork.created_at,
        )
        Artwork.objects.filter(pk=artwork.pk).update(current_version=version)


class Migration(migrations.Migration):

    dependencies = [
        ('gallery', '0012_profile_awaiting_confirmation'),
    ]

    operations = [
        migrations.AddField(
            model_name='artwork',
            name='render',
            field=models.FileField(blank=True, upload_to=gallery.models.base.artwork_render_path),
        ),
        migrations.CreateModel(
            name='ArtworkVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveSmallIntegerField()),
                ('image', models.FileField(upload_to=gallery.models.base.artwork_image_path)),
                ('thumbnail', models.FileField(upload_to=gallery.models.base.artwork_thumbnail_path)),
                ('strength', models.FloatField()),
                ('preserve_color', models.BooleanField()),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('artwork', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='versions', to='gallery.artwork')),
            ],
            options={
                'ordering': ['-number'],
            },
        ),
        migrations.AddField(
            model_name='artwork',
            name='current_version',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.RESTRICT, related_name='+', to='gallery.artworkversion'),
        ),
        migrations.AddConstraint(
            model_name='artworkversion',
            constraint=models.UniqueConstraint(fields=('artwork', 'number'), name='artworkversion_one_per_number'),
        ),
        migrations.AddConstraint(
            model_name='artworkversion',
            constraint=models.CheckConstraint(condition=models.Q(('strength__gte', 0), ('strength__lte', 1)), name='artworkversion_strength_0_1'),
        ),
        migrations.RunPython(add_first_versions, migrations.RunPython.noop),
    ]
