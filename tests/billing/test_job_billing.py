"""A job is estimated before it starts, held at creation, and settled at the end: a finished
job costs trained tokens × the quoted price, a failed one nothing, a cancelled one what it trained."""

from decimal import Decimal

from tests.billing.conftest import set_balance
from tests.conftest import run_job_here
from tunery.billing import ledger
from tunery.billing.models import EntryKind, LedgerEntry, Price
from tunery.billing.money import cost
from tunery.jobs import services
from tunery.jobs.models import FineTuningJob, JobStatus


def _body(training_file, **hyperparameters):
    return {"model": "tiny-llama", "training_file": training_file.public_id, "hyperparameters": hyperparameters}


def test_the_estimate_is_tokens_times_epochs_at_the_price(api_a, tiny_base, training_file_a):
    # 30 examples and no validation file: 3 are held out, training sees 27 of them.
    per_epoch = round(training_file_a.report["stats"]["total_tokens"] * 27 / 30)
    body = api_a.post("/v1/fine_tuning/jobs/estimate", _body(training_file_a, n_epochs=3), format="json").json()
    assert body["trained_tokens"] == per_epoch * 3
    assert body["n_epochs"] == 3
    assert Decimal(body["estimated_cost"]) == cost(per_epoch * 3, Decimal("0.50"))
    assert body["estimated_seconds"] > 0 and body["affordable"] is True

    auto = api_a.post("/v1/fine_tuning/jobs/estimate", _body(training_file_a), format="json").json()
    assert (
        auto["n_epochs"] >= 1 and auto["trained_tokens"] == per_epoch * auto["n_epochs"]
    )  # "auto" resolved as training does


def test_the_estimate_names_the_bad_field(api_a, tiny_base, training_file_a):
    reply = api_a.post("/v1/fine_tuning/jobs/estimate", _body(training_file_a, n_epochs=0), format="json")
    assert reply.status_code == 400 and reply.json()["error"]["param"] == "hyperparameters.n_epochs"


def test_a_job_beyond_the_balance_is_refused_with_a_clear_message(api_a, org_a, tiny_base, training_file_a):
    set_balance(org_a, "0.000001")
    estimate = api_a.post("/v1/fine_tuning/jobs/estimate", _body(training_file_a, n_epochs=2), format="json").json()
    assert estimate["affordable"] is False and estimate["refusal"]["code"] == "insufficient_balance"

    reply = api_a.post("/v1/fine_tuning/jobs", _body(training_file_a, n_epochs=2), format="json")
    assert reply.status_code == 402
    assert reply.json()["error"]["code"] == "insufficient_balance"
    assert "balance is $0.000001" in reply.json()["error"]["message"]
    assert not FineTuningJob.objects.exists()  # nothing half-created
    assert not LedgerEntry.objects.filter(kind=EntryKind.HOLD).exists()


def test_a_finished_job_costs_its_trained_tokens_at_the_quoted_price(
    api_a, org_a, tiny_base, training_file_a, monkeypatch
):
    monkeypatch.setattr("tunery.jobs.runner.enqueue_training", lambda job: None)
    before = ledger.balance(org_a)
    job_id = api_a.post("/v1/fine_tuning/jobs", _body(training_file_a, n_epochs=1), format="json").json()["id"]
    job = FineTuningJob.objects.get(public_id=job_id)
    hold = LedgerEntry.objects.get(job=job, kind=EntryKind.HOLD)
    assert hold.amount == -job.estimated_cost and ledger.balance(org_a) == before - job.estimated_cost

    # The price goes up while the job runs: the job keeps the price it was quoted.
    Price.objects.create(
        base_model=tiny_base, training_per_million=Decimal("100"), input_per_million=1, output_per_million=1
    )
    from tunery.jobs import runner

    runner.prepare(job.pk, job.organization_id)
    runner.train(job.pk, job.organization_id)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.trained_tokens > 0

    charge = LedgerEntry.objects.get(job=job, kind=EntryKind.JOB_CHARGE)
    assert charge.amount == -cost(job.trained_tokens, Decimal("0.50")) and charge.tokens == job.trained_tokens
    assert LedgerEntry.objects.get(job=job, kind=EntryKind.RELEASE).amount == job.estimated_cost
    assert ledger.balance(org_a) == before + charge.amount
    assert ledger.held(org_a) == 0


def test_a_failed_job_costs_nothing(api_a, org_a, tiny_base, training_file_a, monkeypatch):
    monkeypatch.setattr("tunery.jobs.services.enqueue_preparation", lambda job: None)
    before = ledger.balance(org_a)
    job = FineTuningJob.objects.get(
        public_id=api_a.post("/v1/fine_tuning/jobs", _body(training_file_a), format="json").json()["id"]
    )
    assert ledger.balance(org_a) < before
    services.transition(job, JobStatus.VALIDATING_FILES, JobStatus.RUNNING)
    FineTuningJob.objects.filter(pk=job.pk).update(trained_tokens=500)  # it trained a little, then broke
    services.transition(
        job, JobStatus.RUNNING, JobStatus.FAILED, error={"code": "internal_error", "message": "x", "param": None}
    )
    assert ledger.balance(org_a) == before
    assert not LedgerEntry.objects.filter(job=job, kind=EntryKind.JOB_CHARGE).exists()


