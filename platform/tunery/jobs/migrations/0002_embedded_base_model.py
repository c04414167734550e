from django.db import migrations


def add_embedded_default(apps, schema_editor):
    from workers.ml.base_models import EMBEDDED_DEFAULT

    apps.get_model("jobs", "BaseModel").objects.get_or_create(
        name=EMBEDDED_DEFAULT.name,
        defaults={
            "source": "embedded",
            "gguf_file": EMBEDDED_DEFAULT.gguf_file,
            "max_seq_len": EMBEDDED_DEFAULT.max_seq_len,
            "lora_target_modules": EMBEDDED_DEFAULT.lora_target_modules,
            "price_class": EMBEDDED_DEFAULT.price_class,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]
    operations = [migrations.RunPython(add_embedded_default, migrations.RunPython.noop)]
