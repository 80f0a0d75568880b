"""IRC through a real ngircd on 127.0.0.1: rooms (XEP-0045) and private
chats, with real XMPP clients through Prosody and a plain IRC client."""

import ferrytest as ft
from harness_irc import Ngircd

IRC = "irc.localhost"


def irc_transport(ngircd, extra_server=""):
    return """,
    {
        driver = "irc";
        domain = "%s";
        name = "irc";
        flood_burst = 20;
        flood_interval_ms = 50;
        servers = (
            { name = "127.0.0.1"; port = %d; plaintext = true; %s }
        );
    }""" % (IRC, ngircd.port, extra_server)


class IrcSetup:
    """For FerryCase classes: start_irc starts an ngircd (Ngircd(**kw),
    plaintext unless tls=True), Prosody with the IRC component and Ferry
    with the transport config transport(ngircd) (irc_transport by default);
    joined logs a new user in and joins it to a channel of that server."""

    def start_irc(self, transport=None, tls=False, **ngircd_kw):
        ngircd = Ngircd(tls=tls, **ngircd_kw)
        self.addCleanup(ngircd.cleanup)
        ngircd.start()
        server = self.start_server(extra_components=[IRC])
        ferry = self.start_ferry(server, wait_online=False,
                                 more_transports=(transport or irc_transport)(ngircd))
        ferry.wait_log(r"\[irc\] xmpp: online", 15)
        return ngircd, server, ferry

    def joined(self, server, nick, chan, host="127.0.0.1"):
        """(client, room JID) once the user's self-presence arrived."""
        room = "%s%%%s@%s" % (chan, host, IRC)
        c = self.client(server, nick)
        c.join_room(room + "/" + nick)
        c.wait_presence(room + "/" + nick, None, 15)
        return c, room


def origin_id_of(m):
    o = m.xml.find("{urn:xmpp:sid:0}origin-id")
    return None if o is None else o.get("id")


def muc_items(p):
    x = p.xml.find("{http://jabber.org/protocol/muc#user}x")
    if x is None:
        return None, []
    item = x.find("{http://jabber.org/protocol/muc#user}item")
    codes = [int(s.get("code")) for s in x.findall("{http://jabber.org/protocol/muc#user}status")]
    return item, codes


