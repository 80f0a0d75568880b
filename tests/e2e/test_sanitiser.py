"""(d) Bytes that are not valid XML text never reach the XMPP stream raw."""

import ferrytest as ft


class Sanitiser(ft.FerryCase):
    server_kind = "prosody"

    def test_control_bytes_and_invalid_utf8(self):
        server = self.start_server()
        ferry = self.start_ferry(server)
        c = self.client(server)
        online = len(ferry.log.grep(ft.ONLINE_RE))

        # The loopback transport echoes "hex:..." bodies as those raw bytes:
        # H \x02 e \x00 l \xff l o
        c.send_message("x@echo.localhost", "hex:48 02 65 00 6c ff 6c 6f")
        m = c.wait_message("x@echo.localhost", 10)
        self.assertNotEqual(m["type"], "error", str(m))
        body = m["body"]
        self.assertNotIn("\x02", body)
        self.assertNotIn("\x00", body)
        self.assertEqual(body, "Hel\ufffdlo")

        # The component stream survived: a normal echo still works, on the
        # same link.
        self.assert_echo(c, body="still here ✓")
        self.assertTrue(ferry.alive())
        self.assertEqual(len(ferry.log.grep(ft.ONLINE_RE)), online,
                         "the link was re-established:\n" + ferry.log.tail())
