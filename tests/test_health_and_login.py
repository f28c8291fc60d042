import pytest
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@override_settings(AXES_ENABLED=True)
def test_login_locked_after_repeated_wrong_passwords(client, sdr):
    url = reverse("admin:login")
    for _ in range(5):
        response = client.post(url, {"username": "sam", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    response = client.post(url, {"username": "sam", "password": "pw"}, REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # Another address is not locked out for the same user.
    response = client.post(url, {"username": "sam", "password": "pw", "next": "/admin/"}, REMOTE_ADDR="10.0.0.10")
    assert response.status_code == 302
