"""Fake Vonage (Nexmo) SMS API (sms-providers.md b.2, c.2).

    fake = FakeVonage(api_key="abcd1234", api_secret="s3cr3t-api",
                      signature_secret="sigsecret123").start()
    # Ferry config: api_url = fake.base_url, signature_secret = the same
    fake.invalid_numbers.add("15550000000")   # -> status 6 (unroutable)
    fake.barred_numbers.add("15550000001")    # -> status 7 (number barred)
    fake.throttle_every = 3                    # every 3rd send -> status 1 (throttled)
    fake.auto_status = "delivered"             # or "failed"/"expired"/"rejected"/(status, err)
    fake.webhook_method = "JSON"               # "POST" (form, default), "JSON" or "GET"
    fake.inbound(url, "+15557654321", "+15551234567", "hi")   # long text: concat parts
    fake.status(callback_url, message_id, "failed", error_code=6, ref="r1")

Send: POST /sms/json (form or JSON; GET with a query works too), with
api_key + api_secret (or api_key + timestamp + sig, when the fake has a
signature_secret).  Always HTTP 200 with one `messages[]` entry per part;
the outcome is each entry's `status`.  Numbers are digits without '+'.
Webhooks (inbound, DLR) carry timestamp/nonce/sig when signature_secret is
set: sig over Vonage's own parameters (not over a query the callback URL
already had, e.g. Ferry's ?ref=), sorted by name, '&'/'=' in values -> '_'.

Run with /usr/bin/python3.  `python3 fake_vonage.py` runs selftest().
"""

import hashlib
import hmac
import json
import os
import random
import re
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fakebase  # noqa: E402

DIGITS = re.compile(r"^[1-9][0-9]{6,14}$")
SENDER = re.compile(r"^([0-9]{3,15}|[A-Za-z0-9 ]{1,11})$")

GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
             "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXT = "^{}\\[~]|€\f"

ERROR_TEXT = {
    "1": "Throughput Rate Exceeded - please wait [ 1000 ] and retry",
    "2": "Missing %s param",
    "3": "Invalid %s address",
    "4": "Bad Credentials",
    "6": "Unroutable message - rejected",
    "7": "Number barred.",
    "9": "Partner quota exceeded",
    "12": "Message too long",
    "14": "Invalid Signature",
    "23": "Invalid Callback Url",
    "29": "Non White-listed Destination - rejected",
}


# -- signatures (c.2), written from the sheet, independently of the C code ------
def sig_string(params):
    """'&k=v' over the pairs sorted by name (then value), sig left out."""
    out = ""
    for k, v in sorted((k, v) for k, v in params if k != "sig"):
        out += "&%s=%s" % (k, v.replace("&", "_").replace("=", "_"))
    return out


def signature(secret, params, method="md5hash"):
    s = sig_string(params).encode("utf-8")
    if method == "md5hash":
        return hashlib.md5(s + secret.encode("utf-8")).hexdigest()
    if method in ("md5", "sha1", "sha256", "sha512"):
        return hmac.new(secret.encode("utf-8"), s, method).hexdigest().upper()
    raise ValueError("unknown signature method %r" % method)


# -- SMS encoding --------------------------------------------------------------
def is_gsm(text):
    return all(c in GSM_BASIC or c in GSM_EXT for c in text)


def split_parts(text, unicode_=None):
    """The parts a handset/Vonage would cut text into: (parts, is_unicode)."""
    if unicode_ is None:
        unicode_ = not is_gsm(text)
    if unicode_:
        units = [(c, 2 if ord(c) > 0xFFFF else 1) for c in text]
        single, multi = 70, 67
    else:
        units = [(c, 2 if c in GSM_EXT else 1) for c in text]
        single, multi = 160, 153
    if sum(w for _, w in units) <= single:
        return [text], unicode_
    parts, cur, n = [], "", 0
    for c, w in units:
        if n + w > multi:
            parts.append(cur)
            cur, n = "", 0
        cur += c
        n += w
    parts.append(cur)
    return parts, unicode_


def target(url, via):
    """Where a webhook really goes: via (scheme://host[:port]) with url's path
    and query, or url itself."""
    if not via:
        return url
    p = urllib.parse.urlsplit(url)
    return via.rstrip("/") + urllib.parse.urlunsplit(("", "", p.path, p.query, ""))


