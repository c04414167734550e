from django.urls import path

from tunery.apikeys import views

app_name = "apikeys"
urlpatterns = [
    path("settings/api-keys", views.key_list, name="list"),
    path("settings/api-keys/<str:key_id>/revoke", views.revoke, name="revoke"),
]
