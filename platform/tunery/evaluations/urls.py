from django.urls import path

from tunery.evaluations import views

app_name = "evaluations"
urlpatterns = [
    path("evaluations", views.evaluation_list, name="list"),
    path("evaluations/new", views.create, name="create"),
    path("evaluations/<str:evaluation_id>", views.detail, name="detail"),
    path("evaluations/<str:evaluation_id>/cancel", views.cancel, name="cancel"),
]