def _digits(number):
    return (number or "").lstrip("+")


class FakeVonage(fakebase.FakeProvider):
    name = "vonage"

    def __init__(self, api_key="abcd1234", api_secret="s3cr3t-api", signature_secret=None,
                 signature_method="md5hash"):
        super().__init__()
        self.api_key = api_key
        self.api_secret = api_secret
        self.signature_secret = signature_secret   # None: webhooks unsigned
        self.signature_method = signature_method   # md5hash, md5, sha1, sha256, sha512
        self.invalid_numbers = set()    # `to` (digits) answered status 6
        self.barred_numbers = set()     # `to` answered status 7
        self.whitelist = None           # set of `to` allowed (trial account), None: all
        self.throttle_every = 0         # every Nth send answered status 1
        self.out_of_credit = False      # every send answered status 9
        self.max_parts = 30             # longer texts answered status 12
        self.default_callback = None    # the account's DLR URL when a send has none
        self.auto_status = None         # "delivered"/"failed"/"expired"/"rejected"/(st, err)
        self.auto_error_code = 1        # err-code for non-delivered auto DLRs
        self.dlr_shuffle = False        # per-part DLRs in random order
        self.status_delay = 0.05        # seconds before each auto DLR
        self.webhook_method = "POST"    # "POST" (form), "JSON" or "GET"
        self.webhook_via = None         # auto DLRs go via this origin (target())
        self.ts_offset = 0              # added to webhook timestamps (stale tests)
        self.callbacks = []             # (url, params, status, headers, body) posted
        self.balance = 10.0
        self._sends = 0
        self._next_id = 0x0A00000000000000

    # -- the REST API ------------------------------------------------------
    def _answer(self, entries):
        return fakebase.Reply(200, {"message-count": str(len(entries)), "messages": entries})

    def _error(self, status, *arg):
        text = ERROR_TEXT.get(status, "Error")
        if "%s" in text:
            text = text % arg
        return self._answer([{"status": status, "error-text": text}])

    def _params(self, req):
        ctype = (req.headers.get("Content-Type") or "").lower()
        if req.method == "POST" and ctype.startswith("application/json"):
            return [(k, v if isinstance(v, str) else json.dumps(v))
                    for k, v in req.json().items()]
        return req.form()

    def handle(self, req):
        if req.path != "/sms/json":
            return fakebase.Reply(404, b"", content_type="text/html")
        if req.method not in ("POST", "GET"):
            return fakebase.Reply(405, b"", content_type="text/html")
        try:
            pairs = self._params(req)
        except ValueError:
            return self._error("2", "api_key")
        f = {}
        for k, v in pairs:
            f.setdefault(k, v)
        if not f.get("api_key"):
            return self._error("2", "api_key")
        if "sig" in f:
            if not self.signature_secret or "timestamp" not in f:
                return self._error("14")
            want = signature(self.signature_secret, pairs, self.signature_method)
            if f["api_key"] != self.api_key or not hmac.compare_digest(
                    f["sig"].lower(), want.lower()):
                return self._error("14")
        elif not f.get("api_secret"):
            return self._error("2", "api_secret")
        elif not (hmac.compare_digest(f["api_key"], self.api_key)
                  and hmac.compare_digest(f["api_secret"], self.api_secret)):
            return self._error("4")
        for field in ("from", "to"):
            if not f.get(field):
                return self._error("2", field)
        typ = f.get("type", "text")
        if typ in ("text", "unicode") and "text" not in f:
            return self._error("2", "text")
        to, frm = f["to"], f["from"]
        if not DIGITS.match(to):
            return self._error("3", "to")
        if not SENDER.match(frm):
            return self._error("3", "from")
        cb = f.get("callback")
        if cb is not None and not re.match(r"^https?://[^/?#]+", cb):
            return self._error("23")
        if to in self.invalid_numbers:
            return self._error("6")
        if to in self.barred_numbers:
            return self._error("7")
        if self.whitelist is not None and to not in self.whitelist:
            return self._error("29")
        if self.out_of_credit:
            return self._error("9")
        text = f.get("text", "")
        parts, _ = split_parts(text, unicode_=(typ == "unicode"))
        if len(parts) > self.max_parts:
            return self._error("12")
        with self._lock:
            self._sends += 1
            n = self._sends
        if self.throttle_every and n % self.throttle_every == 0:
            return self._error("1")

        f["garbled"] = typ == "text" and not is_gsm(text)   # what Vonage does to it
        f["parts"] = parts
        entries, ids = [], []
        for _ in parts:
            with self._lock:
                self._next_id += 1
                mid = "%016X" % self._next_id
            ids.append(mid)
            self.balance -= 0.0333
            e = {"to": to, "message-id": mid, "status": "0",
                 "remaining-balance": "%.8f" % self.balance, "message-price": "0.03330000",
                 "network": "310260"}
            if "client-ref" in f:
                e["client-ref"] = f["client-ref"]
            entries.append(e)
        sent = self.record_sent(req, f, ids[0])
        sent.part_ids = ids
        url = cb or self.default_callback
        if self.auto_status and url and f.get("status-report-req") == "1":
            threading.Thread(target=self._run_status, args=(url, ids, f),
                             daemon=True).start()
        return self._answer(entries)

    def _run_status(self, url, ids, f):
        outcome = self.auto_status
        if isinstance(outcome, (tuple, list)):
            st, code = outcome
        else:
            st, code = outcome, (0 if outcome == "delivered" else self.auto_error_code)
        order = list(ids)
        if self.dlr_shuffle:
            random.shuffle(order)
        for mid in order:
            time.sleep(self.status_delay)
            try:
                self.status(url, mid, st, error_code=code, ref=f.get("client-ref"),
                            via=self.webhook_via)
            except OSError:
                pass  # the SUT is gone; Vonage would retry for 24 h

    # -- webhooks towards the system under test ----------------------------
    def sign(self, params, forge=False, timestamp=None):
        """params + timestamp, nonce and sig (c.2)."""
        ts = int(time.time()) + self.ts_offset if timestamp is None else timestamp
        params = list(params) + [("timestamp", str(ts)), ("nonce", str(uuid.uuid4()))]
        secret = self.signature_secret + ("x" if forge else "")
        return params + [("sig", signature(secret, params, self.signature_method))]

    def _post(self, url, params, forge=False, unsigned=False, via=None, method=None):
        method = method or self.webhook_method
        if self.signature_secret and not unsigned:
            params = self.sign(params, forge=forge)
        headers = {"User-Agent": "Vonage-Webhook/1.0"}
        if method == "GET":
            full = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
            res = fakebase.post(target(full, via), b"", headers, method="GET")
        elif method == "JSON":
            headers["Content-Type"] = "application/json"
            res = fakebase.post(target(url, via), json.dumps(dict(params)), headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            res = fakebase.post(target(url, via), urllib.parse.urlencode(params), headers)
        with self._lock:
            self.callbacks.append((url, list(params), res[0], res[1], res[2]))
            self._lock.notify_all()
        return res

    def inbound(self, url, from_, to, text, media=(), msg_id=None, forge=False,
                unsigned=False, via=None, method=None, shuffle=False, keyword=None):
        """An incoming SMS as Vonage delivers it to the number's inbound URL.
        A text longer than one SMS arrives as concat parts, one webhook each
        (in random order with shuffle).  Returns the first non-2xx answer, or
        the last one.  The SMS API has no MMS: media is refused."""
        if media:
            raise ValueError("the Vonage SMS API carries no media")
        parts, uni = split_parts(text)
        ref = "%d" % random.randint(1, 255)
        now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        words = text.split()
        batch = []
        for i, part in enumerate(parts):
            mid = msg_id if (msg_id and i == 0) else None
            if mid is None:
                with self._lock:
                    self._next_id += 1
                    mid = "%016X" % self._next_id
            p = [("msisdn", _digits(from_)), ("to", _digits(to)), ("messageId", mid),
                 ("text", part), ("type", "unicode" if uni else "text"),
                 ("keyword", keyword if keyword is not None else
                  (words[0].upper() if words else "")),
                 ("api-key", self.api_key), ("message-timestamp", now)]
            if len(parts) > 1:
                p += [("concat", "true"), ("concat-ref", ref),
                      ("concat-total", str(len(parts))), ("concat-part", str(i + 1))]
            batch.append(p)
        if shuffle:
            random.shuffle(batch)
        result = None
        for p in batch:
            res = self._post(url, p, forge=forge, unsigned=unsigned, via=via, method=method)
            if result is None or (200 <= result[0] < 300):
                result = res
        return result

    def status(self, url, provider_id, status, error_code=None, ref=None, forge=False,
               unsigned=False, via=None, method=None):
        """A delivery receipt for one part (message-id) to the callback URL."""
        sent = next((s for s in self.sent
                     if provider_id in getattr(s, "part_ids", [s.provider_id])), None)
        recipient = sent.fields.get("to") if sent else "15551234567"
        sender = sent.fields.get("from") if sent else "15557654321"
        if ref is None and sent is not None:
            ref = sent.fields.get("client-ref")
        if error_code is None:
            error_code = 0 if status in ("delivered", "accepted", "buffered") else 1
        p = [("msisdn", recipient), ("to", sender), ("network-code", "310260"),
             ("messageId", provider_id), ("price", "0.03330000"),
             ("status", status), ("scts", time.strftime("%y%m%d%H%M", time.gmtime())),
             ("err-code", str(error_code)), ("api-key", self.api_key)]
        if ref is not None:
            p.append(("client-ref", ref))
        p.append(("message-timestamp", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())))
        return self._post(url, p, forge=forge, unsigned=unsigned, via=via, method=method)

    def wait_callbacks(self, n, timeout=10):
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.callbacks) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("vonage: %d of %d callbacks" % (len(self.callbacks), n))
                self._lock.wait(left)
            return list(self.callbacks)


