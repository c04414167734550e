"""What jobs announce to the apps built on them. Serving (tunery.inference) listens: jobs know
nothing of the engine, so the import direction stays inference -> jobs."""

from django.dispatch import Signal

# A job succeeded and its adapter can be served. Sent with `job`.
model_ready = Signal()
# A fine-tuned model (or one of its checkpoints) was deleted. Sent with `resolved`, a ResolvedModel.
model_deleted = Signal()
