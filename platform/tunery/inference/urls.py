from django.urls import path

from tunery.inference import views

app_name = "inference"
urlpatterns = [
    path("playground", views.playground, name="playground"),
    path("usage", views.usage, name="usage"),
]
