import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_jobs_page_for_ops_says_when_no_cluster_runs(client, ops):
    client.force_login(ops.user)
    response = client.get(reverse("admin:jobs"))
    assert response.status_code == 200
    assert b"No django-q2 cluster is running" in response.content
    assert b"Background jobs" in client.get(reverse("admin:index")).content


def test_jobs_page_refused_to_sdr(client, sdr):
    client.force_login(sdr.user)
    assert client.get(reverse("admin:jobs")).status_code == 403
    assert b"Background jobs" not in client.get(reverse("admin:index")).content


def test_root_redirects_to_admin(client):
    response = client.get("/")
    assert response.status_code == 302 and response.url == "/admin/"
