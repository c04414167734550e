"""Against PostgreSQL: two jobs started at the same moment on a balance enough for one —
exactly one starts. Each request runs on its own database connection, as in production."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from tests.billing.conftest import set_balance
from tests.conftest import key_client
from tunery.billing import ledger
from tunery.billing.models import EntryKind, LedgerEntry
from tunery.billing.money import usd
from tunery.jobs.models import FineTuningJob


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL, as in production")
def test_two_simultaneous_jobs_on_a_balance_for_one_start_exactly_one(
    transactional_db, org_a, tiny_base, training_file_a, monkeypatch
):
    monkeypatch.setattr("tunery.jobs.services.enqueue_preparation", lambda job: None)
    body = {"model": "tiny-llama", "training_file": training_file_a.public_id, "hyperparameters": {"n_epochs": 2}}
    estimate = Decimal(
        key_client(org_a).post("/v1/fine_tuning/jobs/estimate", body, format="json").json()["estimated_cost"]
    )
    funds = usd(estimate * Decimal("1.5"))  # enough for one job, not for two
    set_balance(org_a, str(funds))
    clients = [key_client(org_a), key_client(org_a)]
    barrier = threading.Barrier(2)
    statuses = []

    def start(client):
        try:
            barrier.wait()
            statuses.append(client.post("/v1/fine_tuning/jobs", body, format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200, 402]
    assert FineTuningJob.objects.filter(organization=org_a).count() == 1
    assert LedgerEntry.objects.filter(organization=org_a, kind=EntryKind.HOLD).count() == 1
    assert ledger.balance(org_a) == funds - estimate
