"""The catalogue's one built-in entry: the embedded base model, which works offline."""


def ensure_embedded_default(base_model_class):
    """Create the embedded default's row if missing (used by a data migration, so it takes the
    model class: the migration's historical one, or the real one)."""
    from workers.ml.base_models import EMBEDDED_DEFAULT

    row, _ = base_model_class.objects.get_or_create(
        name=EMBEDDED_DEFAULT.name,
        defaults={
            "source": "embedded",
            "gguf_file": EMBEDDED_DEFAULT.gguf_file,
            "max_seq_len": EMBEDDED_DEFAULT.max_seq_len,
            "lora_target_modules": EMBEDDED_DEFAULT.lora_target_modules,
            "price_class": EMBEDDED_DEFAULT.price_class,
        },
    )
    return row
