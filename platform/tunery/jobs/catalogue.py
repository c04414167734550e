"""The catalogue's one built-in entry: the embedded base model, which works offline."""


def ensure_embedded_default(base_model_class, price_class=None):
    """Create the embedded default's row if missing, and with `price_class` its first price
    (used by data migrations, so it takes model classes: historical ones, or the real ones)."""
    from workers.ml.base_models import EMBEDDED_DEFAULT

    defaults = {
        "source": "embedded",
        "gguf_file": EMBEDDED_DEFAULT.gguf_file,
        "max_seq_len": EMBEDDED_DEFAULT.max_seq_len,
        "lora_target_modules": EMBEDDED_DEFAULT.lora_target_modules,
        "price_class": EMBEDDED_DEFAULT.price_class,
    }
    if any(field.name == "hidden_size" for field in base_model_class._meta.fields):  # not in older migrations
        defaults["hidden_size"] = EMBEDDED_DEFAULT.hidden_size
    row, _ = base_model_class.objects.get_or_create(name=EMBEDDED_DEFAULT.name, defaults=defaults)
    if price_class is not None and not price_class.objects.filter(base_model=row).exists():
        from tunery.billing.prices import DEFAULT_PRICES

        price_class.objects.create(base_model=row, **DEFAULT_PRICES[row.price_class])
    return row
