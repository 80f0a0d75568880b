"""E2E harness, Kannel: a throwaway Kannel 1.4.5 (bearerbox + smsbox) with
its fake SMSC client (fakesmsc) on 127.0.0.1, for Ferry's SMS transport.

See /work/shared/reference/kannel.md (measured behaviour and traps) for the
why of most details here.  In short:

    k = Kannel(webhook_base_url="http://127.0.0.1:8080/kannel")
    k.start()                    # bearerbox -> smsbox -> fakesmsc, all online
    k.sendsms("+15557654321", "héllo €", sender="+15551234567")   # MT over HTTP
    k.wait_mt(1)                 # [MT(...)] as printed by fakesmsc
    k.inject_mo("+15557654321", "+15551234567", "hi")  # MO -> webhook (get-url)
    k.stop_fakesmsc(); k.start_fakesmsc()    # the SMSC goes away and back
    k.stop(); k.cleanup()

The parsers (fakesmsc log, MT records), the MO line builder and the
config/URL helpers are in harness_kannel_parse.py; they are re-exported here.

Part of the harness whose facade is ferrytest.py; tests import that.
"""

import collections
import os
import re
import signal
import stat
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from harness_kannel_parse import (_MO_HTTP_RE, _SENT_RE, MAX_MO_LINE, MAX_PART_BYTES, MT,
                                  _conf_group, _join_url, _pct, build_mo_lines, build_part_lines,
                                  join_parts, parse_fakesmsc_log, parse_mt_line,
                                  parse_udh_concat)
from harness_proc import (LogFile, Proc, free_port, make_workdir, port_open, remove_workdir,
                          timeout_scale, tool, wait_until)

FAKESMSC = "/usr/lib/kannel/test/fakesmsc"      # from the kannel-extras package
# fakesmsc's -i (seconds between messages, default 1) also paces interactive
# mode: with the default every injected MO takes a second.  0 does not spin.
FAKESMSC_INTERVAL = os.environ.get("FERRY_E2E_FAKESMSC_INTERVAL", "0")

DEFAULT_MO_QUERY = ("event=mo&from=%p&to=%P&text=%b&id=%I&smsc=%i&coding=%c&charset=%C"
                    "&udh=%u&ts=%T&time=%t&service=%n")
DEFAULT_DLR_QUERY = "event=dlr&type=%d&id=%I&fid=%F&from=%p&to=%P&smsc=%i&reply=%A&ts=%T"

__all__ = [
    "FAKESMSC", "FAKESMSC_INTERVAL", "DEFAULT_MO_QUERY", "DEFAULT_DLR_QUERY", "MAX_MO_LINE",
    "MAX_PART_BYTES", "kannel_programs", "MT", "parse_udh_concat", "parse_mt_line",
    "parse_fakesmsc_log", "join_parts", "build_mo_lines", "build_part_lines", "SendsmsResult",
    "MoResult", "Kannel",
]


def kannel_programs():
    """(bearerbox, smsbox, fakesmsc) paths; RuntimeError naming what is missing."""
    try:
        bearerbox, smsbox = tool("bearerbox"), tool("smsbox")
    except RuntimeError as e:
        raise RuntimeError("Kannel is not installed (%s): the SMS e2e tests need the Debian "
                           "packages kannel and kannel-extras, run scripts/deps.sh" % e) from None
    if not os.access(FAKESMSC, os.X_OK):
        raise RuntimeError("%s is missing: install the Debian package kannel-extras "
                           "(scripts/deps.sh)" % FAKESMSC)
    return bearerbox, smsbox, FAKESMSC


class SendsmsResult(collections.namedtuple("SendsmsResult", "status body")):
    """The HTTP status and body of a /cgi-bin/sendsms answer."""


class MoResult(collections.namedtuple("MoResult", "sender url status")):
    """One finished MO webhook call, from smsbox's access log."""


# ---------------------------------------------------------------------------


