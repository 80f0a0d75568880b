"""Fake Twilio Programmable Messaging API (sms-providers.md b.1, c.1).

    fake = FakeTwilio(account_sid="AC...", auth_token="...").start()
    # Ferry config: api_url = fake.base_url
    fake.invalid_numbers.add("+15550000000")   # -> 400 / 21211
    fake.stop_numbers.add("+15550000001")      # -> 400 / 21610
    fake.throttle_every = 3                     # every 3rd send -> 429 / 20429
    fake.auto_status = "delivered"              # or "undelivered"/"failed"/None
    fake.inbound(url, "+15557654321", "+15551234567", "hi", media=[...])
    fake.status(status_url, sid, "undelivered", error_code=30003)

Send: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP Basic
AccountSid:AuthToken, form body (To, From | MessagingServiceSid, Body,
MediaUrl*, StatusCallback).  Webhooks are form POSTs signed with
X-Twilio-Signature = base64(HMAC-SHA1(auth_token, url + sorted name+value)).

Run with /usr/bin/python3.  `python3 fake_twilio.py` runs selftest().
"""

import base64
import hashlib
import hmac
import os
import re
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
TWIML_EMPTY = b'<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signature(auth_token, url, params=()):
    """X-Twilio-Signature for url and the POST params (pairs); () for GET or JSON."""
    data = url
    for name, value in sorted(params):  # by name, then value
        data += name + value
    mac = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def body_sha256(body):
    return hashlib.sha256(body).hexdigest()


def _error(status, code, message):
    return fakebase.Reply(status, {
        "code": code, "message": message,
        "more_info": "https://www.twilio.com/docs/errors/%d" % code, "status": status})


def target(url, via):
    """Where a webhook really goes: via (scheme://host[:port], e.g. Ferry's
    local listener behind public_url) with url's path and query, or url."""
    if not via:
        return url
    p = urllib.parse.urlsplit(url)
    return via.rstrip("/") + urllib.parse.urlunsplit(("", "", p.path, p.query, ""))


def _rfc2822(t=None):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))


