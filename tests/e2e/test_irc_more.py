"""More of the IRC transport against a real ngircd: CTCP VERSION, flood
control's bounded queue, certificate pins, an IRC server reached over
IPv6, invitations both ways, and per-server settings through the server
JID's ad-hoc "configure" command."""

import ferrytest as ft
from test_irc import IRC, IrcSetup, irc_transport


def pinned(pin):
    """The transport config for ngircd's TLS port with pin (None: the
    server's own fingerprint, in colon form and upper case, as
    `openssl x509 -fingerprint` prints it)."""
    def make(ngircd):
        fp = ngircd.pki.server_fingerprint
        p = pin or ":".join(fp[i:i + 2] for i in range(0, len(fp), 2)).upper()
        return irc_transport(ngircd).replace(
            "port = %d; plaintext = true;" % ngircd.port,
            'port = %d; ca_file = "%s"; pin = "%s";' % (ngircd.tls_port, ngircd.ca_file, p))
    return make


class IrcMore(IrcSetup, ft.FerryCase):
    server_kind = "prosody"

    def test_ctcp_version_is_answered(self):
        ngircd, server, _ = self.start_irc()
        irc = ngircd.client("vic")
        irc.join("#ver")
        c, room = self.joined(server, "vera", "#ver")
        irc.privmsg("vera", "\x01VERSION\x01")
        m = irc.wait_for(lambda m: m.command == "NOTICE" and m.nick == "vera", timeout=10)
        self.assertRegex(m.text, r"^\x01VERSION Ferry .*\x01$")
        # (the request itself is not shown to the user as a message)
        self.assertFalse([x for x in c.messages if "VERSION" in (x["body"] or "")])

    def test_full_flood_queue_bounces_with_resource_constraint(self):
        ngircd, server, _ = self.start_irc(lambda n: irc_transport(n).replace(
            "flood_burst = 20;\n        flood_interval_ms = 50;",
            "flood_burst = 1;\n        flood_interval_ms = 60000;\n        queue_max = 2;"))
        irc = ngircd.client("fred")
        irc.join("#flood")
        c, room = self.joined(server, "flo", "#flood")
        ids = [c.send_message(room, "line %d" % i, mtype="groupchat") for i in range(5)]
        # The JOIN took the one token and what follows it fills the queue
        # of two: messages beyond come back as errors, with their ids and
        # a reason, instead of waiting without bound.
        e = c.wait_message(room, 10, mtype="error")
        self.assertIn(e["id"], ids)
        self.assertIn("resource-constraint", str(e))
        self.assertIn("Too many messages", str(e))
        last = c.wait_message(room, 10, mtype="error", pred=lambda m: m["id"] == ids[-1])
        self.assertIn("resource-constraint", str(last))

    def test_certificate_pin_matches(self):
        _, server, _ = self.start_irc(pinned(None), tls=True)
        self.joined(server, "pia", "#pin")

    def test_certificate_pin_mismatch_is_refused(self):
        _, server, _ = self.start_irc(pinned("00" * 32), tls=True)
        room = "#pin%127.0.0.1@" + IRC
        c = self.client(server, "pat")
        c.join_room(room + "/pat")
        p = c.wait_presence(room + "/pat", "error", 15)
        self.assertIn("pin", str(p))

    def test_server_over_ipv6(self):
        def v6(ngircd):
            return irc_transport(ngircd).replace(
                '{ name = "127.0.0.1"; port = %d; plaintext = true;  }' % ngircd.port,
                '{ name = "v6.test"; host = "::1"; port = %d; plaintext = true; }' % ngircd.port)
        ngircd, server, _ = self.start_irc(v6, listen="127.0.0.1,::1")
        irc = ngircd.client("six")
        irc.join("#six6")
        c, room = self.joined(server, "sam", "#six6", host="v6.test")
        c.send_message(room, "over IPv6", mtype="groupchat")
        irc.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "over IPv6", timeout=10)
        self.assertTrue(ngircd.log.grep(r"Accepted connection .* from \"\[0?::1\]"),
                        ngircd.log.tail())

    def test_invitations_both_ways(self):
        ngircd, server, _ = self.start_irc()
        ivo = ngircd.client("ivo")
        ivo.join("#inv")
        c, room = self.joined(server, "ina", "#inv")
        # XMPP -> IRC: an IRC user is invited with INVITE.
        olga = ngircd.client("olga")
        c.invite(room, "olga%127.0.0.1@" + IRC, "come and see")
        m = olga.wait_for(lambda m: m.command == "INVITE" and m.nick == "ina", timeout=10)
        self.assertEqual(m.params[-1], "#inv")
        # An XMPP contact gets the invitation from the room, as from any MUC.
        d = self.client(server, "dora")
        c.invite(room, "dora@localhost", "join us")
        NS = "{http://jabber.org/protocol/muc#user}"
        m = d.wait_message(room, 10, pred=lambda m: m.xml.find(NS + "x") is not None)
        inv = m.xml.find(NS + "x/" + NS + "invite")
        self.assertEqual(inv.get("from"), c.xmpp.boundjid.full)
        self.assertEqual(inv.find(NS + "reason").text, "join us")
        # Only an occupant can make the room send invitations.
        d.invite(room, "someone@elsewhere.example", "spam")
        e = d.wait_message(room, 10, mtype="error")
        self.assertIn("not-acceptable", str(e))
        # IRC -> XMPP: a XEP-0249 invitation from the inviter's 1:1 address.
        ivo.join("#other")
        ivo.send_line("INVITE ina #other")
        m = c.wait_message("ivo%127.0.0.1@" + IRC, 10,
                           pred=lambda m: m.xml.find("{jabber:x:conference}x") is not None)
        self.assertEqual(m.xml.find("{jabber:x:conference}x").get("jid"),
                         "#other%127.0.0.1@" + IRC)
        self.assertIn("invites you to #other", m["body"])

    def test_per_server_settings_through_adhoc(self):
        NS = "{http://jabber.org/protocol/commands}"
        XD = "{jabber:x:data}"
        ngircd, server, _ = self.start_irc()
        c = self.client(server, "ada")
        sj = "127.0.0.1@" + IRC
        _, features = c.disco_info(sj)
        self.assertIn("http://jabber.org/protocol/commands", features)
        items = c.disco_items(sj, node="http://jabber.org/protocol/commands")
        self.assertEqual([i[1] for i in items], ["configure"])
        form = c.command(sj, "configure")
        self.assertEqual(form.get("status"), "executing")
        # (answered from the JID asked: clients send the form back there)
        self.assertEqual(c.last_iq_from, sj)
        vars_ = [f.get("var") for f in form.iter(XD + "field")]
        self.assertEqual(vars_, ["nick", "password", "sasl_user", "sasl_password"])
        done = c.command(sj, "configure", fields={"nick": "AdaHere", "password": ""},
                         sessionid=form.get("sessionid"), action="complete")
        self.assertEqual(done.get("status"), "completed")
        self.assertIn("Saved", done.find(NS + "note").text)
        # The next connection to that server uses it.
        wes = ngircd.client("wes")
        wes.join("#ad")
        room = "#ad%127.0.0.1@" + IRC
        c.join_room(room + "/ada")
        wes.wait_for(lambda m: m.command == "JOIN" and m.nick == "AdaHere", timeout=10)
        # The form shows what is stored; an unknown command is not found.
        again = c.command(sj, "configure")
        values = {f.get("var"): f.findtext(XD + "value") for f in again.iter(XD + "field")}
        self.assertEqual(values["nick"], "AdaHere")
        with self.assertRaises(Exception) as e:
            c.command(sj, "no-such-command")
        self.assertIn("item-not-found", str(e.exception))
        # A channel has no commands.
        _, features = c.disco_info(room)
        self.assertNotIn("http://jabber.org/protocol/commands", features)
