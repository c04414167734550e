from django import forms

from tunery.files.models import File, Purpose
from tunery.files.models import Status as FileStatus
from tunery.jobs.models import BaseModel, FineTuningJob, JobStatus
from tunery.orgs.tenancy import scoped


class AutoNumberField(forms.CharField):
    """A number, or empty for "auto"."""

    def __init__(self, *, kind=int, **kwargs):
        self.kind = kind
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "auto", "inputmode": "decimal"}))
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value).strip()
        if value in ("", "auto"):
            return "auto"
        try:
            number = self.kind(value)
        except ValueError:
            raise forms.ValidationError("Enter a number, or leave empty for auto.")
        return number


class JobForm(forms.Form):
    model = forms.ChoiceField(
        label="Base model", help_text="A base model, or one of your fine-tuned models to continue training it."
    )
    training_file = forms.ChoiceField()
    validation_file = forms.ChoiceField(required=False, help_text="Empty: 10% of the training examples are held out.")
    suffix = forms.CharField(required=False, max_length=40, help_text="Appears in the model name.")
    n_epochs = AutoNumberField(label="Epochs")
    batch_size = AutoNumberField()
    learning_rate_multiplier = AutoNumberField(kind=float, label="Learning rate multiplier")
    lora_r = AutoNumberField(label="LoRA rank r")
    lora_alpha = AutoNumberField(kind=float, label="LoRA alpha")
    lora_dropout = AutoNumberField(kind=float, label="LoRA dropout")
    max_seq_len = AutoNumberField(label="Max sequence length")
    seed = forms.IntegerField(required=False, min_value=0, help_text="Empty: random.")

    HYPERPARAMETERS = (
        "n_epochs",
        "batch_size",
        "learning_rate_multiplier",
        "lora_r",
        "lora_alpha",
        "lora_dropout",
        "max_seq_len",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        files = scoped(File, organization).filter(purpose=Purpose.FINE_TUNE, status=FileStatus.PROCESSED)
        choices = [(f.public_id, f"{f.filename} — {f.n_examples} examples ({f.public_id})") for f in files]
        self.fields["training_file"].choices = choices
        self.fields["validation_file"].choices = [("", "— hold out 10% —")] + choices
        tuned = scoped(FineTuningJob, organization).filter(status=JobStatus.SUCCEEDED, model_deleted=False)
        self.fields["model"].choices = [(b.name, b.name) for b in BaseModel.objects.filter(enabled=True)] + [
            (j.fine_tuned_model, j.fine_tuned_model) for j in tuned
        ]

    def request_body(self) -> dict:
        data = self.cleaned_data
        hyperparameters = {
            k: data[k]
            for k in self.HYPERPARAMETERS
            if data[k] != "auto" or k in ("n_epochs", "batch_size", "learning_rate_multiplier")
        }
        return {
            "model": data["model"],
            "training_file": data["training_file"],
            "validation_file": data["validation_file"] or None,
            "suffix": data["suffix"] or None,
            "seed": data["seed"],
            "hyperparameters": hyperparameters,
        }
