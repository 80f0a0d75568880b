"""(i) Access control: users of a domain that is not allowed get `forbidden`."""

import ferrytest as ft


class Access(ft.FerryCase):
    server_kind = "prosody"

    def test_forbidden_domain(self):
        server = self.start_server()
        self.start_ferry(server, access='    allow_domains = [ "otherdomain.example" ];')
        c = self.client(server)
        c.send_message("x@echo.localhost", "let me in")
        m = c.wait_message("x@echo.localhost", 10)
        self.assertEqual(m["type"], "error", "expected an error, got " + str(m))
        self.assertEqual(m["error"]["condition"], "forbidden", str(m))
        self.assertTrue(m["error"]["text"].strip(), "the error has no text: " + str(m))
