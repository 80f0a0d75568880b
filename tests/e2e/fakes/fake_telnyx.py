"""Fake Telnyx Messaging v2 API (reference sheet b.3, webhook auth c.3).

API (what Ferry calls):
    POST /v2/messages   Authorization: Bearer <api_key>, JSON body
        {from, to, text?, media_urls?, messaging_profile_id?, webhook_url?, ...}
    -> 200 {"data": <message object>}            accepted (to[0].status "queued")
    -> 401 {"errors":[{"code":"10009",...}]}      wrong or missing API key
    -> 400 {"errors":[{"code":"40310",...}]}      `to` missing or in invalid_numbers
    -> 400 {"errors":[{"code":"10016",...}]}      `to` not +E.164
    -> 400 {"errors":[{"code":"40300",...}]}      `to` in opted_out (STOP)
    -> 400 {"errors":[{"code":"40305",...}]}      `from` missing/invalid
    -> 400 10004 (neither text nor media_urls), 40009 (text > 1600 chars),
       10015 (body not a JSON object, bad media_urls/webhook_url)
    throttle_next(n, retry_after=None, reset=1): Telnyx's 429 / 10011 with
    x-ratelimit-limit/-remaining/-reset (and Retry-After when given);
    fail_next(n, status, body, headers) for anything else, as in fakebase.

Webhooks (what the fake sends to Ferry), each signed like Telnyx:
    headers  telnyx-timestamp: <unix seconds>
             telnyx-signature-ed25519: base64(Ed25519(ts + "|" + raw body))
    body     {"data":{"record_type":"event","id":<event id>,"event_type":...,
              "occurred_at":...,"payload":<message object>},
              "meta":{"attempt":N,"delivered_to":<url>}}
    inbound(url, from_, to, text, media=(), msg_id=None)  -> message.received
    status(url, provider_id, status, error_code=None, ref=None)
        status "sent" -> message.sent; "delivered", "sending_failed",
        "delivery_failed", "delivery_unconfirmed" (alias "failed") ->
        message.finalized with to[0].status and payload.errors[].
    Both take forge=True (signed with another key), timestamp= (stale
    tests), event_id=/attempt= (provider retries), attempts=N (retry while
    the answer is not 2xx, meta.attempt counting up, like Telnyx).
    auto_status = "delivered" (or another final status): after accepting a
    send, a background thread posts message.sent then message.finalized to
    the send's webhook_url (else profile_webhook_url), retrying non-2xx
    answers up to 3 attempts, then webhook_failover_url.

The keypair is generated at start; Ferry's `public_key` setting is
fake.public_key_b64.  FakeTelnyx(deterministic=True) uses the known-answer
seed 0x00..0x1f instead.  selftest() checks the signing code (written
independently of Ferry's C code) against the vectors of reference c.6.

Run only with /usr/bin/python3 (python3-cryptography):
    /usr/bin/python3 tests/e2e/fakes/fake_telnyx.py selftest
    /usr/bin/python3 tests/e2e/fakes/fake_telnyx.py serve     # for curl
"""

import base64
import datetime
import json
import re
import sys
import threading
import time
import urllib.parse
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

try:
    from . import fakebase
except ImportError:  # run as a script
    import fakebase

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
SHORT_CODE = re.compile(r"^[0-9]{3,8}$")
ALPHA_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")

# Known-answer vector (reference c.6).
KAV_SEED = bytes(range(32))
KAV_PUBLIC = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
KAV_TIMESTAMP = "1700000000"
KAV_BODY = b'{"data":{"event_type":"message.received","id":"evt-1","payload":{"text":"hi"}}}'
KAV_SIGNATURE = ("nx2uFwVwPyeJ6OpINTyFdY1JD7w2yJVYTRSZmfIepGCcCec2PvJcpoyYjc2+J7ciswcmODdkPr37"
                 "JqEVw0QyAw==")

FINAL_STATUSES = ("delivered", "sending_failed", "delivery_failed", "delivery_unconfirmed")
ERROR_TITLES = {
    "40001": "Not routable",
    "40002": "Blocked as spam - temporary",
    "40003": "Blocked as spam - permanent",
    "40004": "Rejected by destination",
    "40005": "Message expired during transmission",
    "40006": "Recipient server unavailable",
    "40008": "Undeliverable",
    "40009": "Invalid message body",
    "40011": "Too many requests",
    "40300": "Blocked due to STOP message",
}


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


def _error(status, code, title, detail, pointer=None):
    e = {"code": code, "title": title, "detail": detail,
         "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/%s" % code}}
    if pointer:
        e["source"] = {"pointer": pointer}
    return fakebase.Reply(status, {"errors": [e]})