class FakeTwilio(fakebase.FakeProvider):
    name = "twilio"

    def __init__(self, account_sid="AC00000000000000000000000000000001",
                 auth_token="test-auth-token-0001"):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.invalid_numbers = set()    # To values answered with 21211
        self.stop_numbers = set()       # To values answered with 21610
        self.throttle_every = 0         # every Nth send answered 429 / 20429
        self.retry_after = None         # Retry-After header on those 429s
        self.auto_status = None         # "delivered" / "undelivered" / "failed" / None
        self.auto_error_code = 30003    # ErrorCode with undelivered/failed
        self.status_delay = 0.05        # seconds between callbacks
        self.webhook_via = None         # auto_status callbacks go via this origin (target())
        self.callbacks = []             # (url, params, status, headers, body) of webhooks posted
        self._sends = 0

    # -- the REST API ------------------------------------------------------
    def handle(self, req):
        m = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Messages\.json", req.path)
        if not m:
            return _error(404, 20404, "The requested resource %s was not found" % req.path)
        if req.method != "POST":
            return _error(405, 20004, "Method not allowed")
        if not self._auth_ok(req.headers.get("Authorization"), m.group(1)):
            return _error(401, 20003, "Authenticate")
        pairs = req.form()
        fields = {}
        media = []
        for k, v in pairs:
            if k == "MediaUrl":
                media.append(v)
            else:
                fields.setdefault(k, v)
        fields["MediaUrl"] = media
        to = fields.get("To")
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not fields.get("From") and not fields.get("MessagingServiceSid"):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not fields.get("Body") and not media:
            return _error(400, 21602, "Message body is required.")
        if not E164.match(to) or to in self.invalid_numbers:
            return _error(400, 21211, "The 'To' number %s is not a valid phone number." % to)
        if to in self.stop_numbers:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        if len(fields.get("Body", "")) > 1600:
            return _error(400, 21617,
                          "The concatenated message body exceeds the 1600 character limit.")
        with self._lock:
            self._sends += 1
            n = self._sends
        if self.throttle_every and n % self.throttle_every == 0:
            r = _error(429, 20429, "Too Many Requests")
            if self.retry_after is not None:
                r.headers["Retry-After"] = str(self.retry_after)
            return r
        sid = ("MM" if media else "SM") + os.urandom(16).hex()
        self.record_sent(req, fields, sid)
        if self.auto_status and fields.get("StatusCallback"):
            threading.Thread(target=self._run_status,
                             args=(fields["StatusCallback"], sid, fields), daemon=True).start()
        now = _rfc2822()
        uri = "/2010-04-01/Accounts/%s/Messages/%s" % (self.account_sid, sid)
        return fakebase.Reply(201, {
            "sid": sid, "account_sid": self.account_sid,
            "messaging_service_sid": fields.get("MessagingServiceSid"),
            "from": fields.get("From"), "to": to, "body": fields.get("Body", ""),
            "status": "accepted" if fields.get("MessagingServiceSid") else "queued",
            "num_segments": "1", "num_media": str(len(media)), "direction": "outbound-api",
            "api_version": "2010-04-01", "price": None, "price_unit": "USD",
            "error_code": None, "error_message": None, "date_created": now, "date_sent": None,
            "date_updated": now, "uri": uri + ".json",
            "subresource_uris": {"media": uri + "/Media.json"}})

    def _auth_ok(self, header, path_sid):
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (self.account_sid, self.auth_token)).encode()).decode()
        return (header is not None and hmac.compare_digest(header, want)
                and path_sid == self.account_sid)

    def _run_status(self, url, sid, fields):
        outcome = self.auto_status
        for st in ("sent", outcome):
            time.sleep(self.status_delay)
            code = self.auto_error_code if st in ("undelivered", "failed") else None
            try:
                self.status(url, sid, st, error_code=code, from_=fields.get("From"),
                            to=fields.get("To"), via=self.webhook_via)
            except OSError:
                pass  # the SUT is gone; a real provider would retry later

    # -- webhooks towards the system under test ----------------------------
    def _post_form(self, url, params, forge=False, unsigned=False, via=None, method="POST"):
        if method == "GET":
            sign_url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
            body, signed_params = b"", ()
        else:
            sign_url, body, signed_params = url, urllib.parse.urlencode(params), params
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "User-Agent": "TwilioProxy/1.1"}
        if not unsigned:
            token = self.auth_token + ("x" if forge else "")
            headers["X-Twilio-Signature"] = signature(token, sign_url, signed_params)
        res = fakebase.post(target(sign_url, via), body, headers, method=method)
        with self._lock:
            self.callbacks.append((url, list(params), res[0], res[1], res[2]))
            self._lock.notify_all()
        return res

    def inbound(self, url, from_, to, text, media=(), msg_id=None, forge=False,
                unsigned=False, via=None, method="POST"):
        """An incoming SMS/MMS as Twilio posts it to the number's webhook URL.
        url is the URL Twilio calls and signs; via: see target()."""
        sid = msg_id or (("MM" if media else "SM") + os.urandom(16).hex())
        params = [("ToCountry", "US"), ("ToState", "CA"), ("SmsMessageSid", sid),
                  ("NumMedia", str(len(media))), ("ToCity", ""), ("FromZip", ""),
                  ("SmsSid", sid), ("FromState", "CA"), ("SmsStatus", "received"),
                  ("FromCity", ""), ("Body", text), ("FromCountry", "US"), ("To", to),
                  ("ToZip", ""), ("NumSegments", "1"), ("MessageSid", sid),
                  ("AccountSid", self.account_sid), ("From", from_),
                  ("ApiVersion", "2010-04-01")]
        for i, m in enumerate(media):
            if isinstance(m, (tuple, list)):
                m_url, m_type = m
            else:
                m_url, m_type = m, "image/jpeg"
            params += [("MediaContentType%d" % i, m_type), ("MediaUrl%d" % i, m_url)]
        return self._post_form(url, params, forge=forge, unsigned=unsigned, via=via,
                               method=method)

    def status(self, url, provider_id, status, error_code=None, ref=None, forge=False,
               unsigned=False, via=None, from_=None, to=None):
        """A status callback to the StatusCallback URL the send carried."""
        if ref is not None and "ref=" not in url:
            url += ("&" if "?" in url else "?") + "ref=" + urllib.parse.quote(ref, safe="")
        sent = next((s for s in self.sent if s.provider_id == provider_id), None)
        if sent is not None:
            from_ = from_ or sent.fields.get("From")
            to = to or sent.fields.get("To")
        params = [("SmsSid", provider_id), ("SmsStatus", status), ("MessageStatus", status),
                  ("To", to or "+15551234567"), ("MessageSid", provider_id),
                  ("AccountSid", self.account_sid), ("From", from_ or "+15557654321"),
                  ("ApiVersion", "2010-04-01")]
        if error_code is not None:
            params.append(("ErrorCode", str(error_code)))
        return self._post_form(url, params, forge=forge, unsigned=unsigned, via=via)

    def status_json(self, url, body, forge=False, via=None):
        """A JSON-bodied webhook: bodySHA256 in the query, the URL alone signed."""
        raw = body if isinstance(body, bytes) else body.encode("utf-8")
        url += ("&" if "?" in url else "?") + "bodySHA256=" + body_sha256(raw)
        headers = {"Content-Type": "application/json",
                   "X-Twilio-Signature": signature(self.auth_token + ("x" if forge else ""),
                                                   url)}
        return fakebase.post(target(url, via), raw, headers)

    def wait_callbacks(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.callbacks) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("twilio: %d of %d callbacks" % (len(self.callbacks), n))
                self._lock.wait(left)
            return list(self.callbacks)


def selftest():
    """The known-answer vectors of sms-providers.md c.6."""
    params = [("AccountSid", "AC00000000000000000000000000000001"),
              ("MessageSid", "SM00000000000000000000000000000001"),
              ("From", "+15557654321"), ("To", "+15551234567"), ("Body", "Hi there"),
              ("NumMedia", "0")]
    got = signature("test-auth-token-0001", "https://gw.example.net/twilio/sms?tenant=7", params)
    assert got == "eJrsKwHFnpR0By42yNP/MfCzaBc=", got
    body = b'{"MessageSid":"SM00000000000000000000000000000001","MessageStatus":"delivered"}'
    h = body_sha256(body)
    assert h == "c2a49ec3252aa01ed7bfceee3c3ae192ce3a8d483b78b62381a3f1649b15ba99", h
    got = signature("test-auth-token-0001",
                    "https://gw.example.net/twilio/status?bodySHA256=" + h)
    assert got == "oZJTTxffbrtdrAslxv3MJNKUifY=", got
    return True


if __name__ == "__main__":
    selftest()
    print("fake_twilio: selftest ok")
