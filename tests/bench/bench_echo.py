"""Benchmark: the core path XMPP -> Ferry -> loopback transport -> durable
inbound queue -> XMPP, through a real Prosody on 127.0.0.1.

Prints idle cost, round-trip latency (one in flight), sustained echo
throughput with a window of messages in flight, Ferry's CPU time per 1,000
echoes (each echo is one message in and one stored, sent and acknowledged
message out) and Ferry's RSS.  Figures only: nothing here passes or fails
on timing."""

import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import ferrytest as ft  # noqa: E402

import slixmpp  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    wakeups = 0
    rss_kib = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches"):
                wakeups = int(line.split()[1])
            elif line.startswith("VmRSS"):
                rss_kib = int(line.split()[1])
    return cpu, wakeups, rss_kib


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


class Bench(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.ready = asyncio.Event()
        self.waiters = {}
        self.add_event_handler("session_start", lambda _e: self.ready.set())
        self.add_event_handler("message", self.on_message)

    def on_message(self, msg):
        fut = self.waiters.pop(msg["body"], None)
        if fut is not None and not fut.done():
            fut.set_result(time.perf_counter())

    def echo(self, to, body):
        fut = asyncio.get_running_loop().create_future()
        self.waiters[body] = fut
        self.send_message(mto=to, mbody=body, mtype="chat")
        return fut


async def run(args, server, ferry):
    jid = server.register("bench")
    c = Bench(jid, ft.USER_PASSWORD)
    c.connect((server.host, server.c2s_port), force_starttls=False, disable_starttls=True)
    await asyncio.wait_for(c.ready.wait(), 20)
    to = "bench@echo.localhost"
    pid = ferry.pid

    # Warm up (first SQLite pages, Prosody routes).
    for i in range(50):
        await asyncio.wait_for(c.echo(to, "warm %d" % i), 10)

    # Idle cost.
    cpu0, wake0, _ = proc_stat(pid)
    await asyncio.sleep(args.idle)
    cpu1, wake1, rss_idle = proc_stat(pid)
    print("idle %.0f s online: Ferry CPU %.3f s, %d wakeups, RSS %d KiB"
          % (args.idle, cpu1 - cpu0, wake1 - wake0, rss_idle))

    # Unloaded round trips: one message in flight.
    lat = []
    for i in range(args.rtt):
        t0 = time.perf_counter()
        t1 = await asyncio.wait_for(c.echo(to, "rtt %d" % i), 10)
        lat.append((t1 - t0) * 1000)
    print("round trip, 1 in flight (%d): p50 %.2f ms, p99 %.2f ms, max %.2f ms"
          % (len(lat), pct(lat, 50), pct(lat, 99), max(lat)))

    # Sustained: a window of messages in flight.
    n, window = args.count, args.window
    sem = asyncio.Semaphore(window)
    lat = []

    async def one(i):
        async with sem:
            t0 = time.perf_counter()
            t1 = await asyncio.wait_for(c.echo(to, "load %d" % i), 60)
            lat.append((t1 - t0) * 1000)

    cpu0, _, _ = proc_stat(pid)
    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - t0
    cpu1, _, rss = proc_stat(pid)
    print("sustained, %d in flight, %d echoes: %.0f echoes/s, p50 %.2f ms, p99 %.2f ms"
          % (window, n, n / elapsed, pct(lat, 50), pct(lat, 99)))
    print("Ferry CPU: %.1f ms per 1,000 echoes; RSS after load %d KiB"
          % ((cpu1 - cpu0) * 1000 * 1000 / n, rss))
    print("(each echo: one stanza in, one durable store write, one stanza out, "
          "its share of a ping acknowledgement)")
    c.disconnect()
    try:
        await asyncio.wait_for(c.disconnected, 5)
    except asyncio.TimeoutError:
        pass


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", default="build/ferry")
    ap.add_argument("--idle", type=float, default=5.0)
    ap.add_argument("--rtt", type=int, default=500)
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--window", type=int, default=100)
    args = ap.parse_args()
    os.environ["FERRY_BIN"] = os.path.abspath(args.bin)
    server = ft.Prosody()
    ferry = None
    try:
        server.start()
        ferry = ft.Ferry(server)
        ferry.start()
        print("bench: Ferry %s against Prosody on 127.0.0.1 (loopback transport, store %s)"
              % (args.bin, ferry.config["store"]))
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(run(args, server, ferry))
        # Let slixmpp's background tasks finish before the loop goes away.
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
    finally:
        if ferry is not None:
            ferry.cleanup()
        server.cleanup()


if __name__ == "__main__":
    main()
