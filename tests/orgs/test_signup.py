import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from tests.conftest import make_user

SIGNUP = "/accounts/signup/"


@pytest.mark.django_db
def test_signup_sends_verification_and_creates_personal_organization(client):
    response = client.post(
        SIGNUP, {"email": "new@x.test", "password1": "a strong passphrase", "password2": "a strong passphrase"}
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(email="new@x.test")
    organization = user.memberships.get().organization
    assert organization.personal and organization.memberships.get().role == "owner"
    assert len(mail.outbox) == 1 and "new@x.test" in mail.outbox[0].to
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+", mail.outbox[0].body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    client.post("/" + path)
    assert user.emailaddress_set.get().verified


@pytest.mark.django_db
def test_it_refuses_a_taken_email_with_an_inline_error(client):
    make_user("taken@x.test")
    response = client.post(
        SIGNUP, {"email": "taken@x.test", "password1": "a strong passphrase", "password2": "a strong passphrase"}
    )
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    assert get_user_model().objects.filter(email="taken@x.test").count() == 1


@pytest.mark.django_db
def test_it_refuses_a_weak_password(client):
    response = client.post(SIGNUP, {"email": "weak@x.test", "password1": "password", "password2": "password"})
    assert response.status_code == 200
    assert "too short" in response.content.decode() or "too common" in response.content.decode()
    assert not get_user_model().objects.filter(email="weak@x.test").exists()


@pytest.mark.django_db
def test_unverified_user_cannot_log_in(client):
    user = get_user_model().objects.create_user(username="u@x.test", email="u@x.test", password="a strong passphrase")
    user.emailaddress_set.create(email="u@x.test", verified=False, primary=True)
    response = client.post("/accounts/login/", {"login": "u@x.test", "password": "a strong passphrase"})
    assert response.status_code == 302 and "confirm-email" in response.url
    assert client.get("/").status_code == 302


@pytest.mark.django_db
def test_password_reset_sends_a_link(client, owner_a):
    client.post("/accounts/password/reset/", {"email": owner_a.email})
    assert "password/reset/key" in mail.outbox[-1].body
