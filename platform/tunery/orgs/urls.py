from django.urls import path

from tunery.orgs import views

app_name = "orgs"
urlpatterns = [
    path("organizations/new", views.create, name="create"),
    path("organizations/switch", views.switch, name="switch"),
    path("settings/organization", views.settings_page, name="settings"),
    path("settings/organization/rename", views.rename, name="rename"),
    path("settings/organization/invite", views.invite, name="invite"),
    path(
        "settings/organization/invitations/<str:invitation_id>/revoke",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("settings/organization/members/<str:member_id>/role", views.change_role, name="change_role"),
    path("settings/organization/members/<str:member_id>/remove", views.remove_member, name="remove_member"),
    path(
        "settings/organization/members/<str:member_id>/make-owner", views.transfer_ownership, name="transfer_ownership"
    ),
    path("settings/organization/leave", views.leave, name="leave"),
    path("invitations/<str:token>", views.accept_invitation, name="accept_invitation"),
]
