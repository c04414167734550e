"""Listing and retrieving jobs costs a fixed, small number of simple queries, whatever the page
size: the page (jobs with their base model and organization), then the files they name in one
query. Joining the files table three more times made PostgreSQL plan a page of 20 jobs for
3-12 ms, against 1 ms to run it (docs/operations.md, "Load")."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tunery.files.models import File
from tunery.jobs.models import FineTuningJob, JobStatus


@pytest.fixture
def jobs_a(org_a, embedded_base):
    def file(name):
        return File.objects.create(
            organization=org_a, filename=name, content=name, bytes=1, purpose="fine-tune", status="processed"
        )

    jobs = []
    for n in range(25):
        job = FineTuningJob.objects.create(
            organization=org_a,
            base_model=embedded_base,
            model=embedded_base.name,
            training_file=file(f"t{n}.jsonl"),
            validation_file=file(f"v{n}.jsonl") if n % 2 else None,
            suffix=f"q{n}",
            seed=n,
            hyperparameters={},
            status=JobStatus.SUCCEEDED,
            finished_at=timezone.now(),
        )
        job.result_file = file(f"r{n}.csv")
        job.save()
        jobs.append(job)
    return jobs


def _get(api, path):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(path)
    assert response.status_code == 200, response.content
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    return response.json(), reads


@pytest.mark.parametrize("limit", [1, 20])
def test_a_page_of_jobs_is_the_page_and_one_query_of_its_files(api_a, jobs_a, limit):
    page, reads = _get(api_a, f"/v1/fine_tuning/jobs?limit={limit}")
    job_reads = [sql for sql in reads if 'FROM "jobs_finetuningjob"' in sql]
    file_reads = [sql for sql in reads if 'FROM "files_file"' in sql]
    assert len(job_reads) == 1 and len(file_reads) == 1
    assert '"files_file"' not in job_reads[0]  # no join to the files
    by_id = {job.public_id: job for job in jobs_a}
    for row in page["data"]:
        job = by_id[row["id"]]
        assert row["training_file"] == job.training_file.public_id
        assert row["validation_file"] == (job.validation_file.public_id if job.validation_file_id else None)
        assert row["result_files"] == [job.result_file.public_id]


def test_a_page_after_a_cursor_and_a_job_alone_are_as_cheap(api_a, jobs_a):
    page, reads = _get(api_a, f"/v1/fine_tuning/jobs?limit=5&after={jobs_a[10].public_id}")
    assert len([sql for sql in reads if 'FROM "jobs_finetuningjob"' in sql]) == 2  # the anchor, the page
    assert not any('"files_file"' in sql for sql in reads if 'FROM "jobs_finetuningjob"' in sql)
    job, reads = _get(api_a, f"/v1/fine_tuning/jobs/{jobs_a[3].public_id}")
    assert job["training_file"] == jobs_a[3].training_file.public_id
    assert not any('"files_file"' in sql for sql in reads if 'FROM "jobs_finetuningjob"' in sql)
