"""python -m apps.connect.tests.oidc_provider.serve: migrate, create the users and clients
the test describes (env PROVIDER_USERS, PROVIDER_CLIENTS as JSON), serve on 127.0.0.1 on a
free port and print "PORT <n>" once it listens."""

import json
import os
import socketserver
import sys
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apps.connect.tests.oidc_provider.settings")
    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for profile in json.loads(os.environ.get("PROVIDER_USERS", "[]")):
        User.objects.create_user(profile["username"], password=profile["password"])
    for client in json.loads(os.environ.get("PROVIDER_CLIENTS", "[]")):
        Application.objects.create(
            name=client["name"], client_id=client["client_id"], client_secret=client["client_secret"],
            client_type=Application.CLIENT_CONFIDENTIAL, authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=client["redirect_uri"], algorithm=Application.RS256_ALGORITHM, skip_authorization=True,
        )
    server = make_server("127.0.0.1", 0, get_wsgi_application(), server_class=ThreadingWSGIServer,
                         handler_class=QuietHandler)
    print(f"PORT {server.server_address[1]}", flush=True)
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
