"""E2E: the IRC part of the harness on its own, without Ferry: a real ngircd
(harness_irc.Ngircd) with IrcClients, and the scripted peer
(harness_ircfake.FakeIrcServer) for CAP and SASL.

Needs the Debian packages ngircd and openssl (scripts/deps.sh).  The TLS
tests skip only when this ngircd was built without TLS (+SSL).
"""

import base64
import ssl
import unittest

import ferrytest as ft


class IrcNgircdHarness(unittest.TestCase):
    """Ngircd + IrcClient against the real server."""

    def setUp(self):
        self.irc = ft.Ngircd()
        self.addCleanup(self.irc.cleanup)
        self.irc.start()

    def test_channel_messages_topic_and_oper_kick(self):
        irc = self.irc
        alice = irc.client("alice_has_a_long_nick_of_30ch")     # MaxNickLength 30
        self.assertEqual(alice.nick, "alice_has_a_long_nick_of_30ch")
        bob = irc.client("bob")
        self.assertIn("NICKLEN=30", " ".join(m.line for m in bob.messages if m.command == "005"))

        alice.join("#harness")
        bob.join("#harness")
        alice.wait_for(lambda m: m.command == "JOIN" and m.nick == "bob")
        self.assertEqual(sorted(alice.names("#harness")), sorted([alice.nick, "bob"]))
        self.assertIn("@" + alice.nick, bob.names("#harness", prefixes=True))  # creator: op

        # PRIVMSG both ways, NOTICE, CTCP ACTION
        mark = bob.mark()
        alice.privmsg("#harness", "hello bob ✓")
        m = bob.wait_for(lambda m: m.command == "PRIVMSG" and m.nick == alice.nick, since=mark)
        self.assertEqual(m.params, ["#harness", "hello bob ✓"])
        mark = alice.mark()
        bob.privmsg(alice.nick, "hi in private")
        bob.notice("#harness", "a notice")
        bob.action("#harness", "waves")
        m = alice.wait_for(command="PRIVMSG", since=mark)
        self.assertEqual((m.nick, m.params), ("bob", [alice.nick, "hi in private"]))
        self.assertEqual(alice.wait_for(command="NOTICE", since=mark).text, "a notice")
        m = alice.wait_for(lambda m: m.ctcp is not None, since=mark)
        self.assertEqual(m.ctcp, ("ACTION", "waves"))
        with self.assertRaises(ValueError):
            alice.privmsg("#harness", "two\r\nQUIT :lines")

        # topic: set by one, seen live and on query by the other
        mark = bob.mark()
        alice.topic("#harness", "the harness topic")
        self.assertEqual(bob.wait_for(command="TOPIC", since=mark).text, "the harness topic")
        self.assertEqual(bob.topic("#harness"), "the harness topic")

        # bob is no chanop, but an IRC operator (OperCanUseMode) can KICK.
        # (A failed OPER stalls that connection for 10 s: use a spare one.)
        with self.assertRaises(ft.IrcError):
            irc.client("spare").oper(irc.oper_name, "wrong-password")
        bob.oper(irc.oper_name, irc.oper_password)
        mark = alice.mark()
        bob.kick("#harness", alice.nick, "harness kick")
        m = alice.wait_for(command="KICK", since=mark)
        self.assertEqual(m.params, ["#harness", alice.nick, "harness kick"])
        self.assertEqual(bob.names("#harness"), ["bob"])

        # nick change, seen by the other side; QUIT closes the connection
        alice.join("#harness")
        mark = bob.mark()
        alice.change_nick("alice2")
        self.assertEqual(alice.nick, "alice2")
        self.assertEqual(bob.wait_for(command="NICK", since=mark).text, "alice2")
        alice.quit("bye")
        self.assertTrue(alice.closed)
        bob.wait_for(lambda m: m.command == "QUIT" and m.nick == "alice2", since=mark)

    def test_limits_many_clients_and_fast_lines(self):
        """MaxConnectionsIP 0 (more than 5 from 127.0.0.1) and MaxPenaltyTime
        0 (a burst is not throttled to ~3.5 lines/s)."""
        clients = [self.irc.client("user%d" % i) for i in range(8)]
        for c in clients[:2]:
            c.join("#busy")
        sender, receiver = clients[0], clients[1]
        mark = receiver.mark()
        for i in range(40):
            sender.privmsg("#busy", "burst %d" % i)
        receiver.wait_for(lambda m: m.text == "burst 39", timeout=3, since=mark)
        got = [m.text for m in receiver.messages[mark:] if m.command == "PRIVMSG"]
        self.assertEqual(got, ["burst %d" % i for i in range(40)])

    def test_latin1_bytes_arrive_unchanged(self):
        alice, bob = self.irc.client("alice"), self.irc.client("bob")
        alice.join("#bytes")
        bob.join("#bytes")
        mark = bob.mark()
        text = b"caf\xe9 cr\xe8me \x02bold\x02"
        alice.send_raw(b"PRIVMSG #bytes :" + text)
        m = bob.wait_for(command="PRIVMSG", since=mark)
        self.assertEqual(m.raw_params[-1], text)
        self.assertTrue(m.raw.endswith(b" PRIVMSG #bytes :" + text))
        self.assertIn("\ufffd", m.text)           # not UTF-8: replaced when decoded
        with self.assertRaises(ValueError):
            alice.send_raw(b"PRIVMSG #bytes :a\r\nQUIT")

    def test_restart_on_same_ports(self):
        ports = (self.irc.port, self.irc.tls_port)
        alice = self.irc.client("alice")
        self.irc.stop()
        alice.wait_closed(5)
        self.assertFalse(ft.port_open(self.irc.port))
        self.irc.start()
        self.assertEqual((self.irc.port, self.irc.tls_port), ports)
        again = self.irc.client("alice")            # the same nick is free again
        again.join("#back")
        self.assertEqual(again.names("#back"), ["alice"])
        mark = self.irc.log.mark()
        self.irc.client("carol")
        self.assertIn('"carol!', self.irc.wait_registered("carol", since=mark))

    def test_tls_with_test_ca_and_certfp(self):
        info = ft.ngircd_info()
        if not info["tls"]:
            self.skipTest("ngircd %s has no TLS (+SSL)" % info["version"])
        irc = self.irc
        self.assertTrue(irc.tls_port and irc.ca_file)
        alice = irc.client("alice", tls=True)
        bob = irc.client("bob", tls=True, cert=True)
        self.assertIsNotNone(alice.peer_cert_der)
        alice.join("#tls")
        bob.join("#tls")
        mark = alice.mark()
        bob.privmsg("#tls", "over TLS ✓")
        self.assertEqual(alice.wait_for(command="PRIVMSG", since=mark).text, "over TLS ✓")
        mark = bob.mark()
        alice.privmsg("#tls", "and back")
        self.assertEqual(bob.wait_for(command="PRIVMSG", since=mark).text, "and back")
        # Without the test CA the certificate does not verify.
        stranger = ft.IrcClient(irc.host, irc.tls_port, tls=True)
        self.addCleanup(stranger.close)
        with self.assertRaises(ssl.SSLCertVerificationError):
            stranger.open()
        if info["certfp"]:
            fp = irc.client_fingerprint
            bob.wait_for(r"Your client certificate fingerprint is: %s$" % fp)
            # ngircd shows the CertFP (276) in WHOIS to the user only.
            whois = {m.command: m for m in bob.whois("bob")}
            self.assertIn(fp, whois["276"].text)
            self.assertNotIn("276", {m.command for m in alice.whois("bob")})
            self.assertNotIn("276", {m.command for m in alice.whois("alice")})


