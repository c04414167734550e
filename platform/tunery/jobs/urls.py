from django.urls import path

from tunery.jobs import views

app_name = "jobs"
urlpatterns = [
    path("fine-tuning", views.job_list, name="list"),
    path("fine-tuning/new", views.create, name="create"),
    path("fine-tuning/compare", views.compare, name="compare"),
    path("fine-tuning/estimate", views.estimate, name="estimate"),
    path("fine-tuning/<str:job_id>", views.detail, name="detail"),
    path("fine-tuning/<str:job_id>/metrics.json", views.metrics, name="metrics"),
    path("fine-tuning/<str:job_id>/adapter.zip", views.download_adapter, name="adapter"),
    path("fine-tuning/<str:job_id>/cancel", views.control, {"action": "cancel"}, name="cancel"),
    path("fine-tuning/<str:job_id>/pause", views.control, {"action": "pause"}, name="pause"),
    path("fine-tuning/<str:job_id>/resume", views.control, {"action": "resume"}, name="resume"),
]
