"""E2E harness, unittest glue: FerryCase, the base class of the e2e tests.

Part of the harness whose facade is ferrytest.py; tests import that.
"""

import unittest

from harness_client import Client
from harness_ferry import Ferry
from harness_servers import SERVERS



class FerryCase(unittest.TestCase):
    """Base class: helpers that start things and register their cleanup."""

    server_kind = "prosody"

    def start_server(self, kind=None, **kw):
        server = SERVERS[kind or self.server_kind](**kw)
        self.addCleanup(server.cleanup)
        server.start()
        return server

    def start_ferry(self, server, wait_online=True, **config):
        ferry = Ferry(server, **config)
        self.addCleanup(ferry.cleanup)
        ferry.start(wait_online=wait_online)
        return ferry

    def client(self, server, user="alice", register=True):
        """A connected client for user@domain (registered first unless told)."""
        if register:
            jid = server.register(user)
        else:
            jid = "%s@%s" % (user, server.domain)
        c = Client(jid, host=server.host, port=server.c2s_port)
        self.addCleanup(c.close)
        c.connect()
        return c

    def assert_echo(self, client, to="x@echo.localhost", body="ping ✓"):
        got = client.echo(to, body)
        self.assertEqual(got, body)
