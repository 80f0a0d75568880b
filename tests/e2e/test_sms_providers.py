"""SMS through each cloud provider's local fake (tests/e2e/fakes/): one
Prosody and one Ferry with five SMS instances, one per provider, each with
its own domain, numbers and fake.  The same test methods run for every
provider (issue acceptance item 3):

  (a) an XMPP message reaches the provider with the right from/to/text;
  (b) a 503 and a 429 with Retry-After are retried, then accepted once;
  (c) an invalid-number answer bounces as an error echoing the stanza id;
  (d) a signed inbound webhook posted three times reaches the user once;
  (e) a forged signature gets 403 and nothing reaches the user;
  (f) a "delivered" report becomes an XEP-0184 receipt;
  (g) a failed report becomes an error message echoing the stanza id.

Per provider, a small adapter (below) knows the fake's config keys, its
field names and how to post inbound messages and delivery reports.
public_url is Ferry's own listener, so the URL a fake signs is the URL
Ferry reconstructs."""

import json
import os
import re
import unittest
import uuid

import ferrytest as ft
from fakes.fake_bandwidth import FakeBandwidth
from fakes.fake_plivo import FakePlivo
from fakes.fake_telnyx import FakeTelnyx
from fakes.fake_twilio import FakeTwilio
from fakes.fake_vonage import FakeVonage

PHONE = "+15557654321"          # the far end, on every provider
INVALID = "+15557659999"        # valid E.164; each fake calls it invalid
NON_ASCII = "héllo € привет 😀"
STANZAS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"


def digits(number):
    return number[1:] if number.startswith("+") else number


def e164(number):
    return number if number.startswith("+") else "+" + number


# ---------------------------------------------------------------------------
# Adapters: one per provider

class Adapter:
    """What differs between providers.  One instance per provider, shared
    by the module's Ferry and that provider's test class."""

    name = None             # Ferry instance name: webhooks at /sms/<name>
    number = None           # our number, owned by user <name>@localhost
    invalid_hint = None     # regex: the provider's code/word for the refusal, in the bounce
    fail_hint = None        # regex: the provider's error code of fail_status(), in the bounce

    def __init__(self):
        self.fake = None
        self.http_port = None

    @property
    def domain(self):
        return "%s.localhost" % self.name

    @property
    def user(self):
        return "%s@localhost" % self.name

    @property
    def hook_url(self):
        """The inbound webhook URL as configured at the provider."""
        return "http://127.0.0.1:%d/sms/%s" % (self.http_port, self.name)

    def make_fake(self):
        raise NotImplementedError

    def settings(self):
        """Provider keys of the SMS instance (config text lines)."""
        raise NotImplementedError

    def transport(self):
        return """,
    {
        driver = "sms";
        domain = "%s";
        name = "%s";
        provider = "%s";
        api_url = "%s";
        public_url = "http://127.0.0.1:%d";
        numbers = [ "%s=%s" ];
        default_country = "1";
%s
    }""" % (self.domain, self.name, self.name, self.fake.base_url, self.http_port,
            self.number, self.user, self.settings())

    # -- the provider's view of a send ----------------------------------
    def fields(self, sent):
        """(from, to, text) of an accepted send, numbers as E.164."""
        raise NotImplementedError

    def make_invalid(self, number):
        self.fake.invalid_numbers.add(number)

    def throttle(self, retry_after):
        """The next API call gets the provider's 429 with Retry-After."""
        self.fake.fail_next(1, status=429, headers={"Retry-After": str(retry_after)})

    # -- webhooks -----------------------------------------------------------
    def new_msg_id(self):
        raise NotImplementedError

    def inbound(self, text, msg_id, forge=False):
        """Posts an inbound SMS from PHONE to our number; (status, headers, body)."""
        return self.fake.inbound(self.hook_url, PHONE, self.number, text, msg_id=msg_id,
                                 forge=forge)

    def delivered(self, sent):
        """Posts the reports the provider sends for a delivered message
        (progress first, as the provider does); [(status, headers, body)]."""
        raise NotImplementedError

    def fail_status(self, sent):
        """Posts a delivery report "failed" for sent; (status, headers, body)."""
        raise NotImplementedError