def _add_ref(url, ref):
    """url with ref=<ref> in its query unless it already has a ref."""
    if ref is None:
        return url
    parts = urllib.parse.urlsplit(url)
    if any(k == "ref" for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)):
        return url
    q = parts.query + ("&" if parts.query else "") + urllib.parse.urlencode({"ref": ref})
    return urllib.parse.urlunsplit(parts._replace(query=q))


class FakeTelnyx(fakebase.FakeProvider):
    name = "telnyx"

    def __init__(self, api_key="KEY0123456789ABCDEF0123456789AB_fake", deterministic=False,
                 auto_status=None, auto_error_code=None, send_sent_event=True,
                 invalid_numbers=(), opted_out=(), profile_webhook_url=None,
                 messaging_profile_id="40017f8e-49bd-4f5a-9f8a-1f1ed1e1d1e1"):
        super().__init__()
        self.api_key = api_key
        self._key = (Ed25519PrivateKey.from_private_bytes(KAV_SEED) if deterministic
                     else Ed25519PrivateKey.generate())
        self.auto_status = auto_status          # None, or one of FINAL_STATUSES
        self.auto_error_code = auto_error_code  # failed outcomes: default "40008"
        self.send_sent_event = send_sent_event  # message.sent before message.finalized
        self.status_delay = 0.05                # seconds before auto events
        self.retry_delay = 0.2                  # seconds between webhook attempts
        self.max_attempts = 3                   # per URL, then the failover URL
        self.invalid_numbers = set(invalid_numbers)
        self.opted_out = set(opted_out)
        self.profile_webhook_url = profile_webhook_url
        self.messaging_profile_id = messaging_profile_id
        self.webhooks = []   # every webhook attempt: dict(url, event_type, attempt, status, body)
        self.messages = {}   # provider id -> accepted send fields

    # -- keys and signatures ------------------------------------------------
    @property
    def public_key_b64(self):
        raw = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode("ascii")

    def sign(self, body, timestamp=None, forge=False):
        """Headers Telnyx sends with a webhook body (bytes)."""
        ts = str(int(time.time()) if timestamp is None else int(timestamp))
        key = Ed25519PrivateKey.generate() if forge else self._key
        sig = key.sign(ts.encode("ascii") + b"|" + body)
        return {
            "Content-Type": "application/json",
            "User-Agent": "telnyx-webhooks",
            "telnyx-timestamp": ts,
            "telnyx-signature-ed25519": base64.b64encode(sig).decode("ascii"),
        }

    def throttle_next(self, n=1, retry_after=None, reset=1):
        """The next n API calls get Telnyx's 429 (code 10011) with its
        x-ratelimit-* headers, plus Retry-After when retry_after is given."""
        headers = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "0",
                   "x-ratelimit-reset": str(reset)}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        body = {"errors": [{"code": "10011", "title": "Too many requests",
                            "detail": "You have exceeded the maximum number of allowed requests.",
                            "meta": {"url": "https://developers.telnyx.com/docs/overview/"
                                            "errors/10011"}}]}
        self.fail_next(n, status=429, body=json.dumps(body).encode("utf-8"), headers=headers)

    # -- the API -------------------------------------------------------------
    def handle(self, req):
        if req.path != "/v2/messages":
            return _error(404, "10005", "Resource not found",
                          "The requested resource or URL could not be found.")
        if req.method != "POST":
            return _error(405, "10015", "Bad Request", "Method not allowed.")
        if req.headers.get("Authorization", "") != "Bearer " + self.api_key:
            return _error(401, "10009", "Authentication failed",
                          "The API key looks malformed. Check that you copied it correctly.")
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if ctype != "application/json":
                raise ValueError
            fields = req.json()
            if not isinstance(fields, dict):
                raise ValueError
        except ValueError:
            return _error(400, "10015", "Bad Request", "The request body must be a JSON object.")
        bad = self._validate(fields)
        if bad is not None:
            return bad
        pid = str(uuid.uuid4())
        self.messages[pid] = fields
        self.record_sent(req, fields, pid)
        if self.auto_status:
            url = fields.get("webhook_url") or self.profile_webhook_url
            if url:
                threading.Thread(target=self._auto, args=(pid, url, fields), daemon=True).start()
        return fakebase.Reply(200, {"data": self._message(pid, fields, "queued")})

    def _validate(self, f):
        to, frm = f.get("to"), f.get("from")
        if not isinstance(to, str) or not to or to in self.invalid_numbers:
            return _error(400, "40310", "Invalid 'to' address",
                          "The 'to' address should be a single valid number.", "/to")
        if not E164.match(to):
            return _error(400, "10016", "Phone number must be in +E.164 format",
                          "The 'to' address must be in +E.164 format.", "/to")
        if not isinstance(frm, str) or not (E164.match(frm) or SHORT_CODE.match(frm)
                                            or ALPHA_SENDER.match(frm)):
            return _error(400, "40305", "Invalid 'from' address",
                          "The 'from' address should be a valid number, short code or "
                          "alphanumeric sender ID.", "/from")
        if to in self.opted_out:
            return _error(400, "40300", "Blocked due to STOP message",
                          "The recipient has opted out of messages from this number.", "/to")
        text, media = f.get("text"), f.get("media_urls")
        if text is not None and not isinstance(text, str):
            return _error(400, "10015", "Bad Request", "'text' must be a string.", "/text")
        if media is not None and (not isinstance(media, list) or
                                  not all(isinstance(u, str) and u for u in media)):
            return _error(400, "10015", "Bad Request", "'media_urls' must be a list of URLs.",
                          "/media_urls")
        if not text and not media:
            return _error(400, "10004", "Missing required parameter",
                          "Either 'text' or 'media_urls' is required.", "/text")
        if text and len(text) > 1600:
            return _error(400, "40009", "Invalid message body",
                          "The 'text' must be at most 1600 characters.", "/text")
        for k in ("webhook_url", "webhook_failover_url"):
            v = f.get(k)
            if v is not None and (not isinstance(v, str) or
                                  not re.match(r"^https?://[^/\s]+", v)):
                return _error(400, "10015", "Bad Request", "'%s' must be a URL." % k, "/" + k)
        return None

    def _message(self, pid, f, status, errors=()):
        """The message object of the API answer and of webhook payloads."""
        text = f.get("text") or ""
        media = f.get("media_urls") or []
        gsm = all(ord(c) < 128 for c in text)
        per = (153 if len(text) > 160 else 160) if gsm else (67 if len(text) > 70 else 70)
        return {
            "record_type": "message", "direction": "outbound", "id": pid,
            "type": "MMS" if media else "SMS",
            "messaging_profile_id": f.get("messaging_profile_id") or self.messaging_profile_id,
            "organization_id": "f0c3b1a2-0000-4000-8000-000000000001",
            "from": {"phone_number": f.get("from"), "carrier": "TELNYX LLC", "line_type": "VoIP"},
            "to": [{"phone_number": f.get("to"), "status": status,
                    "carrier": "T-MOBILE USA, INC.", "line_type": "Wireless"}],
            "cc": [], "text": text,
            "media": [{"url": u, "content_type": None, "sha256": None, "size": None}
                      for u in media],
            "webhook_url": f.get("webhook_url") or self.profile_webhook_url or "",
            "webhook_failover_url": f.get("webhook_failover_url") or "",
            "encoding": "GSM-7" if gsm else "UCS-2",
            "parts": max(1, -(-len(text) // per)),
            "tags": [], "cost": None, "received_at": _now_iso(),
            "sent_at": None if status == "queued" else _now_iso(),
            "completed_at": _now_iso() if status in FINAL_STATUSES else None,
            "valid_until": None, "errors": list(errors),
        }

    # -- webhooks ------------------------------------------------------------
    def _post_event(self, url, event_type, payload, event_id=None, attempt=1, attempts=1,
                    forge=False, timestamp=None):
        """Posts one event; retries non-2xx answers up to `attempts` times.
        Returns (status, headers, body) of the last attempt."""
        event_id = event_id or str(uuid.uuid4())
        result = None
        for n in range(attempt, attempt + max(1, attempts)):
            env = {"data": {"record_type": "event", "id": event_id, "event_type": event_type,
                            "occurred_at": _now_iso(), "payload": payload},
                   "meta": {"attempt": n, "delivered_to": url}}
            body = json.dumps(env, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
            try:
                result = fakebase.post(url, body, self.sign(body, timestamp, forge))
            except OSError as e:  # refused / timed out: Telnyx retries too
                result = (0, {}, repr(e).encode())
            with self._lock:
                self.webhooks.append({"url": url, "event_type": event_type, "attempt": n,
                                      "status": result[0], "body": body})
                self._lock.notify_all()
            if 200 <= result[0] < 300:
                break
            if n + 1 < attempt + attempts:
                time.sleep(self.retry_delay)
        return result

    def wait_webhooks(self, pred, n=1, timeout=10):
        """Blocks until n webhook attempts match pred(dict); returns them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [w for w in self.webhooks if pred(w)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("telnyx: %d of %d webhooks after %.1f s"
                                       % (len(got), n, timeout))
                self._lock.wait(left)

    def inbound(self, url, from_, to, text, media=(), msg_id=None, forge=False,
                timestamp=None, event_id=None, attempt=1, attempts=1):
        """message.received to url, as Telnyx posts an inbound SMS/MMS."""
        payload = {
            "record_type": "message", "direction": "inbound",
            "id": msg_id or str(uuid.uuid4()), "type": "MMS" if media else "SMS",
            "messaging_profile_id": self.messaging_profile_id,
            "from": {"phone_number": from_, "carrier": "T-MOBILE USA, INC.",
                     "line_type": "Wireless"},
            "to": [{"phone_number": to, "status": "webhook_delivered", "carrier": "TELNYX LLC",
                    "line_type": "VoIP"}],
            "cc": [], "text": text,
            "media": [{"url": u, "content_type": "image/jpeg", "sha256": None, "size": None}
                      for u in media],
            "encoding": "GSM-7" if all(ord(c) < 128 for c in text) else "UCS-2",
            "parts": 1, "tags": [], "received_at": _now_iso(), "errors": [],
        }
        return self._post_event(url, "message.received", payload, event_id, attempt, attempts,
                                forge, timestamp)

    def status(self, url, provider_id, status, error_code=None, ref=None, forge=False,
               timestamp=None, event_id=None, attempt=1, attempts=1):
        """message.sent ("sent") or message.finalized (a final status) for
        provider_id to url (with ?ref=<ref> added when given)."""
        if status == "failed":
            status = "delivery_failed"
        if status != "sent" and status not in FINAL_STATUSES:
            raise ValueError("telnyx sends no event for status %r" % status)
        url = _add_ref(url, ref)
        f = dict(self.messages.get(provider_id) or
                 {"from": "+15557654321", "to": "+15551234567", "text": "Hello"})
        f["webhook_url"] = url
        errors = []
        if status in ("sending_failed", "delivery_failed"):
            code = str(error_code or "40008")
            errors = [{"code": code, "title": ERROR_TITLES.get(code, "Undeliverable"),
                       "detail": "Message delivery failed (%s)." % code}]
        payload = self._message(provider_id, f, status, errors)
        event = "message.sent" if status == "sent" else "message.finalized"
        return self._post_event(url, event, payload, event_id, attempt, attempts, forge,
                                timestamp)

    def _auto(self, pid, url, fields):
        time.sleep(self.status_delay)
        if self.send_sent_event:
            self._post_event(url, "message.sent", self._message(pid, fields, "sent"),
                             attempts=self.max_attempts)
        status = self.auto_status
        errors = []
        if status in ("sending_failed", "delivery_failed"):
            code = str(self.auto_error_code or "40008")
            errors = [{"code": code, "title": ERROR_TITLES.get(code, "Undeliverable"),
                       "detail": "Message delivery failed (%s)." % code}]
        payload = self._message(pid, fields, status, errors)
        st = self._post_event(url, "message.finalized", payload, attempts=self.max_attempts)
        failover = fields.get("webhook_failover_url")
        if failover and not 200 <= st[0] < 300:
            self._post_event(failover, "message.finalized", payload, attempts=self.max_attempts)


def selftest():
    """Checks the signing code against the known-answer vectors (c.6)."""
    fake = FakeTelnyx(deterministic=True)
    assert fake.public_key_b64 == KAV_PUBLIC, fake.public_key_b64
    h = fake.sign(KAV_BODY, timestamp=KAV_TIMESTAMP)
    assert h["telnyx-timestamp"] == KAV_TIMESTAMP
    assert h["telnyx-signature-ed25519"] == KAV_SIGNATURE, h["telnyx-signature-ed25519"]
    pub = fake._key.public_key()
    pub.verify(base64.b64decode(KAV_SIGNATURE), KAV_TIMESTAMP.encode() + b"|" + KAV_BODY)
    for msg in (KAV_TIMESTAMP.encode() + b"|" + KAV_BODY.replace(b"hi", b"ho"),
                b"1700000001|" + KAV_BODY):
        try:
            pub.verify(base64.b64decode(KAV_SIGNATURE), msg)
            raise AssertionError("tampered message verified")
        except InvalidSignature:
            pass
    forged = fake.sign(KAV_BODY, timestamp=KAV_TIMESTAMP, forge=True)
    try:
        pub.verify(base64.b64decode(forged["telnyx-signature-ed25519"]),
                   KAV_TIMESTAMP.encode() + b"|" + KAV_BODY)
        raise AssertionError("forged signature verified")
    except InvalidSignature:
        pass
    assert FakeTelnyx().public_key_b64 != KAV_PUBLIC  # random keys by default
    return True


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        fake = FakeTelnyx(deterministic="--kav" in sys.argv).start()
        print("base_url %s\napi_key %s\npublic_key %s" % (fake.base_url, fake.api_key,
                                                          fake.public_key_b64), flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            fake.stop()
    else:
        selftest()
        print("fake_telnyx selftest: ok")
