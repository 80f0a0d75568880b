"""Fake Plivo Messaging API (sms-providers.md b.4, c.4).

    fake = FakePlivo(auth_id="MA...", auth_token="...").start()
    # Ferry config: api_url = fake.base_url
    fake.invalid_numbers.add("15550000000")   # -> 400 invalid dst
    fake.stop_numbers.add("15550000001")      # accepted, then failed / ErrorCode 200
    fake.throttle_every = 3                    # every 3rd send -> 429
    fake.auto_status = "delivered"             # or "failed"/"undelivered"/"rejected"/None
    fake.inbound(url, "+15557654321", "+15551234567", "hi", media=[...])
    fake.status(status_url, message_uuid, "failed", error_code=50)

Send: POST /v1/Account/{auth_id}/Message/, HTTP Basic auth_id:auth_token,
JSON body (src, dst, text, type, media_urls, url, method).  202 with
{"api_id", "message", "message_uuid": [...]}.  Webhooks are form POSTs
(GET when the send asked for it) signed with X-Plivo-Signature-V3 and
X-Plivo-Signature-V3-Nonce (a fresh nonce each time), plus the legacy V2.

Run with /usr/bin/python3.  `python3 fake_plivo.py` runs selftest().
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
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402

NUMBER = re.compile(r"^\+?[1-9][0-9]{1,14}$")


def _b64_hmac256(key, data):
    mac = hmac.new(key.encode("utf-8"), data.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def v3_string(method, url, params=()):
    """The V3 base string (without "." + nonce) for a request to url with
    these POST params (pairs); GET requests carry theirs in url already."""
    parts = urllib.parse.urlsplit(url)
    base = "%s://%s%s" % (parts.scheme, parts.netloc, parts.path)
    query = urllib.parse.parse_qs(parts.query)  # blank values dropped, like plivo-python
    q = "&".join("%s=%s" % (k, v) for k in sorted(query) for v in sorted(query[k]))
    if method == "POST" and params:
        pairs = "".join(k + v for k, v in sorted(params))
        return base + "?" + q + ("." if q else "") + pairs
    return base + ("?" + q if q else "")


def signature_v3(auth_token, method, url, params, nonce):
    return _b64_hmac256(auth_token, v3_string(method, url, params) + "." + nonce)


def signature_v2(auth_token, url, nonce):
    parts = urllib.parse.urlsplit(url)
    return _b64_hmac256(auth_token, "%s://%s%s" % (parts.scheme, parts.netloc, parts.path)
                        + nonce)


def target(url, via):
    """Where a webhook really goes: via (scheme://host[:port]) with url's
    path and query, or url itself."""
    if not via:
        return url
    p = urllib.parse.urlsplit(url)
    return via.rstrip("/") + urllib.parse.urlunsplit(("", "", p.path, p.query, ""))


def _digits(number):
    return number[1:] if number.startswith("+") else number


def _parts(text):
    """Segments Plivo would bill (GSM-ish 160/153, else 70/67)."""
    if not text:
        return 1
    single, multi = (160, 153) if all(ord(c) < 128 for c in text) else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // multi)


class FakePlivo(fakebase.FakeProvider):
    name = "plivo"

    def __init__(self, auth_id="MAXXXXXXXXXXXXXXXXXX", auth_token="plivo-auth-token-0001"):
        super().__init__()
        self.auth_id = auth_id
        self.auth_token = auth_token
        self.extra_tokens = []          # more active tokens: one more signature each
        self.invalid_numbers = set()    # dst (digits or +E.164) answered "invalid dst"
        self.stop_numbers = set()       # accepted, then failed with ErrorCode 200
        self.throttle_every = 0         # every Nth send answered 429
        self.retry_after = None         # Retry-After on those 429s
        self.auto_status = None         # final status posted after queued/sent
        self.auto_error_code = 50       # ErrorCode with failed/undelivered/rejected
        self.status_delay = 0.05
        self.webhook_via = None         # auto_status callbacks go via this origin
        self.callbacks = []             # (url, params, status, headers, body)
        self._sends = 0

    # -- the REST API ------------------------------------------------------
    def _err(self, status, message):
        return fakebase.Reply(status, {"api_id": str(uuid.uuid4()), "error": message})

    def handle(self, req):
        m = re.fullmatch(r"/v1/Account/([^/]+)/Message/", req.path)
        if not m:
            return self._err(404, "not found")
        if req.method != "POST":
            return self._err(405, "method not allowed")
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (self.auth_id, self.auth_token)).encode()).decode()
        got = req.headers.get("Authorization") or ""
        if not hmac.compare_digest(got, want) or m.group(1) != self.auth_id:
            return self._err(401, "authentication failed")
        try:
            fields = req.json()
            assert isinstance(fields, dict)
        except Exception:  # noqa: BLE001
            return self._err(400, "invalid json data")
        src, dst = fields.get("src"), fields.get("dst")
        media = fields.get("media_urls") or []
        if not src and not fields.get("powerpack_uuid"):
            return self._err(400, "src parameter not present")
        if not dst:
            return self._err(400, "dst parameter not present")
        if not NUMBER.match(dst) or _digits(dst) in {_digits(n) for n in self.invalid_numbers}:
            return self._err(400, "invalid dst parameter: %s" % dst)
        if fields.get("type", "sms") not in ("sms", "mms"):
            return self._err(400, "invalid type parameter")
        if fields.get("type") == "mms" and not media:
            return self._err(400, "media_urls parameter not present for mms")
        if not fields.get("text") and not media:
            return self._err(400, "text parameter not present")
        if fields.get("url") and fields.get("method", "POST").upper() not in ("GET", "POST"):
            return self._err(400, "invalid method parameter")
        with self._lock:
            self._sends += 1
            n = self._sends
        if self.throttle_every and n % self.throttle_every == 0:
            r = self._err(429, "too many requests")
            if self.retry_after is not None:
                r.headers["Retry-After"] = str(self.retry_after)
            return r
        mid = str(uuid.uuid4())
        self.record_sent(req, fields, mid)
        stop = _digits(dst) in {_digits(x) for x in self.stop_numbers}
        if fields.get("url") and (self.auto_status or stop):
            threading.Thread(target=self._run_status, args=(fields, mid, stop),
                             daemon=True).start()
        return fakebase.Reply(202, {"api_id": str(uuid.uuid4()), "message": "message(s) queued",
                                    "message_uuid": [mid]})

    def _run_status(self, fields, mid, stop):
        n = 1 if fields.get("type") == "mms" else _parts(fields.get("text", ""))
        parts = [mid] + [str(uuid.uuid4()) for _ in range(n - 1)]
        final = "failed" if stop else self.auto_status
        seq = ["queued", final] if stop else ["queued", "sent", final]
        for st in seq:
            time.sleep(self.status_delay)
            for i, part in enumerate(parts):
                if st == final and st != "delivered":
                    code = 200 if stop else self.auto_error_code
                elif st == "delivered":
                    code = "000"
                else:
                    code = None
                try:
                    self.status(fields["url"], part, st, error_code=code,
                                method=fields.get("method", "POST").upper(),
                                from_=fields.get("src"), to=fields.get("dst"), parent=mid,
                                part=(i + 1, len(parts)), via=self.webhook_via)
                except OSError:
                    pass

    # -- webhooks towards the system under test ----------------------------
    def _send(self, url, params, method="POST", forge=False, unsigned=False, via=None):
        nonce = "".join(str(b % 10) for b in os.urandom(20))
        if method == "GET":
            url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
            body, signed = b"", ()
        else:
            body, signed = urllib.parse.urlencode(params), params
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "User-Agent": "PlivoHTTP/1.0"}
        if not unsigned:
            tokens = [self.auth_token] + list(self.extra_tokens)
            if forge:
                tokens = [t + "x" for t in tokens]
            headers["X-Plivo-Signature-V3"] = ",".join(
                signature_v3(t, method, url, signed, nonce) for t in tokens)
            headers["X-Plivo-Signature-V3-Nonce"] = nonce
            nonce2 = "".join(str(b % 10) for b in os.urandom(20))
            headers["X-Plivo-Signature-V2"] = signature_v2(tokens[0], url, nonce2)
            headers["X-Plivo-Signature-V2-Nonce"] = nonce2
        res = fakebase.post(target(url, via), body, headers, method=method)
        with self._lock:
            self.callbacks.append((url, list(params), res[0], res[1], res[2]))
            self._lock.notify_all()
        return res

    def inbound(self, url, from_, to, text, media=(), msg_id=None, forge=False,
                unsigned=False, via=None, method="POST"):
        """An incoming SMS/MMS as Plivo posts it to the application's message_url
        (numbers without '+').  url is what Plivo calls and signs; via: see target()."""
        params = [("From", _digits(from_)), ("To", _digits(to)),
                  ("Type", "mms" if media else "sms"), ("Text", text),
                  ("MessageUUID", msg_id or str(uuid.uuid4())),
                  ("Units", "1"), ("TotalRate", "0"), ("TotalAmount", "0"),
                  ("MessageIntent", "")]
        for i, m in enumerate(media):
            params.append(("Media%d" % i, m))
        return self._send(url, params, method=method, forge=forge, unsigned=unsigned, via=via)

    def status(self, url, provider_id, status, error_code=None, ref=None, forge=False,
               unsigned=False, via=None, method="POST", from_=None, to=None, parent=None,
               part=(1, 1)):
        """A status callback to the url the send carried (b.4)."""
        if ref is not None and "ref=" not in url:
            url += ("&" if "?" in url else "?") + "ref=" + urllib.parse.quote(ref, safe="")
        sent = next((s for s in self.sent if s.provider_id == (parent or provider_id)), None)
        if sent is not None:
            from_ = from_ or sent.fields.get("src")
            to = to or sent.fields.get("dst")
        params = [("To", _digits(to or "15551234567")), ("From", _digits(from_ or "15557654321")),
                  ("Status", status), ("MessageUUID", provider_id),
                  ("ParentMessageUUID", parent or provider_id),
                  ("PartInfo", "%d of %d" % part), ("Sequence", str(part[0])),
                  ("Units", "1"), ("TotalRate", "0.0050"), ("TotalAmount", "0.0050"),
                  ("MCC", "310"), ("MNC", "260")]
        if error_code is not None:
            params.append(("ErrorCode", str(error_code)))
        return self._send(url, params, method=method, forge=forge, unsigned=unsigned, via=via)

    def wait_callbacks(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.callbacks) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("plivo: %d of %d callbacks" % (len(self.callbacks), n))
                self._lock.wait(left)
            return list(self.callbacks)


def selftest():
    """The known-answer vectors of sms-providers.md c.6."""
    params = [("From", "15557654321"), ("To", "15551234567"), ("Text", "Hi"), ("Type", "sms"),
              ("MessageUUID", "11111111-2222-3333-4444-555555555555")]
    s = v3_string("POST", "https://gw.example.net/plivo/sms", params)
    assert s == ("https://gw.example.net/plivo/sms?From15557654321MessageUUID"
                 "11111111-2222-3333-4444-555555555555TextHiTo15551234567Typesms"), s
    got = signature_v3("plivo-auth-token-0001", "POST", "https://gw.example.net/plivo/sms",
                       params, "12345678901234567890")
    assert got == "YZApGGUgIBLqQNi2zAVrXOyveQOnRwAlQtUqH1l+Zrs=", got
    s = v3_string("POST", "https://gw.example.net/plivo/sms?b=2&a=1", params)
    assert s.startswith("https://gw.example.net/plivo/sms?a=1&b=2.From"), s
    got = signature_v3("plivo-auth-token-0001", "POST",
                       "https://gw.example.net/plivo/sms?b=2&a=1", params,
                       "12345678901234567890")
    assert got == "x39g4skDAEVDU0S7/1UKpWVuXLZesdLgsv5+vs6KkeI=", got
    return True


if __name__ == "__main__":
    selftest()
    print("fake_plivo: selftest ok")
