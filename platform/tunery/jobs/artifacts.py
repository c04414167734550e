import io
import zipfile
from pathlib import Path

from django.http import FileResponse, Http404

from tunery.jobs.models import FineTuningJob


def adapter_zip_response(job: FineTuningJob) -> FileResponse:
    """The adapter folder (safetensors, LoRA config, the chat template and generation settings)."""
    folder = Path(job.adapter_path) if job.adapter_path else None
    if folder is None or not folder.is_dir():
        raise Http404("This job has no adapter: only succeeded jobs do.")
    buffer = io.BytesIO()  # a LoRA adapter is megabytes, not gigabytes
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder))
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"{job.fine_tuned_model.replace(':', '_')}.zip")
