# The report pages' helpers and fixtures (logged-in report client, a teammate, the reference
# rows the data migrations make), shared with apps.reporting's tests.
from apps.integrations.tests.conftest import make_client  # noqa: F401,E402
from apps.reporting.tests.conftest import _reference_rows, report, tia  # noqa: F401
