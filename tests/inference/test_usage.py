from tests.conftest import signed_in
from tunery.inference.models import InferenceRequest


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
            "p50_ms": 500,
            "p95_ms": 1000,
        }
    ]
    assert report["by_key"][0]["key"] == "web session" and report["by_day"][0]["requests"] == 10


def test_usage_days_must_be_sensible(api_a):
    assert api_a.get("/v1/organization/usage", {"days": "0"}).json()["error"]["param"] == "days"


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
