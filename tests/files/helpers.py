from tunery.files.inspection import inspect
from tunery.files.models import File


def upload(client, name: str, content: bytes, purpose: str = "fine-tune"):
    """POST /v1/files as multipart, the way the openai client does."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/v1/files", {"file": SimpleUploadedFile(name, content), "purpose": purpose}, format="multipart")


def upload_and_inspect(client, name: str, content: bytes) -> File:
    """Upload, then run the cpu-queue inspection in this thread (the test's transaction never
    commits, so the queued task would not see the row; the worker path has its own tests)."""
    response = upload(client, name, content)
    assert response.status_code == 200, response.json()
    file = File.objects.get(public_id=response.json()["id"])
    inspect(file.pk, file.organization_id)
    file.refresh_from_db()
    return file
