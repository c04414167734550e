from django.urls import path

from tunery.files import views

app_name = "files"
urlpatterns = [
    path("datasets", views.file_list, name="list"),
    path("datasets/upload", views.upload, name="upload"),
    path("datasets/wizard", views.wizard, name="wizard"),
    path("datasets/<str:file_id>", views.detail, name="detail"),
    path("datasets/<str:file_id>/convert", views.convert, name="convert"),
    path("datasets/<str:file_id>/transform", views.transform, name="transform"),
    path("datasets/<str:file_id>/delete", views.delete, name="delete"),
    path("datasets/<str:file_id>/download", views.download, name="download"),
]
