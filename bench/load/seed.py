"""Seed the load benchmark's organization: 10,000 files, 10,000 fine-tuning jobs and
1,000,000 inference requests over the last 30 days, in about a minute; then the ended days'
usage is rolled up, as the beat would have done.

One real upload is inspected with the embedded model's tokenizer (so job creation has a
processed training file to estimate), then cloned with bulk_create; the jobs are bulk-created
in batches; the inference requests are generated inside PostgreSQL by one
INSERT … SELECT FROM generate_series (no row travels from Python). Prints the API key, a
training file id and the embedded model's name as JSON for the locustfile.

    DATABASE_URL=postgres://…/tunery_load python bench/load/seed.py > bench/load/out/seed.json
"""

import json
import os
import random
import sys
import time
from decimal import Decimal

import django

FILES, JOBS, REQUESTS = 10_000, 10_000, 1_000_000
BATCH = 2_000


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tunery.settings")
    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("seed.py needs PostgreSQL: set DATABASE_URL")
    started = time.monotonic()
    organization, secret = _organization()
    training_file = _files(organization)
    _jobs(organization, training_file)
    _inference_requests(organization)
    from tunery.inference.rollup import roll_up_usage

    roll_up_usage()  # as the beat would have done by now: the ended days' usage roll-ups
    from tunery.jobs.catalogue import ensure_embedded_default
    from tunery.jobs.models import BaseModel

    base = ensure_embedded_default(BaseModel)
    print(
        json.dumps(
            {
                "api_key": secret,
                "training_file": training_file.public_id,
                "model": base.name,
                "seconds": round(time.monotonic() - started, 1),
            }
        )
    )


def _organization():
    from django.contrib.auth import get_user_model

    from tunery.apikeys.models import ApiKey
    from tunery.billing import ledger
    from tunery.billing.models import EntryKind
    from tunery.orgs.roles import Scope
    from tunery.orgs.services import create_organization

    user = get_user_model().objects.create_user(username="load@tunery.local", email="load@tunery.local")
    organization = create_organization(user, "Load")
    ledger.credit(organization, EntryKind.ADJUSTMENT, Decimal("1000000"), "Load benchmark credit")
    _, secret = ApiKey.issue(organization, name="load", scopes=list(Scope.values), created_by=user)
    return organization, secret


def _files(organization):
    """One real upload, inspected (tokens counted), then cloned: same stored content and report."""
    from django.core.files.base import ContentFile

    from tunery.files.inspection import inspect
    from tunery.files.models import File
    from tunery.files.services import create_upload
    from tunery.ops.demo_data import demo_jsonl

    real = create_upload(organization, ContentFile(demo_jsonl(), name="train.jsonl"), "fine-tune")
    inspect(real.pk, organization.pk)
    real.refresh_from_db()
    clones = (
        File(
            organization=organization,
            filename=f"train-{n}.jsonl",
            content=real.content.name,
            bytes=real.bytes,
            purpose=real.purpose,
            status=real.status,
            report=real.report,
        )
        for n in range(FILES - 1)
    )
    _bulk(File, clones)
    _spread_created_at(File, organization)
    return real


def _jobs(organization, training_file):
    from django.utils import timezone

    from tunery.jobs.catalogue import ensure_embedded_default
    from tunery.jobs.models import BaseModel, FineTuningJob, JobStatus

    base = ensure_embedded_default(BaseModel)
    now = timezone.now()
    finished = {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED}
    statuses = [JobStatus.SUCCEEDED] * 6 + [JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED, JobStatus.RUNNING]
    rng = random.Random(0)
    jobs = (
        FineTuningJob(
            organization=organization,
            base_model=base,
            model=base.name,
            training_file=training_file,
            suffix=f"load{n}",
            seed=n,
            hyperparameters={"n_epochs": 3},
            status=(status := rng.choice(statuses)),
            finished_at=now if status in finished else None,  # /v1/models shows when a model was made
            trained_tokens=rng.randint(10_000, 1_000_000),
            metadata={"batch": str(n % 10)},
        )
        for n in range(JOBS)
    )
    _bulk(FineTuningJob, jobs)
    _spread_created_at(FineTuningJob, organization)


def _inference_requests(organization):
    """1,000,000 rows over 30 days: 5 models, 4 keys plus the web session, latencies 20–2000 ms."""
    from django.db import connection

    from tunery.apikeys.models import ApiKey
    from tunery.inference.models import InferenceRequest

    keys = list(ApiKey.objects.filter(organization=organization).values_list("pk", flat=True))
    for n in range(3):
        key, _ = ApiKey.issue(organization, name=f"load-{n}", scopes=["inference"])
        keys.append(key.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {InferenceRequest._meta.db_table}
                (organization_id, api_key_id, model, endpoint, stream, status_code, prompt_tokens,
                 completion_tokens, latency_ms, created_at, charged_at)
            SELECT %s, (ARRAY[%s, %s, %s, %s, NULL])[1 + n %% 5], 'ft:load:model-' || (n %% 5),
                   'chat.completions', n %% 2 = 0, 200, 50 + n %% 200, 10 + n %% 100,
                   20 + (random() * random() * 1980)::int, t, t
            FROM (SELECT n, now() - random() * interval '30 days' AS t
                  FROM generate_series(1, %s) AS n) AS g
            """,
            [organization.pk, *keys[:4], REQUESTS],
        )
        cursor.execute(f"ANALYZE {InferenceRequest._meta.db_table}")


def _bulk(model, rows) -> None:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            model.objects.bulk_create(batch)
            batch = []
    model.objects.bulk_create(batch)


def _spread_created_at(model, organization) -> None:
    """bulk_create stamps every row with one time: spread them over 30 days, one per row."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} SET created_at = now() - (random() * interval '30 days') "
            "WHERE organization_id = %s",
            [organization.pk],
        )
        cursor.execute(f"ANALYZE {model._meta.db_table}")


if __name__ == "__main__":
    main()
