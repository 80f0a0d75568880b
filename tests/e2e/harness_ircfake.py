"""E2E harness, scripted IRC peer: FakeIrcServer, a tiny deterministic IRC
server on 127.0.0.1 for what ngircd cannot do, mainly IRCv3 capability
negotiation and SASL (PLAIN and EXTERNAL).

    fake = FakeIrcServer(accounts={"alice": "s3cret"})   # plaintext + TLS listeners
    fake.start()                       # fake.port, fake.tls_port, fake.ca_file,
                                       # fake.client_cert/client_key/client_fingerprint
    ... point the client under test at 127.0.0.1:fake.port ...
    conn = fake.wait_connection()      # the first connection (FakeConn)
    fake.wait_line(r"^AUTHENTICATE PLAIN$")
    conn.wait_registered()             # 001 .. 376 sent
    conn.sasl_result, conn.account     # "903" / "904", "alice"
    fake.send(":bob!b@127.0.0.1 PRIVMSG #chan :hi")   # inject (last connection)
    fake.cleanup()

Behaviour, per connection:
  CAP LS [302]  -> CAP * LS :<caps> (values such as sasl=PLAIN,EXTERNAL only for 302)
  CAP REQ :x y  -> ACK if every x is offered, else NAK; CAP LIST; CAP END
  AUTHENTICATE  -> (needs the sasl cap) + ; then the base64 payload, 400-byte chunks:
                   PLAIN "authzid\\0authcid\\0password" checked against accounts;
                   EXTERNAL: a client certificate signed by the CA (optionally one of
                   external_fingerprints), account = its CN;
                   900 + 903 on success, 904 on failure (908 for an unknown
                   mechanism, 906 on abort, 907 when already authenticated)
  NICK/USER     -> after CAP END (if CAP was used): 001-004, 005, 375/372/376;
                   433 for nicks in nicks_in_use
  PING -> PONG; JOIN -> JOIN echo, 332/333 (if a topic), 353, 366; NAMES;
  PART echo;
  PRIVMSG/NOTICE recorded, echoed back if echo-message was acked;
  QUIT -> ERROR and close.  Other commands are only recorded.
hooks[COMMAND] = fn(conn, msg) -> True skips the default handling.

Part of the harness whose facade is ferrytest.py; tests import that.
"""

import base64
import binascii
import datetime
import hashlib
import os
import re
import socket
import ssl
import threading
import time

from harness_irc import LineConn, PkiPaths, _t, make_pki, parse_irc_line
from harness_proc import _register, _unregister, make_workdir, remove_workdir, timeout_scale

__all__ = ["FAKE_IRC_CAPS", "FAKE_IRC_ISUPPORT", "FakeConn", "FakeIrcServer"]

FAKE_IRC_CAPS = "sasl=PLAIN,EXTERNAL multi-prefix server-time echo-message away-notify cap-notify"
FAKE_IRC_ISUPPORT = ("CHANTYPES=#& PREFIX=(ov)@+ CASEMAPPING=rfc1459 NICKLEN=30 "
                     "CHANMODES=b,k,l,imnst NETWORK=FakeNet")
TOPIC_TIME = 1700000000          # fixed, for deterministic 333 replies