class IrcFakeServerHarness(unittest.TestCase):
    """FakeIrcServer, driven by IrcClient and by hand-written lines."""

    def setUp(self):
        self.fake = ft.FakeIrcServer(
            accounts={"ferry": "e2e-dummy-sasl-pass"},
            channels={"#chan": {"topic": "scripted topic", "members": ["@op", "+voice"]}})
        self.addCleanup(self.fake.cleanup)
        self.fake.start()

    def raw_client(self, **kw):
        c = ft.IrcClient(self.fake.host, kw.pop("port", self.fake.port), **kw)
        self.addCleanup(c.close)
        return c.open()

    def plain(self, user, password):
        return base64.b64encode(b"\0".join(
            [b"", user.encode(), password.encode()])).decode()

    def test_sasl_plain_by_hand_good_and_bad(self):
        # good credentials: the whole IRCv3 exchange, line by line
        c = self.raw_client()
        c.send_line("CAP LS 302")
        c.send_line("NICK good")
        c.send_line("USER good 0 * :Good")
        ls = c.wait_for(command="CAP")
        self.assertEqual(ls.params[:2], ["*", "LS"])
        self.assertIn("sasl=PLAIN,EXTERNAL", ls.text.split())
        c.send_line("CAP REQ :sasl")
        self.assertEqual(c.wait_for(r" CAP \S+ (ACK|NAK) ").params[1:], ["ACK", "sasl"])
        c.send_line("AUTHENTICATE PLAIN")
        c.wait_for(r"^AUTHENTICATE \+$")
        c.send_line("AUTHENTICATE " + self.plain("ferry", "e2e-dummy-sasl-pass"))
        m900 = c.wait_for(command="900")
        self.assertEqual(m900.params[2], "ferry")
        c.wait_for(command="903")
        self.assertFalse([m for m in c.messages if m.command == "001"])  # held until CAP END
        c.send_line("CAP END")
        self.assertEqual(c.wait_for(command="001").params[0], "good")
        c.wait_for(command="376")
        conn = self.fake.wait_connection(0)
        self.assertEqual((conn.account, conn.sasl_result, conn.registered), ("ferry", "903", True))

        # bad password: 904, and the registration still completes after CAP END
        b = self.raw_client()
        b.send_line("CAP LS 302")
        b.send_line("NICK bad")
        b.send_line("USER bad 0 * :Bad")
        b.send_line("CAP REQ :sasl")
        b.wait_for(r" CAP \S+ ACK :sasl$")
        b.send_line("AUTHENTICATE PLAIN")
        b.wait_for(r"^AUTHENTICATE \+$")
        b.send_line("AUTHENTICATE " + self.plain("ferry", "wrong"))
        m = b.wait_for(lambda m: m.command in ("903", "904"))
        self.assertEqual(m.command, "904")
        self.assertEqual(self.fake.wait_connection(1).sasl_result, "904")
        self.assertIsNone(self.fake.conns[1].account)
        b.send_line("CAP END")
        b.wait_for(command="001")
        self.fake.wait_line(r"^AUTHENTICATE PLAIN$", conn=self.fake.conns[1])

    def test_sasl_through_irc_client(self):
        ok = ft.IrcClient(self.fake.host, self.fake.port)
        self.addCleanup(ok.close)
        ok.connect("okay", sasl=("PLAIN", "ferry", "e2e-dummy-sasl-pass"))
        self.assertTrue(ok.sasl_ok)
        self.assertEqual(ok.account, "ferry")
        bad = ft.IrcClient(self.fake.host, self.fake.port)
        self.addCleanup(bad.close)
        bad.connect("nope", sasl=("PLAIN", "nobody", "e2e-dummy-sasl-pass"))
        self.assertEqual(bad.sasl_result.command, "904")
        # an unknown mechanism: 908 (the list) then 904
        odd = ft.IrcClient(self.fake.host, self.fake.port)
        self.addCleanup(odd.close)
        odd.connect("odd", sasl=("SCRAM-SHA-256",))
        self.assertEqual(odd.sasl_result.command, "904")
        self.assertEqual(odd.wait_for(command="908").params[1], "PLAIN,EXTERNAL")

    def test_sasl_external_with_client_certificate(self):
        fake = self.fake
        # A second CA-signed certificate, not in the allowed fingerprints.
        other_cert, other_key, other_fp = ft.issue_client_cert(fake.pki, "other")
        fake.external_fingerprints = {fake.client_fingerprint}

        good = self.raw_client(port=fake.tls_port, tls=True, ca_file=fake.ca_file,
                               certfile=fake.client_cert, keyfile=fake.client_key)
        good.register("certuser", sasl=("EXTERNAL",))
        self.assertEqual(good.sasl_result.command, "903")
        self.assertEqual(good.account, "ferry-e2e-client")      # the certificate's CN
        self.assertEqual(fake.conns[0].client_fingerprint, fake.client_fingerprint)
        self.assertEqual(fake.conns[0].client_fingerprint, ft.cert_fingerprint(fake.client_cert))

        nocert = self.raw_client(port=fake.tls_port, tls=True, ca_file=fake.ca_file)
        nocert.register("nocert", sasl=("EXTERNAL",))
        self.assertEqual(nocert.sasl_result.command, "904")

        other = self.raw_client(port=fake.tls_port, tls=True, ca_file=fake.ca_file,
                                certfile=other_cert, keyfile=other_key)
        other.register("other", sasl=("EXTERNAL",))
        self.assertEqual(other.sasl_result.command, "904")
        self.assertEqual(fake.conns[2].client_fingerprint, other_fp)

        plain = self.raw_client()                                 # no TLS, no certificate
        plain.register("plaintext", sasl=("EXTERNAL",))
        self.assertEqual(plain.sasl_result.command, "904")

    def test_caps_join_echo_ping_inject_quit(self):
        fake = self.fake
        c = self.raw_client()
        c.send_line("CAP LS 302")
        c.send_line("CAP REQ :multi-prefix no-such-cap")
        self.assertEqual(c.wait_for(r" CAP \S+ (ACK|NAK) ").params[1], "NAK")
        c.send_line("CAP REQ :echo-message server-time")
        c.wait_for(r" CAP \S+ ACK ")
        c.send_line("CAP END")
        c.send_line("NICK carol")
        c.send_line("USER carol 0 * :Carol")
        isupport = c.wait_for(command="005")
        for token in ("CHANTYPES=#&", "PREFIX=(ov)@+", "CASEMAPPING=rfc1459", "NICKLEN=30"):
            self.assertIn(token, isupport.params)
        c.wait_for(command="376")
        c.nick = "carol"

        c.join("#chan")
        self.assertEqual(c.wait_for(command="332").text, "scripted topic")
        self.assertEqual(c.names("#chan"), ["op", "voice", "carol"])

        mark = c.mark()
        c.send_raw(b"PRIVMSG #chan :caf\xe9")
        echo = c.wait_for(command="PRIVMSG", since=mark)
        self.assertEqual((echo.nick, echo.raw_params[-1]), ("carol", b"caf\xe9"))
        self.assertRegex(echo.tags["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        fake.wait_line(r"^PRIVMSG #chan :caf")

        c.send_line("PING :token-1")
        self.assertEqual(c.wait_for(command="PONG").text, "token-1")
        mark = fake.mark()
        fake.send("PING :from-server")
        fake.wait_line(r"^PONG :from-server$", since=mark)     # IrcClient answers by itself

        fake.send(":dave!d@127.0.0.1 PRIVMSG #chan :injected")
        m = c.wait_for(lambda m: m.text == "injected")
        self.assertEqual((m.nick, m.params[0]), ("dave", "#chan"))

        second = ft.IrcClient(fake.host, fake.port)
        self.addCleanup(second.close)
        second.connect("dave")
        self.assertEqual(len(fake.conns), 2)
        fake.send("NOTICE dave :only to the second", conn=fake.conns[1])
        second.wait_for(lambda m: m.text == "only to the second")
        self.assertFalse([m for m in c.messages if m.text == "only to the second"])

        c.quit("done")
        self.assertTrue(fake.conns[0].conn.wait_closed(5))
        self.assertTrue(c.messages[-1].line.startswith("ERROR :Closing Link"))


if __name__ == "__main__":
    unittest.main()
