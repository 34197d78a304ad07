"""One account per e-mail address, compared case-insensitively, in the database and not only in the sign-up form.

Django's auth_user has no such constraint, and this project keeps Django's user model, so the gallery app adds a
unique index on lower(email) for the accounts that have an address. Addresses shared before (accounts made before
the sign-up form checked, or in the admin) stay on one account each: the active account that logged in last, else
the one that signed up first. The others lose the address and are listed on the console, so that someone can reach
them; they can still log in with their password and add an address on their profile.
"""

from django.db import migrations
from django.db.models import F
from django.db.models.functions import Lower

INDEX = "gallery_auth_user_email_ci_unique"


def leave_each_address_on_one_account(apps, schema_editor):
    User = apps.get_model("auth", "User")
    accounts = (
        User.objects.exclude(email="")
        .annotate(address=Lower("email"))
        .order_by("address", "-is_active", F("last_login").desc(nulls_last=True), "date_joined", "pk")
    )
    keeping, cleared = None, []
    for account in accounts.only("pk", "username", "email"):
        if account.address == keeping:
            cleared.append(account)
        keeping = account.address
    if cleared:
        User.objects.filter(pk__in=[account.pk for account in cleared]).update(email="")
        print(f"\n  Cleared the e-mail address of {len(cleared)} account(s) that shared it with another account: "
              + ", ".join(f"{account.username} ({account.email})" for account in cleared))


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("gallery", "0014_job_method_any_style"),
    ]

    operations = [
        migrations.RunPython(leave_each_address_on_one_account, migrations.RunPython.noop),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (lower(email)) WHERE email <> ''",
            f"DROP INDEX {INDEX}",
        ),
    ]
