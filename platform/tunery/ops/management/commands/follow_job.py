"""Follow a fine-tuning job in the terminal until it ends: a progress bar with step/total,
training loss and ETA, then base vs fine-tuned scores.

    ./manage.py follow_job ftjob-…
"""

from django.core.management.base import BaseCommand, CommandError

from tunery.jobs.models import FineTuningJob
from tunery.ops.follow import follow_and_report, job_url


class Command(BaseCommand):
    help = "Draw a progress bar for a fine-tuning job until it ends, then print its evaluation."

    def add_arguments(self, parser):
        parser.add_argument("job_id", help="the job's public id, ftjob-…")
        parser.add_argument("--every", type=float, default=1.0, help="seconds between polls")
        parser.add_argument("--timeout", type=float, help="give up after this many seconds")

    def handle(self, *args, job_id, every, timeout, **options):
        job = FineTuningJob.objects.select_related("base_model", "organization").filter(public_id=job_id).first()
        if job is None:
            raise CommandError(f"No fine-tuning job {job_id}.")
        self.stdout.write(f"Watch it live: {job_url(job)}")
        if not follow_and_report(job, self.stdout, every=every, timeout=timeout):
            raise CommandError(f"{job_id} did not succeed.")
