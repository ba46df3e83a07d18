"""Load the bundled municipality list (agencies/data/municipalities.csv) on a fresh install.

An installation that already has municipalities is left alone: from then on the list is kept
with the import_municipalities command or the system import page, which respect hand
corrections. The parser is shared with the import so both read the file the same way; it only
reads bytes and writes nothing, so it is safe to call from a migration.
"""

from pathlib import Path

from django.db import migrations

BUNDLED = Path(__file__).resolve().parent.parent / "data" / "municipalities.csv"


def load_bundled_municipalities(apps, schema_editor):
    from agencies.municipality_list import parse_municipality_list

    Municipality = apps.get_model("agencies", "Municipality")
    db = schema_editor.connection.alias
    if Municipality.objects.using(db).exists():
        return
    parsed = parse_municipality_list(BUNDLED.read_bytes())
    if not parsed.ok:
        raise RuntimeError(
            f"The bundled {BUNDLED.name} has bad rows: "
            + "; ".join(f"line {e.line}: {e.message}" for e in parsed.errors)
        )

    def build(row, prefecture_id):
        return Municipality(
            code=row.code,
            prefecture_id=prefecture_id,
            name=row.name,
            name_kana=row.name_kana,
            kind=row.kind.value,
            has_welfare_office=row.has_welfare_office,
            search_key=row.search_key,
        )

    Municipality.objects.using(db).bulk_create(
        [build(row, None) for row in parsed.rows if row.is_prefecture]
    )
    prefecture_ids = dict(
        Municipality.objects.using(db).filter(prefecture__isnull=True).values_list("code", "pk")
    )
    Municipality.objects.using(db).bulk_create(
        [
            build(row, prefecture_ids[row.prefecture_code])
            for row in parsed.rows
            if not row.is_prefecture
        ],
        batch_size=500,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_bundled_municipalities, migrations.RunPython.noop),
    ]
