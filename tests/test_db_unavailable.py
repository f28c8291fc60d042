"""A database error in a request answers 503 + Retry-After (page or JSON), never a 500."""

import json

import pytest
from django.db import InterfaceError, OperationalError
from django.test import RequestFactory

from sdrops.db_unavailable import DatabaseUnavailableMiddleware, server_error


@pytest.mark.parametrize("error", [OperationalError("server closed the connection"), InterfaceError("connection already closed")])
def test_view_database_errors_become_503_with_retry_after(error):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    page = middleware.process_exception(RequestFactory().get("/admin/accounts/account/"), error)
    assert (page.status_code, page["Retry-After"]) == (503, "5")
    assert page["Content-Type"].startswith("text/html") and b"briefly unavailable" in page.content
    api = middleware.process_exception(RequestFactory().get("/api/accounts/"), error)
    assert (api.status_code, api["Retry-After"]) == (503, "5")
    assert json.loads(api.content)["detail"].startswith("The database is temporarily unavailable")


def test_other_errors_are_left_to_django():
    middleware = DatabaseUnavailableMiddleware(lambda request: None)
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None


def test_handler500_turns_database_errors_raised_outside_views_into_503():
    request = RequestFactory().get("/admin/")
    try:
        raise OperationalError("the database system is shutting down")
    except OperationalError:
        response = server_error(request)
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    try:
        raise ValueError("a real bug")
    except ValueError:
        assert server_error(request).status_code == 500
