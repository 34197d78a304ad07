from django.db import migrations, models


def mark_awaiting(apps, schema_editor):
    """Accounts signed up before the flag existed and not yet confirmed: inactive and never logged in. A banned one
    among them stays refused by its ban's audit log (verification.awaiting_verification)."""
    Profile = apps.get_model("gallery", "Profile")
    Profile.objects.filter(user__is_active=False, user__last_login__isnull=True).update(awaiting_confirmation=True)


class Migration(migrations.Migration):
    dependencies = [("gallery", "0011_artwork_like_count")]

    operations = [
        migrations.AddField(model_name="profile", name="awaiting_confirmation", field=models.BooleanField(default=False)),
        migrations.RunPython(mark_awaiting, migrations.RunPython.noop),
    ]
