"""SMS behaviour beyond sending: per-user rate limits, the access list,
MMS through XEP-0066 both ways, messages to numbers nobody owns (kept)."""

import os
import shutil
import sqlite3
import tempfile
import uuid

import ferrytest as ft
from fakes.fake_twilio import FakeTwilio

SMS = "sms.localhost"
NUMBER = "+15551230001"
FREE = "+15551230009"
PHONE = "+15557654321"


def transport(fake, http_port, extra="", token=None):
    token = token if token is not None else 'auth_token = "%s";' % fake.auth_token
    return """,
    {
        driver = "sms";
        domain = "%s";
        name = "tw";
        provider = "twilio";
        api_url = "%s";
        account_sid = "%s";
        %s
        public_url = "http://127.0.0.1:%d";
        numbers = [ "%s=alice@localhost", "%s" ];
        receipts = false;
%s
    }""" % (SMS, fake.base_url, fake.account_sid, token, http_port, NUMBER, FREE, extra)


def error_of(m):
    err = m.xml.find("{jabber:client}error")
    conds = [c.tag.split("}")[1] for c in err
             if c.tag.startswith("{urn:ietf:params:xml:ns:xmpp-stanzas}")
             and not c.tag.endswith("}text")]
    text = err.find("{urn:ietf:params:xml:ns:xmpp-stanzas}text")
    return conds[0], text.text if text is not None else ""


class SmsPolicy(ft.FerryCase):
    server_kind = "prosody"

    def setUp(self):
        self.fake = FakeTwilio().start()
        self.addCleanup(self.fake.stop)
        self.http_port = ft.free_port()
        self.server = self.start_server(extra_components=[SMS])

    def ferry(self, extra="", token=None, **kw):
        f = self.start_ferry(self.server, http_port=self.http_port, wait_online=False,
                             more_transports=transport(self.fake, self.http_port, extra, token),
                             **kw)
        f.wait_log(r"\[tw\] xmpp: online", 15)
        return f

    def test_rate_limit_answers_policy_violation(self):
        self.ferry("        rate_per_minute = 2;")
        c = self.client(self.server, "alice")
        for i in range(2):
            c.send_message(PHONE + "@" + SMS, "within the limit %d" % i)
        sid = c.send_message(PHONE + "@" + SMS, "one too many")
        m = c.wait_message(PHONE + "@" + SMS, 10, mtype="error",
                           pred=lambda m: m["id"] == sid)
        cond, text = error_of(m)
        self.assertEqual(cond, "policy-violation")
        self.assertIn("2 per minute", text)
        self.fake.wait_sent(2, 10)
        self.assertEqual(sorted(s.fields["Body"] for s in self.fake.sent),
                         ["within the limit 0", "within the limit 1"])

    def test_user_outside_access_list_is_forbidden(self):
        self.ferry(access='    allow_domains = [ "elsewhere.example" ];')
        c = self.client(self.server, "alice")
        sid = c.send_message(PHONE + "@" + SMS, "hi")
        m = c.wait_message(PHONE + "@" + SMS, 10, mtype="error", pred=lambda m: m["id"] == sid)
        self.assertEqual(error_of(m)[0], "forbidden")
        self.assertEqual(self.fake.sent, [])

    def test_mms_both_ways(self):
        self.ferry()
        c = self.client(self.server, "alice")
        url = "https://upload.example.org/%s/cat.jpg" % uuid.uuid4().hex
        c.send_message(PHONE + "@" + SMS, url, oob_url=url)
        sent = self.fake.wait_sent(1, 10)[0]
        self.assertEqual(sent.fields["MediaUrl"], [url])
        self.assertEqual(sent.fields.get("Body", ""), "", "the URL went out as text too")
        media = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"
        status, _, _ = self.fake.inbound("http://127.0.0.1:%d/sms/tw" % self.http_port, PHONE,
                                         NUMBER, "look", media=[media])
        self.assertEqual(status, 200)
        m = c.wait_message(PHONE + "@" + SMS, 10)
        oob = m.xml.find("{jabber:x:oob}x/{jabber:x:oob}url")
        self.assertIsNotNone(oob, str(m))
        self.assertEqual(oob.text, media)
        self.assertIn(media, m["body"])
        self.assertIn("look", m["body"])

    def test_message_to_unowned_number_is_kept(self):
        ferry = self.ferry()
        status, _, _ = self.fake.inbound("http://127.0.0.1:%d/sms/tw" % self.http_port, PHONE,
                                         FREE, "anyone there?")
        self.assertEqual(status, 200)
        ferry.wait_log(r"a number nobody owns, kept", 10)
        con = sqlite3.connect("file:%s?mode=ro" % ferry.config["store"], uri=True, timeout=5)
        try:
            rows = con.execute("SELECT xml FROM inbound WHERE instance = 'tw!unowned'").fetchall()
        finally:
            con.close()
        self.assertEqual(len(rows), 1)
        self.assertIn("anyone there?", rows[0][0])
        self.assertIn(FREE, rows[0][0])

    def test_credentials_from_a_file(self):
        d = tempfile.mkdtemp(prefix="ferry-secret-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "twilio-token")
        with open(path, "w") as f:
            f.write(self.fake.auth_token + "\n")
        self.ferry(token='auth_token_file = "%s";' % path)
        c = self.client(self.server, "alice")
        c.send_message(PHONE + "@" + SMS, "token from a file")
        self.assertEqual(self.fake.wait_sent(1, 10)[0].fields["Body"], "token from a file")

    def test_both_secret_forms_is_a_config_error(self):
        d = tempfile.mkdtemp(prefix="ferry-secret-")
        self.addCleanup(shutil.rmtree, d, True)
        conf = os.path.join(d, "ferry.conf")
        with open(conf, "w") as f:
            f.write(ft.ferry_config_text(
                self.server, more_transports=transport(
                    self.fake, self.http_port,
                    token='auth_token = "x";\n        auth_token_file = "/etc/nothing";')))
        cp = ft.run_ferry(["-n", "-c", conf])
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("auth_token_file: set auth_token or auth_token_file, not both", cp.stderr)
