"""/healthz for load balancers: 200 when the database and the task broker answer, else 503."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not healthy", reported, never raised
        checks["database"] = f"error: {error.__class__.__name__}"
    try:
        from django_q.brokers import get_broker

        broker = get_broker()
        checks["broker"] = "ok" if broker.ping() else "error: no answer"
    except Exception as error:  # noqa: BLE001
        checks["broker"] = f"error: {error.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    response = JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)
    if not healthy:
        response["Retry-After"] = "5"  # as every other 503 (sdrops/db_unavailable.py)
    return response
