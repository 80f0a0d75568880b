"""(a) Ferry's XMPP contract, the same tests against Prosody and ejabberd.

One server, one Ferry (loopback transport on echo.localhost) and one client
per server kind; test_zz_clean_exit stops Ferry last and checks its exit.
"""

import xml.etree.ElementTree as ET

import ferrytest as ft

COMPONENT = "echo.localhost"


class ContractBase:
    """Mixed into a unittest.TestCase with server_kind set."""

    server_kind = None
    _fixture_error = None

    @classmethod
    def setUpClass(cls):
        cls.server = cls.ferry = cls.c = None
        try:
            cls.server = ft.SERVERS[cls.server_kind]()
            cls.server.start()
            jid = cls.server.register("alice")
            cls.ferry = ft.Ferry(cls.server)
            cls.ferry.start(wait_online=False)
            cls.online_line = cls.ferry.wait_log(ft.ONLINE_RE, 15 * ft.timeout_scale())
            cls.c = ft.Client(jid, host=cls.server.host, port=cls.server.c2s_port).connect()
        except Exception as e:  # noqa: BLE001 - reported by every test
            cls._fixture_error = e

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.c is not None:
                cls.c.close()
            if cls.ferry is not None:
                cls.ferry.cleanup()
        finally:
            if cls.server is not None:
                cls.server.cleanup()

    def setUp(self):
        if self._fixture_error is not None:
            raise AssertionError("fixture failed: %r" % self._fixture_error)
        self.assertTrue(self.ferry.alive(), "ferry is not running:\n" + self.ferry.log.tail())

    def test_online_logged(self):
        self.assertRegex(self.online_line, ft.ONLINE_RE)

    def test_disco_info(self):
        ids, features = self.c.disco_info(COMPONENT)
        self.assertIn(("gateway", "loopback"), [(cat, typ) for cat, typ, _ in ids],
                      "identities: %r" % ids)
        for f in ("http://jabber.org/protocol/disco#info",
                  "http://jabber.org/protocol/disco#items",
                  "jabber:iq:version", "urn:xmpp:ping", "jabber:iq:register"):
            self.assertIn(f, features)

    def test_disco_items(self):
        items = self.c.disco_items(COMPONENT)
        self.assertIsInstance(items, list)

    def test_version(self):
        v = self.c.version(COMPONENT)
        self.assertEqual(v["name"], "Ferry")
        self.assertTrue(v["version"], "empty version")

    def test_ping(self):
        self.c.ping(COMPONENT)

    def test_register_form(self):
        q = self.c.get_register_form(COMPONENT)
        self.assertIsNotNone(q, "no jabber:iq:register query in the answer")
        instr = q.find("{jabber:iq:register}instructions")
        self.assertIsNotNone(instr, ET.tostring(q, encoding="unicode"))
        self.assertTrue((instr.text or "").strip(), "empty <instructions/>")
        legacy = [ch for ch in q if ch.tag.startswith("{jabber:iq:register}")
                  and ch.tag not in ("{jabber:iq:register}instructions",
                                     "{jabber:iq:register}registered")]
        form_fields = q.findall("{jabber:x:data}x/{jabber:x:data}field")
        self.assertTrue(legacy or form_fields,
                        "no field in " + ET.tostring(q, encoding="unicode"))

    def test_register_submit_and_remove(self):
        """XEP-0077: a data-form submission is stored and shown back with
        <registered/>; <remove/> deletes it; a second remove is an error."""
        reg = "{jabber:iq:register}"
        q = ET.Element(reg + "query")
        x = ET.SubElement(q, "{jabber:x:data}x", type="submit")
        f = ET.SubElement(x, "{jabber:x:data}field", var="FORM_TYPE")
        ET.SubElement(f, "{jabber:x:data}value").text = "jabber:iq:register"
        f = ET.SubElement(x, "{jabber:x:data}field", var="nick")
        ET.SubElement(f, "{jabber:x:data}value").text = "Alice ✓"
        answer = self.c.iq_set_raw(COMPONENT, q)
        self.assertEqual(answer["type"], "result")
        form = self.c.get_register_form(COMPONENT)
        self.assertIsNotNone(form.find(reg + "registered"), ET.tostring(form, encoding="unicode"))
        values = [v.text for v in form.iter("{jabber:x:data}value")]
        self.assertIn("Alice ✓", values)
        # XEP-0100 §4.1.1: the gateway asks for the user's presence.
        self.c.wait_presence(COMPONENT, "subscribe", 10)
        rm = ET.Element(reg + "query")
        ET.SubElement(rm, reg + "remove")
        self.assertEqual(self.c.iq_set_raw(COMPONENT, rm)["type"], "result")
        form = self.c.get_register_form(COMPONENT)
        self.assertIsNone(form.find(reg + "registered"))
        rm = ET.Element(reg + "query")
        ET.SubElement(rm, reg + "remove")
        with self.assertRaises(ft.XmppError) as cm:
            self.c.iq_set_raw(COMPONENT, rm)
        self.assertEqual(cm.exception.condition, "registration-required")

    def test_gateway_prompt(self):
        """XEP-0100 jabber:iq:gateway: description and prompt, then a prompt
        turned into a JID (XEP-0106-escaped), and a refused one."""
        gw = "{jabber:iq:gateway}"
        answer = self.c.iq_get_raw(COMPONENT, ET.Element(gw + "query"))
        q = answer.xml.find(gw + "query")
        self.assertTrue(q.find(gw + "desc").text)
        self.assertTrue(q.find(gw + "prompt").text)
        ask = ET.Element(gw + "query")
        ET.SubElement(ask, gw + "prompt").text = "Bob's phone@home"
        q = self.c.iq_set_raw(COMPONENT, ask).xml.find(gw + "query")
        self.assertEqual(q.find(gw + "jid").text, "Bob\\27s\\20phone\\40home@" + COMPONENT)
        ask = ET.Element(gw + "query")
        ET.SubElement(ask, gw + "prompt").text = " padded"
        with self.assertRaises(ft.XmppError) as cm:
            self.c.iq_set_raw(COMPONENT, ask)
        self.assertEqual(cm.exception.condition, "not-acceptable")

    def test_echo(self):
        body = "hello ✓"
        self.c.send_message("anything@" + COMPONENT, body)
        m = self.c.wait_message("anything@" + COMPONENT, 10)
        self.assertNotEqual(m["type"], "error", str(m))
        self.assertEqual(m["body"], body)

    def test_big_reply(self):
        """A 200 kB stanza from Ferry arrives whole and promptly (DESIGN §3.3:
        without the empty-send trick large stanzas stalled for 16-20 s)."""
        n = 200000
        self.c.send_message("big@" + COMPONENT, "big:%d" % n)
        m = self.c.wait_message("big@" + COMPONENT, 10)
        self.assertNotEqual(m["type"], "error", str(m)[:500])
        self.assertEqual(len(m["body"]), n)
        self.assertTrue(m["body"].startswith("abcdefghijklmnopqrstuvwxyzabc"))

    def test_presence_subscribe(self):
        self.c.send_presence(COMPONENT, "subscribe")
        self.c.wait_presence(COMPONENT, "subscribed", 10)
        self.c.wait_presence(COMPONENT, None, 10)

    def test_unknown_iq(self):
        el = ET.Element("{urn:ferry:e2e:no-such-namespace}query")
        with self.assertRaises(ft.XmppError) as cm:
            self.c.iq_get_raw(COMPONENT, el)
        self.assertEqual(cm.exception.condition, "service-unavailable")

    def test_zz_clean_exit(self):
        """Last: SIGTERM, exit 0, no sanitizer report, still the first link."""
        self.assertEqual(len(self.ferry.log.grep(ft.ONLINE_RE)), 1,
                         "the link went down and up during the tests:\n"
                         + self.ferry.log.tail())
        rc = self.ferry.terminate(10)
        self.ferry.check_sanitizers()
        self.assertEqual(rc, 0, self.ferry.log.tail())


class ProsodyContract(ContractBase, ft.FerryCase):
    server_kind = "prosody"


class EjabberdContract(ContractBase, ft.FerryCase):
    server_kind = "ejabberd"
