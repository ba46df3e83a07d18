from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def name_past_entries(apps, schema_editor):
    """Entries written before the name was kept get the agency's name as it is now: the best
    that can be known of the past, and from here on each entry keeps its own."""
    AccessEntry = apps.get_model("audit", "AccessEntry")
    Agency = apps.get_model("agencies", "Agency")
    AccessEntry.objects.filter(agency__isnull=False).update(
        agency_name=Subquery(Agency.objects.filter(pk=OuterRef("agency_id")).values("name")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_accessentry"),
        ("agencies", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessentry",
            name="agency_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="agency name then"),
        ),
        migrations.RunPython(name_past_entries, migrations.RunPython.noop),
    ]
