"""Model listing and the health check."""


def test_models_lists_the_base_model_and_registered_adapters(client):
    models = {model.id: model for model in client.models.list()}
    assert {"tiny", "yes", "no"} <= set(models)
    assert models["yes"].owned_by == "tunery" and models["yes"].parent == "tiny"
    assert client.models.retrieve("no").id == "no"


def test_health_reports_the_live_scheduler(http, engine_url):
    status = http.get(engine_url.removesuffix("/v1") + "/health").json()
    assert status["status"] == "ok" and status["model"] == "tiny"
    assert status["adapter_memory_bytes"] <= status["adapter_memory_budget_bytes"]