def selftest():
    """The known-answer vectors of sms-providers.md c.6, and a send round trip."""
    params = [("api-key", "abcd1234"), ("msisdn", "15557654321"), ("to", "15551234567"),
              ("messageId", "0A0000001234ABCD"), ("text", "Hi & bye=ok"), ("type", "text"),
              ("keyword", "HI"), ("message-timestamp", "2024-01-02 03:04:05"),
              ("timestamp", "1704164645"), ("nonce", "6d2b4f0e-1c1a-4f1e-9a59-0c7a5e1e2b3c")]
    want = ("&api-key=abcd1234&keyword=HI&message-timestamp=2024-01-02 03:04:05"
            "&messageId=0A0000001234ABCD&msisdn=15557654321"
            "&nonce=6d2b4f0e-1c1a-4f1e-9a59-0c7a5e1e2b3c&text=Hi _ bye_ok"
            "&timestamp=1704164645&to=15551234567&type=text")
    assert sig_string(params) == want, sig_string(params)
    got = signature("sigsecret123", params)
    assert got == "681e224fd3e3261a5c2489add0497f3a", got
    got = signature("sigsecret123", params, "sha256")
    assert got == "283ABF59D93A7DECA2BBE41B8304B2875813B70B3E6716BAFF8A01FB647DFDB0", got
    got = signature("sigsecret123", params, "md5")
    assert got == "FE84E16AC28E1535D04955891BDF31B6", got
    assert signature("sigsecret123", params + [("sig", "x")]) == \
        "681e224fd3e3261a5c2489add0497f3a"
    assert split_parts("a" * 160) == (["a" * 160], False)
    assert [len(p) for p in split_parts("a" * 161)[0]] == [153, 8]
    assert [len(p) for p in split_parts("ж" * 71)[0]] == [67, 4]

    fake = FakeVonage().start()
    try:
        import urllib.request
        body = urllib.parse.urlencode([("api_key", "abcd1234"), ("api_secret", "s3cr3t-api"),
                                       ("from", "15557654321"), ("to", "15551234567"),
                                       ("text", "x" * 200), ("client-ref", "r1")]).encode()
        with urllib.request.urlopen(fake.base_url + "/sms/json", body, timeout=5) as r:
            ans = json.loads(r.read())
        assert ans["message-count"] == "2" and all(m["status"] == "0" for m in ans["messages"])
        assert fake.sent[0].provider_id == ans["messages"][0]["message-id"]
        body = body.replace(b"s3cr3t-api", b"wrong")
        with urllib.request.urlopen(fake.base_url + "/sms/json", body, timeout=5) as r:
            ans = json.loads(r.read())
        assert ans["messages"][0]["status"] == "4", ans
    finally:
        fake.stop()
    return True


if __name__ == "__main__":
    selftest()
    print("fake_vonage: selftest ok")
