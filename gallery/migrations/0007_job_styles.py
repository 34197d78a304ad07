import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Style rows beside the old slots; 0008 fills them from the slots and 0009 drops the slots.

    The slots' constraint goes here, in a migration of its own: reversed, it comes back only once 0008's reversal
    has filled the slots again.
    """

    dependencies = [
        ("gallery", "0006_audit_log_names"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="stylejob", name="stylejob_exactly_one_style"),
        migrations.AddField(
            model_name="sourceimage",
            name="title",
            field=models.CharField(blank=True, help_text="The work's title, if it has one.", max_length=200),
        ),
        migrations.CreateModel(
            name="JobStyle",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("position", models.PositiveSmallIntegerField()),
                (
                    "weight",
                    models.FloatField(default=1.0, help_text="The style's share of the blend; a job's shares sum to 1."),
                ),
                (
                    "image",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="job_styles",
                        to="gallery.sourceimage",
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="styles", to="gallery.stylejob"
                    ),
                ),
                (
                    "preset",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="job_styles",
                        to="gallery.preset",
                    ),
                ),
            ],
            options={
                "ordering": ["position"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("preset__isnull", False), ("image__isnull", False), _connector="XOR"),
                        name="jobstyle_preset_or_image",
                    ),
                    models.UniqueConstraint(fields=("job", "position"), name="jobstyle_one_per_position"),
                    models.CheckConstraint(condition=models.Q(("position__lt", 4)), name="jobstyle_at_most_four"),
                    models.CheckConstraint(
                        condition=models.Q(("weight__gt", 0), ("weight__lte", 1)), name="jobstyle_weight_is_a_share"
                    ),
                ],
            },
        ),
    ]
