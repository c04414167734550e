import math
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import signed_in
from tunery.inference.models import InferenceRequest
from tunery.inference.usage import bucket_top


def _request(org, model, latency, key=None):
    InferenceRequest.objects.create(
        organization=org,
        api_key=key,
        model=model,
        endpoint="chat.completions",
        status_code=200,
        prompt_tokens=10,
        completion_tokens=5,
        latency_ms=latency,
    )


def test_usage_by_model_and_key_with_latency_percentiles(api_a, org_a, org_b):
    for latency in range(100, 1100, 100):
        _request(org_a, "ft:m:org-a:x:1", latency)
    _request(org_b, "ft:m:org-b:y:2", 5)
    report = api_a.get("/v1/organization/usage").json()
    assert report["by_model"] == [
        {
            "model": "ft:m:org-a:x:1",
            "requests": 10,
            "prompt_tokens": 100,
            "completion_tokens": 50,
            "p50_ms": 515,  # the top of the 5% bucket holding 500, the nearest-rank p50
            "p95_ms": 1020,  # … holding 1000
        }
    ]
    assert report["by_key"][0]["key"] == "web session" and report["by_day"][0]["requests"] == 10


def test_latency_percentiles_on_known_data_are_the_top_of_the_exact_values_bucket(api_a, org_a, owner_a):
    latencies = [random.Random(7).randint(1, 5000) for _ in range(997)]  # a prime count: no even split
    InferenceRequest.objects.bulk_create(
        InferenceRequest(
            organization=org_a, model="m", endpoint="chat.completions", status_code=200, latency_ms=latency
        )
        for latency in latencies
    )
    ordered = sorted(latencies)
    exact = {"p50_ms": ordered[498], "p95_ms": ordered[947]}  # ranks ceil(0.5·997) and ceil(0.95·997)
    expected = {name: bucket_top(math.floor(math.log(value) / math.log(1.05))) for name, value in exact.items()}
    with CaptureQueriesContext(connection) as queries:
        report = api_a.get("/v1/organization/usage").json()
    assert {k: report["by_model"][0][k] for k in exact} == expected
    assert {k: report["by_key"][0][k] for k in exact} == expected
    assert all(exact[k] <= expected[k] <= exact[k] * 1.05 for k in exact)  # the stated precision
    # Grouped by the database: no latency row comes back to Python.
    assert not any('"latency_ms" FROM' in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("days", ["0", "366", "²", "١٢", "12 ", "+5", "-1", "1e3", ""])
def test_usage_days_must_be_a_plain_whole_number_in_range(api_a, client, owner_a, days):
    response = api_a.get("/v1/organization/usage", {"days": days})
    assert response.status_code == 400 and response.json()["error"]["param"] == "days"
    page = signed_in(client, owner_a).get("/usage", {"days": days})
    assert page.status_code == 400
    assert "days must be a whole number from 1 to 365" in page.content.decode()


def test_usage_and_playground_pages_show_only_own_models(client, owner_a, outsider_b, org_a, succeeded_job):
    _request(org_a, succeeded_job.fine_tuned_model, 100)
    signed_in(client, outsider_b)
    assert succeeded_job.fine_tuned_model not in client.get("/usage").content.decode()
    assert succeeded_job.fine_tuned_model not in client.get("/playground").content.decode()
    signed_in(client, owner_a)
    assert succeeded_job.fine_tuned_model in client.get("/usage").content.decode()
    page = client.get("/playground").content.decode()
    assert succeeded_job.fine_tuned_model in page and ":ckpt-step-" in page


def test_viewer_sees_the_playground_but_cannot_run_models(client, viewer_a, succeeded_job, org_a):
    signed_in(client, viewer_a)
    assert "Viewers can look but not run models" in client.get("/playground").content.decode()
    response = client.post(
        "/v1/chat/completions",
        {"model": succeeded_job.fine_tuned_model, "messages": [{"role": "user", "content": "x"}]},
        content_type="application/json",
    )
    assert response.status_code == 403
