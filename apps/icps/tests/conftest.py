import pytest


@pytest.fixture(autouse=True)
def icps_defaults(request):
    """Transactional tests (browser tests) flush the reused test database, migration data
    included; put the defaults back for every test that touches the database."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("db")
    from apps.icps.defaults import icps_defaults_ensure

    icps_defaults_ensure()
