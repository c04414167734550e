from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from tunery.api.organization import CurrentOrganization, MemberList
from tunery.apikeys.api import ApiKeyDetail, ApiKeyList
from tunery.billing import api as billing_api
from tunery.evaluations import api as evaluations_api
from tunery.files import api as files_api
from tunery.inference import api as inference_api
from tunery.jobs import api as jobs_api
from tunery.ops.health import healthz
from tunery.ops.metrics import metrics
from tunery.ops.views import overview

api_v1 = [
    path("organization", CurrentOrganization.as_view(), name="organization"),
    path("organization/members", MemberList.as_view(), name="organization-members"),
    path("organization/api_keys", ApiKeyList.as_view(), name="api-keys"),
    path("organization/api_keys/<str:key_id>", ApiKeyDetail.as_view(), name="api-key"),
    path("organization/usage", inference_api.Usage.as_view(), name="usage"),
    path("organization/storage", files_api.StorageUsage.as_view(), name="storage-usage"),
    path("organization/billing", billing_api.BillingSummary.as_view(), name="billing"),
    path("organization/billing/ledger", billing_api.LedgerList.as_view(), name="billing-ledger"),
    path("organization/billing/payment_method", billing_api.PaymentMethod.as_view(), name="billing-payment-method"),
    path("organization/billing/card_setup", billing_api.CardSetup.as_view(), name="billing-card-setup"),
    path("organization/billing/top_ups", billing_api.TopUps.as_view(), name="billing-top-ups"),
    path("files", files_api.FileList.as_view(), name="files"),
    path("files/<str:file_id>", files_api.FileDetail.as_view(), name="file"),
    path("files/<str:file_id>/content", files_api.FileContent.as_view(), name="file-content"),
    path("files/<str:file_id>/analysis", files_api.FileAnalysis.as_view(), name="file-analysis"),
    path("files/<str:file_id>/convert", files_api.FileConvert.as_view(), name="file-convert"),
    path("files/<str:file_id>/transform", files_api.FileTransform.as_view(), name="file-transform"),
    path("fine_tuning/jobs", jobs_api.JobList.as_view(), name="jobs"),
    path("fine_tuning/jobs/estimate", jobs_api.JobEstimate.as_view(), name="job-estimate"),
    path("fine_tuning/jobs/<str:job_id>", jobs_api.JobDetail.as_view(), name="job"),
    path("fine_tuning/jobs/<str:job_id>/cancel", jobs_api.JobAction.as_view(action="cancel"), name="job-cancel"),
    path("fine_tuning/jobs/<str:job_id>/pause", jobs_api.JobAction.as_view(action="pause"), name="job-pause"),
    path("fine_tuning/jobs/<str:job_id>/resume", jobs_api.JobAction.as_view(action="resume"), name="job-resume"),
    path("fine_tuning/jobs/<str:job_id>/events", jobs_api.JobEvents.as_view(), name="job-events"),
    path("fine_tuning/jobs/<str:job_id>/checkpoints", jobs_api.JobCheckpoints.as_view(), name="job-checkpoints"),
    path("fine_tuning/jobs/<str:job_id>/adapter", jobs_api.JobAdapter.as_view(), name="job-adapter"),
    path("evaluations", evaluations_api.EvaluationList.as_view(), name="evaluations"),
    path("evaluations/<str:evaluation_id>", evaluations_api.EvaluationDetail.as_view(), name="evaluation"),
    path(
        "evaluations/<str:evaluation_id>/cancel", evaluations_api.EvaluationCancel.as_view(), name="evaluation-cancel"
    ),
    path("chat/completions", inference_api.Completions.as_view(), name="chat-completions"),
    path("completions", inference_api.TextCompletions.as_view(), name="completions"),
    path("models", jobs_api.ModelList.as_view(), name="models"),
    path("models/<path:model_id>", jobs_api.ModelDetail.as_view(), name="model"),
]

urlpatterns = [
    path("v1/", include((api_v1, "v1"))),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    # The split view loads Swagger UI's set-up script from a URL (the CSP allows no inline
    # script); its page still carries a small inline stylesheet.
    path(
        "api/docs",
        csp_update({"style-src-elem": UNSAFE_INLINE})(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("staff/", overview, name="staff-overview"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("tunery.apikeys.urls")),
    path("", include("tunery.billing.urls")),
    path("", include("tunery.files.urls")),
    path("", include("tunery.jobs.urls")),
    path("", include("tunery.inference.urls")),
    path("", include("tunery.evaluations.urls")),
    path("", include("tunery.orgs.urls")),
    path("", include("tunery.dashboard.urls")),
]

handler400 = "tunery.ops.errors.bad_request"
handler403 = "tunery.ops.errors.permission_denied"
handler404 = "tunery.ops.errors.not_found"
handler500 = "tunery.ops.errors.server_error"
