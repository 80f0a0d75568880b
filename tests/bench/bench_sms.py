"""Benchmark: XMPP -> SMS.  A client sends through a real Prosody to
Ferry's SMS transport (provider twilio) which sends to a fast local fake of
the provider's API.  Prints sustained messages/s, latency p50/p99 from the
client's send to the fake's receipt of the request (at 500 messages/s),
Ferry's CPU seconds per 1,000 messages and its RSS.  Figures only."""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import ferrytest as ft  # noqa: E402
import slixmpp  # noqa: E402

from bench_echo import pct, proc_stat  # noqa: E402

SMS = "sms.localhost"


def sms_transport(api_url, http_port):
    return """,
    {
        driver = "sms";
        domain = "%s";
        name = "bench";
        provider = "twilio";
        api_url = "%s";
        account_sid = "AC00000000000000000000000000000001";
        auth_token = "bench-dummy-token";
        public_url = "http://127.0.0.1:%d";
        numbers = [ "+15551230001=bench@localhost" ];
        receipts = false;
        rate_per_minute = 0;
        rate_per_day = 0;
        max_inflight = 64;
        max_segments = 10;
    }""" % (SMS, api_url, http_port)


def fake_records(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/_stats" % port, timeout=30) as r:
        return json.loads(r.read())


async def wait_count(port, n, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recs = await asyncio.get_running_loop().run_in_executor(None, fake_records, port)
        if len(recs) >= n:
            return recs
        await asyncio.sleep(0.2)
    raise TimeoutError("the fake got %d of %d messages" % (len(recs), n))


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.ready = asyncio.Event()
        self.errors = 0
        self.add_event_handler("session_start", lambda _e: self.ready.set())
        self.add_event_handler("message_error", self._err)

    def _err(self, _msg):
        self.errors += 1


async def run(args, server, ferry, fake_port):
    c = Client(server.register("bench"), ft.USER_PASSWORD)
    c.connect((server.host, server.c2s_port), force_starttls=False, disable_starttls=True)
    await asyncio.wait_for(c.ready.wait(), 20)
    to = "+15557654321@" + SMS
    pid = ferry.pid
    sent_at = {}

    def send(tag):
        sent_at[tag] = time.time()
        c.send_message(mto=to, mbody=tag, mtype="chat")

    # Warm up.
    for i in range(100):
        send("w%d" % i)
    base = len(await wait_count(fake_port, 100, 60))

    # Sustained: as fast as the client can send; throughput measured at the fake.
    n = args.count
    cpu0, _, _ = proc_stat(pid)
    t0 = time.time()
    for i in range(n):
        send("s%d" % i)
        if i % 200 == 199:
            await asyncio.sleep(0)  # let slixmpp write
    recs = await wait_count(fake_port, base + n, 120)
    cpu1, _, rss = proc_stat(pid)
    window = [r for r in recs[base:base + n]]
    elapsed = max(r[0] for r in window) - t0
    print("sustained, %d messages sent at once: %.0f messages/s (send to last request at "
          "the provider %.2f s)" % (n, n / elapsed, elapsed))
    print("Ferry CPU: %.3f s per 1,000 messages; RSS %d KiB" % ((cpu1 - cpu0) * 1000 / n, rss))

    # Paced: latency at a fixed rate.
    rate, secs = args.rate, args.seconds
    total = rate * secs
    base = len(recs)
    batch = max(1, rate // 100)
    start = time.time()
    for i in range(0, total, batch):
        target = start + i / rate
        delay = target - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        for j in range(i, min(i + batch, total)):
            send("p%d" % j)
    recs = await wait_count(fake_port, base + total, 120)
    lat = [(t - sent_at[b]) * 1000 for t, b in recs[base:] if b in sent_at]
    print("at %d messages/s for %d s: latency send -> provider p50 %.2f ms, p99 %.2f ms, "
          "max %.2f ms" % (rate, secs, pct(lat, 50), pct(lat, 99), max(lat)))
    if c.errors:
        print("(%d error messages came back)" % c.errors)
    c.disconnect()
    try:
        await asyncio.wait_for(c.disconnected, 5)
    except asyncio.TimeoutError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", default="build/ferry")
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--rate", type=int, default=500)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--sync", default="full,normal",
                    help="store.sync settings to measure, comma-separated")
    args = ap.parse_args()
    os.environ["FERRY_BIN"] = os.path.abspath(args.bin)
    for sync in args.sync.split(","):
        bench_once(args, sync)


def bench_once(args, sync):
    fake_port = ft.free_port()
    fake = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "fast_fake.py"),
                             str(fake_port)])
    ft.wait_until(lambda: ft.port_open(fake_port), 10, what="fast fake")
    http_port = ft.free_port()
    server = ft.Prosody(extra_components=[SMS])
    ferry = None
    try:
        server.start()
        ferry = ft.Ferry(server, http_port=http_port, store_sync=sync,
                         more_transports=sms_transport("http://127.0.0.1:%d" % fake_port,
                                                       http_port))
        ferry.start(wait_online=False)
        ferry.wait_log(r"\[bench\] xmpp: online", 15)
        print("\nbench: XMPP -> SMS, store.sync = %s (Ferry %s, Prosody and a fast provider "
              "fake on 127.0.0.1)" % (sync, args.bin))
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(run(args, server, ferry, fake_port))
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
    finally:
        if ferry is not None:
            ferry.cleanup()
        server.cleanup()
        fake.terminate()
        fake.wait(5)


if __name__ == "__main__":
    main()
