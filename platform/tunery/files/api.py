"""OpenAI's Files API (`/v1/files`) and Tunery's dataset additions on the same objects."""

from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from tunery.api.errors import ApiError
from tunery.api.pagination import cursor_page
from tunery.api.schema import page_of
from tunery.api.views import OrganizationAPIView
from tunery.files import services
from tunery.files.models import File, storage_used
from tunery.files.serializers import ConvertSerializer, FileSerializer, TransformSerializer, UploadSerializer
from tunery.files.uploads import accepts_uploads, check_upload_size, limit_uploads
from tunery.orgs.roles import Scope


class FileAPIView(OrganizationAPIView):
    model = File
    object_name = "file"
    serializer_class = FileSerializer
    write_scope = Scope.FINE_TUNE
    lookup_url_kwarg = "file_id"

    def get_queryset(self):
        return super().get_queryset().select_related("parent")


@accepts_uploads
class FileList(FileAPIView):
    parser_classes = [MultiPartParser, FormParser]

    def initial(self, request, *args, **kwargs):
        if request.method == "POST":  # before authentication, whose CSRF check may read the body
            limit_uploads(request._request)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="list_files",
        parameters=[OpenApiParameter("purpose", str), OpenApiParameter("after", str), OpenApiParameter("limit", int)],
        responses={200: page_of(FileSerializer)},
    )
    def get(self, request):
        queryset = self.get_queryset()
        if request.query_params.get("purpose"):
            queryset = queryset.filter(purpose=request.query_params["purpose"])
        return cursor_page(request, queryset, lambda f: FileSerializer(f).data)

    @extend_schema(
        operation_id="create_file", request={"multipart/form-data": UploadSerializer}, responses={200: FileSerializer}
    )
    def post(self, request):
        data = request.data  # parses the body through the size-limited handler
        check_upload_size(request._request)
        if "file" not in data:
            raise ApiError(
                "Missing the `file` part: send the dataset as multipart/form-data.", param="file", code="missing_file"
            )
        purpose = data.get("purpose")
        if not purpose:
            raise ApiError("Missing `purpose`: use 'fine-tune'.", param="purpose", code="missing_purpose")
        file = services.create_upload(request.organization, data["file"], purpose)
        return Response(FileSerializer(file).data)


class FileDetail(FileAPIView):
    @extend_schema(operation_id="retrieve_file")
    def get(self, request, file_id: str):
        return Response(FileSerializer(self.get_object()).data)

    def delete(self, request, file_id: str):
        file = self.get_object()
        services.delete_file(file)
        return Response({"id": file_id, "object": "file", "deleted": True})


class FileContent(FileAPIView):
    @extend_schema(operation_id="download_file", responses={(200, "application/octet-stream"): bytes})
    def get(self, request, file_id: str):
        file = self.get_object()
        if not file.content:
            raise ApiError(
                f"{file_id} has no content yet: {file.status_details}", status_code=409, code="file_not_ready"
            )
        return FileResponse(file.content.open("rb"), as_attachment=True, filename=file.filename)


class FileAnalysis(FileAPIView):
    """Tunery: the validation errors and the analysis of a dataset (tokens, histogram,
    duplicates, labels, personal data), once its status is processed or error."""

    @extend_schema(operation_id="retrieve_file_analysis", responses={200: dict})
    def get(self, request, file_id: str):
        file = self.get_object()
        return Response({"id": file.public_id, "object": "file.analysis", "status": file.status, "report": file.report})


class FileConvert(FileAPIView):
    """Tunery: convert a CSV, TSV, XLSX or JSON-array upload into chat JSONL (a new file)."""

    @extend_schema(operation_id="convert_file", request=ConvertSerializer, responses={202: FileSerializer})
    def post(self, request, file_id: str):
        source = self.get_object()
        body = ConvertSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        target = services.request_conversion(
            source, body.validated_data["mapping"], body.validated_data.get("system_prompt")
        )
        return Response(FileSerializer(target).data, status=status.HTTP_202_ACCEPTED)


class FileTransform(FileAPIView):
    """Tunery: a new version with PII redacted, duplicates removed, shuffled and/or split
    into train and validation files. The source file stays as it is."""

    @extend_schema(
        operation_id="transform_file", request=TransformSerializer, responses={202: FileSerializer(many=True)}
    )
    def post(self, request, file_id: str):
        source = self.get_object()
        body = TransformSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        targets = services.request_transform(source, **body.validated_data)
        return Response(
            {"object": "list", "data": FileSerializer(targets, many=True).data}, status=status.HTTP_202_ACCEPTED
        )


class StorageUsage(OrganizationAPIView):
    """Tunery: bytes stored by the organization, and the per-file limit."""

    @extend_schema(operation_id="retrieve_storage_usage", responses={200: dict})
    def get(self, request):
        from django.conf import settings

        return Response(
            {
                "object": "organization.storage",
                "bytes": storage_used(request.organization),
                "file_limit_bytes": settings.TUNERY_MAX_UPLOAD_BYTES,
            }
        )
