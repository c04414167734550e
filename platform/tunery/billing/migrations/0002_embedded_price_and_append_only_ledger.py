from django.db import migrations

# On PostgreSQL the database itself refuses to change or delete a ledger row, whatever code
# (or a stray UPDATE in a shell) tries; the model refuses too, on every database.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION billing_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'billing_ledgerentry is append-only: add a correcting entry instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_ledger_append_only BEFORE UPDATE OR DELETE ON billing_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS billing_ledger_append_only ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_ledger_append_only();
"""


def price_embedded_default(apps, schema_editor):
    from tunery.jobs.catalogue import ensure_embedded_default

    ensure_embedded_default(apps.get_model("jobs", "BaseModel"), apps.get_model("billing", "Price"))


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("jobs", "0002_embedded_base_model")]
    operations = [
        migrations.RunPython(price_embedded_default, migrations.RunPython.noop),
        migrations.RunPython(append_only, drop_append_only),
    ]
