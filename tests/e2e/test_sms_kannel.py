"""SMS through a real Kannel (bearerbox + smsbox + fakesmsc) on 127.0.0.1:
XMPP user -> Ferry -> Kannel -> fake SMSC, MO back, delivery reports as
XEP-0184 receipts, and the checks that answer at once (registration,
numbers, length, chat states)."""

import xml.etree.ElementTree as ET

import ferrytest as ft
from fakes.fakebase import post as http_post

SMS = "sms.localhost"
TOKEN = "e2e-dummy-webhook-token-0001"
ALICE_NUMBER = "+15551230001"
POOL_NUMBER = "+15551230002"
PHONE = "+15557654321"


def sms_transport(kannel, http_port, extra=""):
    return """,
    {
        driver = "sms";
        domain = "%s";
        name = "kannel";
        provider = "kannel";
        api_url = "http://127.0.0.1:%d";
        username = "%s";
        password = "%s";
        public_url = "http://127.0.0.1:%d";
        webhook_token = "%s";
        numbers = [ "%s=alice@localhost", "%s" ];
        default_country = "1";
        max_segments = 3;
%s
    }""" % (SMS, kannel.sendsms_port, kannel.username, kannel.password, http_port, TOKEN,
            ALICE_NUMBER, POOL_NUMBER, extra)