def test_a_cancelled_job_costs_only_what_it_trained(api_a, org_a, tiny_base, training_file_a, monkeypatch):
    monkeypatch.setattr("tunery.jobs.services.enqueue_preparation", lambda job: None)
    before = ledger.balance(org_a)
    job = FineTuningJob.objects.get(
        public_id=api_a.post("/v1/fine_tuning/jobs", _body(training_file_a, n_epochs=4), format="json").json()["id"]
    )
    services.transition(job, JobStatus.VALIDATING_FILES, JobStatus.RUNNING)
    trained = LedgerEntry.objects.get(job=job, kind=EntryKind.HOLD).tokens // 4  # one epoch of four
    # The worker stops at the next step and records what it trained (runner.train's cancel path).
    services.transition(job, JobStatus.RUNNING, JobStatus.CANCELLED, trained_tokens=trained)
    assert ledger.balance(org_a) == before - cost(trained, Decimal("0.50"))
    # Settling twice (a redelivered task) changes nothing.
    from tunery.billing.ledger import settle_job

    settle_job(job, trained)
    assert ledger.balance(org_a) == before - cost(trained, Decimal("0.50"))


def test_cancelling_before_training_releases_the_whole_hold(api_a, org_a, tiny_base, training_file_a, monkeypatch):
    monkeypatch.setattr("tunery.jobs.services.enqueue_preparation", lambda job: None)
    before = ledger.balance(org_a)
    reply = api_a.post("/v1/fine_tuning/jobs", _body(training_file_a), format="json").json()
    api_a.post(f"/v1/fine_tuning/jobs/{reply['id']}/cancel")
    assert ledger.balance(org_a) == before


def test_the_estimate_matches_what_training_then_does(api_a, tiny_base, training_file_a, monkeypatch):
    """'auto' epochs are resolved on the examples left after the hold-out, as the worker does;
    the tokens differ only by which examples were held out."""
    monkeypatch.setattr("tunery.jobs.runner.enqueue_training", lambda job: None)
    estimate = api_a.post("/v1/fine_tuning/jobs/estimate", _body(training_file_a), format="json").json()
    job = run_job_here(api_a, training_file_a, n_epochs="auto")
    assert estimate["n_epochs"] == job.resolved_hyperparameters["n_epochs"]
    assert abs(job.trained_tokens - estimate["trained_tokens"]) <= 0.15 * estimate["trained_tokens"]


def test_the_job_event_log_and_api_show_the_estimate(api_a, tiny_base, training_file_a, monkeypatch):
    monkeypatch.setattr("tunery.jobs.runner.enqueue_training", lambda job: None)
    job = run_job_here(api_a, training_file_a)
    body = api_a.get(f"/v1/fine_tuning/jobs/{job.public_id}").json()
    assert Decimal(body["estimated_cost"]) == job.estimated_cost > 0
    assert job.events.filter(message__contains="estimated $").exists()


def test_the_create_form_shows_the_estimate_and_refuses_what_the_balance_cannot_cover(
    client, owner_a, org_a, tiny_base, training_file_a
):
    client.force_login(owner_a)
    form = {"model": "tiny-llama", "training_file": training_file_a.public_id, "n_epochs": "2"}
    fragment = client.post("/fine-tuning/estimate", form).content.decode()
    tokens = round(training_file_a.report["stats"]["total_tokens"] * 27 / 30) * 2  # 3 of 30 held out
    assert f"{tokens:,} tokens" in fragment and "× 2 epochs" in fragment and "per 1M tokens" in fragment

    set_balance(org_a, "0")
    assert "balance is $0.00" in client.post("/fine-tuning/estimate", form).content.decode()
    reply = client.post("/fine-tuning/new", form)
    assert reply.status_code == 400 and "Top up on the billing page" in reply.content.decode()
    assert not FineTuningJob.objects.exists()


def test_the_job_page_shows_estimate_and_charge(client, owner_a, succeeded_job):
    from tunery.billing.money import display

    client.force_login(owner_a)
    page = client.get(f"/fine-tuning/{succeeded_job.public_id}").content.decode()
    charged = -LedgerEntry.objects.get(job=succeeded_job, kind=EntryKind.JOB_CHARGE).amount
    assert f"Estimated {display(succeeded_job.estimated_cost)}" in page
    assert f"charged {display(charged)} for {succeeded_job.trained_tokens:,} trained tokens" in page


def test_another_organization_cannot_estimate_with_our_file(api_b, tiny_base, training_file_a):
    reply = api_b.post("/v1/fine_tuning/jobs/estimate", _body(training_file_a), format="json")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "file_not_found"


def test_the_estimate_refuses_a_body_that_is_not_an_object(api_a, tiny_base):
    reply = api_a.post("/v1/fine_tuning/jobs/estimate", [1, 2], format="json")
    assert reply.status_code == 400 and "JSON object" in reply.json()["error"]["message"]


def test_the_form_estimate_knows_nothing_of_another_organizations_file(client, outsider_b, tiny_base, training_file_a):
    client.force_login(outsider_b)
    fragment = client.post(
        "/fine-tuning/estimate", {"model": "tiny-llama", "training_file": training_file_a.public_id}
    ).content.decode()
    assert "tokens</strong> to train" not in fragment and "Choose a training file" in fragment
