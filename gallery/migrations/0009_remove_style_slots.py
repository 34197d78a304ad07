from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0008_job_styles_from_slots"),
    ]

    operations = [
        migrations.RemoveField(model_name="stylejob", name="preset"),
        migrations.RemoveField(model_name="stylejob", name="style_image"),
        migrations.RemoveField(model_name="stylejob", name="blend_style"),
        migrations.RemoveField(model_name="stylejob", name="blend_weight"),
    ]