class SmsKannel(ft.FerryCase):
    server_kind = "prosody"

    @classmethod
    def setUpClass(cls):
        cls.http_port = ft.free_port()
        cls.kannel = ft.Kannel(
            webhook_base_url="http://127.0.0.1:%d/sms/kannel?token=%s" % (cls.http_port, TOKEN),
            http_queue_delay=1)
        cls.server = ft.Prosody(extra_components=[SMS])
        cls.ferry = None
        try:
            cls.kannel.start()
            cls.server.start()
            cls.ferry = ft.Ferry(cls.server, http_port=cls.http_port,
                                 more_transports=sms_transport(cls.kannel, cls.http_port))
            cls.ferry.start(wait_online=False)
            cls.ferry.wait_log(r"\[kannel\] xmpp: online", 15)
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
            cls.kannel.cleanup()

    def alice(self):
        return self.client(self.server, "alice")

    def test_mt_reaches_the_smsc(self):
        c = self.alice()
        mark = self.kannel.mt_count()
        c.send_message(PHONE + "@" + SMS, "hello from XMPP")
        mt = self.kannel.wait_mt(1, 15, since=mark)[-1]
        self.assertEqual(mt.receiver, PHONE)
        self.assertEqual(mt.sender, ALICE_NUMBER)
        self.assertEqual(mt.text, "hello from XMPP")

    def test_mt_non_ascii(self):
        """Non-GSM text goes out as UCS-2 (coding=2), never as '?'."""
        c = self.alice()
        mark = self.kannel.mt_count()
        text = "héllo € привет 😀"
        c.send_message(PHONE + "@" + SMS, text)
        mt = self.kannel.wait_mt(1, 15, since=mark)[-1]
        self.assertEqual(mt.text, text)

    def test_mo_reaches_the_user(self):
        c = self.alice()
        self.kannel.inject_mo(PHONE, ALICE_NUMBER, "hi from a phone é")
        m = c.wait_message(PHONE + "@" + SMS, 15)
        self.assertEqual(m["type"], "chat")
        self.assertEqual(m["body"], "hi from a phone é")

    def test_delivery_report_gives_receipt(self):
        c = self.alice()
        sid = c.send_message(PHONE + "@" + SMS, "please confirm", receipt=True)

        def has_receipt(m):
            r = m.xml.find("{urn:xmpp:receipts}received")
            return r is not None and r.get("id") == sid
        c.wait_message(PHONE + "@" + SMS, 20, pred=has_receipt)

    def test_chat_state_sends_no_sms(self):
        c = self.alice()
        mark = self.kannel.mt_count()
        c.send_message(PHONE + "@" + SMS, None)         # only <composing/>
        c.send_message(PHONE + "@" + SMS, "")           # empty body
        c.send_message(PHONE + "@" + SMS, "the real one")
        self.kannel.wait_mt(1, 15, since=mark, match=lambda r: r.text == "the real one")
        # A barrier behind it: everything the SMSC got since is exactly these two.
        c.send_message(PHONE + "@" + SMS, "barrier")
        self.kannel.wait_mt(1, 15, since=mark, match=lambda r: r.text == "barrier")
        texts = [r.text for r in self.kannel.mt_messages()[mark:]
                 if r.receiver == PHONE and r.sender == ALICE_NUMBER]
        self.assertEqual(texts, ["the real one", "barrier"])

    def _error(self, c, to, body):
        c.send_message(to, body)
        m = c.wait_message(to, 10, mtype="error")
        err = m.xml.find("{jabber:client}error")
        cond = [ch.tag.split("}")[1] for ch in err
                if ch.tag.startswith("{urn:ietf:params:xml:ns:xmpp-stanzas}")
                and not ch.tag.endswith("}text")]
        text = err.find("{urn:ietf:params:xml:ns:xmpp-stanzas}text")
        return cond[0], (text.text if text is not None else "")

    def test_unregistered_user_must_register(self):
        c = self.client(self.server, "carol")
        cond, text = self._error(c, PHONE + "@" + SMS, "hi")
        self.assertEqual(cond, "registration-required")
        self.assertIn("register", text.lower())

    def test_register_claims_a_pool_number(self):
        c = self.client(self.server, "bob")
        form = c.get_register_form(SMS)
        options = [v.text for v in form.iter("{jabber:x:data}value")]
        self.assertIn(POOL_NUMBER, options)
        self.assertNotIn(ALICE_NUMBER, options)
        reg = "{jabber:iq:register}"
        q = ET.Element(reg + "query")
        x = ET.SubElement(q, "{jabber:x:data}x", type="submit")
        f = ET.SubElement(x, "{jabber:x:data}field", var="number")
        ET.SubElement(f, "{jabber:x:data}value").text = "(555) 123-0002"
        self.assertEqual(c.iq_set_raw(SMS, q)["type"], "result")
        mark = self.kannel.mt_count()
        c.send_message(PHONE + "@" + SMS, "from bob")
        mt = self.kannel.wait_mt(1, 15, since=mark)[-1]
        self.assertEqual(mt.sender, POOL_NUMBER)
        # Someone else cannot take it.
        d = self.client(self.server, "dave")
        with self.assertRaises(ft.XmppError) as cm:
            d.iq_set_raw(SMS, q)
        self.assertEqual(cm.exception.condition, "conflict")

    def test_not_a_number(self):
        c = self.alice()
        cond, text = self._error(c, "12ab@" + SMS, "hi")
        self.assertEqual(cond, "item-not-found")
        self.assertIn("not a phone number", text)

    def test_too_long(self):
        c = self.alice()
        cond, text = self._error(c, PHONE + "@" + SMS, "x" * 500)
        self.assertEqual(cond, "not-acceptable")
        self.assertIn("4 SMS", text)

    def test_gateway_prompt_normalises(self):
        c = self.alice()
        gw = "{jabber:iq:gateway}"
        ask = ET.Element(gw + "query")
        ET.SubElement(ask, gw + "prompt").text = "(555) 765-4321"
        q = c.iq_set_raw(SMS, ask).xml.find(gw + "query")
        self.assertEqual(q.find(gw + "jid").text, PHONE + "@" + SMS)

    def test_webhook_without_token_is_refused(self):
        status, _, _ = http_post(
            "http://127.0.0.1:%d/sms/kannel?event=mo&from=%%2B1555&to=%%2B1555&text=x&id=1"
            % self.http_port, b"", {}, method="GET")
        self.assertEqual(status, 403)

    def test_disco_advertises_receipts(self):
        c = self.alice()
        ids, features = c.disco_info(SMS)
        self.assertIn(("gateway", "sms"), [(cat, typ) for cat, typ, _ in ids])
        self.assertIn("urn:xmpp:receipts", features)
        self.assertIn("jabber:iq:register", features)
