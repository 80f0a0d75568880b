"""SASL PLAIN and EXTERNAL against a scripted IRC peer that follows the
IRCv3 SASL exchange (ngircd has no SASL), including a failed
authentication reported to the user."""

import ferrytest as ft
from harness_ircfake import FakeIrcServer
from test_irc import IRC, origin_id_of


def transport(fake, server_settings):
    return """,
    {
        driver = "irc";
        domain = "%s";
        name = "irc";
        servers = ( { name = "127.0.0.1"; %s } );
    }""" % (IRC, server_settings)


class IrcSasl(ft.FerryCase):
    server_kind = "prosody"

    def setUp(self):
        self.fake = FakeIrcServer(accounts={"alice": "e2e-dummy-sasl-pass"})
        self.addCleanup(self.fake.cleanup)
        self.fake.start()
        self.server = self.start_server(extra_components=[IRC])

    def start_with(self, settings):
        ferry = self.start_ferry(self.server, wait_online=False,
                                 more_transports=transport(self.fake, settings))
        ferry.wait_log(r"\[irc\] xmpp: online", 15)
        return ferry

    def join(self, user):
        c = self.client(self.server, user)
        room = "#sasl%127.0.0.1@" + IRC
        c.join_room(room + "/" + user)
        return c, room

    def test_plain(self):
        self.start_with('port = %d; plaintext = true; sasl_user = "alice"; '
                        'sasl_password = "e2e-dummy-sasl-pass";' % self.fake.port)
        c, room = self.join("alice")
        conn = self.fake.wait_connection()
        self.fake.wait_line(r"^AUTHENTICATE PLAIN$")
        conn.wait_sasl()
        self.assertEqual(conn.sasl_result, "903")
        self.assertEqual(conn.account, "alice")
        conn.wait_registered()
        c.wait_presence(room + "/alice", None, 15)

    def test_plain_with_the_users_own_account_for_this_server(self):
        """SASL credentials a user set with the server JID's ad-hoc
        "configure" command are used for that server."""
        self.start_with("port = %d; plaintext = true;" % self.fake.port)
        c = self.client(self.server, "carla")
        done = c.command("127.0.0.1@" + IRC, "configure",
                         fields={"sasl_user": "alice", "sasl_password": "e2e-dummy-sasl-pass"},
                         action="complete")
        self.assertEqual(done.get("status"), "completed")
        room = "#sasl%127.0.0.1@" + IRC
        c.join_room(room + "/carla")
        conn = self.fake.wait_connection()
        self.fake.wait_line(r"^AUTHENTICATE PLAIN$")
        conn.wait_sasl()
        self.assertEqual((conn.sasl_result, conn.account), ("903", "alice"))
        conn.wait_registered()
        c.wait_presence(room + "/carla", None, 15)

    def test_external(self):
        self.start_with('port = %d; ca_file = "%s"; cert_file = "%s"; key_file = "%s"; '
                        'sasl_external = true;' % (self.fake.tls_port, self.fake.ca_file,
                                                    self.fake.client_cert, self.fake.client_key))
        c, room = self.join("bert")
        conn = self.fake.wait_connection()
        self.fake.wait_line(r"^AUTHENTICATE EXTERNAL$")
        conn.wait_sasl()
        self.assertEqual(conn.sasl_result, "903")
        c.wait_presence(room + "/bert", None, 15)

    def test_failed_authentication_is_reported(self):
        self.start_with('port = %d; plaintext = true; sasl_user = "alice"; '
                        'sasl_password = "wrong-password";' % self.fake.port)
        c, room = self.join("cleo")
        conn = self.fake.wait_connection()
        conn.wait_sasl()
        self.assertEqual(conn.sasl_result, "904")
        p = c.wait_presence(room + "/cleo", "error", 15)
        self.assertIn("not-authorized", str(p))
        self.assertIn("SASL", str(p))


class IrcFakePeer(ft.FerryCase):
    """What ngircd cannot produce, from the scripted peer."""

    server_kind = "prosody"

    def test_overlong_line_is_dropped_without_stalling(self):
        fake = FakeIrcServer(tls=False)
        self.addCleanup(fake.cleanup)
        fake.start()
        server = self.start_server(extra_components=[IRC])
        ferry = self.start_ferry(server, wait_online=False, more_transports=transport(
            fake, "port = %d; plaintext = true;" % fake.port))
        ferry.wait_log(r"\[irc\] xmpp: online", 15)
        c = self.client(server, "lara")
        room = "#big%127.0.0.1@" + IRC
        c.join_room(room + "/lara")
        conn = fake.wait_connection()
        conn.wait_registered()
        c.wait_presence(room + "/lara", None, 15)
        # (echo-message is on: our own line is reflected when it comes back,
        # with the sender's id and origin-id)
        sid = c.send_message(room, "mine", mtype="groupchat", origin_id="o-42")
        fake.wait_line(r"^PRIVMSG #big :?mine$", conn=conn)
        r = c.wait_message(room + "/lara", 10, pred=lambda m: m["body"] == "mine")
        self.assertEqual((r["id"], origin_id_of(r)), (sid, "o-42"))
        fake.send(":bob!b@127.0.0.1 PRIVMSG #big :" + "x" * 9000)
        fake.send(":bob!b@127.0.0.1 PRIVMSG #big :after the long one")
        m = c.wait_message(room + "/bob", 10)
        self.assertEqual(m["body"], "after the long one")
        ferry.wait_log(r"dropping an over-long line", 5)
