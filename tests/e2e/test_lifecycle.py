"""Ferry's life cycle against Prosody: reconnect, wrong secret, /healthz,
SIGTERM, SIGHUP reload."""

import json
import signal
import time
import urllib.error
import urllib.request

import ferrytest as ft

COMPONENT = "echo.localhost"


def healthz(port, timeout=3):
    """(status, body) of GET /healthz; status 0 if the connection failed."""
    url = "http://127.0.0.1:%d/healthz" % port
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


class Lifecycle(ft.FerryCase):
    server_kind = "prosody"

    def setUp(self):
        self.server = self.start_server()

    def test_shutdown_makes_gateway_unavailable(self):
        """Subscribed users see the gateway contact go offline on SIGTERM."""
        ferry = self.start_ferry(self.server)
        c = self.client(self.server)
        c.send_presence(COMPONENT, "subscribe")
        c.wait_presence(COMPONENT, "subscribed", 10)
        c.wait_presence(COMPONENT, None, 10)
        # A fresh login: the server probes the gateway for this user.
        c.close()
        c = self.client(self.server, register=False)
        c.wait_presence(COMPONENT, None, 10)
        self.assertEqual(ferry.terminate(5), 0)
        p = c.wait_presence(COMPONENT, "unavailable", 10)
        self.assertIn("shutting down", str(p))

    def test_reconnect_after_server_restart(self):
        """(b) Prosody restarts on the same ports; Ferry comes back by itself."""
        ferry = self.start_ferry(self.server, reconnect_min=1, reconnect_max=2)
        c = self.client(self.server)
        c.disco_info(COMPONENT)
        pid = ferry.pid

        mark = ferry.mark()
        c.kill()
        self.server.stop()
        self.server.start()
        t0 = time.monotonic()
        c2 = self.client(self.server, "alice", register=False)
        ids = None
        deadline = t0 + 15
        last = None
        while time.monotonic() < deadline:
            self.assertTrue(self.server.proc.alive(), "prosody died (status %s): did "
                            "something outside the test kill it?" % self.server.proc.wait(0))
            try:
                ids, _ = c2.disco_info(COMPONENT, timeout=2)
                break
            except (ft.XmppError, TimeoutError) as e:
                last = e
                time.sleep(0.2)
        self.assertIsNotNone(ids, "disco#info on %s not answered within 15 s of the restart "
                             "(last: %r)\n%s" % (COMPONENT, last, ferry.log.tail()))
        self.assertTrue(ferry.alive())
        self.assertEqual(ferry.pid, pid)
        self.assertTrue(ferry.log.grep(ft.ONLINE_RE, since=mark),
                        "no new 'online' line after the reconnect")
        self.assert_echo(c2)

    def test_wrong_secret_backs_off(self):
        """(c) not-authorized: logged, retried with backoff, no spinning."""
        ferry = self.start_ferry(self.server, wait_online=False, secret="wrong-dummy-secret",
                                 reconnect_min=1, reconnect_max=2)
        ferry.wait_log(r"not-authorized", 10 * ft.timeout_scale())
        t0 = time.monotonic()
        # Observe for ~6 s (a measurement window, not a synchronisation).
        while time.monotonic() - t0 < 6:
            self.assertTrue(ferry.alive(), "ferry exited:\n" + ferry.log.tail())
            time.sleep(0.25)
        attempts = len(ferry.log.grep(r"not-authorized"))
        self.assertGreaterEqual(attempts, 2, ferry.log.tail())
        self.assertLessEqual(attempts, 10, ferry.log.tail())
        self.assertFalse(ferry.log.grep(ft.ONLINE_RE), "online with a wrong secret?")
        cpu = ft.cpu_seconds(ferry.pid)
        self.assertLess(cpu, 1.0 * ft.timeout_scale(), "CPU time %.2f s" % cpu)
        rc = ferry.terminate(5)
        self.assertEqual(rc, 0, ferry.log.tail())

    def test_healthz(self):
        """(e) /healthz: 200 + JSON online, 503 while the server is down."""
        port = ft.free_port()
        ferry = self.start_ferry(self.server, http_port=port, reconnect_min=1,
                                 reconnect_max=2)
        status, body = ft.wait_until(lambda: (lambda r: r if r[0] == 200 else None)(
            healthz(port)), 10, 0.1, "/healthz 200")
        json.loads(body)   # raises if it is not JSON

        self.server.stop()
        try:
            status, body = ft.wait_until(lambda: (lambda r: r if r[0] == 503 else None)(
                healthz(port)), 10 * ft.timeout_scale(), 0.1, "/healthz 503")
        except TimeoutError as e:
            raise AssertionError("%s; last answer %r" % (e, healthz(port))) from None
        json.loads(body)

        self.server.start()
        status, body = ft.wait_until(lambda: (lambda r: r if r[0] == 200 else None)(
            healthz(port)), 15 * ft.timeout_scale(), 0.1, "/healthz 200 after restart")
        json.loads(body)
        self.assertTrue(ferry.alive())

    def test_sigterm(self):
        """(f) SIGTERM: exit 0 within 2 s."""
        ferry = self.start_ferry(self.server)
        c = self.client(self.server)
        self.assert_echo(c)
        t0 = time.monotonic()
        ferry.proc.send_signal(signal.SIGTERM)
        rc = ferry.proc.wait(2 * ft.timeout_scale())
        took = time.monotonic() - t0
        self.assertIsNotNone(rc, "ferry still running 2 s after SIGTERM")
        self.assertEqual(rc, 0, ferry.log.tail())
        ferry.check_sanitizers()
        ferry.terminate()       # reaps
        self.assertLess(took, 2 * ft.timeout_scale())

    def test_second_signal_during_shutdown(self):
        """A SIGTERM that arrives while Ferry is already shutting down after a
        SIGINT (Ctrl-C, then a service manager's stop) still ends in exit 0,
        not in death by signal.  The window is short: try a few delays."""
        for delay in (0.0005, 0.001, 0.002, 0.004):
            ferry = self.start_ferry(self.server)
            ferry.send_signal(signal.SIGINT)
            time.sleep(delay)       # places the second signal, not a synchronisation
            ferry.send_signal(signal.SIGTERM)
            rc = ferry.proc.wait(5 * ft.timeout_scale())
            self.assertEqual(rc, 0, "delay %.4f s: exit status %s\n%s"
                             % (delay, rc, ferry.log.tail()))
            ferry.terminate()

    def test_sighup_reload(self):
        """(g) SIGHUP reloads the config without dropping the link; a broken
        config is refused with file and line, and Ferry keeps running."""
        ferry = self.start_ferry(self.server, log_level="info")
        c = self.client(self.server)
        self.assert_echo(c)
        online_before = len(ferry.log.grep(ft.ONLINE_RE))

        ferry.config["log_level"] = "debug"
        ferry.write_config()
        mark = ferry.mark()
        ferry.send_signal(signal.SIGHUP)
        ferry.wait_log(r"reloaded", 10, since=mark)
        self.assert_echo(c, body="after reload")
        ferry.wait_log(ft.DEBUG_RE, 10, since=mark)
        self.assertEqual(len(ferry.log.grep(ft.ONLINE_RE)), online_before,
                         "the link was dropped by the reload:\n" + ferry.log.tail())

        good = ferry.config_path
        text = open(good).read().splitlines()
        # Line 3 becomes a syntax error.
        text.insert(2, "    this is not libconfig syntax ;;")
        ferry.write_config("\n".join(text) + "\n")
        mark = ferry.mark()
        ferry.send_signal(signal.SIGHUP)
        line = ferry.wait_log(r"reload failed", 10, since=mark)
        self.assertIn("ferry.conf", line)
        self.assertRegex(line, r"\b3\b", "line number 3 not named")
        self.assertTrue(ferry.alive())
        self.assert_echo(c, body="after failed reload")
        self.assertEqual(len(ferry.log.grep(ft.ONLINE_RE)), online_before)
