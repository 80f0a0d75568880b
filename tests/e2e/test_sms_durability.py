"""SMS guarantees (DESIGN §5) through the Twilio fake: nothing accepted is
lost across a kill -9 (duplicates bounded to requests in flight), and
inbound webhooks answered 2xx while the XMPP link is down reach the user in
order, once."""

import signal
import sqlite3

import ferrytest as ft
from fakes.fake_twilio import FakeTwilio

SMS = "sms.localhost"
NUMBER = "+15551230001"
PHONE = "+15557654321"
MAX_INFLIGHT = 20


def twilio_transport(fake, http_port):
    return """,
    {
        driver = "sms";
        domain = "%s";
        name = "tw";
        provider = "twilio";
        api_url = "%s";
        account_sid = "%s";
        auth_token = "%s";
        public_url = "http://127.0.0.1:%d";
        numbers = [ "%s=alice@localhost" ];
        receipts = false;
        rate_per_minute = 0;
        rate_per_day = 0;
        max_inflight = %d;
    }""" % (SMS, fake.base_url, fake.account_sid, fake.auth_token, http_port, NUMBER,
            MAX_INFLIGHT)


def count(store, sql):
    con = sqlite3.connect("file:%s?mode=ro" % store, uri=True, timeout=5)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


class SmsDurability(ft.FerryCase):
    server_kind = "prosody"

    def setUp(self):
        self.fake = FakeTwilio().start()
        self.addCleanup(self.fake.stop)
        self.http_port = ft.free_port()
        self.server = self.start_server(offline=True, extra_components=[SMS])

    def start_sms_ferry(self, **kw):
        return self.start_ferry(self.server, http_port=self.http_port, log_level="debug",
                                more_transports=twilio_transport(self.fake, self.http_port),
                                wait_online=False, **kw)

    def test_kill9_loses_no_accepted_message(self):
        """200 messages queued against a slow provider, kill -9 mid-way,
        restart: all 200 reach the fake; duplicates only for requests that
        were in flight at the kill (reported)."""
        self.fake.delay = 0.25
        ferry = self.start_sms_ferry()
        ferry.wait_log(r"\[tw\] xmpp: online", 15)
        c = self.client(self.server, "alice")
        n = 200
        for i in range(n):
            c.send_message(PHONE + "@" + SMS, "m%03d" % i)
        # Every message is stored (accepted) before the kill.
        ft.wait_until(lambda: len(ferry.log.grep(r"queued message \d+ to")) >= n,
                      30 * ft.timeout_scale(), what="%d messages stored" % n)
        sent_before = len(self.fake.sent)
        self.assertLess(sent_before, n, "the fake was too fast to kill anything mid-way")
        ferry.proc.send_signal(signal.SIGKILL)
        self.assertEqual(ferry.proc.wait(5), -signal.SIGKILL)
        ferry.proc.stop(1)
        ferry.proc = None
        in_flight = len(self.fake.requests) - sent_before  # received, not yet answered
        mark = ferry.mark()
        ferry.start(wait_online=False)
        ferry.wait_log(r"being sent when Ferry last stopped|queued message", 15, since=mark)

        def all_there():
            bodies = {s.fields.get("Body") for s in self.fake.sent}
            return bodies >= {"m%03d" % i for i in range(n)}
        ft.wait_until(all_there, 60 * ft.timeout_scale(), what="all %d messages at the fake" % n)
        ft.wait_until(lambda: count(ferry.config["store"],
                                    "SELECT count(*) FROM outbound") == 0, 20,
                      what="outbound queue empty")
        duplicates = len(self.fake.sent) - n
        print("\n        kill -9 with about %d requests in flight: %d duplicate send(s)"
              % (in_flight, duplicates), end="")
        self.assertGreaterEqual(duplicates, 0)
        self.assertLessEqual(duplicates, MAX_INFLIGHT,
                             "more duplicates than requests that could be in flight")

    def test_inbound_waits_out_a_link_outage(self):
        """Prosody down, 20 signed inbound webhooks all answered 2xx, Prosody
        back: the user gets all 20, in order, once."""
        ferry = self.start_sms_ferry()
        ferry.wait_log(r"\[tw\] xmpp: online", 15)
        c = self.client(self.server, "alice")
        c.kill()
        mark = ferry.mark()
        self.server.stop()
        ferry.wait_log(r"\[tw\] xmpp: link .* lost", 10, since=mark)
        url = "http://127.0.0.1:%d/sms/tw" % self.http_port
        for i in range(20):
            status, _, body = self.fake.inbound(url, PHONE, NUMBER, "outage %02d" % i,
                                                msg_id="SM%032d" % i)
            self.assertEqual(status, 200, body)
        self.assertEqual(count(ferry.config["store"],
                               "SELECT count(*) FROM inbound WHERE instance = 'tw'"), 20)
        self.server.start()
        ferry.wait_log(r"\[tw\] xmpp: online", 15, since=mark)
        c = self.client(self.server, "alice", register=False)
        got = [c.wait_message(PHONE + "@" + SMS, 15)["body"] for _ in range(20)]
        self.assertEqual(got, ["outage %02d" % i for i in range(20)])
        # A provider retry of one of them now changes nothing...
        status, _, _ = self.fake.inbound(url, PHONE, NUMBER, "outage 05", msg_id="SM%032d" % 5)
        self.assertEqual(status, 200)
        # ...as a barrier behind it shows.
        self.fake.inbound(url, PHONE, NUMBER, "barrier", msg_id="SM-barrier")
        self.assertEqual(c.wait_message(PHONE + "@" + SMS, 15)["body"], "barrier")
        # wait_message consumed what it returned: anything left is a duplicate.
        extra = [m["body"] for m in c.messages if str(m["from"]).startswith(PHONE)]
        self.assertEqual(extra, [], "duplicates")
