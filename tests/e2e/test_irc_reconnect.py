"""IRC connections that drop come back: Ferry reconnects with backoff,
rejoins every room (with its key) and tells the users in the room instead
of kicking them.  And TLS with certificate checks against a test CA."""

import ferrytest as ft
from harness_irc import IrcError
from test_irc import IRC, IrcSetup, irc_transport, muc_items


class IrcReconnect(IrcSetup, ft.FerryCase):
    server_kind = "prosody"

    def test_server_restart_rejoins_rooms(self):
        ngircd, server, _ = self.start_irc()
        c, room = self.joined(server, "uma", "#re")
        ngircd.restart()
        # A status message in the room, not a kick...
        c.wait_message(room, 15, pred=lambda m: "lost" in (m["body"] or ""))
        c.wait_message(room, 30, pred=lambda m: "Reconnected" in (m["body"] or ""))
        self.assertFalse([p for p in c.presences
                          if str(p["from"]) == room + "/uma" and p.xml.get("type")])
        # ...and messages flow again without user action.
        irc = ngircd.client("vera")
        irc.join("#re")
        c.send_message(room, "back again", mtype="groupchat")
        irc.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "back again", timeout=15)
        irc.privmsg("#re", "welcome back")
        c.wait_message(room + "/vera", 15, pred=lambda m: m["body"] == "welcome back")


def tls_transport(with_ca):
    """The transport config for ngircd's TLS port, trusting the test CA or
    (with_ca False) only the system's CAs."""
    def make(ngircd):
        return irc_transport(ngircd).replace(
            "port = %d; plaintext = true;" % ngircd.port,
            'port = %d; ca_file = "%s";' % (ngircd.tls_port, ngircd.ca_file) if with_ca
            else "port = %d;" % ngircd.tls_port)
    return make


class IrcTls(IrcSetup, ft.FerryCase):
    server_kind = "prosody"

    def test_tls_with_test_ca(self):
        ngircd, server, _ = self.start_irc(tls_transport(True), tls=True)
        irc = ngircd.client("wilma", tls=True)
        irc.join("#sec")
        room = "#sec%127.0.0.1@" + IRC
        c = self.client(server, "xena")
        c.join_room(room + "/xena")
        p = c.wait_presence(room + "/xena", None, 15)
        self.assertIn(110, muc_items(p)[1])
        c.send_message(room, "over TLS", mtype="groupchat")
        irc.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "over TLS", timeout=10)

    def test_untrusted_certificate_is_refused(self):
        """TLS by default with verification: without the test CA the
        connection fails and the user is told; no plaintext fallback."""
        ngircd, server, ferry = self.start_irc(tls_transport(False), tls=True)
        room = "#sec%127.0.0.1@" + IRC
        c = self.client(server, "yuri")
        c.join_room(room + "/yuri")
        p = c.wait_presence(room + "/yuri", "error", 15)
        self.assertRegex(str(p), r"TLS|certificate")
        ferry.wait_log(r"TLS failed|certificate", 15)
        self.assertFalse([l for l in ngircd.log.lines() if "yuri" in l and "registered" in l])


class IrcQuitGrace(IrcSetup, ft.FerryCase):
    server_kind = "prosody"

    def test_quit_after_the_last_room_is_left(self):
        ngircd, server, _ = self.start_irc(lambda n: irc_transport(n).replace(
            "flood_burst = 20;", "flood_burst = 20; quit_grace = 1;"))
        watcher = ngircd.client("wally")
        watcher.join("#g1")
        c, room = self.joined(server, "gus", "#g1")
        c.send_presence(room + "/gus", "unavailable")
        watcher.wait_for(lambda m: m.command == "PART" and m.nick == "gus", timeout=10)
        # Nothing else uses the connection: it quits after the grace period.
        watcher.join("#g2")
        c.join_room("#g2%127.0.0.1@" + IRC + "/gus")
        watcher.wait_for(lambda m: m.command == "JOIN" and m.nick == "gus", timeout=10)
        c.send_presence("#g2%127.0.0.1@" + IRC + "/gus", "unavailable")
        watcher.wait_for(lambda m: m.command == "PART" and m.nick == "gus", timeout=10)

        def gone():
            try:
                watcher.whois("gus", timeout=5)
                return False
            except IrcError:
                return True
        ft.wait_until(gone, 10, interval=0.3, what="gus to quit after the grace period")
        # A QUIT, not a dropped connection.
        self.assertTrue(ngircd.log.grep(r'"gus!.*unregistered.*Got QUIT command'),
                        ngircd.log.tail())

    def test_quit_and_queued_lines_at_shutdown(self):
        """On SIGTERM every connection sends what flood control still holds
        (accepted messages), then QUIT with a reason, before Ferry exits."""
        ngircd, server, ferry = self.start_irc(lambda n: irc_transport(n).replace(
            "flood_burst = 20;\n        flood_interval_ms = 50;",
            "flood_burst = 1;\n        flood_interval_ms = 60000;"))
        watcher = ngircd.client("wendy")
        watcher.join("#bye")
        c, room = self.joined(server, "quinn", "#bye")
        # One line at once, then one a minute: "first" takes the token
        # (if the JOIN has not), the next two wait in the queue.
        c.send_message(room, "first", mtype="groupchat")
        c.send_message(room, "queued one", mtype="groupchat")
        c.send_message(room, "queued two", mtype="groupchat")
        # Accepted (the room reflects a message to its sender when Ferry
        # takes it; ngircd has no echo-message).
        c.wait_message(room + "/quinn", 10, pred=lambda m: m["body"] == "queued two")
        self.assertEqual(ferry.terminate(10), 0)
        watcher.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "queued two", timeout=10)
        self.assertEqual([m.text for m in watcher.messages
                          if m.command == "PRIVMSG" and m.nick == "quinn"],
                         ["first", "queued one", "queued two"])
        quit = watcher.wait_for(lambda m: m.command == "QUIT" and m.nick == "quinn", timeout=10)
        self.assertIn("Gateway shutting down", quit.text)  # (ngircd adds quotes)
