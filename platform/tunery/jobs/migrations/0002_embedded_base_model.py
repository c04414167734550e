from django.db import migrations


def add_embedded_default(apps, schema_editor):
    from tunery.jobs.catalogue import ensure_embedded_default

    ensure_embedded_default(apps.get_model("jobs", "BaseModel"))


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]
    operations = [migrations.RunPython(add_embedded_default, migrations.RunPython.noop)]
