from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from sdrops.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/", include("sdrops.api_urls")),
    path("healthz", healthz, name="healthz"),
    # Sign-on and calendar feeds (apps/connect).
    path("", include("apps.connect.urls")),
]

# Database restarts raised outside views become 503 + Retry-After too (sdrops/db_unavailable.py).
handler500 = "sdrops.db_unavailable.server_error"
