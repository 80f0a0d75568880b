"""Fake Bandwidth Messaging v2 API (sms-providers.md b.5, c.5).

    fake = FakeBandwidth(callback_url="http://127.0.0.1:8080/sms/bw1/callback").start()
    # Ferry config: api_url = fake.base_url, account_id/username/password/
    # application_id/callback_user/callback_password = the fake's
    fake.invalid_numbers.add("+15550000000")     # -> 400 request-validation (to)
    fake.queue_full_next(2, retry_after=1)        # -> 429 max-message-queue-size-exceeded
    fake.auto_status = "delivered"                # or "failed" (auto_error_code) / None
    fake.duplicate_status = True                  # every callback posted twice
    fake.inbound(url, "+15557654321", "+15551234567", "hi", media=[fake.add_media(b"..")])
    fake.status(url, message_id, "failed", error_code=4720, ref="r1")

Send: POST /api/v2/users/{accountId}/messages, HTTP Basic username:password,
Content-Type application/json (else 415), body {applicationId, to: [..],
from, text, media[], tag}; 202 + the message.  Callbacks: a JSON array of
events POSTed to the application's callback URL with HTTP Basic
callback_user:callback_password; message-delivered / message-failed carry
our tag.  Inbound media lives under /api/v2/users/{accountId}/media/...
and needs the API credentials.

Run with /usr/bin/python3.  `python3 fake_bandwidth.py` runs selftest().
"""

import base64
import hmac
import json
import os
import random
import re
import string
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
VALIDATION = "Your request could not be accepted"
QUEUE_FULL = ("The SMS queue for your account is full and cannot accept more messages right "
              "now. Your allowed rate is 60 messages per minute. The limit for your account "
              "is 900 messages.")
ERROR_DESCRIPTIONS = {
    4301: "malformed-invalid-encoding", 4303: "malformed-invalid-to-number",
    4404: "forbidden-to-number", 4406: "unallocated-to-number", 4470: "message-spam",
    4720: "invalid-destination-address", 4721: "destination-number-deactivated",
    4730: "no-route-to-destination", 4750: "destination-rejected-message",
    4775: "destination-rejected-handset-opt-out", 5600: "carrier-queue-full",
    9902: "delivery-receipt-expired", 9999: "unknown-error",
}


def basic_auth(user, password):
    """The Authorization header value HTTP Basic gives (RFC 7617)."""
    raw = ("%s:%s" % (user, password)).encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def target(url, via):
    """Where a webhook really goes: via (scheme://host[:port]) with url's path
    and query, or url itself."""
    if not via:
        return url
    p = urllib.parse.urlsplit(url)
    return via.rstrip("/") + urllib.parse.urlunsplit(("", "", p.path, p.query, ""))


def _now_iso():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int(t % 1 * 1000)


