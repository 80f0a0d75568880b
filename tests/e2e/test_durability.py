"""The loop and queue regressions of DESIGN §3 and §5, against Prosody:
large stanzas through a small send buffer, the low-fd reserve across
outages, and the durable inbound queue across a link outage and kill -9."""

import os
import signal
import sqlite3

import ferrytest as ft

COMPONENT = "echo.localhost"


def queued(store_path):
    """Rows waiting in the inbound queue (read through SQLite, WAL-safe);
    -1 while the file cannot be read (polled again)."""
    try:
        con = sqlite3.connect(store_path, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM inbound").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return -1


def socket_fds(pid):
    fds = []
    for name in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
                fds.append(int(name))
        except OSError:
            pass
    return fds


class Durability(ft.FerryCase):
    server_kind = "prosody"

    def setUp(self):
        # Offline storage, as on most servers: a message that reaches the
        # server while the test client is still reconnecting waits for it.
        self.server = self.start_server(offline=True)

    def test_big_stanzas_through_small_send_buffer(self):
        """DESIGN §3.3: without the write sentinel a 200 kB stanza through an
        8 KiB SO_SNDBUF waited 16-20 s for the next wakeup."""
        self.start_ferry(self.server, keepalive=60, xmpp_extra="    socket_sndbuf = 8192;")
        c = self.client(self.server)
        for i in range(3):
            c.send_message("big%d@%s" % (i, COMPONENT), "big:200000")
            m = c.wait_message("big%d@%s" % (i, COMPONENT), 8)
            self.assertEqual(len(m["body"]), 200000)

    def test_fd_reserve_survives_outages(self):
        """DESIGN §3.3: 1,100 descriptors opened during each of two outages;
        the component socket stays below FD_SETSIZE and Ferry does not abort."""
        ferry = self.start_ferry(self.server, reconnect_min=1, reconnect_max=2,
                                 transport_extra="        test_hold_fds = 1100;")
        c = self.client(self.server)
        self.assert_echo(c)
        # Delivered and acknowledged before the outage (else it is resent
        # after it, by design: in-flight messages may be duplicated).
        ft.wait_until(lambda: queued(ferry.config["store"]) == 0, 10, what="ack")
        for outage in (1, 2):
            mark = ferry.mark()
            c.kill()
            self.server.stop()
            ferry.wait_log(r"holding %d descriptors" % (1100 * outage), 10, since=mark)
            self.server.start()
            ferry.wait_log(ft.ONLINE_RE, 15, since=mark)
            c = self.client(self.server, register=False)
            self.assert_echo(c, body="after outage %d" % outage)
            ft.wait_until(lambda: queued(ferry.config["store"]) == 0, 10, what="ack")
        self.assertGreaterEqual(len(os.listdir("/proc/%d/fd" % ferry.pid)), 2200)
        socks = socket_fds(ferry.pid)
        self.assertTrue(socks, "no socket open")
        self.assertTrue(all(fd < 1024 for fd in socks), "socket fds: %r" % socks)

    def _queue_during_outage(self, ferry, c, n):
        """Sends n messages whose echoes come due while Prosody is down;
        returns once all n are in the store."""
        for i in range(n):
            c.send_message("q@" + COMPONENT, "queued %d" % i)
        # A round trip behind them through the same streams: once it is
        # answered, Ferry has all n (servers process a stream in order).
        c.disco_info(COMPONENT)
        # The echoes are due later: take the server down now.
        c.kill()
        self.server.stop()
        ft.wait_until(lambda: queued(ferry.config["store"]) == n, 10 * ft.timeout_scale(),
                      what="%d echoes stored while the link is down" % n)

    def _expect_in_order_once(self, c, n):
        got = [c.wait_message("q@" + COMPONENT, 15)["body"] for _ in range(n)]
        self.assertEqual(got, ["queued %d" % i for i in range(n)])
        # A round trip behind them: nothing else from q@ may be pending.
        self.assert_echo(c, to="other@" + COMPONENT, body="barrier")
        extra = [m for m in c.messages if str(m["from"]).startswith("q@")]
        self.assertEqual(extra, [], "duplicates: %r" % [m["body"] for m in extra])

    def test_inbound_waits_for_the_link(self):
        """DESIGN §5: stored while the link is down, delivered in order and
        once after reconnect, and removed from the store only then."""
        ferry = self.start_ferry(self.server, reconnect_min=1, reconnect_max=2,
                                 transport_extra="        echo_delay_ms = 3000;")
        c = self.client(self.server)
        self._queue_during_outage(ferry, c, 20)
        self.server.start()
        c = self.client(self.server, register=False)
        self._expect_in_order_once(c, 20)
        ft.wait_until(lambda: queued(ferry.config["store"]) == 0, 10,
                      what="acknowledged messages removed from the store")

    def test_inbound_survives_kill9(self):
        """A kill -9 with messages queued: the restarted Ferry delivers them,
        and reopens the store it left behind without trouble."""
        ferry = self.start_ferry(self.server, reconnect_min=1, reconnect_max=2,
                                 transport_extra="        echo_delay_ms = 3000;")
        c = self.client(self.server)
        self._queue_during_outage(ferry, c, 5)
        ferry.proc.send_signal(signal.SIGKILL)
        self.assertEqual(ferry.proc.wait(5), -signal.SIGKILL)
        ferry.proc.stop(1)
        ferry.proc = None
        self.server.start()
        mark = ferry.mark()
        ferry.start(wait_online=False)
        ferry.wait_log(r"delivering 5 queued messages", 15, since=mark)
        c = self.client(self.server, register=False)
        self._expect_in_order_once(c, 5)
