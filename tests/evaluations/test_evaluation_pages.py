"""The evaluation pages: the list with its form, a running evaluation's progress, and the
results side by side with costs, the chart and the wrong answers."""

from tests.conftest import signed_in
from tests.evaluations.conftest import create
from tunery.evaluations.models import EvaluationRun


def test_the_form_offers_processed_files_and_every_kind_of_model(client, owner_a, test_file_a, three_models):
    page = signed_in(client, owner_a).get("/evaluations?model=" + three_models[1]).content.decode()
    assert 'id="new-evaluation"' in page and test_file_a.public_id in page
    for name in three_models:
        assert f'value="{name}"' in page
    assert f'value="{three_models[1]}" checked' in page and f'value="{three_models[2]}" checked' not in page
    assert "checkpoint, step" in page
    nav = client.get("/fine-tuning").content.decode()
    assert 'href="/evaluations"' in nav


def test_the_job_page_links_to_an_evaluation_of_its_model(client, owner_a, succeeded_job):
    page = signed_in(client, owner_a).get(f"/fine-tuning/{succeeded_job.public_id}").content.decode()
    assert 'id="evaluate-link"' in page and "Evaluate on a test file" in page
    assert "/evaluations?model=ft%3Atiny-llama" in page


def test_the_form_starts_an_evaluation_and_refuses_mixed_bases(client, owner_a, tiny_base, test_file_a):
    from tunery.jobs.models import BaseModel

    signed_in(client, owner_a)
    response = client.post(
        "/evaluations/new", {"test_file": test_file_a.public_id, "models": ["tiny-llama"], "max_examples": 5}
    )
    run = EvaluationRun.objects.get()
    assert response.status_code == 302 and response.url == f"/evaluations/{run.public_id}"
    assert run.max_examples == 5 and run.created_by == owner_a.email

    BaseModel.objects.create(name="tiny-llama-2", source="local", path=tiny_base.path, max_seq_len=256)
    response = client.post(
        "/evaluations/new", {"test_file": test_file_a.public_id, "models": ["tiny-llama", "tiny-llama-2"]}
    )
    assert response.status_code == 400 and "must share one base model" in response.content.decode()


def test_a_running_evaluation_shows_its_progress_and_polls(client, owner_a, api_a, tiny_base, test_file_a):
    run = EvaluationRun.objects.get(public_id=create(api_a, test_file_a, ["tiny-llama"]).json()["id"])
    EvaluationRun.objects.filter(pk=run.pk).update(status="running", progress=0.42)
    page = signed_in(client, owner_a).get(f"/evaluations/{run.public_id}").content.decode()
    assert 'id="evaluation-progress"' in page and "width:42%" in page and "42% done" in page
    assert f'hx-get="/evaluations/{run.public_id}"' in page and "Cancel" in page
    live = client.get(f"/evaluations/{run.public_id}", HTTP_HX_REQUEST="true")
    assert 'id="evaluation-live"' in live.content.decode() and "<html" not in live.content.decode()
    EvaluationRun.objects.filter(pk=run.pk).update(status="succeeded", progress=1.0)
    ended = client.get(f"/evaluations/{run.public_id}", HTTP_HX_REQUEST="true")
    assert ended.headers["HX-Refresh"] == "true"  # the page reloads to show the results


def test_results_are_shown_side_by_side_with_cost_chart_and_wrong_answers(client, owner_a, finished_run):
    page = signed_in(client, owner_a).get(f"/evaluations/{finished_run.public_id}").content.decode()
    assert 'id="evaluation-results"' in page and "hx-get" not in page
    for model in finished_run.results["models"]:
        assert f"<code>{model['model']}</code>" in page
    assert 'id="main-metric"' in page and "Exact match (main metric)" in page
    assert 'id="run-cost"' in page and 'id="training-cost"' in page and "Macro F1" in page
    assert "Confidence: mean probability of the likeliest label" in page
    assert 'id="evaluation-chart"' in page and 'id="evaluation-chart-data"' in page
    assert "vendor/chart.js/chart.umd.min.js" in page and "js/evaluations.js" in page and "cdn" not in page.lower()
    assert page.count('<details class="wrong-examples"') == 3
    listing = client.get("/evaluations").content.decode()
    assert finished_run.public_id in listing


def test_json_and_free_text_results_get_their_own_rows_and_the_best_of_each_is_marked():
    from tunery.evaluations.presentation import metric_rows, short_name

    def model(name, score, fields, wrong, cost):
        metrics = {
            "loss": 1.0,
            "perplexity": 2.7,
            "token_accuracy": 0.5,
            "exact_match_accuracy": score,
            "json_valid_rate": 1.0,
            "json_object_match": score,
            "json_field_accuracy": fields,
        }
        usage = {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140}
        return {
            "model": name,
            "metrics": metrics,
            "answer_score": sum(fields.values()) / len(fields),
            "confidence": None,
            "usage": usage,
            "cost": cost,
            "training_cost": None,
            "seconds": 1.0,
            "n_wrong": wrong,
        }

    results = {
        "answer_kind": "json",
        "labels": None,
        "main_metric": "json_field_accuracy",
        "n_answered": 4,
        "models": [
            model("tiny-llama", 0.0, {"item": 0.25, "quantity": 0.5}, 4, "0.000010"),
            model("ft:tiny-llama:org-a:demo:abcd1234", 0.75, {"item": 1.0, "quantity": 0.75}, 1, "0.000010"),
        ],
    }
    rows = {row["label"]: row for row in metric_rows(results)}
    main = rows["JSON fields right (mean) (main metric)"]
    assert [(c["text"], c["best"]) for c in main["cells"]] == [("37.5%", False), ("87.5%", True)]
    assert [c["best"] for c in rows["Wrong answers"]["cells"]] == [False, True]
    assert "Field item right" in rows and "Whole object right" in rows and "Macro F1" not in rows
    assert not any(c["best"] for c in rows["Cost of this run"]["cells"])  # the same cost: no winner
    assert not any(c["best"] for c in rows["Loss"]["cells"])
    # Marked as shown: 33.34% and 33.3% are a tie on the page.
    tie = metric_rows(
        {**results, "models": [model("a", 0.3334, {"x": 0.3334}, 1, "0"), model("b", 0.333, {"x": 0.333}, 1, "0")]}
    )
    assert not any(c["best"] for c in tie[0]["cells"])
    assert short_name("ft:tiny-llama:org-a:demo:abcd1234:ckpt-step-7") == "demo abcd1234 step 7"
    assert short_name("tiny-llama") == "tiny-llama"