class Irc(ft.FerryCase):
    server_kind = "prosody"

    @classmethod
    def setUpClass(cls):
        cls.ngircd = Ngircd(tls=False)
        cls.server = ft.Prosody(extra_components=[IRC])
        cls.ferry = None
        try:
            cls.ngircd.start()
            cls.server.start()
            cls.ferry = ft.Ferry(cls.server, more_transports=irc_transport(cls.ngircd))
            cls.ferry.start(wait_online=False)
            cls.ferry.wait_log(r"\[irc\] xmpp: online", 15)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.ferry is not None:
                cls.ferry.cleanup()
        finally:
            cls.server.cleanup()
            cls.ngircd.cleanup()

    def room(self, chan):
        return "%s%%127.0.0.1@%s" % (chan, IRC)

    def join(self, c, chan, nick):
        c.join_room("%s/%s" % (self.room(chan), nick))
        self_p = c.wait_presence("%s/%s" % (self.room(chan), nick), None, 15)
        item, codes = muc_items(self_p)
        self.assertIn(110, codes, str(self_p))
        self.assertEqual(item.get("jid"), c.xmpp.boundjid.full)  # the user's own full JID
        return self_p

    def test_join_occupants_and_messages(self):
        irc = self.ngircd.client("bob")
        irc.join("#one")
        c = self.client(self.server, "alice")
        self.join(c, "#one", "alice")
        # bob is an occupant; the subject closes the join.  The room is
        # non-anonymous: bob's real JID is his 1:1 address here.
        p = c.wait_presence(self.room("#one") + "/bob", None, 10)
        self.assertEqual(muc_items(p)[0].get("jid"), "bob%127.0.0.1@" + IRC)
        irc.wait_for(r"JOIN", command="JOIN")
        # XMPP -> IRC
        sid = c.send_message(self.room("#one"), "hello irc ✓", mtype="groupchat",
                             origin_id="origin-1")
        m = irc.wait_for(lambda m: m.command == "PRIVMSG" and "hello irc" in m.text, timeout=10)
        self.assertEqual(m.nick, "alice")
        self.assertEqual(m.text, "hello irc ✓")
        # the sender's own message is reflected, with its id and XEP-0359
        # origin-id (clients match their own messages by them)
        r = c.wait_message(self.room("#one") + "/alice", 10, mtype="groupchat",
                           pred=lambda m: m["body"] == "hello irc ✓")
        self.assertEqual(r["id"], sid)
        self.assertEqual(origin_id_of(r), "origin-1")
        # IRC -> XMPP
        irc.privmsg("#one", "hello xmpp")
        got = c.wait_message(self.room("#one") + "/bob", 10, mtype="groupchat",
                             pred=lambda m: m["body"] == "hello xmpp")
        self.assertEqual(got["type"], "groupchat")
        # /me both ways
        irc.action("#one", "waves")
        c.wait_message(self.room("#one") + "/bob", 10,
                       pred=lambda m: m["body"] == "/me waves")
        c.send_message(self.room("#one"), "/me nods", mtype="groupchat")
        m = irc.wait_for(lambda m: m.command == "PRIVMSG" and "nods" in m.line, timeout=10)
        self.assertIn("\x01ACTION nods\x01", m.line)
        # "/notice " sends a NOTICE, in the room and in a private chat
        c.send_message(self.room("#one"), "/notice for all", mtype="groupchat")
        m = irc.wait_for(lambda m: m.command == "NOTICE" and m.text == "for all", timeout=10)
        self.assertEqual(m.params[0], "#one")
        c.send_message("bob%127.0.0.1@" + IRC, "/notice just you")
        m = irc.wait_for(lambda m: m.command == "NOTICE" and m.text == "just you", timeout=10)
        self.assertEqual(m.params[0], "bob")

    def test_private_chat_both_ways(self):
        irc = self.ngircd.client("carl")
        c = self.client(self.server, "dora")
        self.join(c, "#two", "dora")
        c.send_message("carl%127.0.0.1@" + IRC, "psst")
        m = irc.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "psst", timeout=10)
        self.assertEqual(m.nick, "dora")
        irc.privmsg("dora", "hi dora")
        got = c.wait_message("carl%127.0.0.1@" + IRC, 10)
        self.assertEqual(got["body"], "hi dora")

    def test_crlf_injection_does_not_inject(self):
        irc = self.ngircd.client("eve")
        irc.join("#three")
        c = self.client(self.server, "fred")
        self.join(c, "#three", "fred")
        c.send_message(self.room("#three"), "hi\r\nQUIT :bye", mtype="groupchat")
        irc.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "hi", timeout=10)
        irc.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "QUIT :bye", timeout=10)
        # fred's connection is still there: no QUIT, and a later line arrives.
        c.send_message(self.room("#three"), "still here", mtype="groupchat")
        irc.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "still here", timeout=10)
        self.assertFalse([m for m in irc.messages if m.command == "QUIT"])

    def test_part(self):
        irc = self.ngircd.client("gina")
        irc.join("#four")
        c = self.client(self.server, "hank")
        self.join(c, "#four", "hank")
        irc.wait_for(lambda m: m.command == "JOIN" and m.nick == "hank", timeout=10)
        c.send_presence(self.room("#four") + "/hank", "unavailable")
        irc.wait_for(lambda m: m.command == "PART" and m.nick == "hank", timeout=10)

    def test_topic_both_ways(self):
        irc = self.ngircd.client("ivan")
        irc.join("#five")
        irc.topic("#five", "first topic")
        c = self.client(self.server, "jane")
        c.join_room(self.room("#five") + "/jane")
        m = c.wait_message(self.room("#five"), 15,
                           pred=lambda m: m.xml.find("{jabber:client}subject") is not None)
        self.assertEqual(m["subject"], "first topic")
        irc.topic("#five", "second topic")
        m = c.wait_message(self.room("#five") + "/ivan", 10,
                           pred=lambda m: m["subject"] == "second topic")

    def test_subject_sets_the_topic(self):
        """A groupchat <subject/> from the user is a TOPIC; when the channel
        is +t and the user no operator, the server's refusal is said in the
        room."""
        irc = self.ngircd.client("tom")
        irc.join("#topics")
        irc.mode("#topics", "+t")
        c = self.client(self.server, "tina")
        room = self.room("#topics")
        self.join(c, "#topics", "tina")
        c.send_message(room, None, "groupchat", subject="not allowed")
        c.wait_message(room, 10, pred=lambda m: "operator" in (m["body"] or ""))
        irc.mode("#topics", "+o", "tina")
        p = c.wait_presence(room + "/tina", None, 10)
        while muc_items(p)[0].get("role") != "moderator":
            p = c.wait_presence(room + "/tina", None, 10)
        c.send_message(room, None, "groupchat", subject="set from XMPP")
        irc.wait_for(lambda m: m.command == "TOPIC" and m.nick == "tina"
                     and m.text == "set from XMPP", timeout=10)
        c.wait_message(room + "/tina", 10, pred=lambda m: m["subject"] == "set from XMPP")
        # A message with a body and a subject line is a message, not a
        # subject change (XEP-0045 §8.1).
        c.send_message(room, "just talking", mtype="groupchat", subject="a line")
        irc.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "just talking", timeout=10)
        self.assertFalse([m for m in irc.messages if m.command == "TOPIC" and m.text == "a line"])
        # An empty subject clears the topic; a multi-line one is refused.
        c.send_message(room, None, "groupchat", subject="")
        irc.wait_for(lambda m: m.command == "TOPIC" and m.nick == "tina" and m.text == "",
                     timeout=10)
        c.send_message(room, None, "groupchat", subject="two\nlines")
        e = c.wait_message(room, 10, mtype="error")
        self.assertIn("one line", str(e))

    def test_nick_change_and_kick(self):
        op = self.ngircd.client("karl")
        op.oper(self.ngircd.oper_name, self.ngircd.oper_password)
        op.join("#six")
        c = self.client(self.server, "lena")
        self.join(c, "#six", "lena")
        op.wait_for(lambda m: m.command == "JOIN" and m.nick == "lena", timeout=10)
        # IRC user renames: 303 then the new occupant
        op.change_nick("karl2")
        p = c.wait_presence(self.room("#six") + "/karl", "unavailable", 10)
        item, codes = muc_items(p)
        self.assertIn(303, codes)
        self.assertEqual(item.get("nick"), "karl2")
        # a rename keeps the role (XEP-0045 §7.6; Profanity crashed on "none")
        self.assertEqual(item.get("role"), "moderator")
        c.wait_presence(self.room("#six") + "/karl2", None, 10)
        # our user renames through a presence to the new nick
        c.send_presence(self.room("#six") + "/lena2")
        op.wait_for(lambda m: m.command == "NICK" and m.nick == "lena", timeout=10)
        p = c.wait_presence(self.room("#six") + "/lena", "unavailable", 10)
        self.assertIn(303, muc_items(p)[1])
        self.assertEqual(muc_items(p)[0].get("role"), "participant")
        # kicked by the operator: 307 with the reason, not silently dropped
        op.kick("#six", "lena2", "out you go")
        p = c.wait_presence(self.room("#six") + "/lena2", "unavailable", 10)
        item, codes = muc_items(p)
        self.assertIn(307, codes)
        self.assertIn(110, codes)
        self.assertIn("out you go", str(p))

    def test_long_body_arrives_whole(self):
        irc = self.ngircd.client("mona")
        irc.join("#seven")
        c = self.client(self.server, "nils")
        self.join(c, "#seven", "nils")
        body = " ".join("word%04d" % i for i in range(170))  # about 1,500 bytes
        self.assertGreater(len(body), 1400)
        c.send_message(self.room("#seven"), body, mtype="groupchat")
        got, seen = [], []
        while " ".join(got) != body:
            m = irc.wait_for(lambda m: m.command == "PRIVMSG" and m.nick == "nils"
                             and m not in seen, timeout=10)
            seen.append(m)
            got.append(m.text)
            self.assertLessEqual(len(got), 10, "too many lines: %r" % got)
        self.assertGreater(len(got), 1)

    def test_latin1_from_irc_is_readable(self):
        irc = self.ngircd.client("olga")
        irc.join("#eight")
        c = self.client(self.server, "otto")
        self.join(c, "#eight", "otto")
        irc.send_raw(b"PRIVMSG #eight :caf\xe9 cr\xe8me \x02bold\x02 \x0304red\x03")
        m = c.wait_message(self.room("#eight") + "/olga", 10)
        self.assertEqual(m["body"], "café crème bold red")

    def test_two_resources_share_one_nick(self):
        irc = self.ngircd.client("pia")
        irc.join("#nine")
        jid = self.server.register("quinn")
        a = ft.Client(jid + "/one", host=self.server.host, port=self.server.c2s_port)
        b = ft.Client(jid + "/two", host=self.server.host, port=self.server.c2s_port)
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        a.connect()
        b.connect()
        self.join(a, "#nine", "quinn")
        self.join(b, "#nine", "quinn")
        irc.privmsg("#nine", "to both")
        a.wait_message(self.room("#nine") + "/pia", 10, pred=lambda m: m["body"] == "to both")
        b.wait_message(self.room("#nine") + "/pia", 10, pred=lambda m: m["body"] == "to both")
        joins = [m for m in irc.messages if m.command == "JOIN" and m.nick == "quinn"]
        self.assertEqual(len(joins), 1, "one IRC connection and one nick for both resources")

    def test_nick_collision_gives_conflict(self):
        self.ngircd.client("rita")
        c = self.client(self.server, "sam")
        c.join_room(self.room("#ten") + "/rita")
        p = c.wait_presence(self.room("#ten") + "/rita", "error", 15)
        self.assertIn("conflict", str(p))

    def test_server_lists_channels(self):
        """disco#items on the server JID lists its channels (IRC LIST),
        paged with XEP-0059."""
        irc = self.ngircd.client("tara")
        for chan in ("#list-a", "#list-b", "#list-c"):
            irc.join(chan)
        c = self.client(self.server, "ugo")
        items = c.disco_items("127.0.0.1@" + IRC)
        jids = [i[0] if isinstance(i, (tuple, list)) else str(i) for i in items]
        for chan in ("#list-a", "#list-b", "#list-c"):
            self.assertIn("%s%%127.0.0.1@%s" % (chan, IRC), jids)
        # XEP-0059: a page of 2, with the total count and a way on.
        import xml.etree.ElementTree as ET
        q = ET.Element("{http://jabber.org/protocol/disco#items}query")
        rsm = ET.SubElement(q, "{http://jabber.org/protocol/rsm}set")
        ET.SubElement(rsm, "{http://jabber.org/protocol/rsm}max").text = "2"
        answer = c.iq_get_raw("127.0.0.1@" + IRC, q).xml
        items = answer.findall(".//{http://jabber.org/protocol/disco#items}item")
        self.assertEqual(len(items), 2)
        count = answer.find(".//{http://jabber.org/protocol/rsm}count")
        self.assertGreaterEqual(int(count.text), 3)
        last = answer.find(".//{http://jabber.org/protocol/rsm}last").text
        self.assertTrue(last.endswith("%127.0.0.1"), last)

    def test_registered_nick_is_used(self):
        """XEP-0077 settings: a registered nickname is the user's nick on
        IRC, whatever nick the join names."""
        import xml.etree.ElementTree as ET
        irc = self.ngircd.client("vic")
        irc.join("#reg")
        c = self.client(self.server, "wendy")
        q = ET.Element("{jabber:iq:register}query")
        x = ET.SubElement(q, "{jabber:x:data}x", type="submit")
        f = ET.SubElement(x, "{jabber:x:data}field", var="nick")
        ET.SubElement(f, "{jabber:x:data}value").text = "WendyIRC"
        self.assertEqual(c.iq_set_raw(IRC, q)["type"], "result")
        c.join_room(self.room("#reg") + "/someone")
        irc.wait_for(lambda m: m.command == "JOIN" and m.nick == "WendyIRC", timeout=10)
        bad = ET.Element("{jabber:iq:register}query")
        x = ET.SubElement(bad, "{jabber:x:data}x", type="submit")
        f = ET.SubElement(x, "{jabber:x:data}field", var="nick")
        ET.SubElement(f, "{jabber:x:data}value").text = "no spaces allowed"
        with self.assertRaises(ft.XmppError) as cm:
            c.iq_set_raw(IRC, bad)
        self.assertEqual(cm.exception.condition, "not-acceptable")

    def test_channel_key(self):
        op = self.ngircd.client("xavi")
        op.join("#keyed")
        op.mode("#keyed", "+k", "sekret", wait=True)
        c = self.client(self.server, "yves")
        c.join_room(self.room("#keyed") + "/yves")
        p = c.wait_presence(self.room("#keyed") + "/yves", "error", 10)
        self.assertIn("not-authorized", str(p))
        c.join_room(self.room("#keyed") + "/yves", password="sekret")
        c.wait_presence(self.room("#keyed") + "/yves", None, 10)
        op.wait_for(lambda m: m.command == "JOIN" and m.nick == "yves", timeout=10)

    def test_private_message_with_taken_nick_bounces(self):
        self.ngircd.client("nora")  # takes the nick the connection would use
        c = self.client(self.server, "nora")
        sid = c.send_message("someone%127.0.0.1@" + IRC, "hello?")
        m = c.wait_message("someone%127.0.0.1@" + IRC, 15, mtype="error",
                           pred=lambda m: m["id"] == sid)
        self.assertIn("conflict", str(m))

    def test_private_message_to_escaped_nick_form(self):
        """biboumi's %server@gw/Nick form reaches that nick."""
        irc = self.ngircd.client("oscar")
        c = self.client(self.server, "paula")
        self.join(c, "#esc", "paula")
        c.send_message("%127.0.0.1@" + IRC + "/oscar", "via the empty form")
        m = irc.wait_for(lambda m: m.command == "PRIVMSG" and m.text == "via the empty form",
                         timeout=10)
        self.assertEqual(m.nick, "paula")

    def test_room_disco_info(self):
        c = self.client(self.server, "quentin")
        ids, features = c.disco_info(self.room("#any"))
        self.assertIn(("conference", "text"), [(cat, typ) for cat, typ, _ in ids])
        self.assertIn("http://jabber.org/protocol/muc", features)
        ids, _ = c.disco_info("someone%127.0.0.1@" + IRC)
        self.assertIn(("client", "irc"), [(cat, typ) for cat, typ, _ in ids])
