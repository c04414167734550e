"""Several models of one base scored side by side on a test file (the tiny model, no Django)."""

import json
import math

import pytest

from tests.ml.conftest import chat, write_jsonl, write_yes_no_data
from workers.ml.checkpoints import list_checkpoints
from workers.ml.evaluation import EvaluationStopped, ModelSetConfig, evaluate_models
from workers.ml.generation import ChatModel
from workers.ml.metrics import answer_correct, exact_match_accuracy, normalize_answer


@pytest.fixture(scope="module")
def tiny_checkpoint(tiny_adapter):
    """A checkpoint of the run that produced tiny_adapter: itself a servable adapter."""
    checkpoints = list_checkpoints(tiny_adapter.parent)
    assert checkpoints, "the tiny training run keeps at least one checkpoint"
    return checkpoints[0]


@pytest.fixture(scope="module")
def three_models(tiny_adapter, tiny_checkpoint, tmp_path_factory):
    """Base, fine-tuned and a checkpoint on yes/no questions, from one loaded model."""
    _, test_file = write_yes_no_data(tmp_path_factory.mktemp("yes-no"))
    model = ChatModel.for_adapter(tiny_adapter, "cpu", "tuned")
    fractions, beats = [], []
    report = evaluate_models(
        ModelSetConfig(test_file, batch_size=4, device="cpu"),
        {"base": None, "tuned": tiny_adapter, "ckpt": tiny_checkpoint},
        chat=model,
        heartbeat=lambda: beats.append(1),
        progress=fractions.append,
    )
    return report, model, fractions, beats


def test_every_model_gets_its_own_scores_tokens_and_answers_in_the_order_given(three_models):
    report, _, _, _ = three_models
    assert list(report.models) == ["base", "tuned", "ckpt"]
    assert report.n_examples == report.n_answered == 6
    assert report.answer_kind == "labels" and report.labels == ["no", "yes"]
    prompt_tokens = {result.prompt_tokens for result in report.models.values()}
    assert len(prompt_tokens) == 1 and prompt_tokens.pop() > 6  # the same prompts for every model
    for result in report.models.values():
        assert math.isfinite(result.scores.loss) and 0 <= result.scores.token_accuracy <= 1
        assert result.completion_tokens >= report.n_answered  # at least the end of each answer
        answers = [a.answer for a in result.answers]
        references = [a.reference for a in result.answers]
        assert [a.index for a in result.answers] == list(range(6))
        assert result.scores.exact_match_accuracy == exact_match_accuracy(references, answers)
        assert result.answer_score.metric == "exact_match"
        assert result.answer_score.value == result.scores.exact_match_accuracy
        assert all(a.correct == answer_correct(a.reference, a.answer) for a in result.answers)
        assert result.wrong == [a for a in result.answers if not a.correct]
        assert len(result.wrong) == round(6 * (1 - result.scores.exact_match_accuracy))
        assert result.answers[0].prompt[-1]["role"] == "user"
    # The loaded model is the base plus the two adapters: the base is scored with them off.
    assert report.models["tuned"].scores.loss < report.models["base"].scores.loss
    json.dumps(report.to_dict())


def test_label_confidence_is_a_probability_over_the_labels_and_matches_each_answer(three_models):
    report, _, _, _ = three_models
    for result in report.models.values():
        for answer in result.answers:
            probabilities = answer.label_probabilities
            assert list(probabilities) == ["no", "yes"]
            assert all(0.0 <= p <= 1.0 for p in probabilities.values())
            assert sum(probabilities.values()) == pytest.approx(1.0)
            assert answer.top_label == max(probabilities, key=probabilities.get)
            assert answer.confidence == probabilities[answer.top_label] >= 0.5
        confidence, answers = result.confidence, result.answers
        assert confidence.mean_confidence == pytest.approx(sum(a.confidence for a in answers) / 6)
        top_right = [a.top_label == normalize_answer(a.reference) for a in answers]
        assert confidence.top_label_accuracy == pytest.approx(sum(top_right) / 6)
        right = [a.label_probabilities[normalize_answer(a.reference)] for a in answers]
        assert confidence.mean_reference_probability == pytest.approx(sum(right) / 6)


def test_label_probabilities_are_the_models_own_sequence_probabilities(three_models):
    """Recomputed one sequence at a time, with a plain forward pass over the whole vocabulary:
    the batched, padded scoring gives the same numbers."""
    import torch

    report, model, _, _ = three_models
    tokenizer = model.tokenizer
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    answer = report.models["tuned"].answers[2]
    prompt = model.chat_prompt(answer.prompt, "tuned")
    log_probs = []
    with torch.inference_mode(), model.using("tuned") as peft_model:
        for label in ("no", "yes"):
            tokens = tokenizer(label, add_special_tokens=False).input_ids + [end]
            logits = peft_model(input_ids=torch.tensor([prompt + tokens])).logits[0].float()
            steps = torch.log_softmax(logits[len(prompt) - 1 : -1], dim=-1)
            log_probs.append(float(steps[torch.arange(len(tokens)), torch.tensor(tokens)].sum()))
    expected_yes = 1 / (1 + math.exp(log_probs[0] - log_probs[1]))
    assert answer.label_probabilities["yes"] == pytest.approx(expected_yes, abs=1e-4)


def test_progress_rises_to_one_with_a_heartbeat_between_batches(three_models):
    _, _, fractions, beats = three_models
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    # Per model: 2 loss batches, 2 answer batches, 3 batches of 12 (example, label) pairs.
    assert len(beats) == 3 * (2 + 2 + 3) == len(fractions) - 1


def test_a_stop_request_ends_it_between_batches_with_the_tokens_used_so_far(tiny_adapter, tmp_path):
    _, test_file = write_yes_no_data(tmp_path)
    fractions = []
    with pytest.raises(EvaluationStopped) as stopped:
        evaluate_models(
            ModelSetConfig(test_file, batch_size=4, device="cpu"),
            {"base": None, "tuned": tiny_adapter},
            progress=fractions.append,
            should_stop=lambda: bool(fractions) and fractions[-1] >= 0.5,
        )
    assert 0.5 <= fractions[-1] < 1.0
    assert stopped.value.prompt_tokens > 0 and stopped.value.completion_tokens >= 6  # the base answered


def test_free_text_and_json_answers_get_no_label_confidence_and_json_is_judged_as_objects(tiny_spec, tmp_path):
    objects = [{"colour": c, "coats": i} for i, c in enumerate(["red", "blue", "green"])]
    rows = [chat(f"Paint order {i}", json.dumps(o)) for i, o in enumerate(objects)]
    report = evaluate_models(
        ModelSetConfig(write_jsonl(tmp_path / "orders.jsonl", rows), device="cpu"), {"base": None}, spec=tiny_spec
    )
    result = report.models["base"]
    assert report.answer_kind == "json" and result.confidence is None
    assert result.answer_score.metric == "json_field_accuracy"
    assert all(
        a.label_probabilities is None and a.correct == answer_correct(a.reference, a.answer) for a in result.answers
    )


def test_a_file_without_answers_names_the_test_file(tiny_spec, tmp_path):
    from workers.ml.errors import TrainingError

    rows = [{"messages": [{"role": "user", "content": "Hello?"}]}]
    with pytest.raises(TrainingError) as error:
        evaluate_models(
            ModelSetConfig(write_jsonl(tmp_path / "t.jsonl", rows), device="cpu"), {"base": None}, spec=tiny_spec
        )
    assert error.value.param == "test_file" and "test file" in error.value.message
