"""E2E harness, IRC: a throwaway ngircd on 127.0.0.1 (plaintext and TLS
ports, a test CA, an IRC operator) and IrcClient, a small line-based IRC
client whose socket I/O runs in a thread.

    irc = Ngircd(); irc.start()                 # irc.port, irc.tls_port, irc.ca_file
    a = irc.client("alice")                     # connected and registered (001 .. MOTD end)
    b = irc.client("bob", tls=True, cert=True)  # TLS, trusting irc.ca_file, client cert
    a.join("#chan"); b.join("#chan")
    mark = b.mark()
    a.privmsg("#chan", "hello")
    m = b.wait_for(r"PRIVMSG #chan :hello$", since=mark)   # an IrcMessage
    m.nick, m.command, m.params, m.raw                      # "alice", "PRIVMSG", [...], b"..."
    b.oper(irc.oper_name, irc.oper_password); b.kick("#chan", "alice", "bye")
    irc.stop(); irc.start()                     # same ports
    irc.cleanup()                               # also closes the clients made by irc.client()

Every received line is kept (IrcClient.messages, in order); wait_for() is
bounded and never sleeps blindly.  PINGs are answered by the I/O thread.
The TLS material (make_pki) is shared with harness_ircfake.FakeIrcServer.

Part of the harness whose facade is ferrytest.py; tests import that.
"""

import base64
import collections
import hashlib
import os
import re
import secrets
import select
import socket
import ssl
import subprocess
import threading
import time

from harness_proc import (LogFile, Proc, _register, _unregister, free_port, make_workdir,
                          port_open, remove_workdir, timeout_scale, tool, wait_until)

__all__ = [
    "IRC_OPER_NAME", "IRC_OPER_PASSWORD", "Pki", "make_pki", "issue_client_cert",
    "cert_fingerprint", "ngircd_info", "Ngircd", "NGIRCD_CONFIG", "IrcMessage",
    "parse_irc_line", "IrcError", "IrcClient",
]

IRC_OPER_NAME = "ferryoper"
IRC_OPER_PASSWORD = "e2e-dummy-oper-pass"      # a test dummy, not a real secret


def _t(timeout, default=10.0):
    return (default if timeout is None else timeout) * timeout_scale()


# ---------------------------------------------------------------------------
# test PKI (openssl CLI)

class Pki(collections.namedtuple("Pki", "dir ca_file ca_key server_cert server_key "
                                        "server_fingerprint client_cert client_key "
                                        "client_fingerprint dh_file")):
    """Paths of a throwaway CA, a server certificate for 127.0.0.1/localhost,
    a client certificate (CN ferry-e2e-client) signed by the CA, and DH
    parameters.  Fingerprints: lowercase hex SHA-256 of the DER (the form
    ngircd prints and CertFP uses)."""


def _openssl(*args, cwd):
    cp = subprocess.run([tool("openssl")] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, timeout=30)
    if cp.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args[:2]),
                                                      cp.stderr.decode("utf-8", "replace")))


def cert_fingerprint(path):
    """Lowercase hex SHA-256 of a PEM certificate's DER."""
    with open(path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def _issue(directory, name, cn, ext_lines):
    key, csr, ext = (os.path.join(directory, name + s) for s in (".key", ".csr", ".ext"))
    cert = os.path.join(directory, name + ".pem")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + cn, cwd=directory)
    with open(ext, "w") as f:
        f.write("\n".join(ext_lines + ["subjectKeyIdentifier=hash",
                                       "authorityKeyIdentifier=keyid,issuer"]) + "\n")
    _openssl("x509", "-req", "-in", csr, "-CA", "ca.pem", "-CAkey", "ca.key",
             "-set_serial", "0x%x" % secrets.randbits(63), "-days", "30", "-out", cert,
             "-extfile", ext, cwd=directory)
    os.chmod(key, 0o600)
    return cert, key, cert_fingerprint(cert)


def make_pki(directory):
    """Generate the test CA, server and client certificates in directory
    (created if needed); about 0.1 s with EC keys."""
    os.makedirs(directory, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/CN=Ferry e2e test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    os.chmod(os.path.join(directory, "ca.key"), 0o600)
    server_cert, server_key, server_fp = _issue(
        directory, "server", "localhost",
        ["subjectAltName=IP:127.0.0.1,DNS:localhost", "basicConstraints=CA:FALSE",
         "keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=serverAuth"])
    client_cert, client_key, client_fp = _issue(directory, "client", "ferry-e2e-client",
                                                _CLIENT_EXT)
    # RFC 7919 ffdhe2048: instant, unlike generating parameters (ngircd with
    # GnuTLS generates them at every start when DHFile is missing).
    dh = os.path.join(directory, "dh.pem")
    _openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048",
             "-out", dh, cwd=directory)
    return Pki(directory, os.path.join(directory, "ca.pem"), os.path.join(directory, "ca.key"),
               server_cert, server_key, server_fp, client_cert, client_key, client_fp, dh)


_CLIENT_EXT = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature",
               "extendedKeyUsage=clientAuth"]