def _segments(text):
    gsm = all(ord(c) < 128 for c in text)
    single, multi = (160, 153) if gsm else (70, 67)
    n = len(text)
    return 1 if n <= single else -(-n // multi)


class FakeBandwidth(fakebase.FakeProvider):
    name = "bandwidth"

    def __init__(self, account_id="9900001", username="api-user", password="api-pass-0001",
                 application_id="93de2206-9669-4e07-948d-329f4b722ee2", callback_user="bwcb",
                 callback_password="cb-pass-0001", callback_url=None):
        super().__init__()
        self.account_id = account_id
        self.username = username
        self.password = password
        self.application_id = application_id
        self.callback_user = callback_user
        self.callback_password = callback_password
        self.callback_url = callback_url        # the application's callback URL
        self.invalid_numbers = set()            # `to` entries answered 400 (to)
        self.auto_status = None                 # "delivered" / "failed" / None
        self.auto_error_code = 4720             # errorCode of auto message-failed
        self.duplicate_status = False           # post every auto callback twice
        self.status_delay = 0.05                # seconds before an auto callback
        self.webhook_via = None                 # auto callbacks go via this origin
        self.callbacks = []                     # (url, events, status, headers, body)
        self.media = {}                         # media path -> (bytes, content type)

    # -- the REST API ------------------------------------------------------
    @staticmethod
    def _err(status, type_, description, field_errors=None):
        body = {"type": type_, "description": description}
        if field_errors:
            body["fieldErrors"] = [{"fieldName": f, "description": d} for f, d in field_errors]
        return fakebase.Reply(status, body)

    def queue_full_next(self, n=1, retry_after=None):
        """The next n API calls get 429 max-message-queue-size-exceeded."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        body = json.dumps({"type": "max-message-queue-size-exceeded",
                           "description": QUEUE_FULL}).encode()
        self.fail_next(n, status=429, body=body, headers=headers)

    def add_media(self, data, content_type="image/jpeg", name="pic.jpg"):
        """Stores inbound media; returns its (credential-protected) URL."""
        mid = self._new_id()
        path = "/api/v2/users/%s/media/%s/0/%s" % (self.account_id, mid, name)
        with self._lock:
            self.media[path] = (data, content_type)
        return self.base_url + path

    def _auth_ok(self, req):
        got = req.headers.get("Authorization") or ""
        return hmac.compare_digest(got.encode(), basic_auth(self.username, self.password)
                                   .encode())

    def handle(self, req):
        m = re.fullmatch(r"/api/v2/users/([^/]+)/(messages|media/.+)", req.path)
        if not m:
            return self._err(404, "not-found", "The requested resource was not found")
        if not self._auth_ok(req):
            return self._err(401, "unauthorized", "Authentication Failed")
        if m.group(1) != self.account_id:
            return self._err(403, "forbidden", "Access is denied")
        if m.group(2) != "messages":
            item = self.media.get(req.path) if req.method == "GET" else None
            if item is None:
                return self._err(404, "not-found", "Media not found")
            return fakebase.Reply(200, item[0], content_type=item[1])
        if req.method != "POST":
            return self._err(405, "method-not-allowed", "Method not allowed")
        ctype = (req.headers.get("Content-Type") or "").lower()
        if not ctype.startswith("application/json"):
            return self._err(415, "unsupported-content-type",
                             "Content-Type must be application/json")
        try:
            f = req.json()
        except ValueError:
            return self._err(400, "request-validation", VALIDATION,
                             [("body", "The request body is not valid JSON")])
        if not isinstance(f, dict):
            return self._err(400, "request-validation", VALIDATION,
                             [("body", "The request body must be an object")])
        errors = self._validate(f)
        if errors:
            return self._err(400, "request-validation", VALIDATION, errors)
        mid = self._new_id()
        text = f.get("text", "")
        msg = {"id": mid, "owner": f["from"], "applicationId": f["applicationId"],
               "time": _now_iso(), "segmentCount": _segments(text), "direction": "out",
               "to": f["to"], "from": f["from"], "media": f.get("media", []), "text": text,
               "priority": f.get("priority", "default")}
        if "tag" in f:
            msg["tag"] = f["tag"]
        if "expiration" in f:
            msg["expiration"] = f["expiration"]
        self.record_sent(req, f, mid)
        if self.auto_status and self.callback_url:
            threading.Thread(target=self._run_status, args=(mid,), daemon=True).start()
        return fakebase.Reply(202, msg)

    def _validate(self, f):
        errs = []
        if f.get("applicationId") != self.application_id:
            errs.append(("applicationId", "'%s' is not a valid application for this account"
                         % f.get("applicationId")))
        to = f.get("to")
        if isinstance(to, str):
            to = [to]
        if not isinstance(to, list) or not to or len(to) > 10:
            errs.append(("to", "'to' must contain between 1 and 10 telephone numbers"))
        else:
            for n in to:
                if not isinstance(n, str) or not E164.match(n) or n in self.invalid_numbers:
                    errs.append(("to", "'%s' must be replaced with a valid E164 formatted "
                                       "telephone number" % n))
            f["to"] = to
        frm = f.get("from")
        if not isinstance(frm, str) or not E164.match(frm):
            errs.append(("from", "'%s' must be replaced with a valid E164 formatted "
                                 "telephone number" % frm))
        text, media = f.get("text"), f.get("media")
        if text is not None and not isinstance(text, str):
            errs.append(("text", "'text' must be a string"))
        elif text is not None and len(text) > 2048:
            errs.append(("text", "'text' must be 2048 characters or fewer"))
        if media is not None and (not isinstance(media, list) or
                                  not all(isinstance(u, str) and
                                          re.match(r"^https?://", u) for u in media)):
            errs.append(("media", "'media' must be a list of URLs"))
        if not text and not media:
            errs.append(("text", "'text' or 'media' is required"))
        tag = f.get("tag")
        if tag is not None and (not isinstance(tag, str) or len(tag) > 1024):
            errs.append(("tag", "'tag' must be 1024 characters or fewer"))
        return errs

    def _new_id(self):
        alphabet = string.ascii_lowercase + string.digits
        return "%d%s" % (int(time.time() * 1000),
                         "".join(random.choice(alphabet) for _ in range(16)))

    def _run_status(self, mid):
        time.sleep(self.status_delay)
        status = self.auto_status
        code = self.auto_error_code if status == "failed" else None
        for _ in range(2 if self.duplicate_status else 1):
            try:
                self.status(self.callback_url, mid, status, error_code=code,
                            via=self.webhook_via)
            except OSError:
                pass  # the SUT is gone; Bandwidth would retry for 24 h

    # -- callbacks towards the system under test ----------------------------
    def _post(self, url, events, forge=False, unsigned=False, via=None):
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": "BandwidthAPI/v2"}
        if not unsigned:
            pw = self.callback_password + ("x" if forge else "")
            headers["Authorization"] = basic_auth(self.callback_user, pw)
        res = fakebase.post(target(url, via), json.dumps(events), headers)
        with self._lock:
            self.callbacks.append((url, events, res[0], res[1], res[2]))
            self._lock.notify_all()
        return res

    def inbound(self, url, from_, to, text, media=(), msg_id=None, forge=False,
                unsigned=False, via=None, group=(), owners=None):
        """An incoming SMS/MMS as Bandwidth posts it to the application's
        callback URL.  group: the other recipients of a group message;
        owners: the recipients that are ours (default [to]): one event each,
        in one array."""
        mid = msg_id or self._new_id()
        recipients = [to] + [g for g in group if g != to]
        now = _now_iso()
        events = []
        for owner in (owners or [to]):
            message = {"id": mid, "time": now, "to": recipients, "from": from_,
                       "text": text, "applicationId": self.application_id,
                       "owner": owner, "direction": "in", "segmentCount": _segments(text)}
            if media:
                message["media"] = list(media)
            events.append({"type": "message-received", "time": now,
                           "description": "Incoming message received", "to": owner,
                           "message": message})
        return self._post(url, events, forge=forge, unsigned=unsigned, via=via)

    def status(self, url, provider_id, status, error_code=None, ref=None, forge=False,
               unsigned=False, via=None, description=None):
        """message-delivered / message-failed / message-sending for one send."""
        sent = next((s for s in self.sent if s.provider_id == provider_id), None)
        f = sent.fields if sent else {}
        to = f.get("to") or ["+15551234567"]
        frm = f.get("from", "+15557654321")
        tag = ref if ref is not None else f.get("tag")
        message = {"id": provider_id, "time": _now_iso(), "to": to, "from": frm, "text": "",
                   "applicationId": self.application_id, "owner": frm, "direction": "out",
                   "segmentCount": 1}
        if f.get("media"):
            message["media"] = f["media"]
        if tag is not None:
            message["tag"] = tag
        event = {"type": "message-" + status, "time": _now_iso(), "to": to[0],
                 "message": message}
        if status == "failed":
            code = int(error_code if error_code is not None else 9999)
            event["errorCode"] = code
            event["description"] = description or ERROR_DESCRIPTIONS.get(code, "message-failed")
        elif status == "delivered":
            event["description"] = description or "Message delivered to carrier."
        else:
            event["description"] = description or "Message is sending to carrier"
        return self._post(url, [event], forge=forge, unsigned=unsigned, via=via)

    def wait_callbacks(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.callbacks) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("bandwidth: %d of %d callbacks"
                                       % (len(self.callbacks), n))
                self._lock.wait(left)
            return list(self.callbacks)


def selftest():
    """HTTP Basic as RFC 7617 spells it (there is no HMAC on Bandwidth
    callbacks, c.5), and a send round trip with the error answers."""
    assert basic_auth("bwcb", "cb-pass-0001") == "Basic YndjYjpjYi1wYXNzLTAwMDE="
    assert basic_auth("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    import urllib.error
    import urllib.request
    fake = FakeBandwidth().start()

    def call(body, auth=None, ctype="application/json; charset=utf-8"):
        r = urllib.request.Request(
            fake.base_url + "/api/v2/users/9900001/messages", data=body, method="POST",
            headers={"Content-Type": ctype,
                     "Authorization": auth or basic_auth("api-user", "api-pass-0001")})
        try:
            with urllib.request.urlopen(r, timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    try:
        ok = json.dumps({"applicationId": fake.application_id, "to": ["+15551234567"],
                         "from": "+15557654321", "text": "Hello", "tag": "r1"}).encode()
        st, ans = call(ok)
        assert st == 202 and ans["tag"] == "r1" and fake.sent[0].provider_id == ans["id"], ans
        st, ans = call(ok, auth=basic_auth("api-user", "nope"))
        assert st == 401 and ans["type"] == "unauthorized", ans
        st, ans = call(ok, ctype="application/x-www-form-urlencoded")
        assert st == 415, ans
        st, ans = call(ok.replace(b"+15551234567", b"15551234567"))
        assert st == 400 and ans["fieldErrors"][0]["fieldName"] == "to", ans
        fake.queue_full_next(1, retry_after=2)
        st, ans = call(ok)
        assert st == 429 and ans["type"] == "max-message-queue-size-exceeded", ans
    finally:
        fake.stop()
    return True


if __name__ == "__main__":
    selftest()
    print("fake_bandwidth: selftest ok")
