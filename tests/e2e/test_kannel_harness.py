"""E2E: the Kannel part of the harness (harness_kannel.Kannel), on its own,
without Ferry: a real bearerbox + smsbox + fakesmsc and a small local HTTP
server as the MO/DLR webhook.

Needs the Debian packages kannel and kannel-extras (scripts/deps.sh): when
they are missing, setUpClass fails with that message (no silent skip).
"""

import http.server
import threading
import unittest
import urllib.parse

import ferrytest as ft

OK = "0: Accepted for delivery"
QUEUED = "3: Queued for later delivery"


class Webhook:
    """A threaded HTTP server on 127.0.0.1 that records every request.
    answer(request) -> HTTP status decides each answer (default 200)."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.answer = lambda req: 200
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                split = urllib.parse.urlsplit(self.path)
                query = {k: v[0] for k, v in urllib.parse.parse_qs(
                    split.query, keep_blank_values=True).items()}
                req = {"method": self.command, "path": split.path, "query": query,
                       "body": body, "headers": dict(self.headers)}
                try:
                    status = hook.answer(req)
                except Exception:  # noqa: BLE001 - a test bug must not hang Kannel
                    status = 599
                req["status"] = status
                with hook.cond:
                    hook.requests.append(req)
                    hook.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_HEAD = _handle

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = "http://127.0.0.1:%d" % self.server.server_port

    def matching(self, pred):
        with self.lock:
            return [r for r in self.requests if pred(r)]

    def wait(self, pred, n=1, timeout=10):
        """Wait until at least n recorded requests satisfy pred; returns them."""
        timeout *= ft.timeout_scale()
        with self.cond:
            if not self.cond.wait_for(
                    lambda: len([r for r in self.requests if pred(r)]) >= n, timeout):
                seen = "\n".join("%s %s %r" % (r["method"], r["path"], r["query"])
                                 for r in self.requests[-10:])
                raise AssertionError("webhook: fewer than %d matching requests within "
                                     "%.1f s; last ones:\n%s" % (n, timeout, seen or "(none)"))
            return [r for r in self.requests if pred(r)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def q(field, value):
    """A webhook predicate: query parameter field equals value."""
    return lambda r: r["query"].get(field) == value


class KannelHarnessTest(unittest.TestCase):
    """One Kannel for the class; every test uses its own numbers or tokens."""

    @classmethod
    def setUpClass(cls):
        cls.hook = Webhook()
        cls.addClassCleanup(cls.hook.close)
        # Raises "Kannel is not installed ... run scripts/deps.sh" without it.
        cls.kannel = ft.Kannel(cls.hook.base_url + "/kannel", http_retry=3, http_queue_delay=1)
        cls.addClassCleanup(cls.kannel.cleanup)
        cls.kannel.start()

    def setUp(self):
        k = self.kannel
        self.assertTrue(k.alive(), "bearerbox/smsbox died:\n" + k._diag())
        if k.fakesmsc is None or not k.fakesmsc.alive():
            k.start_fakesmsc()

    # -- offline checks of the generated config and the parsers --------------

    def test_config_groups_have_no_blank_lines(self):
        groups = self.kannel.config_text.split("\n\n")
        names = [g.split("\n")[0] for g in groups[1:]]
        self.assertEqual(names, ["group = core", "group = smsc", "group = smsbox",
                                 "group = sendsms-user", "group = sms-service"])
        for g in groups[1:]:
            for line in g.strip("\n").split("\n"):
                self.assertRegex(line, r"^[a-z-]+ = \S")
        with self.assertRaises(ValueError):
            ft.Kannel("http://127.0.0.1:1/x?a=%41")

    def test_fakesmsc_log_parser(self):
        pre = b"2026-11-21 10:13:01 [27391] [0] DEBUG: "
        log = b"".join(pre + line + b"\n" for line in [
            b"Connecting to <127.0.0.1>",
            b"Got message 1: <+1 +2 text a <b> c>",
            b"Got message 2: <+1 +2 text line1>",
            b"Got message 3: <line2>",
            b"Got message 4: <>",
            b"Got message 5: <+1 +2 ucs-2 %04%3F%00+%D8%3D%DE%00>",
            b"Got message 6: <+1 +2 udh %05%00%03%07%02%02 data %04%16>",
            b"Got message 7: <+1 +2 udh %05%00%03%07%02%01 data %04%16%04%16>",
            b"Got message 8: <+1 +2 data bin%01ary+x>",
            b"fakesmsc: sent message 1",
        ]) + pre + b"Got message 9: <+1 +2 text partial"     # being written
        recs = ft.parse_fakesmsc_log(log)
        self.assertEqual([r.n for r in recs], [1, 2, 5, 6, 7, 8])
        self.assertEqual(recs[0].text, "a <b> c")
        self.assertEqual(recs[1].text, "line1\nline2\n")
        self.assertEqual((recs[2].type, recs[2].text), ("ucs-2", "п \U0001F600"))
        self.assertEqual((recs[3].concat, recs[3].payload), ((7, 2, 2), b"\x04\x16"))
        self.assertEqual(recs[5].payload, b"bin\x01ary x")
        self.assertEqual(ft.join_parts(recs[3:5], encoding="utf-16-be"),
                         [("+1", "+2", "ЖЖЖ")])

    # -- (1) MT: sendsms -> fakesmsc -----------------------------------------

    def test_mt_text_and_unicode(self):
        k = self.kannel
        src, dst = "+15550001000", "+15550001001"
        since = k.mt_count()
        cases = [  # (request parameters, expected fakesmsc type, expected text)
            ({"text": "hello world"}, "text", "hello world"),
            ({"text": "héllo €"}, "text", "héllo €"),         # UTF-8 passes through
            ({"text": "héllo €", "coding": 2}, "ucs-2", "héllo €"),
            ({"text": "привет 😀", "coding": 2}, "ucs-2", "привет 😀"),
            ({"text": "line1\nline2"}, "text", "line1\nline2"),
        ]
        for params, _, _ in cases:
            params = dict(params)
            text = params.pop("text")
            self.assertEqual(k.sendsms(dst, text, sender=src, **params), (202, OK))
        want = sorted((kind, text) for _, kind, text in cases)
        recs = k.wait_mt(len(cases), since=since, timeout=10,
                         match=lambda r: r.receiver == dst and (r.type, r.text) in want)
        self.assertEqual(sorted((r.type, r.text) for r in recs), want)
        for r in recs:
            self.assertEqual((r.sender, r.receiver), (src, dst))

        # A long UCS-2 text: concatenated parts (67 UTF-16 units each),
        # printed as "udh ... data" lines that a test joins itself.
        dst2 = "+15550001002"
        long_text = "Ж" * 100
        self.assertEqual(k.sendsms(dst2, long_text, sender=src, coding=2), (202, OK))
        parts = k.wait_mt(2, since=since, match=lambda r: r.receiver == dst2)
        self.assertEqual([r.type for r in parts], ["udh", "udh"])
        self.assertEqual(ft.join_parts(parts, encoding="utf-16-be"), [(src, dst2, long_text)])

    # -- (2) MO: fakesmsc -> smsbox -> webhook -------------------------------

    def test_mo_reaches_webhook_once(self):
        k, hook = self.kannel, self.hook
        dst = "+15550002000"
        cases = [
            ("+15550002001", "héllo €  two  100% +1 &a=b 😀", "text"),  # %b keeps spaces
            ("+15550002002", "line1\nline2\r\n  edge ", "ucs2"),   # recoded to UTF-8
            ("+15550002003", "long é€ " * 40, "udh-data"),          # 3 parts, joined
        ]
        for src, text, kind in cases:
            lines = k.inject_mo(src, dst, text)
            self.assertTrue(all((" %s " % kind) in line for line in lines), lines)
        self.assertGreater(len(k.mo_lines(cases[2][0], dst, cases[2][1])), 1)
        for src, text, _ in cases:
            req = hook.wait(q("from", src))[0]
            got = req["query"]
            self.assertEqual((req["method"], req["path"], got["event"]), ("GET", "/kannel", "mo"))
            self.assertEqual((got["to"], got["text"], got["smsc"]), (dst, text, "fake"))
            self.assertRegex(got["id"], r"^[0-9a-f-]{36}$")
            self.assertEqual(got["service"], "default")
            # smsbox logs the call when it is finished (no retry pending).
            self.assertEqual(k.wait_mo_result("id=" + got["id"]), 200)
            self.assertEqual(len(hook.matching(q("from", src))), 1, "MO delivered twice")

    def test_mo_post_method(self):
        """mo_method="post": a second Kannel whose post-url sends the text
        as the body, the numbers in X-Kannel-* headers and %I in the URL."""
        hook = self.hook
        k2 = ft.Kannel(hook.base_url + "/post?via=post", mo_method="post", http_queue_delay=1)
        self.addCleanup(k2.cleanup)
        k2.start()
        src, dst = "+15550007001", "+15550007000"
        k2.inject_mo(src, dst, "héllo\nposted")
        req = hook.wait(lambda r: r["path"] == "/post" and r["query"].get("from") == src)[0]
        self.assertEqual((req["method"], req["body"].decode("utf-8")), ("POST", "héllo\nposted"))
        self.assertEqual((req["query"]["via"], req["query"]["event"]), ("post", "mo"))
        self.assertEqual((req["headers"].get("X-Kannel-From"), req["headers"].get("X-Kannel-To")),
                         (src, dst))
        self.assertRegex(req["query"]["id"], r"^[0-9a-f-]{36}$")
        self.assertEqual(k2.wait_mo_result("id=" + req["query"]["id"]), 200)
        k2.stop()

    # -- (3) MT with a delivery report -----------------------------------------

    def test_mt_dlr_types_1_and_8(self):
        k, hook = self.kannel, self.hook
        token = "stanza-42"
        dlr_url = (hook.base_url + "/kannel?event=dlr&ref=" + token +
                   "&type=%d&id=%I&fid=%F&from=%p&to=%P&smsc=%i&reply=%A")
        res = k.sendsms("+15550003001", "report me", sender="+15550003000", dlr_mask=31,
                        dlr_url=dlr_url)
        self.assertEqual(res, (202, OK))
        dlrs = hook.wait(q("ref", token), n=2)
        by_type = {r["query"]["type"]: r["query"] for r in dlrs}
        self.assertEqual(sorted(by_type), ["1", "8"])
        self.assertEqual((by_type["8"]["reply"], by_type["8"]["fid"]), ("ACK/", ""))
        self.assertRegex(by_type["1"]["fid"], r"^[0-9a-f-]{36}$")
        for d in by_type.values():
            # %p is the handset (the MT's to), %P the MT's from.
            self.assertEqual((d["from"], d["to"], d["smsc"]),
                             ("+15550003001", "+15550003000", "fake"))
        k.wait_mt(1, match=lambda r: r.receiver == "+15550003001" and r.text == "report me")

        # Without dlr-url the sendsms-user's default one (the webhook) is used.
        res = k.sendsms("+15550003002", "default url", sender="+15550003000", dlr_mask=1)
        self.assertEqual(res, (202, OK))
        d = hook.wait(lambda r: r["query"].get("event") == "dlr"
                      and r["query"].get("from") == "+15550003002")[0]
        self.assertEqual((d["path"], d["query"]["type"]), ("/kannel", "1"))

    # -- (4) webhook failures are retried --------------------------------------

    def test_webhook_500_is_retried_until_200(self):
        k, hook = self.kannel, self.hook
        fail_first = "+15550004001"     # 500, 500, then 200
        fail_all = "+15550004002"       # 500 every time
        tries = {}

        def answer(req):
            src = req["query"].get("from")
            tries[src] = tries.get(src, 0) + 1
            if src == fail_first:
                return 500 if tries[src] <= 2 else 200
            if src == fail_all:
                return 500
            return 200
        hook.answer = answer
        try:
            k.inject_mo(fail_first, "+15550004000", "retry me")
            k.inject_mo(fail_all, "+15550004000", "never taken")
            first = hook.wait(q("from", fail_first), n=3)
            self.assertEqual({r["query"]["id"] for r in first}, {first[0]["query"]["id"]},
                             "a retry must carry the same %I")
            self.assertEqual([r["status"] for r in first], [500, 500, 200])
            # The access log line is written once smsbox is done with the MO.
            self.assertEqual(k.wait_mo_result("id=" + first[0]["query"]["id"]), 200)
            self.assertEqual(len(hook.matching(q("from", fail_first))), 3)
            # 500 forever: 1 try + http-request-retry (3) retries, then dropped.
            self.assertEqual(k.wait_mo_result("from=" + urllib.parse.quote(fail_all, safe=""),
                                              timeout=20), 500)
            self.assertEqual([r["status"] for r in hook.matching(q("from", fail_all))],
                             [500] * 4)
        finally:
            hook.answer = lambda req: 200

    # -- (5) authentication ----------------------------------------------------

    def test_sendsms_wrong_credentials_403(self):
        k = self.kannel
        since = k.mt_count()
        bad = "+15550005001"
        self.assertEqual(k.sendsms(bad, "nope", password="wrong-pass"),
                         (403, "Authorization failed for sendsms"))
        self.assertEqual(k.sendsms(bad, "nope", username="nobody"),
                         (403, "Authorization failed for sendsms"))
        # A good MT afterwards arrives; the refused ones never do.
        self.assertEqual(k.sendsms("+15550005002", "yes"), (202, OK))
        k.wait_mt(1, since=since, match=lambda r: r.receiver == "+15550005002")
        self.assertEqual([r for r in k.mt_messages()[since:] if r.receiver == bad], [])

    # -- the SMSC goes away and comes back -------------------------------------

    def test_smsc_outage_queues_mt(self):
        k = self.kannel
        since = k.mt_count()
        k.stop_fakesmsc()
        self.assertFalse(k.smsc_online())
        self.assertEqual(k.sendsms("+15550006001", "while away"), (202, QUEUED))
        with self.assertRaises(RuntimeError):
            k.inject_mo("+15550006001", "+15550006000", "no smsc")
        k.start_fakesmsc()
        recs = k.wait_mt(1, since=since, match=lambda r: r.receiver == "+15550006001")
        self.assertEqual(recs[0].text, "while away")
        k.inject_mo("+15550006002", "+15550006000", "back again")
        self.assertEqual(self.hook.wait(q("from", "+15550006002"))[0]["query"]["text"],
                         "back again")


if __name__ == "__main__":
    unittest.main()