def issue_client_cert(pki, name, cn=None):
    """Another client certificate signed by pki's CA: (cert, key, fingerprint)."""
    if not re.match(r"^[A-Za-z0-9_-]+$", name):
        raise ValueError("bad certificate file name %r" % (name,))
    return _issue(pki.dir, name, cn or name, _CLIENT_EXT)


# ---------------------------------------------------------------------------
# ngircd

_NGIRCD_INFO = None


def ngircd_info():
    """{"version": "26.1", "tls": bool, "certfp": bool, "flags": [...]} of
    the installed ngircd (from --version and the binary's strings)."""
    global _NGIRCD_INFO
    if _NGIRCD_INFO is None:
        path = tool("ngircd")
        out = subprocess.run([path, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=10).stdout.decode("utf-8",
                                                                                 "replace")
        m = re.search(r"ngIRCd (\S+?)-(\S+)", out)
        version, flags = (m.group(1), m.group(2).split("+")) if m else ("?", [])
        with open(path, "rb") as f:
            certfp = b"has client certificate fingerprint" in f.read()
        tls = "SSL" in flags
        _NGIRCD_INFO = {"version": version, "flags": flags, "tls": tls,
                        "certfp": tls and certfp}
    return _NGIRCD_INFO


NGIRCD_CONFIG = """\
# Generated by Ferry's e2e harness (tests/e2e/harness_irc.py).
[Global]
	Name = {name}
	Info = Ferry e2e test server
	AdminInfo1 = Ferry e2e
	AdminInfo2 = 127.0.0.1
	AdminEMail = e2e@localhost
	Listen = {listen}
	Ports = {port}
	MotdPhrase = {motd}
{password}
[Limits]
	MaxConnections = 0
	MaxConnectionsIP = 0
	MaxJoins = 0
	MaxNickLength = {max_nick_length}
	MaxPenaltyTime = 0
	PingTimeout = {ping_timeout}
	PongTimeout = {pong_timeout}

[Options]
	DNS = no
	Ident = no
	PAM = no
	# The default, /etc/ngircd/ngircd.conf.d, would pull in the system's snippets.
	IncludeDir = {dir}/conf.d
	# Lets an IRC operator KICK (and MODE) in channels where it is no chanop.
	OperCanUseMode = yes
{ssl}
[Operator]
	Name = {oper_name}
	Password = {oper_password}
{extra}
"""

NGIRCD_SSL = """
[SSL]
	CertFile = {cert}
	KeyFile = {key}
	CAFile = {ca}
	DHFile = {dh}
	Ports = {tls_port}
"""


class PkiPaths:
    """TLS material of a server with a .pki (Pki or None), for Ferry's config
    and for IrcClient: ca_file, client_cert, client_key, client_fingerprint."""

    @property
    def ca_file(self):
        return self.pki.ca_file if self.pki else None

    @property
    def client_cert(self):
        return self.pki.client_cert if self.pki else None

    @property
    def client_key(self):
        return self.pki.client_key if self.pki else None

    @property
    def client_fingerprint(self):
        return self.pki.client_fingerprint if self.pki else None


class Ngircd(PkiPaths):
    """A throwaway ngircd (foreground, -n) in a temp dir on free ports of
    127.0.0.1, with the test settings of test-servers.md.

    port: plaintext; tls_port: TLS (None when tls is off or unsupported);
    ca_file: the CA to trust; client_cert/client_key/client_fingerprint: a
    client certificate ngircd reports as CertFP; oper_name/oper_password.
    tls: None = when ngircd supports it, True = required, False = off."""

    name = "ngircd"

    def __init__(self, workdir=None, server_name="irc.localtest", port=None, tls=None,
                 tls_port=None, oper_name=IRC_OPER_NAME, oper_password=IRC_OPER_PASSWORD,
                 password=None, max_nick_length=30, ping_timeout=600, pong_timeout=20,
                 motd="Ferry e2e test server", extra_config="", listen="127.0.0.1"):
        info = ngircd_info()
        if tls and not info["tls"]:
            raise RuntimeError("this ngircd (%s) has no TLS support" % "+".join(info["flags"]))
        self.tls = info["tls"] if tls is None else bool(tls)
        if workdir:
            self.dir, self._temporary = workdir, False
        else:
            self.dir, self._temporary = make_workdir("ngircd-")
        os.makedirs(os.path.join(self.dir, "conf.d"), exist_ok=True)
        self.host = "127.0.0.1"
        self.server_name = server_name
        self.oper_name, self.oper_password = oper_name, oper_password
        self.password = password
        self.port = port or free_port()
        self.tls_port = None
        self.pki = None
        ssl_block = ""
        if self.tls:
            self.tls_port = tls_port or free_port()
            while self.tls_port == self.port:
                self.tls_port = free_port()
            self.pki = make_pki(os.path.join(self.dir, "pki"))
            ssl_block = NGIRCD_SSL.format(cert=self.pki.server_cert, key=self.pki.server_key,
                                          ca=self.pki.ca_file, dh=self.pki.dh_file,
                                          tls_port=self.tls_port)
        for value in (server_name, oper_name, oper_password, password or "", motd):
            if re.search(r"[\r\n]", value):
                raise ValueError("newline in an ngircd setting: %r" % (value,))
        self.config_path = os.path.join(self.dir, "ngircd.conf")
        with open(self.config_path, "w") as f:
            f.write(NGIRCD_CONFIG.format(
                name=server_name, port=self.port, motd=motd, dir=self.dir, listen=listen,
                password="\tPassword = %s" % password if password else "",
                max_nick_length=max_nick_length, ping_timeout=ping_timeout,
                pong_timeout=pong_timeout, ssl=ssl_block, oper_name=oper_name,
                oper_password=oper_password, extra=extra_config))
        self.listen = [a.strip() for a in listen.split(",")]
        self.proc = None
        self.log = LogFile(os.path.join(self.dir, "ngircd.log"))
        self._clients = []
        self._client_seq = 0

    @property
    def ports(self):
        return tuple(p for p in (self.port, self.tls_port) if p)

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def start(self, timeout=10):
        """Start in the foreground; returns once ngircd says it listens on
        every port.  As root, ngircd switches itself to `nobody` after
        reading its config and keys."""
        assert not self.alive(), "already running"
        for port in self.ports:
            if port_open(port):
                raise RuntimeError("port %d is already in use" % port)
        mark = self.log.mark()
        self.proc = Proc([tool("ngircd"), "-n", "-f", self.config_path], self.log.path,
                         cwd=self.dir)
        # (ngircd prints ::1 as 0::1)
        want = ["Now listening on [%s]:%d " % ("0" + a if a.startswith("::") else a, p)
                for a in self.listen for p in self.ports]
        deadline = time.monotonic() + _t(timeout)
        while True:
            text = self.log.text(mark)
            if "Can't bind socket" in text or "Can't overwrite value" in text:
                self.proc.stop(5)
                raise RuntimeError("ngircd could not start\n%s" % self.log.tail())
            if all(w in text for w in want) and ") ready." in text:
                break
            if not self.proc.alive():
                raise RuntimeError("ngircd exited: %s\n%s" % (self.proc.wait(1),
                                                              self.log.tail()))
            if time.monotonic() >= deadline:
                raise RuntimeError("ngircd did not listen within %.0f s\n%s"
                                   % (_t(timeout), self.log.tail()))
            time.sleep(0.02)
        return self

    def stop(self, timeout=10, hard=False):
        """SIGTERM (or SIGKILL when hard) and wait until the ports are closed,
        so that start() can bind them again."""
        if self.proc is not None:
            if hard:
                self.proc.kill()
            else:
                self.proc.stop(timeout)
            self.proc = None
        wait_until(lambda: not any(port_open(p) for p in self.ports), _t(timeout),
                   what="ngircd ports to close")

    def restart(self, timeout=10):
        self.stop(timeout)
        return self.start(timeout)

    def wait_registered(self, nick, timeout=None, since=0):
        """Wait for ngircd's log line saying user nick registered (e.g. a
        Ferry IRC connection); returns the line."""
        return self.log.wait_for(r'User "%s!' % re.escape(nick), timeout=_t(timeout),
                                 since=since, alive=self.alive)

    def client(self, nick, tls=False, cert=False, connect=True, password=None, **kw):
        """An IrcClient for this server, connected and registered as nick
        unless connect=False (then only constructed).  tls: use tls_port and
        trust ca_file; cert: also present the test client certificate.
        Closed by cleanup(); tests may close it earlier."""
        if tls or cert:
            if not self.tls_port:
                raise RuntimeError("this Ngircd has no TLS port")
            kw.setdefault("ca_file", self.ca_file)
            if cert:
                kw.setdefault("certfile", self.client_cert)
                kw.setdefault("keyfile", self.client_key)
        self._client_seq += 1
        kw.setdefault("log_path", os.path.join(self.dir, "client-%02d-%s.log"
                                               % (self._client_seq, re.sub(r"\W", "_", nick))))
        c = IrcClient(self.host, self.tls_port if (tls or cert) else self.port,
                      tls=bool(tls or cert), **kw)
        self._clients.append(c)
        if connect:
            c.connect(nick, password=password or self.password)
        return c

    def cleanup(self):
        for c in self._clients:
            c.close()
        self._clients = []
        if self.proc is not None:
            self.proc.kill()
            self.proc = None
        remove_workdir(self.dir, self._temporary)


# ---------------------------------------------------------------------------
# IRC lines

class IrcMessage(collections.namedtuple("IrcMessage", "raw tags prefix command params")):
    """One received line.  raw: the bytes without CR LF; tags: dict (IRCv3
    message tags, unescaped); prefix: str or None; command: upper case
    ("PRIVMSG", "001"); params: list of str (UTF-8, undecodable bytes as
    U+FFFD; raw_params has the bytes)."""

    @property
    def line(self):
        return self.raw.decode("utf-8", "replace")

    @property
    def nick(self):
        """The nick (or server name) of the prefix, or None."""
        return self.prefix.split("!", 1)[0].split("@", 1)[0] if self.prefix else None

    @property
    def text(self):
        """The last parameter ("" if none): a message's text, a reason."""
        return self.params[-1] if self.params else ""

    @property
    def raw_params(self):
        return _split_line(self.raw)[3]

    @property
    def ctcp(self):
        """(VERB, argument) of a CTCP message (e.g. ACTION), else None."""
        t = self.text
        if self.command in ("PRIVMSG", "NOTICE") and len(t) >= 2 and t[0] == t[-1] == "\x01":
            verb, _, arg = t[1:-1].partition(" ")
            return verb.upper(), arg
        return None

    def __str__(self):
        return self.line


_TAG_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


def _unescape_tag(v):
    return re.sub(r"\\(.?)", lambda m: _TAG_UNESCAPE.get(m.group(1), m.group(1)), v)


def _split_line(raw):
    """(tags bytes or None, prefix bytes or None, command bytes, [param bytes])."""
    s = raw
    tags = prefix = None
    if s.startswith(b"@"):
        tags, _, s = s[1:].partition(b" ")
    s = s.lstrip(b" ")
    if s.startswith(b":"):
        prefix, _, s = s[1:].partition(b" ")
    params = []
    while s:
        s = s.lstrip(b" ")
        if s.startswith(b":"):
            params.append(s[1:])
            break
        p, _, s = s.partition(b" ")
        if p:
            params.append(p)
    command = params.pop(0) if params else b""
    return tags, prefix, command, params


def parse_irc_line(raw):
    """Parse one line (bytes or str, without CR LF) into an IrcMessage."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    raw = raw.rstrip(b"\r\n")
    tags_b, prefix, command, params = _split_line(raw)
    tags = {}
    if tags_b:
        for item in tags_b.decode("utf-8", "replace").split(";"):
            if item:
                k, _, v = item.partition("=")
                tags[k] = _unescape_tag(v)
    dec = lambda b: b.decode("utf-8", "replace")  # noqa: E731
    return IrcMessage(raw, tags, dec(prefix) if prefix is not None else None,
                      dec(command).upper(), [dec(p) for p in params])


def _check_text(*parts):
    for p in parts:
        if p is not None and re.search(r"[\r\n\0]", p):
            raise ValueError("CR, LF or NUL in an IRC line: %r" % (p,))


class IrcError(Exception):
    """The server refused something: .message is the IrcMessage (or None)."""

    def __init__(self, text, message=None):
        super().__init__(text if message is None else "%s: %s" % (text, message.line))
        self.message = message


# ---------------------------------------------------------------------------
# line I/O in a thread

class LineConn:
    """A connected socket (plain or TLS, handshake done) served by one I/O
    thread: received lines go to on_line(raw_bytes) in that thread, send()
    queues bytes that the thread writes.  One thread owns the socket, so a
    TLS socket is never used by two threads at once.  on_close(reason) is
    called once, in the I/O thread, when the connection ends."""

    def __init__(self, sock, on_line, on_close=None, name="irc", start=True):
        sock.setblocking(False)
        self.sock = sock
        self.name = name
        self._on_line = on_line
        self._on_close = on_close
        self._cond = threading.Condition()
        self._out = bytearray()
        self._queued = 0        # bytes ever queued
        self._sent = 0          # bytes ever written
        self._closing = False
        self._drain_then_close = False
        self.closed = False
        self.close_reason = None
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._run, name="LineConn-" + name, daemon=True)
        if start:
            self._thread.start()

    def start(self):
        """Start the I/O thread (when made with start=False)."""
        self._thread.start()

    def _wake(self):
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def send(self, data, wait=True, timeout=None):
        """Queue data; with wait, return once it is written to the socket.
        Never wait from inside on_line (the I/O thread writes)."""
        with self._cond:
            if self.closed or self._closing:
                raise ConnectionError("%s: connection closed (%s)" % (self.name,
                                                                      self.close_reason))
            self._out += data
            self._queued += len(data)
            target = self._queued
        self._wake()
        if wait and threading.current_thread() is not self._thread:
            with self._cond:
                ok = self._cond.wait_for(lambda: self._sent >= target or self.closed,
                                         timeout if timeout is not None else _t(None))
                if self._sent < target:
                    raise ConnectionError("%s: could not send (%s)" % (
                        self.name, self.close_reason if ok else "timeout"))

    def close(self, flush=True, timeout=None):
        """Stop the I/O thread and close the socket (after writing what is
        queued, when flush); idempotent."""
        with self._cond:
            if self.closed:
                return
            if flush:
                self._drain_then_close = True
            else:
                self._closing = True
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout if timeout is not None else _t(None, 5))
            if self._thread.is_alive():
                with self._cond:
                    self._closing = True
                self._wake()
                self._thread.join(5)

    def wait_closed(self, timeout=None):
        with self._cond:
            return self._cond.wait_for(lambda: self.closed,
                                       timeout if timeout is not None else _t(None))

    def _run(self):
        buf = b""
        reason = "closed locally"
        sock = self.sock
        try:
            while True:
                with self._cond:
                    if self._closing or (self._drain_then_close and not self._out):
                        break
                    want_write = bool(self._out)
                pending = isinstance(sock, ssl.SSLSocket) and sock.pending()
                if pending:
                    readable, writable = True, want_write
                else:
                    r, w, _ = select.select([sock, self._wake_r], [sock] if want_write else [],
                                            [], 1.0)
                    if self._wake_r in r:
                        try:
                            while self._wake_r.recv(4096):
                                pass
                        except (BlockingIOError, InterruptedError):
                            pass
                    readable, writable = sock in r, sock in w
                if readable:
                    try:
                        data = sock.recv(65536)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError,
                            InterruptedError):
                        data = None
                    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                        data = b""
                    if data == b"":
                        reason = "closed by peer"
                        break
                    if data:
                        buf += data
                        while b"\n" in buf:
                            line, buf = buf.split(b"\n", 1)
                            line = line.rstrip(b"\r")
                            try:
                                self._on_line(line)
                            except Exception as e:  # noqa: BLE001 - keep serving
                                print("%s: line handler failed on %r: %r"
                                      % (self.name, line, e), flush=True)
                if writable:
                    with self._cond:
                        chunk = bytes(self._out[:16384])
                    try:
                        n = sock.send(chunk)
                    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError,
                            InterruptedError):
                        n = 0
                    with self._cond:
                        del self._out[:n]
                        self._sent += n
                        self._cond.notify_all()
        except (OSError, ValueError) as e:
            reason = "%s: %s" % (type(e).__name__, e)
        finally:
            try:
                sock.close()
            except OSError:
                pass
            for s in (self._wake_r, self._wake_w):
                s.close()
            with self._cond:
                self.closed = True
                self.close_reason = reason
                self._cond.notify_all()
            if self._on_close is not None:
                try:
                    self._on_close(reason)
                except Exception:  # noqa: BLE001
                    pass


# ---------------------------------------------------------------------------
# IrcClient

_JOIN_ERRORS = {"403", "405", "437", "471", "473", "474", "475", "476", "477", "479", "489"}
_REG_ERRORS = {"431", "432", "433", "436", "437", "461", "462", "464", "465"}


class IrcClient:
    """A line-based IRC client for tests.  The socket is read (and written)
    by an I/O thread that records every line in `messages` (IrcMessage, in
    arrival order) and answers PING.  Methods that expect an answer wait for
    it (bounded by timeout, scaled by FERRY_E2E_TIMEOUT_SCALE) and raise
    IrcError on an error numeric; the others only send.

    TLS: tls=True, ca_file (None: the system's CAs; verify=False: no check),
    certfile/keyfile: a client certificate.  server_hostname defaults to
    host (an IP address is matched against the certificate's IP SANs)."""

    def __init__(self, host="127.0.0.1", port=6667, tls=False, ca_file=None, certfile=None,
                 keyfile=None, verify=True, server_hostname=None, log_path=None,
                 auto_pong=True, timeout=None):
        self.host, self.port = host, port
        self.tls = tls
        self.ca_file, self.certfile, self.keyfile = ca_file, certfile, keyfile
        self.verify = verify
        self.server_hostname = server_hostname or host
        self.log_path = log_path
        self.auto_pong = auto_pong
        self.timeout = timeout            # default for waits (None: 10 s)
        self.messages = []
        self.sent = []                    # raw lines sent, without CR LF
        self.nick = None
        self.caps = set()                 # acknowledged capabilities
        self.available_caps = {}          # CAP LS: name -> value or None
        self.sasl_result = None           # the 903/904/... IrcMessage
        self.account = None               # from 900
        self.peer_cert_der = None
        self._cond = threading.Condition()
        self._conn = None
        self._log = None
        self._log_lock = threading.Lock()
        _register(self)

    # -- connection ---------------------------------------------------------

    def open(self, timeout=None):
        """TCP connect (and TLS handshake); no IRC registration.  Returns self."""
        assert self._conn is None, "already opened"
        sock = socket.create_connection((self.host, self.port), timeout=_t(timeout))
        if self.tls:
            if self.verify:
                ctx = ssl.create_default_context(cafile=self.ca_file)
            else:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if self.certfile:
                ctx.load_cert_chain(self.certfile, self.keyfile)
            try:
                sock = ctx.wrap_socket(sock, server_hostname=self.server_hostname)
            except Exception:
                sock.close()
                raise
            self.peer_cert_der = sock.getpeercert(binary_form=True)
        if self.log_path:
            self._log = open(self.log_path, "ab")
        self._conn = LineConn(sock, self._on_line, self._on_close,
                              name="%s:%d" % (self.host, self.port), start=False)
        self._conn.start()
        return self

    def connect(self, nick, user=None, realname=None, password=None, caps=(), sasl=None,
                timeout=None):
        """open() + register().  Returns self."""
        self.open(timeout)
        self.register(nick, user, realname, password, caps, sasl, timeout)
        return self

    def register(self, nick, user=None, realname=None, password=None, caps=(), sasl=None,
                 timeout=None):
        """PASS/NICK/USER and wait for 001 and the end of the MOTD.
        caps: capabilities to request (CAP LS 302 / REQ / END; those the
        server does not offer are skipped).  sasl: ("PLAIN", authcid,
        password[, authzid]) or ("EXTERNAL",): authenticate before CAP END;
        the outcome is in sasl_result (903 success, 904 failure, ...), a
        failure does not stop the registration.  Returns the 001 message."""
        _check_text(nick, user, realname, password)
        mark = self.mark()
        negotiate = bool(caps) or sasl is not None
        if negotiate:
            self.send_line("CAP LS 302")
        if password:
            self.send_line("PASS " + password)
        self.send_line("NICK " + nick)
        self.send_line("USER %s 0 * :%s" % (user or nick, realname or "Ferry e2e " + nick))
        if negotiate:
            self._negotiate(list(caps) + (["sasl"] if sasl is not None else []), sasl, mark,
                            timeout)
        welcome = self.wait_for(lambda m: m.command == "001" or m.command in _REG_ERRORS
                                or m.command == "ERROR", timeout, since=mark)
        if welcome.command != "001":
            raise IrcError("registration as %s refused" % nick, welcome)
        with self._cond:
            self.nick = welcome.params[0]
        self.wait_for(lambda m: m.command in ("376", "422"), timeout, since=mark)
        return welcome

    def _negotiate(self, wanted, sasl, mark, timeout):
        # CAP LS 302 may come in several lines: "CAP * LS * :..." then "CAP * LS :...".
        pos = mark
        while True:
            i, m = self._wait(lambda m: m.command == "CAP" and len(m.params) >= 3
                              and m.params[1].upper() == "LS", timeout, since=pos)
            pos = i + 1
            for tok in m.params[-1].split():
                name, eq, value = tok.partition("=")
                self.available_caps[name] = value if eq else None
            if not (len(m.params) >= 4 and m.params[2] == "*"):
                break
        req = [c for c in dict.fromkeys(wanted) if c in self.available_caps]
        if req:
            mark = self.mark()
            self.send_line("CAP REQ :" + " ".join(req))
            ans = self.wait_for(lambda m: m.command == "CAP" and len(m.params) >= 3
                                and m.params[1].upper() in ("ACK", "NAK"), timeout, since=mark)
            if ans.params[1].upper() == "ACK":
                self.caps.update(c for c in ans.params[-1].split() if not c.startswith("-"))
        if sasl is not None and "sasl" in self.caps:
            self.authenticate(*sasl, timeout=timeout)
        self.send_line("CAP END")

    def authenticate(self, mechanism, authcid=None, password=None, authzid="", timeout=None):
        """The IRCv3 SASL exchange (PLAIN or EXTERNAL); returns the final
        numeric (903 success; 902, 904, 905, 906, 907, 908 otherwise)."""
        mechanism = mechanism.upper()
        final = {"902", "903", "904", "905", "906", "907"}
        mark = self.mark()
        self.send_line("AUTHENTICATE " + mechanism)
        m = self.wait_for(lambda m: (m.command == "AUTHENTICATE") or m.command in final,
                          timeout, since=mark)
        if m.command == "AUTHENTICATE":
            if mechanism == "PLAIN":
                payload = base64.b64encode(("%s\0%s\0%s" % (authzid, authcid, password))
                                           .encode("utf-8")).decode("ascii")
            elif authzid:
                payload = base64.b64encode(authzid.encode("utf-8")).decode("ascii")
            else:
                payload = ""
            mark = self.mark()
            chunks = [payload[i:i + 400] for i in range(0, len(payload), 400)]
            if not chunks or len(chunks[-1]) == 400:
                chunks.append("+")
            for c in chunks:
                self.send_line("AUTHENTICATE " + c)
            m = self.wait_for(lambda m: m.command in final, timeout, since=mark)
        with self._cond:
            self.sasl_result = m
        return m

    @property
    def sasl_ok(self):
        return self.sasl_result is not None and self.sasl_result.command == "903"

    def _on_line(self, raw):
        msg = parse_irc_line(raw)
        self._log_write(b"<< " + raw)
        if msg.command == "PING" and self.auto_pong:
            arg = msg.raw_params[-1] if msg.params else b""
            self._write(b"PONG :" + arg, wait=False)
        with self._cond:
            if msg.command == "NICK" and self.nick and msg.nick \
                    and msg.nick.lower() == self.nick.lower() and msg.params:
                self.nick = msg.params[0]
            if msg.command == "900" and len(msg.params) >= 3:
                self.account = msg.params[2]
            self.messages.append(msg)
            self._cond.notify_all()

    def _on_close(self, reason):
        self._log_write(("-- closed: %s" % reason).encode())
        with self._cond:
            self._cond.notify_all()

    @property
    def closed(self):
        return self._conn is not None and self._conn.closed

    @property
    def close_reason(self):
        return self._conn.close_reason if self._conn else None

    def close(self):
        """Close the socket now (no QUIT); idempotent."""
        if self._conn is not None:
            self._conn.close(flush=False)
        with self._log_lock:
            if self._log:
                self._log.close()
                self._log = None
        _unregister(self)

    def _log_write(self, data):
        with self._log_lock:
            if self._log:
                self._log.write(data + b"\n")
                self._log.flush()

    kill = close        # for harness_proc.stop_all

    def wait_closed(self, timeout=None):
        """Wait until the server closes the connection (ERROR, restart...)."""
        if not self._conn.wait_closed(self._timeout(timeout)):
            raise AssertionError("connection still open after %.1f s" % self._timeout(timeout))

    # -- sending ------------------------------------------------------------

    def _write(self, raw, wait=True):
        if self._conn is None:
            raise ConnectionError("not connected (call open() or connect())")
        with self._cond:
            self.sent.append(raw)
        self._log_write(b">> " + raw)
        self._conn.send(raw + b"\r\n", wait=wait)

    def send_line(self, line):
        """Send one line (str, UTF-8); CR, LF and NUL are refused."""
        _check_text(line)
        self._write(line.encode("utf-8"))

    def send_raw(self, data, crlf=True):
        """Send bytes as they are: with crlf, one line (CR/LF inside are
        refused, CR LF is appended); without, verbatim."""
        if crlf:
            if re.search(rb"[\r\n]", data):
                raise ValueError("CR or LF inside a raw line: %r" % (data,))
            self._write(data)
        else:
            if self._conn is None:
                raise ConnectionError("not connected")
            self._conn.send(data)

    def privmsg(self, target, text):
        _check_text(target, text)
        self.send_line("PRIVMSG %s :%s" % (target, text))

    def notice(self, target, text):
        _check_text(target, text)
        self.send_line("NOTICE %s :%s" % (target, text))

    def action(self, target, text):
        """CTCP ACTION (/me)."""
        _check_text(target, text)
        self.send_line("PRIVMSG %s :\x01ACTION %s\x01" % (target, text))

    def _mine(self, m):
        return m.nick is not None and self.nick is not None and m.nick.lower() == self.nick.lower()

    def _target_is(self, m, i, name):
        return len(m.params) > i and m.params[i].lower() == name.lower()

    def join(self, chan, key=None, wait=True, timeout=None):
        """JOIN; with wait, until the server's JOIN echo and end of NAMES
        (366).  Returns the JOIN message; IrcError on 471/473/474/475..."""
        _check_text(chan, key)
        mark = self.mark()
        self.send_line("JOIN %s%s" % (chan, " " + key if key else ""))
        if not wait:
            return None
        m = self.wait_for(lambda m: (m.command == "JOIN" and self._mine(m)
                                     and self._target_is(m, 0, chan))
                          or (m.command in _JOIN_ERRORS and self._target_is(m, 1, chan)),
                          timeout, since=mark)
        if m.command != "JOIN":
            raise IrcError("cannot join %s" % chan, m)
        self.wait_for(lambda m: m.command == "366" and self._target_is(m, 1, chan), timeout,
                      since=mark)
        return m

    def part(self, chan, reason=None, wait=True, timeout=None):
        _check_text(chan, reason)
        mark = self.mark()
        self.send_line("PART %s%s" % (chan, " :" + reason if reason else ""))
        if wait:
            return self._expect(lambda m: m.command == "PART" and self._mine(m)
                                and self._target_is(m, 0, chan), {"403", "442"}, mark,
                                timeout, "part " + chan)
        return None

    def topic(self, chan, text=None, wait=True, timeout=None):
        """Set the topic (text) and wait for the TOPIC echo; text None:
        query it and return the topic string (None when unset)."""
        _check_text(chan, text)
        mark = self.mark()
        if text is None:
            self.send_line("TOPIC %s" % chan)
            m = self._expect(lambda m: m.command in ("331", "332") and self._target_is(m, 1, chan),
                             {"403", "442"}, mark, timeout, "topic of " + chan)
            return m.text if m.command == "332" else None
        self.send_line("TOPIC %s :%s" % (chan, text))
        if wait:
            return self._expect(lambda m: m.command == "TOPIC" and self._mine(m)
                                and self._target_is(m, 0, chan), {"403", "442", "482"}, mark,
                                timeout, "set topic of " + chan)
        return None

    def oper(self, name, password, timeout=None):
        """OPER; returns the 381 message, IrcError on 464/491.  ngircd then
        ignores this connection for 10 s (a fixed penalty, MaxPenaltyTime
        or not): try wrong passwords on a spare client."""
        _check_text(name, password)
        mark = self.mark()
        self.send_line("OPER %s %s" % (name, password))
        return self._expect(lambda m: m.command == "381", {"464", "491", "461"}, mark,
                            timeout, "oper")

    def kick(self, chan, nick, reason=None, wait=True, timeout=None):
        _check_text(chan, nick, reason)
        mark = self.mark()
        self.send_line("KICK %s %s%s" % (chan, nick, " :" + reason if reason else ""))
        if wait:
            return self._expect(lambda m: m.command == "KICK" and self._target_is(m, 0, chan)
                                and self._target_is(m, 1, nick),
                                {"401", "403", "441", "442", "482"}, mark, timeout,
                                "kick %s from %s" % (nick, chan))
        return None

    def mode(self, target, *args, wait=False, timeout=None):
        """MODE target args...; with wait, until the MODE echo (or an error)."""
        _check_text(target, *args)
        mark = self.mark()
        self.send_line(" ".join(("MODE", target) + args))
        if wait:
            return self._expect(lambda m: m.command == "MODE" and self._target_is(m, 0, target),
                                {"401", "403", "442", "472", "482", "501", "502"}, mark,
                                timeout, "mode " + target)
        return None

    def change_nick(self, new, wait=True, timeout=None):
        """NICK new; with wait, until the server confirms (then self.nick ==
        new) or refuses (IrcError on 432/433/436/437)."""
        _check_text(new)
        mark = self.mark()
        old = self.nick
        self.send_line("NICK " + new)
        if wait:
            return self._expect(lambda m: m.command == "NICK" and m.nick is not None and old
                                and m.nick.lower() == old.lower(),
                                {"431", "432", "433", "436", "437", "484"}, mark, timeout,
                                "nick change to " + new)
        return None

    def names(self, chan, prefixes=False, timeout=None):
        """NAMES chan: the nicks of the 353 replies up to 366, without the
        membership prefixes (@, + ...) unless prefixes."""
        _check_text(chan)
        mark = self.mark()
        self.send_line("NAMES " + chan)
        end, _ = self._wait(lambda m: m.command == "366" and self._target_is(m, 1, chan),
                            timeout, since=mark)
        with self._cond:
            msgs = self.messages[mark:end]
        out = []
        for m in msgs:
            if m.command == "353" and len(m.params) >= 4 and m.params[2].lower() == chan.lower():
                for n in m.params[3].split():
                    out.append(n if prefixes else n.lstrip("~&@%+!"))
        return out

    def whois(self, nick, timeout=None):
        """WHOIS nick: the replies up to 318 (e.g. 276 has the CertFP)."""
        _check_text(nick)
        mark = self.mark()
        self.send_line("WHOIS " + nick)
        end, m = self._wait(lambda m: m.command in ("318", "401") and self._target_is(m, 1, nick),
                            timeout, since=mark)
        if m.command == "401":
            raise IrcError("no such nick " + nick, m)
        with self._cond:
            return [m for m in self.messages[mark:end + 1]
                    if len(m.params) >= 2 and m.params[1].lower() == nick.lower()]

    def quit(self, reason=None, timeout=None):
        """QUIT and wait for the server to close the connection."""
        _check_text(reason)
        if self.closed:
            return
        try:
            self.send_line("QUIT" + (" :" + reason if reason else ""))
        except ConnectionError:
            return
        self.wait_closed(timeout)
        self.close()

    # -- waiting --------------------------------------------------------------

    def _timeout(self, timeout):
        return _t(timeout if timeout is not None else self.timeout)

    def mark(self):
        """The index of the next message to arrive, for wait_for(since=)."""
        with self._cond:
            return len(self.messages)

    def wait_for(self, pred=None, timeout=None, since=0, command=None):
        """The first message at index >= since that matches: pred is a
        callable(IrcMessage) -> bool or a regex searched in the decoded line;
        command, if given, must equal the command too.  AssertionError (with
        the last lines received) after timeout or when the connection closed
        with no match."""
        return self._wait(pred, timeout, since, command)[1]

    def _wait(self, pred=None, timeout=None, since=0, command=None):
        """wait_for, returning (index in messages, message)."""
        if isinstance(pred, (str, bytes)):
            rx = re.compile(pred if isinstance(pred, str) else pred.decode("utf-8"))
            test = lambda m: rx.search(m.line) is not None  # noqa: E731
        else:
            test = pred or (lambda m: True)
        cmd = command.upper() if command else None
        tmo = self._timeout(timeout)
        deadline = time.monotonic() + tmo
        pos = since
        with self._cond:
            while True:
                while pos < len(self.messages):
                    m = self.messages[pos]
                    pos += 1
                    if (cmd is None or m.command == cmd) and test(m):
                        return pos - 1, m
                if self.closed:
                    raise AssertionError("connection closed (%s) while waiting for %s\n%s"
                                         % (self.close_reason, _describe(pred, cmd),
                                            self._tail()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("nothing matching %s within %.1f s\n%s"
                                         % (_describe(pred, cmd), tmo, self._tail()))
                self._cond.wait(min(left, 0.5))

    def _expect(self, ok, errors, mark, timeout, what):
        m = self.wait_for(lambda m: ok(m) or m.command in errors, timeout, since=mark)
        if m.command in errors:
            raise IrcError("%s refused" % what, m)
        return m

    def _tail(self, n=20):
        return "\n".join("   << " + m.line for m in self.messages[-n:])

    @property
    def lines(self):
        """Every received line, decoded (str)."""
        with self._cond:
            return [m.line for m in self.messages]


def _describe(pred, cmd):
    d = "/%s/" % pred if isinstance(pred, str) else ("a predicate" if pred else "any line")
    return d + (" with command %s" % cmd if cmd else "")
