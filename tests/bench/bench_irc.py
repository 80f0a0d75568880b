"""Benchmark: Ferry's IRC transport through a real Prosody and a real ngircd
on 127.0.0.1, side by side with Debian's biboumi (installed with apt-get
when missing, if that works; otherwise the comparison is skipped, saying
why).

Prints, for each gateway: messages/s and latency p50/p99 XMPP -> IRC and
IRC -> XMPP with one message in flight and with a window of 1,000 in
flight, with 100 and with 1,000 sessions joined; the gateway's CPU
milliseconds per 1,000 messages each way (utime + stime from
/proc/PID/stat); its RSS idle and at 1, 200 and 1,000 concurrent IRC
sessions (one XMPP user joined to a room = one IRC connection), with every
user in a channel of its own and with all users in one channel, and per
session; then the ratios Ferry/biboumi and whether the targets are met.
Ferry runs with store.sync = full (the default) and again with normal for
the message runs.  Figures only: nothing here fails on them.  About 6 to 8
minutes on the 2-core development machine.

    /usr/bin/python3 tests/bench/bench_irc.py --bin build/ferry

Each phase starts a fresh gateway process; the XMPP users (registered
in-band, logged in once) and the IRC peers are light asyncio clients in
this one process (tests/bench/irc_clients.py); biboumi's process and its
per-user settings are in tests/bench/irc_biboumi.py.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, HERE)
import ferrytest as ft  # noqa: E402
from harness_irc import Ngircd, ngircd_info  # noqa: E402

import irc_biboumi as bib  # noqa: E402
from bench_echo import pct, proc_stat  # noqa: E402
from irc_clients import (NS_CLIENT, IrcPeer, XmppSession, attr, bare, body_of,  # noqa: E402
                         muc_join, parse, xml_message)

IRC = "irc.localhost"
BIB = "biboumi.localhost"
IRC_HOST = "127.0.0.1"        # the IRC server's name in room JIDs

FLOOD = {"flood_burst": 1000, "flood_interval_ms": 10, "queue_max": 100000}


def irc_transport(ngircd, hold_ms=None):
    return """,
    {
        driver = "irc";
        domain = "%s";
        name = "irc";
        flood_burst = %d;
        flood_interval_ms = %d;
        queue_max = %d;%s
        servers = (
            { name = "%s"; port = %d; plaintext = true; }
        );
    }""" % (IRC, FLOOD["flood_burst"], FLOOD["flood_interval_ms"], FLOOD["queue_max"],
            "" if hold_ms is None else "\n        hold_ms = %d;" % hold_ms,
            IRC_HOST, ngircd.port)


def rss_kib(pid):
    return proc_stat(pid)[2]


def cpu_s(pid):
    return proc_stat(pid)[0]


def log(*a):
    print("  ..", *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------

class Hub:
    """Routes every stanza of every XMPP session and every IRC PRIVMSG."""

    def __init__(self):
        self.sent = {}          # tag -> send time, for messages under way
        self.lat = []           # ms, of the current run
        self.done_cb = None     # called with the tag of each arrival
        self.joins = {}         # (session, room) -> future
        self.reflected = 0      # XMPP -> IRC messages reflected back to the sender
        self.presences = 0
        self.messages = 0
        self.errors = []        # error messages (a refused groupchat message...)

    # XMPP side
    def on_stanza(self, s, name, raw, head):
        if name == b"presence":
            self.presences += 1
            if b"type='error'" in head or b'type="error"' in head:
                el = parse(raw)
                err = el.find(NS_CLIENT + "error")
                self._join_failed(s, head, "join refused: %s" % (
                    " ".join(x.tag.split("}")[-1] for x in err) if err is not None else "?"))
            elif (b"unavailable" in head and b"code='110'" in raw):
                self._join_failed(s, head, "removed from the room: %s"
                                  % parse(raw).findtext(NS_CLIENT + "status"))
            return
        if name != b"message":
            return
        self.messages += 1
        if b"type='error'" in head or b'type="error"' in head:
            if len(self.errors) < 100:
                self.errors.append(raw[:400])
            return
        text = body_of(raw)
        if text:
            if text[0] == "x":
                self.reflected += 1
            elif text[0] == "i":
                self._arrived(text, time.time())
            return
        if b"<subject" in raw and b"groupchat" in head:
            fut = self.joins.pop((s, bare(attr(head, "from") or "").lower()), None)
            if fut is not None and not fut.done():
                fut.set_result(True)

    def _join_failed(self, s, head, why):
        fut = self.joins.pop((s, bare(attr(head, "from") or "").lower()), None)
        if fut is not None and not fut.done():
            fut.set_exception(RuntimeError(why))

    # IRC side
    def on_privmsg(self, peer, nick, target, text, t_recv):
        if text and text[0] == "x":
            self._arrived(text, t_recv)

    def _arrived(self, text, t_recv):
        t0 = self.sent.pop(text, None)
        if t0 is None:
            return
        self.lat.append((t_recv - t0) * 1000)
        if self.done_cb is not None:
            self.done_cb(text)

    def join(self, s, room, nick, timeout):
        fut = asyncio.get_running_loop().create_future()
        self.joins[(s, room.lower())] = fut
        s.send(muc_join("%s/%s" % (room, nick)))
        return asyncio.wait_for(fut, timeout)


# ---------------------------------------------------------------------------

class Gateway:
    """What differs between Ferry and biboumi for the bench."""

    def __init__(self, key, label, domain, start, stop, prepare=None):
        self.key, self.label, self.domain = key, label, domain
        self._start, self._stop = start, stop
        self.prepare = prepare      # coroutine function, after the first start
        self.pid = None
        self.r = {}     # results

    def start(self):
        self.pid = self._start()

    def stop(self):
        self._stop()
        self.pid = None

    def room(self, chan):
        return "%s%%%s@%s" % (chan, IRC_HOST, self.domain)


async def ramp(hub, gw, sessions, chans, nicks, marks, args, others):
    """Join sessions[i] to chans[i] as nicks[i], in order, a few joins under
    way at a time; RSS at each count in marks.  Returns {count: rss}, the
    gateway's CPU seconds and the wall seconds the joins took.  others:
    {name: pid} whose CPU is logged too."""
    out = {}
    t0 = time.monotonic()
    c0 = cpu_s(gw.pid)
    o0 = {k: cpu_s(v) for k, v in others.items()}
    s0 = time.process_time()
    n = len(sessions)
    sem = asyncio.Semaphore(args.join_concurrency)

    async def one(k):
        async with sem:
            await hub.join(sessions[k], gw.room(chans[k]), nicks[k], args.join_timeout)

    i = 0
    for mark in sorted(marks):
        mark = min(mark, n)
        await asyncio.gather(*(one(k) for k in range(i, mark)))
        i = mark
        wall = time.monotonic() - t0
        cpu = cpu_s(gw.pid) - c0
        await asyncio.sleep(args.settle)
        out[mark] = rss_kib(gw.pid)
        log("%s: %d sessions joined, RSS %d KiB (%.1f s; CPU s: %s %.2f, %s, bench %.2f)"
            % (gw.label, mark, out[mark], wall, gw.label, cpu,
               ", ".join("%s %.2f" % (k, cpu_s(v) - o0[k]) for k, v in others.items()),
               time.process_time() - s0))
    return out, cpu, wall


async def one_in_flight(hub, n, send):
    hub.lat = []
    for k in range(n):
        ev = asyncio.get_running_loop().create_future()
        hub.done_cb = lambda _t, ev=ev: ev.done() or ev.set_result(True)
        send(k)
        await asyncio.wait_for(ev, 20)
    hub.done_cb = None
    return list(hub.lat)


async def windowed(hub, n, window, send, timeout):
    """n messages, `window` under way at any time; (lat list, seconds)."""
    hub.lat = []
    done = asyncio.get_running_loop().create_future()
    state = {"next": 0, "got": 0}

    def arrived(_tag):
        state["got"] += 1
        if state["next"] < n:
            send(state["next"])
            state["next"] += 1
        if state["got"] >= n and not done.done():
            done.set_result(True)

    hub.done_cb = arrived
    t0 = time.time()
    for _ in range(min(window, n)):
        send(state["next"])
        state["next"] += 1
    try:
        await asyncio.wait_for(done, timeout)
    except asyncio.TimeoutError:
        raise RuntimeError("only %d of %d messages arrived within %d s"
                           % (state["got"], n, timeout)) from None
    finally:
        hub.done_cb = None
    return list(hub.lat), time.time() - t0


async def bench_gateway(gw, hub, sessions, ngircd, server, args, phases):
    """The phases, each with a fresh gateway process:
    msg: the message runs with only the senders' sessions joined;
    sep: every user in a channel of its own (RSS at 1, 200, n), then the
         message runs again with all n sessions joined;
    one: every user in one channel (RSS at 1, 200, n)."""
    n = len(sessions)
    senders = min(args.senders, n)
    p = gw.key  # nick/channel prefix, one per gateway run
    others = {"Prosody": server.proc.pid, "ngircd": ngircd.proc.pid}

    async def fresh():
        gw.start()
        if gw.prepare is not None:
            await gw.prepare()
            gw.prepare = None
        await asyncio.sleep(args.settle)

    async def make_peers(chans):
        # IRC peers in the senders' channels, joined before the XMPP users.
        peers = []
        per = (senders + args.peers - 1) // args.peers
        for j in range(args.peers):
            mine = chans[j * per:(j + 1) * per]
            if mine:
                peer = IrcPeer("%speer%d" % (p, j), on_privmsg=hub.on_privmsg)
                await peer.start(ngircd.host, ngircd.port)
                await peer.join(mine)
                peers.append((peer, mine))
        return peers, {c: peer for peer, mine in peers for c in mine}

    async def finish(peers):
        for peer in peers:
            peer.close()
        gw.stop()
        await asyncio.sleep(1.0)   # ngircd drops the old connections

    if "msg" in phases and args.count:
        await fresh()
        chans = ["#%smsg%d" % (p, i) for i in range(senders)]
        peers, chan_peer = await make_peers(chans)
        await ramp(hub, gw, sessions[:senders], chans, ["%sm%d" % (p, i) for i in range(senders)],
                   [senders], args, others)
        await throughput(gw, hub, sessions, chans, chan_peer, senders, args, "m%d" % senders)
        await finish([pe for pe, _ in peers])

    if "sep" in phases:
        await fresh()
        gw.r["idle_sep"] = rss_kib(gw.pid)
        chans = ["#%ssep%d" % (p, i) for i in range(n)]
        peers, chan_peer = await make_peers(chans[:senders])
        gw.r["sep"], gw.r["sep_cpu"], gw.r["sep_wall"] = await ramp(
            hub, gw, sessions, chans, ["%sa%d" % (p, i) for i in range(n)],
            sorted({1, min(200, n), n}), args, others)
        if args.count:
            await throughput(gw, hub, sessions, chans, chan_peer, senders, args, "m%d" % n)
        await finish([pe for pe, _ in peers])

    if "one" in phases:
        await fresh()
        gw.r["idle_one"] = rss_kib(gw.pid)
        shared = "#%sshared" % p
        watcher = IrcPeer("%swatch" % p)
        await watcher.start(ngircd.host, ngircd.port)
        await watcher.join([shared])
        pres0 = hub.presences
        gw.r["one"], gw.r["one_cpu"], gw.r["one_wall"] = await ramp(
            hub, gw, sessions, [shared] * n, ["%sb%d" % (p, i) for i in range(n)],
            sorted({1, min(200, n), n}), args, others)
        log("%s: %d presences reached the XMPP users in the one-channel ramp"
            % (gw.label, hub.presences - pres0))
        await finish([watcher])


async def throughput(gw, hub, sessions, chans, chan_peer, senders, args, key):
    """Both directions, 1 in flight then a window, in own channels: each
    message reaches exactly one XMPP user or one IRC peer.  Results in
    gw.r[key]."""
    r = gw.r[key] = {}
    rooms = [gw.room(chans[k]) for k in range(senders)]

    def x_send(seq):
        k = seq % senders
        body = "x%d" % seq
        hub.sent[body] = time.time()
        sessions[k].send(xml_message(rooms[k], body))

    def i_send(seq):
        k = seq % senders
        body = "i%d" % seq
        hub.sent[body] = time.time()
        chan_peer[chans[k]].privmsg(chans[k], body)

    # Warm up both ways.
    hub.sent.clear()
    await one_in_flight(hub, 50, lambda s: x_send(10_000_000 + s))
    await one_in_flight(hub, 50, lambda s: i_send(10_000_000 + s))

    for k, fn in (("x1", x_send), ("i1", i_send)):
        lat = await one_in_flight(hub, args.rtt, lambda s, fn=fn: fn(20_000_000 + s))
        r[k] = (len(lat) / (sum(lat) / 1000.0), pct(lat, 50), pct(lat, 99))
        log("%s: %s with 1 in flight: %d of %d over 30 ms; the slowest: %s"
            % (gw.label, k, sum(1 for v in lat if v > 30), len(lat),
               " ".join("%.1f" % v for v in sorted(lat)[-8:])))

    # Loaded XMPP -> IRC; the CPU counts until every reflection came back too.
    m = args.count
    refl0 = hub.reflected
    c0, w0 = cpu_s(gw.pid), time.monotonic()
    lat, secs = await windowed(hub, m, args.window, lambda s: x_send(30_000_000 + s),
                               args.load_timeout)
    t_end = time.monotonic() + 30
    while hub.reflected - refl0 < m and time.monotonic() < t_end:
        await asyncio.sleep(0.02)
    c1, w1 = cpu_s(gw.pid), time.monotonic()
    r["xw"] = (m / secs, pct(lat, 50), pct(lat, 99))
    r["x_cpu"] = (c1 - c0) * 1000 * 1000 / m
    r["x_busy"] = (c1 - c0) / (w1 - w0)
    if hub.reflected - refl0 < m:
        log("%s: only %d of %d messages were reflected to their senders"
            % (gw.label, hub.reflected - refl0, m))

    # Loaded IRC -> XMPP.
    c0, w0 = cpu_s(gw.pid), time.monotonic()
    lat, secs = await windowed(hub, m, args.window, lambda s: i_send(30_000_000 + s),
                               args.load_timeout)
    c1, w1 = cpu_s(gw.pid), time.monotonic()
    r["iw"] = (m / secs, pct(lat, 50), pct(lat, 99))
    r["i_cpu"] = (c1 - c0) * 1000 * 1000 / m
    r["i_busy"] = (c1 - c0) / (w1 - w0)
    log("%s: messages with %s sessions joined: done, RSS %d KiB"
        % (gw.label, key[1:], rss_kib(gw.pid)))


async def baselines(hub, sessions, ngircd, args):
    """The same 1-in-flight measure without a gateway: XMPP user to XMPP
    user through Prosody, IRC client to IRC client through ngircd."""
    a, b = IrcPeer("basea", on_privmsg=hub.on_privmsg), IrcPeer("baseb", on_privmsg=hub.on_privmsg)
    out = []
    try:
        for peer in (a, b):
            await peer.start(ngircd.host, ngircd.port)
            await peer.join(["#baseline"])
        to = sessions[1].jid

        def xmpp(seq):
            hub.sent["i%d" % seq] = time.time()
            sessions[0].send(xml_message(to, "i%d" % seq, "chat"))

        def irc(seq):
            hub.sent["x%d" % seq] = time.time()
            a.privmsg("#baseline", "x%d" % seq)

        for name, fn in (("XMPP->XMPP through Prosody", xmpp), ("IRC->IRC through ngircd", irc)):
            await one_in_flight(hub, 50, lambda s, fn=fn: fn(40_000_000 + s))
            lat = await one_in_flight(hub, args.rtt, lambda s, fn=fn: fn(41_000_000 + s))
            out.append("%s p50 %.2f ms, p99 %.2f ms, max %.1f ms" % (name, pct(lat, 50),
                                                                    pct(lat, 99), max(lat)))
    finally:
        a.close()
        b.close()
    print("without a gateway, 1 in flight (%d messages): %s" % (args.rtt, "; ".join(out)))
    sys.stdout.flush()


# ---------------------------------------------------------------------------

async def connect_all(server, hub, sessions, args):
    """Register (in-band) and log in args.sessions users; appends them to
    sessions as they come (so that the caller can close them on failure)."""
    sem = asyncio.Semaphore(args.concurrency)
    mine = [None] * args.sessions

    async def one(i):
        async with sem:
            s = XmppSession("ircb%04d" % i, ft.USER_PASSWORD, resource="bench",
                            on_stanza=hub.on_stanza)
            sessions.append(s)
            await s.start(server.host, server.c2s_port, register=True)
            mine[i] = s

    t0 = time.monotonic()
    await asyncio.gather(*(one(i) for i in range(args.sessions)))
    sessions[:] = mine
    return time.monotonic() - t0


def per_session(r, layout, count):
    return (r[layout][count] - r["idle_" + layout]) / float(count)


def report(gws, n, args):
    """The table, then the targets."""
    bib_gw = next((g for g in gws if g.key == "b"), None)
    ferries = [g for g in gws if g.key != "b"]
    cols = [g.label for g in gws] + (["%s/biboumi" % g.label for g in ferries] if bib_gw else [])
    rows = []
    senders = min(args.senders, n)

    def get(fn, g):
        try:
            return fn(g)
        except (KeyError, TypeError, ZeroDivisionError):
            return None

    def row(name, fn, fmt):
        vals = [get(fn, g) for g in gws]
        if all(v is None for v in vals):
            return
        cells = [fmt % v if v is not None else "-" for v in vals]
        if bib_gw:
            bv = get(fn, bib_gw)
            for g in ferries:
                fv = get(fn, g)
                cells.append("%.2f" % (fv / bv) if fv is not None and bv else "-")
        rows.append([name] + cells)

    for mk in sorted({"m%d" % senders, "m%d" % n}, key=lambda k: int(k[1:])):
        rows.append(["messages, %s sessions joined:" % mk[1:]] + [""] * (len(cols)))
        for key, label in (("x1", "XMPP->IRC, 1 in flight"),
                           ("xw", "XMPP->IRC, %d in flight" % args.window),
                           ("i1", "IRC->XMPP, 1 in flight"),
                           ("iw", "IRC->XMPP, %d in flight" % args.window)):
            row("  %s: msg/s" % label, lambda g, k=key, m=mk: g.r[m][k][0], "%.0f")
            row("    latency p50 ms", lambda g, k=key, m=mk: g.r[m][k][1], "%.2f")
            row("    latency p99 ms", lambda g, k=key, m=mk: g.r[m][k][2], "%.2f")
        row("  CPU ms per 1,000 msgs XMPP->IRC", lambda g, m=mk: g.r[m]["x_cpu"], "%.1f")
        row("  CPU ms per 1,000 msgs IRC->XMPP", lambda g, m=mk: g.r[m]["i_cpu"], "%.1f")
        row("  CPU busy in the loaded runs", lambda g, m=mk: 100 * max(g.r[m]["x_busy"],
                                                                      g.r[m]["i_busy"]),
            "%.0f%%")
    for layout, name in (("sep", "every user in a channel of its own"),
                         ("one", "all users in one channel")):
        rows.append(["memory, %s:" % name] + [""] * (len(cols)))
        row("  RSS idle", lambda g, la=layout: g.r["idle_" + la], "%d KiB")
        for c in sorted({1, min(200, n), n}):
            row("  RSS, %d sessions" % c, lambda g, la=layout, c=c: g.r[la][c], "%d KiB")
        for c in sorted({min(200, n), n}):
            if c >= 2:
                row("    per session at %d" % c,
                    lambda g, la=layout, c=c: per_session(g.r, la, c), "%.1f KiB")
        row("  CPU s to join %d sessions" % n, lambda g, la=layout: g.r[la + "_cpu"], "%.2f")
        row("  wall s to join %d sessions" % n, lambda g, la=layout: g.r[la + "_wall"], "%.1f")

    widths = [max(len(str(r[i])) for r in rows if r[1] != "" or i == 0)
              for i in range(len(cols) + 1)]
    widths = [max(w, len(c)) for w, c in zip(widths, [""] + cols)]
    print()
    print("  ".join(["%-*s" % (widths[0], "")] + ["%*s" % (widths[i + 1], c)
                                                    for i, c in enumerate(cols)]))
    for r in rows:
        if all(c == "" for c in r[1:]):
            print(r[0])
            continue
        print("  ".join(["%-*s" % (widths[0], r[0])] + ["%*s" % (widths[i + 1], r[i + 1])
                                                         for i in range(len(cols))]))
    print("latency: from the client's send to the arrival at the other end (time.time(), one "
          "process); msg/s with 1 in flight = 1 / mean latency; p99 with 1 in flight includes "
          "the odd ~40 ms TCP delayed-ACK stall on the IRC hops, seen with both gateways; CPU: "
          "utime + stime of the gateway process (the XMPP->IRC figure includes reflecting each "
          "message back to its sender); busy = that CPU / wall time of the run; per session = "
          "(RSS - RSS idle) / sessions")

    print()
    print("targets (informative, never a failure):")
    for f in ferries:
        got = [la for la in ("sep", "one") if n in f.r.get(la, {})]
        if f is ferries[0]:
            print("  %s: 1,000 sessions in one process: %s" % (
                f.label, "met (%d sessions joined in each layout)" % n
                if n >= 1000 and len(got) == 2 else
                "NOT shown: %d sessions in %s" % (n, ", ".join(got) or "no layout")))
        if not bib_gw:
            if f is ferries[0]:
                print("  CPU and memory against biboumi: not compared (no biboumi run)")
            continue
        for mk in sorted({"m%d" % senders, "m%d" % n}, key=lambda k: int(k[1:])):
            for key, name in (("x_cpu", "XMPP->IRC"), ("i_cpu", "IRC->XMPP")):
                fv, bv = get(lambda g: g.r[mk][key], f), get(lambda g: g.r[mk][key], bib_gw)
                if fv is None or not bv:
                    continue
                print("  %s: CPU per message %s (%s sessions joined) at most half of "
                      "biboumi's: %s (%.1f vs %.1f ms per 1,000, ratio %.2f)"
                      % (f.label, name, mk[1:], "met" if fv <= bv / 2 else "NOT met", fv, bv,
                         fv / bv))
        for layout, name in (("sep", "own channels"), ("one", "one channel")):
            if f is not ferries[0]:
                break   # the other store.sync runs are there for the CPU figures
            for c in sorted(f.r.get(layout, {})):
                if c < 200 or c not in bib_gw.r.get(layout, {}):
                    continue
                fv, bv = per_session(f.r, layout, c), per_session(bib_gw.r, layout, c)
                print("  %s: memory per session, %s, %d sessions, at most half of biboumi's: "
                      "%s (%.1f vs %.1f KiB, ratio %.2f)"
                      % (f.label, name, c, "met" if bv and fv <= bv / 2 else "NOT met", fv, bv,
                         fv / bv if bv else 0))


def prosody_version():
    try:
        cp = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "prosody"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10)
        return cp.stdout.decode().strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="build/ferry")
    ap.add_argument("--sessions", type=int, default=1000,
                    help="XMPP users = IRC sessions per layout (default 1000)")
    ap.add_argument("--rtt", type=int, default=300, help="messages each way, 1 in flight")
    ap.add_argument("--count", type=int, default=20000, help="messages each way, loaded")
    ap.add_argument("--window", type=int, default=1000, help="messages in flight, loaded")
    ap.add_argument("--senders", type=int, default=100,
                    help="rooms (one XMPP user each) the message load is spread over")
    ap.add_argument("--peers", type=int, default=4, help="IRC clients in those channels")
    ap.add_argument("--concurrency", type=int, default=25,
                    help="XMPP logins and ad-hoc commands under way")
    ap.add_argument("--join-concurrency", type=int, default=8,
                    help="room joins under way (ngircd listens with a short backlog: more "
                    "connecting at once overflows it and costs 1 s SYN retries)")
    ap.add_argument("--settle", type=float, default=1.0, help="pause before reading RSS (s)")
    ap.add_argument("--join-timeout", type=float, default=120)
    ap.add_argument("--load-timeout", type=float, default=180)
    ap.add_argument("--layouts", default="sep,one",
                    help="sep: each user in a channel of its own (then the message runs "
                    "again); one: all users in one channel")
    ap.add_argument("--sync", default="full,normal",
                    help="Ferry store.sync values to run, comma-separated (full,normal)")
    ap.add_argument("--hold-ms", type=int, default=None,
                    help="the IRC transport's hold_ms (default: Ferry's default)")
    ap.add_argument("--no-biboumi", action="store_true", help="skip the comparison")
    ap.add_argument("--no-install", action="store_true",
                    help="do not try `apt-get install -y biboumi` when it is missing")
    args = ap.parse_args()
    os.environ["FERRY_BIN"] = os.path.abspath(args.bin)
    t_start = time.monotonic()

    # biboumi: there, installable, or skipped (and why).
    skip_why = None
    if args.no_biboumi:
        skip_why = "--no-biboumi given"
    elif not bib.biboumi_path():
        if args.no_install:
            skip_why = ("biboumi is not installed (`which biboumi` finds nothing) and "
                        "--no-install was given")
        else:
            print("biboumi is not installed: trying apt-get install -y biboumi", flush=True)
            ok, why = bib.try_install()
            if not ok:
                skip_why = why

    ngircd = Ngircd(tls=False)
    server = ft.Prosody(extra_components=[IRC] + ([] if skip_why else [BIB]))
    ferry = None
    biboumi = None
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sessions = []
    try:
        ngircd.start()
        server.start()
        print("bench: IRC gateways through Prosody %s and ngircd %s on 127.0.0.1; %d XMPP "
              "users, one IRC connection each per layout" % (prosody_version(),
                                                            ngircd_info()["version"],
                                                            args.sessions))
        try:
            version = subprocess.run([os.environ["FERRY_BIN"], "--version"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     timeout=10).stdout.decode().strip().splitlines()[0]
        except (OSError, subprocess.SubprocessError, IndexError):
            version = "?"
        syncs = args.sync.split(",")
        print("Ferry %s (%s), IRC flood control relaxed for the bench: flood_burst = %d (the most "
              "Ferry accepts), flood_interval_ms = %d, queue_max = %d; %s" % (
                  args.bin, version, FLOOD["flood_burst"], FLOOD["flood_interval_ms"],
                  FLOOD["queue_max"],
                  "store.sync = %s" % syncs[0] if len(syncs) == 1 else
                  "columns \"Ferry %s\": store.sync = %s (full is the default; the runs "
                  "after the first repeat only the message runs)"
                  % (" / ".join(syncs), " / ".join(syncs))))
        if skip_why:
            print("biboumi comparison skipped: %s" % skip_why)
        else:
            print("biboumi %s (Debian) on %s, same Prosody and ngircd; per user through its "
                  "ad-hoc `configure`: throttle_limit -1 (no throttle), record_history false, "
                  "max_history_length 0, plain port %d"
                  % (bib.biboumi_version() or "?", BIB, ngircd.port))
        print("load: %d messages each way spread over %d rooms (one user each, %d per "
              "connection, inside Ferry's burst); %d IRC peers read and write those channels"
              % (args.count, args.senders, args.count // max(1, args.senders), args.peers))
        sys.stdout.flush()

        hub = Hub()
        secs = loop.run_until_complete(connect_all(server, hub, sessions, args))
        log("%d XMPP users registered (in-band) and logged in: %.1f s" % (len(sessions), secs))
        loop.run_until_complete(baselines(hub, sessions, ngircd, args))

        def ferry_start(sync):
            nonlocal ferry
            ferry = ft.Ferry(server, store_sync=sync, more_transports=irc_transport(ngircd, args.hold_ms))
            ferry.start(wait_online=False)
            ferry.wait_log(r"\[irc\] xmpp: online", 15)
            return ferry.pid

        def ferry_stop():
            nonlocal ferry
            ferry.cleanup()
            ferry = None

        gws = [Gateway("fgh"[i], "Ferry" if len(syncs) == 1 else "Ferry %s" % sync, IRC,
                       lambda sync=sync: ferry_start(sync), ferry_stop)
               for i, sync in enumerate(syncs)]
        if not skip_why:
            # One workdir for both runs: the users' settings live in its database.
            biboumi = bib.Biboumi(server, BIB)

            def bib_start():
                biboumi.start()
                return biboumi.pid

            async def bib_prepare():
                t0 = time.monotonic()
                sem = asyncio.Semaphore(args.concurrency)

                async def one(s):
                    async with sem:
                        await bib.configure_user(s, BIB, IRC_HOST, ngircd.port)
                await asyncio.gather(*(one(s) for s in sessions))
                log("biboumi: %d users configured through ad-hoc commands: %.1f s"
                    % (len(sessions), time.monotonic() - t0))

            gws.append(Gateway("b", "biboumi", BIB, bib_start, biboumi.stop, bib_prepare))

        layouts = args.layouts.split(",")
        for i, gw in enumerate(gws):
            t0 = time.monotonic()
            # A second Ferry (another store.sync) only repeats the message runs.
            phases = ["msg"] + [la for la in layouts if gw.key in "fb" or la == "sep"]
            loop.run_until_complete(bench_gateway(gw, hub, sessions, ngircd, server, args,
                                                  phases))
            log("%s done in %.0f s" % (gw.label, time.monotonic() - t0))
        report(gws, args.sessions, args)
        if hub.errors:
            print("\n%d error messages came back to the XMPP users, e.g. %s"
                  % (len(hub.errors), hub.errors[0].decode("utf-8", "replace")))
        print("\nbench_irc took %.0f s" % (time.monotonic() - t_start))
    finally:
        for s in sessions:
            if s is not None:
                s.close()
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(asyncio.sleep(0.2))
        finally:
            loop.close()
        if ferry is not None:
            ferry.cleanup()
        if biboumi is not None:
            biboumi.cleanup()
        server.cleanup()
        ngircd.cleanup()


if __name__ == "__main__":
    main()
