"""End to end on the embedded SmolLM2-135M: fine-tuning teaches it a label set it cannot know.

The task maps message topics (sports, cooking, space) to made-up codes (zorp, blick, quax); the
prompt does not list the codes, so the base model scores 0 and only training can supply them.
About 3 minutes on 2 otherwise idle CPU cores.
"""

import pytest

from tests.ml.topic_task import LABELS, write_task
from workers.ml.base_models import EMBEDDED_DEFAULT
from workers.ml.evaluation import EvaluationConfig, evaluate
from workers.ml.trainer import TrainConfig, train


@pytest.mark.slow
def test_fine_tuned_model_learns_made_up_labels_the_base_cannot(tmp_path):
    train_file, validation_file = write_task(tmp_path, n_train=60, n_validation=30)
    # All hyperparameters "auto": 60 examples get 7 epochs of batch 4, all-linear LoRA r=16.
    result = train(TrainConfig(EMBEDDED_DEFAULT, train_file, tmp_path / "job", validation_file))
    assert result.status == "succeeded" and result.hyperparameters.n_epochs == 7

    report = evaluate(EvaluationConfig(result.adapter_dir, validation_file, max_new_tokens=8))
    assert report.classification and report.labels == sorted(LABELS.values())
    assert report.base.exact_match_accuracy < 0.2
    assert report.fine_tuned.exact_match_accuracy >= 0.8
    assert report.fine_tuned.macro_f1 >= 0.8
    assert report.fine_tuned.loss < report.base.loss / 10