class Twilio(Adapter):
    name = "twilio"
    number = "+15551110001"
    invalid_hint = "21211"
    fail_hint = "30003"

    def make_fake(self):
        return FakeTwilio(account_sid="AC%032x" % 0x7e57, auth_token="e2e-twilio-token-0001")

    def settings(self):
        return '        account_sid = "%s";\n        auth_token = "%s";' % (
            self.fake.account_sid, self.fake.auth_token)

    def fields(self, sent):
        f = sent.fields
        return f.get("From"), f.get("To"), f.get("Body")

    def throttle(self, retry_after):
        body = {"code": 20429, "message": "Too Many Requests",
                "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}
        self.fake.fail_next(1, status=429, body=json.dumps(body).encode(),
                            headers={"Retry-After": str(retry_after)})

    def new_msg_id(self):
        return "SM" + os.urandom(16).hex()

    def delivered(self, sent):
        url = sent.fields["StatusCallback"]
        return [self.fake.status(url, sent.provider_id, st) for st in ("sent", "delivered")]

    def fail_status(self, sent):
        return self.fake.status(sent.fields["StatusCallback"], sent.provider_id, "undelivered",
                                error_code=30003)


class Vonage(Adapter):
    name = "vonage"
    number = "+15551120001"
    invalid_hint = "Unroutable"     # status 6, "Unroutable message - rejected"
    fail_hint = r"\b9\b"            # err-code 9: illegal number

    def make_fake(self):
        return FakeVonage(api_key="e2evkey1", api_secret="e2e-vonage-secret",
                          signature_secret="e2e-vonage-sig-secret")

    def settings(self):
        return ('        api_key = "%s";\n        api_secret = "%s";\n'
                '        signature_secret = "%s";\n        signature_method = "md5hash";' % (
                    self.fake.api_key, self.fake.api_secret, self.fake.signature_secret))

    def fields(self, sent):
        f = sent.fields
        # Non-GSM text sent as type=text is garbled by Vonage: as good as lost.
        text = "<garbled: type=%s>" % f.get("type") if f.get("garbled") else f.get("text")
        return e164(f["from"]), e164(f["to"]), text

    def make_invalid(self, number):
        self.fake.invalid_numbers.add(digits(number))

    def new_msg_id(self):
        return "%016X" % int.from_bytes(os.urandom(7), "big")

    def delivered(self, sent):
        return [self.fake.status(sent.fields["callback"], sent.provider_id, "delivered")]

    def fail_status(self, sent):
        return self.fake.status(sent.fields["callback"], sent.provider_id, "failed",
                                error_code=9)


class Telnyx(Adapter):
    name = "telnyx"
    number = "+15551130001"
    invalid_hint = "40310"
    fail_hint = "40008"

    def make_fake(self):
        return FakeTelnyx(api_key="KEYE2E0123456789ABCDEF012345_fake")

    def settings(self):
        return '        api_key = "%s";\n        public_key = "%s";' % (
            self.fake.api_key, self.fake.public_key_b64)

    def fields(self, sent):
        f = sent.fields
        return f.get("from"), f.get("to"), f.get("text")

    def throttle(self, retry_after):
        # Only x-ratelimit-reset, no Retry-After: Ferry must honour it too.
        self.fake.throttle_next(1, retry_after=None, reset=retry_after)

    def new_msg_id(self):
        return str(uuid.uuid4())

    def delivered(self, sent):
        url = sent.fields["webhook_url"]
        return [self.fake.status(url, sent.provider_id, st) for st in ("sent", "delivered")]

    def fail_status(self, sent):
        return self.fake.status(sent.fields["webhook_url"], sent.provider_id, "delivery_failed",
                                error_code="40008")


class Plivo(Adapter):
    name = "plivo"
    number = "+15551140001"
    invalid_hint = "invalid dst"    # Plivo's errors carry no code, only this text
    fail_hint = r"\b50\b"

    def make_fake(self):
        return FakePlivo(auth_id="MAE2E0000000000000001", auth_token="e2e-plivo-token-0001")

    def settings(self):
        return '        auth_id = "%s";\n        auth_token = "%s";' % (
            self.fake.auth_id, self.fake.auth_token)

    def fields(self, sent):
        f = sent.fields
        return e164(f["src"]), e164(f["dst"]), f.get("text")

    def throttle(self, retry_after):
        body = {"api_id": str(uuid.uuid4()), "error": "too many requests"}
        self.fake.fail_next(1, status=429, body=json.dumps(body).encode(),
                            headers={"Retry-After": str(retry_after)})

    def new_msg_id(self):
        return str(uuid.uuid4())

    def delivered(self, sent):
        url = sent.fields["url"]
        return [self.fake.status(url, sent.provider_id, "queued"),
                self.fake.status(url, sent.provider_id, "sent"),
                self.fake.status(url, sent.provider_id, "delivered", error_code="000")]

    def fail_status(self, sent):
        return self.fake.status(sent.fields["url"], sent.provider_id, "undelivered",
                                error_code=50)


class Bandwidth(Adapter):
    name = "bandwidth"
    number = "+15551150001"
    invalid_hint = "request-validation"
    fail_hint = "4720"

    @property
    def hook_url(self):
        # The application's callback URL: inbound messages and reports alike.
        return "http://127.0.0.1:%d/sms/%s/callback" % (self.http_port, self.name)

    def make_fake(self):
        return FakeBandwidth(account_id="9900777", username="e2e-api-user",
                             password="e2e-api-pass-0001", callback_user="e2ecb",
                             callback_password="e2e-cb-pass-0001", callback_url=self.hook_url)

    def settings(self):
        f = self.fake
        return ('        account_id = "%s";\n        username = "%s";\n        password = "%s";\n'
                '        application_id = "%s";\n        callback_user = "%s";\n'
                '        callback_password = "%s";' % (f.account_id, f.username, f.password,
                                                       f.application_id, f.callback_user,
                                                       f.callback_password))

    def fields(self, sent):
        f = sent.fields
        to = f.get("to")
        return f.get("from"), to[0] if isinstance(to, list) and len(to) == 1 else to, \
            f.get("text")

    def throttle(self, retry_after):
        self.fake.queue_full_next(1, retry_after=retry_after)

    def new_msg_id(self):
        return "%d%s" % (int.from_bytes(os.urandom(5), "big"), os.urandom(8).hex())

    def delivered(self, sent):
        return [self.fake.status(self.fake.callback_url, sent.provider_id, "delivered")]

    def fail_status(self, sent):
        return self.fake.status(self.fake.callback_url, sent.provider_id, "failed",
                                error_code=4720)


ADAPTERS = {a.name: a for a in (Twilio(), Vonage(), Telnyx(), Plivo(), Bandwidth())}


# ---------------------------------------------------------------------------
# One Prosody, one Ferry with the five instances, five fakes: per module

_ENV = {}


def setUpModule():
    http_port = ft.free_port()
    try:
        for a in ADAPTERS.values():
            a.http_port = http_port
            a.fake = a.make_fake().start()
        server = ft.Prosody(extra_components=[a.domain for a in ADAPTERS.values()])
        _ENV["server"] = server
        server.start()
        for a in ADAPTERS.values():
            ft.register_inband(a.user, ft.USER_PASSWORD, server.host, server.c2s_port)
        ferry = ft.Ferry(server, http_port=http_port,
                         more_transports="".join(a.transport() for a in ADAPTERS.values()))
        _ENV["ferry"] = ferry
        ferry.start(wait_online=False)
        for a in ADAPTERS.values():
            ferry.wait_log(r"\[%s\] xmpp: online" % a.name, 15 * ft.timeout_scale())
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    try:
        if _ENV.get("ferry") is not None:
            _ENV.pop("ferry").cleanup()
    finally:
        if _ENV.get("server") is not None:
            _ENV.pop("server").cleanup()
        for a in ADAPTERS.values():
            if a.fake is not None:
                a.fake.stop()
                a.fake = None


# ---------------------------------------------------------------------------
# The tests, the same for every provider

def error_of(m):
    """(condition, text) of an error message stanza."""
    err = m.xml.find("{jabber:client}error")
    if err is None:
        return None, None
    cond = [ch.tag[len(STANZAS):] for ch in err
            if ch.tag.startswith(STANZAS) and ch.tag != STANZAS + "text"]
    text = err.find(STANZAS + "text")
    return (cond[0] if cond else None), (text.text if text is not None else None)


class _ProviderTests:
    """Mixed into one TestCase per provider; `adapter` names the provider."""

    adapter = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = ADAPTERS[cls.adapter]
        cls.fake = cls.a.fake
        cls.ferry = _ENV["ferry"]
        server = _ENV["server"]
        cls.c = ft.Client(cls.a.user, host=server.host, port=server.c2s_port)
        try:
            cls.c.connect()
        except Exception:
            cls.c.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        super().tearDownClass()

    def setUp(self):
        # Each test leaves the fake as it found it.
        self.addCleanup(self.fake.invalid_numbers.discard, INVALID)
        self.addCleanup(self.fake.invalid_numbers.discard, digits(INVALID))

    # -- helpers ---------------------------------------------------------
    def jid(self, number=PHONE):
        return "%s@%s" % (number, self.a.domain)

    def send(self, text, to=PHONE, receipt=False):
        """Sends text to `to`; returns (stanza id, the fake's Sent)."""
        mark = len(self.fake.sent)
        sid = self.c.send_message(self.jid(to), text, receipt=receipt)
        sent = self.fake.wait_sent(mark + 1, 15 * ft.timeout_scale())[mark]
        return sid, sent

    def wait_accepted(self):
        """Waits until Ferry has handled the provider's answer to every send
        the fake accepted (a provider reports on a message only after
        answering its send)."""
        n = len(self.fake.sent)
        name = self.a.name
        line = re.compile(r"\[%s\] message \d+ to \S+ accepted by %s " % (name, name))
        ft.wait_until(lambda: len(line.findall(self.ferry.log.text())) >= n,
                      10 * ft.timeout_scale(), what="Ferry's acceptance of %d sends" % n)

    def wait_body(self, text, timeout=15):
        return self.c.wait_message(self.jid(), timeout,
                                   pred=lambda m: m["type"] != "error" and m["body"] == text)

    def barrier(self):
        """A fresh inbound SMS that must arrive: whatever Ferry stored
        before it has been delivered by then."""
        text = "barrier %s" % uuid.uuid4().hex[:8]
        status, _, body = self.a.inbound(text, self.a.new_msg_id())
        self.assertTrue(200 <= status < 300, "barrier webhook answered %s: %r" % (status, body))
        self.wait_body(text)

    def pending(self, pred):
        """Stanzas already received (not yet consumed) that match pred
        (read under the client's own lock: its thread appends to the list)."""
        with self.c._cond:
            return [m for m in self.c.messages if pred(m)]

    def wait_error(self, peer, sid, timeout=15):
        m = self.c.wait_message(peer, timeout, mtype="error", pred=lambda m: m["id"] == sid)
        cond, text = error_of(m)
        self.assertIsNotNone(cond, "no stanza error condition in %s" % m)
        self.assertTrue(text, "no error text in %s" % m)
        return cond, text

    # -- (a) --------------------------------------------------------------
    def test_a_send_reaches_provider(self):
        for text in ("hello from XMPP", NON_ASCII):
            with self.subTest(text=text):
                _, sent = self.send(text)
                self.assertEqual(self.a.fields(sent), (self.a.number, PHONE, text))

    # -- (b) --------------------------------------------------------------
    def test_b_throttled_and_unavailable_are_retried(self):
        mark_req = len(self.fake.requests)
        mark_sent = len(self.fake.sent)
        mark_log = self.ferry.mark()
        self.fake.fail_next(1, status=503)
        self.a.throttle(1)
        _, sent = self.send("retried until accepted")
        self.assertEqual(self.a.fields(sent), (self.a.number, PHONE, "retried until accepted"))
        name = self.a.name
        line = self.ferry.wait_log(r"\[%s\] message \d+ to \S+ accepted by %s \(attempt 3\)"
                                   % (name, name), 10 * ft.timeout_scale(), since=mark_log)
        seq = re.search(r"message (\d+) to", line).group(1)
        delays = re.findall(r"\[%s\] message %s to \S+: temporary failure .*; retry in (\d+) s"
                            % (name, seq), self.ferry.log.text(mark_log))
        # Backoff alone would wait 2-3 s before the third attempt.
        self.assertEqual(delays[1:], ["1"], "Retry-After: 1 of the 429 not honoured")
        self.assertEqual(len(self.fake.requests) - mark_req, 3, "503, 429, then the send")
        self.assertEqual(len(self.fake.sent) - mark_sent, 1, "exactly one accepted send")
        self.barrier()
        self.assertEqual(self.pending(lambda m: m["type"] == "error"), [],
                         "the user got an error for a message that was sent")

    # -- (c) --------------------------------------------------------------
    def test_c_invalid_number_bounces_with_original_id(self):
        self.a.make_invalid(INVALID)
        mark_sent = len(self.fake.sent)
        mark_req = len(self.fake.requests)
        sid = self.c.send_message(self.jid(INVALID), "to nowhere")
        cond, text = self.wait_error(self.jid(INVALID), sid)
        self.assertIn(cond, ("item-not-found", "bad-request"), text)
        self.assertRegex(text, self.a.invalid_hint)
        self.assertEqual(len(self.fake.requests) - mark_req, 1,
                         "the provider was asked exactly once (a refusal is not retried)")
        self.assertEqual(len(self.fake.sent), mark_sent)

    # -- (d) --------------------------------------------------------------
    def test_d_inbound_posted_three_times_arrives_once(self):
        msg_id = self.a.new_msg_id()
        text = "%s %s" % (NON_ASCII, msg_id[-6:])
        for attempt in range(3):
            status, _, body = self.a.inbound(text, msg_id)
            self.assertTrue(200 <= status < 300,
                            "post %d answered %s: %r" % (attempt + 1, status, body))
        m = self.wait_body(text)
        self.assertEqual(m["type"], "chat")
        self.barrier()
        self.assertEqual(self.pending(lambda m: m["body"] == text), [], "a duplicate arrived")

    # -- (e) --------------------------------------------------------------
    def test_e_forged_signature_is_refused(self):
        text = "forged %s" % uuid.uuid4().hex[:8]
        status, _, _ = self.a.inbound(text, self.a.new_msg_id(), forge=True)
        self.assertEqual(status, 403)
        self.barrier()
        self.assertEqual(self.pending(lambda m: m["body"] == text), [],
                         "the forged message reached the user")

    # -- (f) --------------------------------------------------------------
    def test_f_delivery_report_gives_receipt(self):
        sid, sent = self.send("please confirm", receipt=True)
        self.wait_accepted()
        answers = [r[0] for r in self.a.delivered(sent)]
        self.assertTrue(all(200 <= s < 300 for s in answers),
                        "Ferry answered the delivery reports %s" % answers)

        def has_receipt(m):
            r = m.xml.find("{urn:xmpp:receipts}received")
            return r is not None and r.get("id") == sid
        m = self.c.wait_message(self.jid(), 15, pred=has_receipt)
        self.assertNotEqual(m["type"], "error")

    # -- (g) --------------------------------------------------------------
    def test_g_failed_report_bounces_with_original_id(self):
        sid, sent = self.send("this one will fail")
        self.wait_accepted()
        status, _, body = self.a.fail_status(sent)
        self.assertTrue(200 <= status < 300, "failed report answered %s: %r" % (status, body))
        cond, text = self.wait_error(self.jid(), sid)
        self.assertRegex(text, self.a.fail_hint)


class ProvidersTwilio(_ProviderTests, ft.FerryCase):
    adapter = "twilio"

    def test_h_short_code_sender_is_delivered(self):
        """A sender that is not a phone number (a short code sending a
        one-time code) still reaches the user, from that contact."""
        text = "Your code is %s" % uuid.uuid4().hex[:6]
        status, _, body = self.fake.inbound(self.a.hook_url, "12345", self.a.number, text,
                                            msg_id=self.a.new_msg_id())
        self.assertEqual(status, 200, body)
        m = self.c.wait_message("12345@" + self.a.domain, 15)
        self.assertEqual(m["body"], text)


class ProvidersVonage(_ProviderTests, ft.FerryCase):
    adapter = "vonage"

    def test_h_long_inbound_is_joined_once(self):
        """Vonage posts a long SMS as one webhook per part (concat-ref): the
        parts, in any order and retried, arrive as one message, once."""
        tag = uuid.uuid4().hex[:6]
        text = ("%s: a long message from a phone, é and all, " % tag) * 8
        status, _, body = self.fake.inbound(self.a.hook_url, PHONE, self.a.number, text,
                                            shuffle=True)
        self.assertTrue(200 <= status < 300, body)
        m = self.wait_body(text)
        self.assertEqual(m["type"], "chat")
        # The provider retries every part (same ids): nothing new arrives.
        parts = [r for r in self.fake.callbacks if "concat-ref" in str(r[1])]
        for url, params, *_ in parts[-3:]:
            self.fake._post(url, params)
        self.barrier()
        self.assertEqual(self.pending(lambda m: tag in (m["body"] or "")), [],
                         "a part or a duplicate arrived on its own")


class ProvidersTelnyx(_ProviderTests, ft.FerryCase):
    adapter = "telnyx"


class ProvidersPlivo(_ProviderTests, ft.FerryCase):
    adapter = "plivo"


class ProvidersBandwidth(_ProviderTests, ft.FerryCase):
    adapter = "bandwidth"


if __name__ == "__main__":
    unittest.main()
