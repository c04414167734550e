from django import forms


class MappingForm(forms.Form):
    """Which columns of a table become which chat message."""

    user = forms.ChoiceField(label="User message (the prompt)")
    assistant = forms.ChoiceField(label="Assistant message (the answer to learn)")
    system = forms.ChoiceField(label="System message column", required=False)
    system_prompt = forms.CharField(
        label="…or one system prompt for every example", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, columns: list[str], suggested: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(c, c) for c in columns]
        self.fields["user"].choices = choices
        self.fields["assistant"].choices = choices
        self.fields["system"].choices = [("", "— none —")] + choices
        if not self.is_bound:
            self.initial.update({role: column for role, column in (suggested or {}).items() if column})

    def clean(self):
        data = super().clean()
        if data.get("user") and data.get("user") == data.get("assistant"):
            self.add_error("assistant", "Pick a different column from the user message.")
        if data.get("system") and data.get("system_prompt"):
            self.add_error("system_prompt", "Use a system column or a fixed system prompt, not both.")
        return data


class TransformForm(forms.Form):
    redact_pii = forms.BooleanField(required=False, label="Redact personal data (e-mails, phone, card numbers, IBANs)")
    deduplicate = forms.BooleanField(required=False, label="Remove duplicate examples")
    shuffle = forms.BooleanField(required=False, label="Shuffle")
    seed = forms.IntegerField(initial=42, label="Seed (shuffle and split)")
    split = forms.BooleanField(required=False, initial=True, label="Split into train and validation")
    validation_percent = forms.IntegerField(min_value=1, max_value=50, initial=10, label="Validation share (%)")

    def operation(self) -> dict:
        data = self.cleaned_data
        return {
            "redact_pii": data["redact_pii"],
            "deduplicate": data["deduplicate"],
            "shuffle_seed": data["seed"] if data["shuffle"] else None,
            "split": {"validation_fraction": data["validation_percent"] / 100, "seed": data["seed"], "stratify": None}
            if data["split"]
            else None,
        }
