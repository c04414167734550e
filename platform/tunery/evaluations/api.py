"""Tunery's `/v1/evaluations`: score models on a test file, side by side, with their cost."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from tunery.api.pagination import cursor_page
from tunery.api.serializers import refuse_unknown_fields
from tunery.api.views import OrganizationAPIView
from tunery.evaluations import services
from tunery.evaluations.models import EvaluationRun
from tunery.evaluations.serializers import CreateEvaluationRequest, evaluation_data
from tunery.orgs.roles import Scope


class EvaluationAPIView(OrganizationAPIView):
    model = EvaluationRun
    object_name = "evaluation"
    write_scope = Scope.FINE_TUNE
    lookup_url_kwarg = "evaluation_id"

    def get_queryset(self):
        return super().get_queryset().select_related("base_model", "test_file")


class EvaluationList(EvaluationAPIView):
    @extend_schema(
        operation_id="list_evaluations",
        parameters=[OpenApiParameter("after", str), OpenApiParameter("limit", int)],
        responses={200: dict},
    )
    def get(self, request):
        return cursor_page(request, self.get_queryset(), evaluation_data)

    @extend_schema(
        operation_id="create_evaluation",
        description="Score base, fine-tuned and checkpoint models of one base model on a test file. The estimate "
        "is held from the balance (402 when it cannot be covered); the tokens used are charged at the inference "
        "price when the run ends.",
        request=CreateEvaluationRequest,
        responses={200: dict},
    )
    def post(self, request):
        refuse_unknown_fields(request.data, CreateEvaluationRequest().fields)
        created_by = str(request.user.api_key or request.user.user or "")
        return Response(evaluation_data(services.create_run(request.organization, request.data, created_by)))


class EvaluationDetail(EvaluationAPIView):
    @extend_schema(operation_id="retrieve_evaluation", responses={200: dict})
    def get(self, request, evaluation_id: str):
        return Response(evaluation_data(self.get_object()))


class EvaluationCancel(EvaluationAPIView):
    @extend_schema(operation_id="cancel_evaluation", request=None, responses={200: dict})
    def post(self, request, evaluation_id: str):
        return Response(evaluation_data(services.cancel(self.get_object())))