class Kannel:
    """A throwaway Kannel (bearerbox + smsbox + fakesmsc) in a temp dir, on
    free ports of 127.0.0.1.  MOs and DLRs go to webhook_base_url."""

    name = "kannel"

    def __init__(self, webhook_base_url, workdir=None, mo_query=DEFAULT_MO_QUERY,
                 dlr_query=DEFAULT_DLR_QUERY, dlr_url=None, mo_method="get", mo_recode=True,
                 http_retry=3, http_queue_delay=2, username="ferry",
                 password="e2e-dummy-kannel-pass", max_messages=10, log_level=0):
        """webhook_base_url: where Kannel sends MOs (get-url/post-url) and, by
        default, DLRs; no '%', quotes or spaces (Kannel reads '%' as an
        escape).  mo_query / dlr_query: Kannel escapes appended with '?' (or
        '&' when the base has a '?').  dlr_url: a full default dlr-url instead.
        mo_method: "get" (get-url) or "post" (post-url, body = the text)."""
        for bad in ("%", '"', "'", " ", "\n"):
            if bad in webhook_base_url:
                raise ValueError("webhook_base_url must not contain %r: %r"
                                 % (bad, webhook_base_url))
        if mo_method not in ("get", "post"):
            raise ValueError("mo_method must be 'get' or 'post', not %r" % (mo_method,))
        self.programs = kannel_programs()
        if workdir:
            self.dir, self._temporary = workdir, False
        else:
            self.dir, self._temporary = make_workdir("kannel-")
        self.host = "127.0.0.1"
        self.webhook_base_url = webhook_base_url
        self.mo_url = _join_url(webhook_base_url, mo_query)
        self.dlr_url = dlr_url or _join_url(webhook_base_url, dlr_query)
        self.mo_method = mo_method
        self.username = username
        self.password = password
        self.admin_password = "e2e-dummy-kannel-admin"
        self.status_password = "e2e-dummy-kannel-status"
        self.admin_port = free_port()
        self.smsbox_port = free_port()
        self.smsc_port = free_port()
        self.sendsms_port = free_port()
        self.ports = (self.admin_port, self.smsbox_port, self.smsc_port, self.sendsms_port)
        if len(set(self.ports)) != len(self.ports):
            raise RuntimeError("free_port() returned the same port twice: %r" % (self.ports,))
        self.config_path = os.path.join(self.dir, "kannel.conf")
        self.fifo_path = os.path.join(self.dir, "mo.fifo")
        self.config_text = self._config(mo_recode, http_retry, http_queue_delay, max_messages,
                                        log_level)
        with open(self.config_path, "w") as f:
            f.write(self.config_text)
        self.bearerbox_log = LogFile(os.path.join(self.dir, "bearerbox.log"))
        self.smsbox_log = LogFile(os.path.join(self.dir, "smsbox.log"))
        self.bearerbox_access = LogFile(os.path.join(self.dir, "bearerbox-access.log"))
        self.smsbox_access = LogFile(os.path.join(self.dir, "smsbox-access.log"))
        self.fakesmsc_path = os.path.join(self.dir, "fakesmsc.out")
        self.fakesmsc_log = LogFile(self.fakesmsc_path)
        self.bearerbox = self.smsbox = self.fakesmsc = None
        self._fakesmsc_mark = 0
        self._mo_lock = threading.Lock()
        self._concat_ref = 0

    # -- configuration ------------------------------------------------------

    def _config(self, mo_recode, http_retry, http_queue_delay, max_messages, log_level):
        d = self.dir
        core = _conf_group("core", [
            ("admin-port", self.admin_port),
            ("admin-interface", "127.0.0.1"),
            ("admin-password", self.admin_password),
            ("status-password", self.status_password),
            ("admin-allow-ip", "127.0.0.1"),
            ("smsbox-port", self.smsbox_port),
            ("smsbox-interface", "127.0.0.1"),
            ("box-allow-ip", "127.0.0.1"),
            ("log-file", os.path.join(d, "bearerbox.log")),
            ("log-level", log_level),
            ("access-log", os.path.join(d, "bearerbox-access.log")),
            ("dlr-storage", "internal"),
        ])
        smsc = _conf_group("smsc", [
            ("smsc", "fake"),
            ("smsc-id", "fake"),                # DLRs need an smsc-id
            ("port", self.smsc_port),           # fakesmsc connects here
            ("our-host", "127.0.0.1"),          # the listener on loopback only
            ("connect-allow-ip", "127.0.0.1"),
        ])
        smsbox = _conf_group("smsbox", [
            ("bearerbox-host", "127.0.0.1"),
            ("bearerbox-port", self.smsbox_port),
            ("sendsms-port", self.sendsms_port),
            ("sendsms-interface", "127.0.0.1"),
            ("sendsms-chars", "0123456789+ -"),
            ("log-file", os.path.join(d, "smsbox.log")),
            ("log-level", log_level),
            ("access-log", os.path.join(d, "smsbox-access.log")),
            ("mo-recode", bool(mo_recode)),
            ("http-request-retry", int(http_retry)),
            ("http-queue-delay", int(http_queue_delay)),
        ])
        user = _conf_group("sendsms-user", [
            ("username", self.username),
            ("password", self.password),
            ("user-allow-ip", "127.0.0.1"),
            ("max-messages", int(max_messages)),
            ("concatenation", True),
            ("dlr-url", self.dlr_url),
        ])
        service = [
            ("keyword", "default"),
            ("catch-all", True),
            ("max-messages", 0),                # never turn the answer into a reply SMS
            ("omit-empty", True),
        ]
        if self.mo_method == "post":
            service += [("post-url", self.mo_url), ("send-sender", True)]
        else:
            service += [("get-url", self.mo_url)]
        header = "# Generated by Ferry's e2e harness (tests/e2e/harness_kannel.py).\n"
        # Groups are separated by exactly one blank line, never inside one.
        return header + "\n" + "\n".join(
            [core, smsc, smsbox, user, _conf_group("sms-service", service)])

    # -- properties ---------------------------------------------------------

    @property
    def sendsms_url(self):
        return "http://127.0.0.1:%d/cgi-bin/sendsms" % self.sendsms_port

    @property
    def status_url(self):
        return "http://127.0.0.1:%d/status.txt?password=%s" % (
            self.admin_port, urllib.parse.quote(self.status_password))

    # -- processes ----------------------------------------------------------

    def start(self, timeout=20, fakesmsc=True):
        """bearerbox, then smsbox, then (unless told) fakesmsc; returns when
        sendsms answers and the fake SMSC is online."""
        assert self.bearerbox is None, "already started"
        timeout *= timeout_scale()
        for port in self.ports:
            if port_open(port):
                raise RuntimeError("port %d is already in use" % port)
        bearerbox, smsbox, _ = self.programs
        deadline = time.monotonic() + timeout
        try:
            self.bearerbox = Proc([bearerbox, "-v", "1", self.config_path],
                                  os.path.join(self.dir, "bearerbox.out"), cwd=self.dir)
            self._wait_ports((self.admin_port, self.smsbox_port, self.smsc_port),
                             self.bearerbox, "bearerbox", deadline)
            self.smsbox = Proc([smsbox, "-v", "1", self.config_path],
                               os.path.join(self.dir, "smsbox.out"), cwd=self.dir)
            self._wait_ports((self.sendsms_port,), self.smsbox, "smsbox", deadline)
            # smsbox listens before bearerbox has it as a box: wait for that.
            while not self._status_has(r"^Box connections:\n\s+smsbox:", multiline=True):
                if not self.smsbox.alive():
                    raise RuntimeError("smsbox exited: %s\n%s" % (self.smsbox.wait(1),
                                                                  self._diag()))
                if time.monotonic() >= deadline:
                    raise RuntimeError("smsbox did not connect to bearerbox in time\n%s"
                                       % self._diag())
                time.sleep(0.05)
            if fakesmsc:
                self.start_fakesmsc(timeout=max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_ports(self, ports, proc, what, deadline):
        while not all(port_open(p) for p in ports):
            if not proc.alive():
                raise RuntimeError("%s exited: %s\n%s" % (what, proc.wait(1), self._diag()))
            if time.monotonic() >= deadline:
                raise RuntimeError("%s did not listen on %r in time\n%s"
                                   % (what, ports, self._diag()))
            time.sleep(0.05)

    def start_fakesmsc(self, timeout=10):
        """Start fakesmsc (interactive, stdin from mo.fifo) and wait until
        bearerbox shows the fake SMSC online; queued MTs then go out."""
        assert self.fakesmsc is None or not self.fakesmsc.alive(), "fakesmsc already running"
        if not (os.path.exists(self.fifo_path)
                and stat.S_ISFIFO(os.stat(self.fifo_path).st_mode)):
            os.mkfifo(self.fifo_path, 0o600)
        timeout *= timeout_scale()
        self._fakesmsc_mark = self.fakesmsc_log.mark()
        # The FIFO is opened read-write (<>) so that fakesmsc never sees EOF
        # (with a closed stdin interactive mode exits at once); -v 0 makes it
        # log every MT ("Got message N") on stderr.
        argv = ["/bin/sh", "-c", 'fifo=$1; shift; exec "$@" <>"$fifo"', "sh", self.fifo_path,
                self.programs[2], "-H", "127.0.0.1", "-r", str(self.smsc_port),
                "-i", FAKESMSC_INTERVAL, "-v", "0"]
        self.fakesmsc = Proc(argv, self.fakesmsc_path, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while not self.smsc_online():
            if not self.fakesmsc.alive():
                raise RuntimeError("fakesmsc exited: %s\n%s" % (self.fakesmsc.wait(1),
                                                                self._diag()))
            if time.monotonic() >= deadline:
                raise RuntimeError("the fake SMSC was not online within %.0f s\n%s"
                                   % (timeout, self._diag()))
            time.sleep(0.05)
        return self

    def stop_fakesmsc(self, timeout=10):
        """SIGINT fakesmsc (the SMSC goes away) and wait until bearerbox no
        longer has it online: sendsms then answers "3: Queued for later
        delivery"."""
        if self.fakesmsc is not None:
            self.fakesmsc.stop(timeout, sig=signal.SIGINT)
            self.fakesmsc = None
        if self.bearerbox is not None and self.bearerbox.alive():
            wait_until(lambda: not self.smsc_online(), timeout * timeout_scale(),
                       what="the fake SMSC to go offline")

    def stop(self, timeout=10):
        """fakesmsc (SIGINT), smsbox, then bearerbox (SIGTERM); SIGKILL to
        whatever ignored its signal, then the process groups."""
        if self.fakesmsc is not None:
            self.fakesmsc.stop(timeout, sig=signal.SIGINT)
            self.fakesmsc = None
        if self.smsbox is not None:
            self.smsbox.stop(timeout, sig=signal.SIGTERM)
            self.smsbox = None
        if self.bearerbox is not None:
            self.bearerbox.stop(timeout, sig=signal.SIGTERM)
            self.bearerbox = None
        wait_until(lambda: not any(port_open(p) for p in self.ports), 10,
                   what="kannel ports to close")

    def kill(self):
        for attr in ("fakesmsc", "smsbox", "bearerbox"):
            proc = getattr(self, attr)
            if proc is not None:
                proc.kill()
                setattr(self, attr, None)

    def cleanup(self):
        self.kill()
        remove_workdir(self.dir, self._temporary)

    def alive(self):
        return all(p is not None and p.alive() for p in (self.bearerbox, self.smsbox))

    # -- status -------------------------------------------------------------

    def status(self):
        """bearerbox's status.txt, or "" if the admin port does not answer."""
        try:
            with urllib.request.urlopen(self.status_url, timeout=2) as r:
                return r.read().decode("utf-8", "replace")
        except (OSError, urllib.error.URLError):
            return ""

    def _status_has(self, pattern, multiline=False):
        return re.search(pattern, self.status(), re.M if multiline else 0) is not None

    def smsc_online(self):
        """True when status.txt shows the fake SMSC online."""
        return self._status_has(r"fake\[fake\].*\(online")

    def _diag(self):
        parts = []
        for name in ("bearerbox.out", "smsbox.out", "fakesmsc.out", "bearerbox.log",
                     "smsbox.log"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                parts.append("--- %s\n%s" % (name, LogFile(path).tail(15)))
        return "\n".join(parts)

    # -- MT (sendsms -> fakesmsc) --------------------------------------------

    def sendsms(self, to, text, sender="+15551234567", username=None, password=None,
                charset="UTF-8", timeout=10, **params):
        """GET /cgi-bin/sendsms; SendsmsResult(status, body).  Every value is
        URL-encoded ('+' as %2B).  Extra parameters by keyword, '_' for '-'
        (dlr_mask=31, dlr_url=..., coding=2).  None leaves a parameter out."""
        q = [("username", self.username if username is None else username),
             ("password", self.password if password is None else password),
             ("from", sender), ("to", to), ("text", text), ("charset", charset)]
        q += [(k.replace("_", "-"), v) for k, v in params.items()]
        query = "&".join("%s=%s" % (k, _pct(str(v))) for k, v in q if v is not None)
        try:
            with urllib.request.urlopen(self.sendsms_url + "?" + query, timeout=timeout) as r:
                return SendsmsResult(r.status, r.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")
            e.close()
            return SendsmsResult(e.code, body)

    def mt_messages(self):
        """Every MT fakesmsc printed so far (all its runs), as MT records."""
        try:
            with open(self.fakesmsc_path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        return parse_fakesmsc_log(data)

    def mt_count(self):
        return len(self.mt_messages())

    def wait_mt(self, n=1, timeout=10, since=0, match=None):
        """Wait until at least n MTs were printed after the first `since` (a
        previous mt_count()), counting only those for which match(record)
        is true if given; returns those records.  AssertionError on timeout.
        (A multi-line text MT is complete only when its last line is logged:
        wait for it with match=lambda r: r.text == expected.)"""
        timeout *= timeout_scale()

        def enough():
            got = [r for r in self.mt_messages()[since:] if match is None or match(r)]
            return got if len(got) >= n else None
        try:
            return wait_until(enough, timeout, what="%d MT message(s)" % n)
        except TimeoutError as e:
            raise AssertionError("%s; fakesmsc printed:\n%s" % (
                e, "\n".join(r.raw for r in self.mt_messages()[since:]) or "(nothing)")) from None

    # -- MO (fakesmsc -> bearerbox -> smsbox -> webhook) ----------------------

    def mo_lines(self, sender, receiver, text, kind="auto"):
        """The fakesmsc lines inject_mo() would write for this MO.

        kind: "text", "ucs2", "data", "parts" or "auto"; see
        harness_kannel_parse.build_mo_lines().  Concatenated parts take
        their reference from this Kannel's counter (1, 2, ... modulo 256)."""
        return build_mo_lines(sender, receiver, text, kind, self._next_concat_ref)

    def _part_lines(self, head, data):
        """udh-data lines of a concatenated 8-bit SMS (build_part_lines())."""
        return build_part_lines(head, data, self._next_concat_ref)

    def _next_concat_ref(self):
        self._concat_ref = (self._concat_ref + 1) % 256
        return self._concat_ref

    def inject_mo(self, sender, receiver, text, kind="auto", timeout=10):
        """Hand one MO to fakesmsc (see mo_lines() for kind), one line per
        write, each time waiting until fakesmsc says it sent the line (its
        stdin select/fgets bug strands lines written together).  Returns the
        lines written.  The webhook call follows asynchronously."""
        lines = self.mo_lines(sender, receiver, text, kind)
        timeout *= timeout_scale()
        with self._mo_lock:
            if self.fakesmsc is None or not self.fakesmsc.alive():
                raise RuntimeError("fakesmsc is not running")
            for line in lines:
                before = len(self._sent_numbers())
                try:
                    fd = os.open(self.fifo_path, os.O_WRONLY | os.O_NONBLOCK)
                except OSError as e:
                    raise RuntimeError("cannot open %s: %s" % (self.fifo_path, e)) from None
                try:
                    os.write(fd, (line + "\n").encode("utf-8"))
                finally:
                    os.close(fd)
                wait_until(lambda: len(self._sent_numbers()) > before
                           or not self.fakesmsc.alive(),
                           timeout, what="fakesmsc to send %r" % line[:80])
                if not self.fakesmsc.alive():
                    raise RuntimeError("fakesmsc exited\n%s" % self._diag())
        return lines

    def mo_http_results(self):
        """[MoResult(sender, url, status)] of the MO webhook calls smsbox has
        finished: its access log gets one line per MO, after the last retry.
        status is 200/202 on success, else the last failure's (e.g. 500);
        when the connection failed it is -1 and url is ''."""
        return [MoResult(m.group(1), m.group(3), int(m.group(4)))
                for m in _MO_HTTP_RE.finditer(self.smsbox_access.text())]

    def wait_mo_result(self, needle=None, sender=None, timeout=20):
        """Wait until smsbox has finished the MO webhook call whose URL
        contains needle (e.g. "id=" + the MO's %I) and/or whose sender is
        sender (as given to inject_mo); returns its status (see
        mo_http_results)."""
        if needle is None and sender is None:
            raise ValueError("wait_mo_result needs needle or sender")
        timeout *= timeout_scale()

        def done():
            for r in self.mo_http_results():
                if (needle is None or needle in r.url) and (sender is None or r.sender == sender):
                    return (r.status,)
            return None
        return wait_until(done, timeout, what="smsbox to finish the MO call (%r, %r)"
                          % (needle, sender))[0]

    def _sent_numbers(self):
        with open(self.fakesmsc_path, "rb") as f:
            f.seek(self._fakesmsc_mark)
            return _SENT_RE.findall(f.read())
