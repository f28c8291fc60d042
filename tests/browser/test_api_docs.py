"""The API docs page renders in a real browser from local static files only."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_swagger_ui_renders_without_leaving_the_server(page, login, live_server, ops):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    login("opal")
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title:has-text('sdrops API')")
    page.wait_for_selector(".opblock-summary-path:has-text('/api/webhooks/crm/')")
    assert page.locator(".opblock-summary-path:has-text('/api/accounts/')").count() >= 1
    outside = [url for url in requested if not url.startswith(live_server.url) and not url.startswith("data:")]
    assert outside == []