class FakeConn:
    """One client connection to a FakeIrcServer and its protocol state."""

    def __init__(self, server, index, sock, tls):
        self.server = server
        self.index = index
        self.tls = tls
        self.lines = []               # received lines, decoded (str)
        self.raw_lines = []           # received lines, bytes
        self.nick = None
        self.user = None
        self.realname = None
        self.password = None          # from PASS
        self.cap_version = None       # 302 for "CAP LS 302"
        self.caps = set()             # acknowledged capabilities
        self.cap_negotiating = False
        self.registered = False
        self.sasl_mech = None
        self._sasl_buf = ""
        self.sasl_result = None       # "903", "904", ... (the last final numeric sent)
        self.account = None
        self.channels = set()
        self.client_cert_der = None
        self.client_fingerprint = None  # lowercase hex SHA-256, like Pki's
        self.client_cert_cn = None
        if tls:
            self.client_cert_der = sock.getpeercert(binary_form=True)
            if self.client_cert_der:
                self.client_fingerprint = hashlib.sha256(self.client_cert_der).hexdigest()
                for rdn in (sock.getpeercert() or {}).get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            self.client_cert_cn = v
        self._cond = threading.Condition()
        self.conn = LineConn(sock, self._on_line, self._on_close,
                             name="fakeirc-%d" % index, start=False)
        self.conn.start()

    # -- output -------------------------------------------------------------

    @property
    def closed(self):
        return self.conn.closed

    @property
    def me(self):
        return self.nick or "*"

    @property
    def hostmask(self):
        return "%s!%s@127.0.0.1" % (self.nick or "*", self.user or "user")

    def send(self, line, wait=None):
        """Send one line (str or bytes, CR LF appended).  From a test thread
        it returns once written; from a hook it only queues."""
        if isinstance(line, str):
            line = line.encode("utf-8")
        if re.search(rb"[\r\n]", line):
            raise ValueError("CR or LF inside a line: %r" % (line,))
        in_io = threading.current_thread() is self.conn._thread
        self.conn.send(line + b"\r\n", wait=(not in_io) if wait is None else wait)

    def reply(self, numeric, *params):
        """:server NUMERIC <nick> params... (the last one as trailing)."""
        args = [self.me] + list(params)
        if args:
            args[-1] = ":" + args[-1]
        self.send(":%s %s %s" % (self.server.server_name, numeric, " ".join(args)))

    def close(self):
        self.conn.close(flush=True)

    # -- input --------------------------------------------------------------

    def _on_close(self, reason):
        self.server._notify()

    def _on_line(self, raw):
        line = raw.decode("utf-8", "replace")
        with self._cond:
            self.raw_lines.append(raw)
            self.lines.append(line)
            self._cond.notify_all()
        self.server._record(self, line)
        msg = parse_irc_line(raw)
        hook = self.server.hooks.get(msg.command)
        if hook is not None and hook(self, msg):
            return
        handler = getattr(self, "_cmd_" + msg.command.lower(), None)
        if handler is not None:
            handler(msg)

    def _cmd_cap(self, msg):
        sub = msg.params[0].upper() if msg.params else ""
        offered = self.server.caps_offered()
        if sub == "LS":
            if not self.registered:
                self.cap_negotiating = True
            if len(msg.params) > 1 and msg.params[1].isdigit():
                self.cap_version = int(msg.params[1])
            toks = self.server.caps.split()
            if not self.cap_version or self.cap_version < 302:
                toks = [t.split("=", 1)[0] for t in toks]
            self.send(":%s CAP %s LS :%s" % (self.server.server_name, self.me, " ".join(toks)))
        elif sub == "REQ":
            if not self.registered:
                self.cap_negotiating = True
            want = msg.params[-1].split() if len(msg.params) > 1 else []
            names = [w.lstrip("-") for w in want]
            verb = "ACK" if want and all(n in offered for n in names) else "NAK"
            if verb == "ACK":
                for w in want:
                    if w.startswith("-"):
                        self.caps.discard(w[1:])
                    else:
                        self.caps.add(w)
            self.send(":%s CAP %s %s :%s" % (self.server.server_name, self.me, verb,
                                              " ".join(want)))
        elif sub == "LIST":
            self.send(":%s CAP %s LIST :%s" % (self.server.server_name, self.me,
                                               " ".join(sorted(self.caps))))
        elif sub == "END":
            self.cap_negotiating = False
            self._maybe_welcome()
        else:
            self.reply("410", sub or "*", "Invalid CAP command")

    def _cmd_authenticate(self, msg):
        arg = msg.params[0] if msg.params else ""
        if "sasl" not in self.caps:
            return self._sasl_done("904", "SASL authentication failed (sasl not enabled)")
        if self.account is not None and self.sasl_mech is None:
            return self._sasl_done("907", "You have already authenticated using SASL")
        if arg == "*":
            self.sasl_mech = None
            return self._sasl_done("906", "SASL authentication aborted")
        if self.sasl_mech is None:
            mechs = self.server.mechanisms()
            if arg.upper() not in mechs:
                self.reply("908", ",".join(mechs), "are available SASL mechanisms")
                return self._sasl_done("904", "SASL authentication failed")
            self.sasl_mech = arg.upper()
            self._sasl_buf = ""
            self.send("AUTHENTICATE +")
            return None
        if len(arg) > 400:
            self.sasl_mech = None
            return self._sasl_done("905", "SASL message too long")
        if arg != "+":
            self._sasl_buf += arg
        if len(arg) == 400:
            return None                 # more chunks follow
        mech, data = self.sasl_mech, self._sasl_buf
        self.sasl_mech, self._sasl_buf = None, ""
        try:
            payload = base64.b64decode(data, validate=True) if data else b""
        except (binascii.Error, ValueError):
            return self._sasl_done("904", "SASL authentication failed (bad base64)")
        account = self._check_sasl(mech, payload)
        if account is None:
            return self._sasl_done("904", "SASL authentication failed")
        self.account = account
        self.reply("900", self.hostmask, account, "You are now logged in as %s" % account)
        return self._sasl_done("903", "SASL authentication successful")

    def _check_sasl(self, mech, payload):
        srv = self.server
        if mech == "PLAIN":
            parts = payload.split(b"\0")
            if len(parts) != 3:
                return None
            authzid, authcid, password = (p.decode("utf-8", "replace") for p in parts)
            if srv.accounts.get(authcid) == password and authzid in ("", authcid):
                return authcid
            return None
        if mech == "EXTERNAL":
            if not self.client_fingerprint:
                return None
            if (srv.external_fingerprints is not None
                    and self.client_fingerprint not in srv.external_fingerprints):
                return None
            account = self.client_cert_cn or self.client_fingerprint
            authzid = payload.decode("utf-8", "replace")
            if authzid and authzid != account:
                return None
            return account
        return None

    def _sasl_done(self, numeric, text):
        with self._cond:
            self.sasl_result = numeric
            self._cond.notify_all()
        self.reply(numeric, text)
        self.server._notify()

    def _cmd_pass(self, msg):
        self.password = msg.params[0] if msg.params else ""

    def _cmd_nick(self, msg):
        if not msg.params:
            return self.reply("431", "No nickname given")
        new = msg.params[0]
        if new.lower() in {n.lower() for n in self.server.nicks_in_use}:
            return self.reply("433", new, "Nickname is already in use")
        if not re.match(r"^[A-Za-z\[\]\\`_^{|}][A-Za-z0-9\[\]\\`_^{|}-]{0,29}$", new):
            return self.reply("432", new, "Erroneous nickname")
        if self.registered:
            self.send(":%s NICK :%s" % (self.hostmask, new))
            self.nick = new
        else:
            self.nick = new
            self._maybe_welcome()
        return None

    def _cmd_user(self, msg):
        if self.registered:
            return self.reply("462", "You may not reregister")
        if len(msg.params) < 4:
            return self.reply("461", "USER", "Not enough parameters")
        self.user, self.realname = msg.params[0], msg.params[3]
        self._maybe_welcome()
        return None

    def _maybe_welcome(self):
        if self.registered or self.cap_negotiating or not (self.nick and self.user):
            return
        srv = self.server
        n = srv.server_name
        self.registered = True
        self.reply("001", "Welcome to the %s IRC Network %s" % (srv.network, self.hostmask))
        self.reply("002", "Your host is %s, running version ferry-fake-1" % n)
        self.reply("003", "This server was created for Ferry's e2e tests")
        self.send(":%s 004 %s %s ferry-fake-1 iow bklmnost" % (n, self.nick, n))
        self.send(":%s 005 %s %s :are supported by this server" % (n, self.nick, srv.isupport))
        self.reply("375", "- %s Message of the day -" % n)
        self.reply("372", "- Ferry fake IRC server")
        self.reply("376", "End of /MOTD command.")
        with self._cond:
            self._cond.notify_all()
        srv._notify()

    def _cmd_ping(self, msg):
        self.send(":%s PONG %s :%s" % (self.server.server_name, self.server.server_name,
                                        msg.params[-1] if msg.params else ""))

    def _need_registration(self, msg):
        if not self.registered:
            self.reply("451", "You have not registered")
            return True
        if not msg.params:
            self.reply("461", msg.command, "Not enough parameters")
            return True
        return False

    def _cmd_join(self, msg):
        if self._need_registration(msg):
            return
        keys = msg.params[1].split(",") if len(msg.params) > 1 else []
        for i, chan in enumerate(msg.params[0].split(",")):
            conf = self.server.channels.get(chan.lower(), {})
            if conf.get("key") and (i >= len(keys) or keys[i] != conf["key"]):
                self.reply("475", chan, "Cannot join channel (+k)")
                continue
            self.channels.add(chan.lower())
            self.send(":%s JOIN %s" % (self.hostmask, chan))
            if conf.get("topic"):
                self.reply("332", chan, conf["topic"])
                self.send(":%s 333 %s %s %s %d" % (self.server.server_name, self.nick, chan,
                                                    conf.get("topic_setter", "op"), TOPIC_TIME))
            self._names(chan)

    def _names(self, chan):
        conf = self.server.channels.get(chan.lower(), {})
        members = list(conf.get("members", ()))
        if chan.lower() in self.channels:
            members.append(self.nick if members else "@" + self.nick)
        if members:
            self.reply("353", "=", chan, " ".join(members))
        self.reply("366", chan, "End of /NAMES list.")

    def _cmd_names(self, msg):
        if self._need_registration(msg):
            return
        for chan in msg.params[0].split(","):
            self._names(chan)

    def _cmd_part(self, msg):
        if self._need_registration(msg):
            return
        for chan in msg.params[0].split(","):
            self.channels.discard(chan.lower())
            self.send(":%s PART %s%s" % (self.hostmask, chan,
                                         " :" + msg.params[1] if len(msg.params) > 1 else ""))

    def _cmd_privmsg(self, msg):
        if self._need_registration(msg):
            return
        if "echo-message" in self.caps and len(msg.params) >= 2:
            tag = ""
            if "server-time" in self.caps:
                now = datetime.datetime.now(datetime.timezone.utc)
                tag = "@time=%s.%03dZ " % (now.strftime("%Y-%m-%dT%H:%M:%S"),
                                           now.microsecond // 1000)
            # The text's bytes go back as they came (no re-encoding).
            self.send(b"%s:%s %s %s :%s" % (tag.encode(), self.hostmask.encode(),
                                             msg.command.encode(), msg.raw_params[0],
                                             msg.raw_params[-1]))

    _cmd_notice = _cmd_privmsg

    def _cmd_quit(self, msg):
        self.send("ERROR :Closing Link: 127.0.0.1 (%s)" % (msg.params[0] if msg.params
                                                             else "Client Quit"))
        self.conn.close(flush=True)

    # -- waiting ------------------------------------------------------------

    def wait_registered(self, timeout=None):
        """Wait until the welcome burst (001 .. 376) was sent."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.registered or self.closed, _t(timeout)):
                raise AssertionError("connection %d not registered within %.1f s:\n%s"
                                     % (self.index, _t(timeout), "\n".join(self.lines[-20:])))
        if not self.registered:
            raise AssertionError("connection %d closed before registering" % self.index)

    def wait_sasl(self, timeout=None):
        """Wait for the SASL outcome; returns "903", "904", ..."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.sasl_result or self.closed, _t(timeout)):
                raise AssertionError("no SASL outcome within %.1f s:\n%s"
                                     % (_t(timeout), "\n".join(self.lines[-20:])))
        return self.sasl_result


class FakeIrcServer(PkiPaths):
    """The scripted peer: a plaintext listener (port) and, with tls, a TLS
    one (tls_port) whose certificate is signed by the test CA (ca_file) and
    that asks for a client certificate (verified against the same CA).

    accounts: SASL PLAIN credentials {authcid: password}.
    external_fingerprints: None = any CA-signed client certificate passes
    EXTERNAL (account = its CN), else a set of allowed SHA-256 hex digests.
    caps: the CAP LS 302 line.  channels: {"#chan": {"topic": ..., "members":
    ["@op", "bob"], "key": ...}} (unknown channels: the joiner alone, as @).
    pki: share a harness_irc.Pki (e.g. Ngircd(...).pki) instead of a new CA."""

    def __init__(self, accounts=None, caps=FAKE_IRC_CAPS, tls=True, pki=None,
                 external_fingerprints=None, channels=None, nicks_in_use=(),
                 server_name="irc.fake", network="FakeNet", isupport=FAKE_IRC_ISUPPORT):
        self.dir, self._temporary = make_workdir("ircfake-")
        self.host = "127.0.0.1"
        self.accounts = dict(accounts if accounts is not None
                             else {"ferry": "e2e-dummy-sasl-pass"})
        self.caps = caps
        self.external_fingerprints = (None if external_fingerprints is None
                                      else set(external_fingerprints))
        self.channels = {k.lower(): v for k, v in (channels or {}).items()}
        self.nicks_in_use = set(nicks_in_use)
        self.server_name, self.network, self.isupport = server_name, network, isupport
        self.hooks = {}
        self.tls = tls
        self.pki = (pki or make_pki(os.path.join(self.dir, "pki"))) if tls else pki
        self.conns = []
        self.lines = []               # every line from every connection (str)
        self.line_conns = []          # the FakeConn of each entry of lines
        self.tls_errors = []          # failed TLS handshakes (str)
        self._cond = threading.Condition()
        self._stopping = False
        self._threads = []
        self._listeners = []
        self.port = self.tls_port = None

    @property
    def server_fingerprint(self):
        return self.pki.server_fingerprint if self.pki else None

    def caps_offered(self):
        return {t.split("=", 1)[0] for t in self.caps.split()}

    def mechanisms(self):
        for t in self.caps.split():
            name, _, value = t.partition("=")
            if name == "sasl":
                return [m.upper() for m in value.split(",") if m] or ["PLAIN"]
        return []

    def start(self):
        """Listen on free ports of 127.0.0.1; after stop(), start() listens
        on the same ports again."""
        assert not self._listeners, "already started"
        self._stopping = False
        self.port = self._listen(self.port, None)
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.pki.server_cert, self.pki.server_key)
            ctx.load_verify_locations(self.pki.ca_file)
            ctx.verify_mode = ssl.CERT_OPTIONAL
            self.tls_port = self._listen(self.tls_port, ctx)
        _register(self)
        return self

    def _listen(self, port, ctx):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", port or 0))
        ls.listen(64)
        ls.settimeout(0.2)
        self._listeners.append(ls)
        t = threading.Thread(target=self._accept_loop, args=(ls, ctx), daemon=True,
                             name="fakeirc-accept")
        t.start()
        self._threads.append(t)
        return ls.getsockname()[1]

    def _accept_loop(self, ls, ctx):
        while not self._stopping:
            try:
                sock, _ = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            if ctx is None:
                self._add_conn(sock, False)
            else:
                threading.Thread(target=self._handshake, args=(sock, ctx), daemon=True,
                                 name="fakeirc-tls").start()

    def _handshake(self, sock, ctx):
        try:
            sock.settimeout(10 * timeout_scale())
            tls = ctx.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            sock.close()
            with self._cond:
                self.tls_errors.append("%s: %s" % (type(e).__name__, e))
                self._cond.notify_all()
            return
        if self._stopping:
            tls.close()
            return
        self._add_conn(tls, True)

    def _add_conn(self, sock, tls):
        with self._cond:
            conn = FakeConn(self, len(self.conns), sock, tls)
            self.conns.append(conn)
            self._cond.notify_all()

    def _record(self, conn, line):
        with self._cond:
            self.lines.append(line)
            self.line_conns.append(conn)
            self._cond.notify_all()

    def _notify(self):
        with self._cond:
            self._cond.notify_all()

    # -- test API -------------------------------------------------------------

    def mark(self):
        with self._cond:
            return len(self.lines)

    def wait_connection(self, index=None, timeout=None):
        """Connection number index (default 0, the first) once its TCP (and
        TLS) connection is established."""
        index = 0 if index is None else index
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.conns) > index, _t(timeout)):
                raise AssertionError("no connection #%d within %.1f s (TLS errors: %s)"
                                     % (index, _t(timeout), self.tls_errors))
            return self.conns[index]

    def wait_line(self, regex, timeout=None, since=0, conn=None):
        """The re.Match of the first received line at index >= since (of
        conn's lines if given, else of all lines) that regex searches."""
        rx = re.compile(regex)
        tmo = _t(timeout)
        deadline = time.monotonic() + tmo
        pos = since
        with self._cond:
            while True:
                lines = conn.lines if conn is not None else self.lines
                while pos < len(lines):
                    m = rx.search(lines[pos])
                    pos += 1
                    if m:
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("no line matching /%s/ within %.1f s; got:\n%s"
                                         % (regex, tmo, "\n".join(lines[-20:])))
                self._cond.wait(min(left, 0.5))

    def send(self, line, conn=None):
        """Inject a line (str or bytes) to conn (default: the last connection)."""
        with self._cond:
            if conn is None:
                if not self.conns:
                    raise AssertionError("no client connected")
                conn = self.conns[-1]
        conn.send(line)

    def stop(self):
        """Close the listeners and every connection (the ports stay known,
        start() listens on them again)."""
        self._stopping = True
        for ls in self._listeners:
            ls.close()
        for t in self._threads:
            t.join(2)
        self._listeners, self._threads = [], []
        for c in list(self.conns):
            c.conn.close(flush=False)
        _unregister(self)

    kill = stop        # for harness_proc.stop_all

    def cleanup(self):
        self.stop()
        remove_workdir(self.dir, self._temporary)
