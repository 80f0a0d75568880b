"""Light asyncio clients for tests/bench/bench_irc.py: many XMPP c2s sessions
and a few IRC clients in one event loop, cheap enough that the client side
is not what the bench measures.

XmppSession: plaintext c2s to the harness Prosody (no TLS offered there),
in-band registration (XEP-0077) when asked, SASL PLAIN, resource binding.
Once bound, the stream is only cut into stanzas (see XmppSession): slixmpp
would do the same job, but a thousand slixmpp clients in one room cost
minutes of Python on the presence flood; this keeps the client side well
below the servers' load.

IrcPeer: NICK/USER, JOIN (waits for the end of NAMES), PRIVMSG, answers
PING; each PRIVMSG received goes to a callback.
"""

import asyncio
import base64
import itertools
import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr, unescape

NS_CLIENT = "{jabber:client}"
NS_STREAM = "{http://etherx.jabber.org/streams}"
NS_SASL = "{urn:ietf:params:xml:ns:xmpp-sasl}"
NS_BIND = "{urn:ietf:params:xml:ns:xmpp-bind}"
NS_MUC_USER = "{http://jabber.org/protocol/muc#user}"

_ids = itertools.count(1)


def bare(jid):
    return jid.split("/", 1)[0]


def xml_message(to, body, mtype="groupchat"):
    return "<message to=%s type=%s><body>%s</body></message>" % (quoteattr(to),
                                                                 quoteattr(mtype),
                                                                 escape(body))


def muc_join(occupant):
    return ("<presence to=%s><x xmlns='http://jabber.org/protocol/muc'>"
            "<history maxstanzas='0'/></x></presence>" % quoteattr(occupant))


class XmppError(Exception):
    pass


class XmppSession(asyncio.Protocol):
    """One c2s session.  Until the session is bound the stream goes through
    ElementTree's pull parser; after that through a scanner that only cuts
    the stream into top-level stanzas (Prosody's serialiser: no CDATA,
    '<' and '>' escaped in attributes, no nested stanza of the same name)
    and hands each to on_stanza(session, name, raw, head) as bytes (name
    b"message"/b"presence", raw the whole stanza, head its start tag).
    Answers to iq() resolve that call.  A thousand sessions in a room of a
    thousand get a million presences: this costs a few microseconds each
    where a parsed element would cost tens."""

    def __init__(self, user, password, domain="localhost", resource="bench", on_stanza=None):
        self.user, self.password, self.domain = user, password, domain
        self.resource = resource
        self.jid = "%s@%s/%s" % (user, domain, resource)
        self.on_stanza = on_stanza
        self.transport = None
        self._setup = asyncio.Queue()
        self._iq = {}
        self.bound = False
        self._sbuf = b""
        self.closed = asyncio.get_event_loop().create_future()

    # -- plumbing ------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        self._restart()

    def _restart(self):
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._root = None
        self.transport.write(("<?xml version='1.0'?><stream:stream to=%s xmlns='jabber:client' "
                              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
                              % quoteattr(self.domain)).encode())

    def data_received(self, data):
        if self.bound:
            self._scan(data)
            return
        parser = self._parser
        try:
            parser.feed(data)
        except ET.ParseError as e:
            self.transport.close()
            self._fail(XmppError("XML error from the server: %s" % e))
            return
        for ev, el in parser.read_events():
            if ev == "start":
                self._depth += 1
                if self._depth == 1:
                    self._root = el
                continue
            self._depth -= 1
            if self._depth == 1:
                self._root.remove(el)
                self._setup.put_nowait(el)

    def _scan(self, data):
        buf = self._sbuf + data if self._sbuf else data
        pos, n = 0, len(buf)
        find = buf.find
        while pos < n:
            lt = find(b"<", pos)
            if lt < 0:
                pos = n
                break
            gt = find(b">", lt)
            if gt < 0:
                pos = lt
                break
            m = _NAME.match(buf, lt + 1)
            name = m.group(0) if m else b""
            if name in (b"/stream:stream", b"stream:error"):
                self.transport.close()
                self._fail(XmppError("stream closed by the server: %r" % buf[lt:lt + 300]))
                return
            if buf[gt - 1] == 47:       # b"/": <name .../>
                end = gt + 1
            else:
                close = b"</" + name + b">"
                e = find(close, gt)
                if e < 0:
                    pos = lt
                    break
                end = e + len(close)
            raw = buf[lt:end]
            pos = end
            if name == b"iq":
                el = parse(raw)
                fut = self._iq.pop(el.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(el)
                    continue
            if self.on_stanza is not None:
                self.on_stanza(self, name, raw, buf[lt:gt + 1])
        self._sbuf = buf[pos:]

    def connection_lost(self, exc):
        self._fail(XmppError("connection lost: %s" % (exc or "closed by the server")))

    def _fail(self, exc):
        if not self.closed.done():
            self.closed.set_result(exc)
        self._setup.put_nowait(exc)
        for fut in self._iq.values():
            if not fut.done():
                fut.set_exception(exc)
        self._iq.clear()

    def send(self, text):
        self.transport.write(text.encode())

    async def _next(self, timeout):
        el = await asyncio.wait_for(self._setup.get(), timeout)
        if isinstance(el, Exception):
            raise el
        return el

    # -- session setup ---------------------------------------------------------
    async def start(self, host, port, register=False, timeout=60):
        loop = asyncio.get_running_loop()
        await loop.create_connection(lambda: self, host, port)
        feats = await self._next(timeout)
        if feats.tag != NS_STREAM + "features":
            raise XmppError("no stream features: %s" % ET.tostring(feats)[:200])
        if register:
            self.send("<iq type='set' id='reg'><query xmlns='jabber:iq:register'>"
                      "<username>%s</username><password>%s</password></query></iq>"
                      % (escape(self.user), escape(self.password)))
            r = await self._next(timeout)
            if r.get("type") != "result" and r.find(".//{*}conflict") is None:
                raise XmppError("registration of %s failed: %s"
                                % (self.user, ET.tostring(r)[:300]))
        cred = base64.b64encode(("\0%s\0%s" % (self.user, self.password)).encode()).decode()
        self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>"
                  % cred)
        r = await self._next(timeout)
        if r.tag != NS_SASL + "success":
            raise XmppError("authentication of %s failed: %s" % (self.user, ET.tostring(r)[:200]))
        self._restart()
        feats = await self._next(timeout)
        self.send("<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                  "<resource>%s</resource></bind></iq>" % escape(self.resource))
        r = await self._next(timeout)
        j = r.find(NS_BIND + "bind/" + NS_BIND + "jid")
        if r.get("type") != "result" or j is None:
            raise XmppError("bind failed: %s" % ET.tostring(r)[:200])
        self.jid = j.text
        if feats.find("{urn:ietf:params:xml:ns:xmpp-session}session") is not None:
            self.send("<iq type='set' id='sess'><session "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>")
            await self._next(timeout)
        # Nothing comes unasked before our initial presence: from here on
        # the scanner reads the stream.
        self.bound = True
        self.send("<presence/>")   # as a real client does (the roster is empty)
        return self

    async def iq(self, xml_inner, to, itype="set", timeout=30):
        """Send <iq type=itype to=to>xml_inner</iq>; the answer element."""
        iid = "q%d" % next(_ids)
        fut = asyncio.get_running_loop().create_future()
        self._iq[iid] = fut
        self.send("<iq type=%s id=%s to=%s>%s</iq>" % (quoteattr(itype), quoteattr(iid),
                                                         quoteattr(to), xml_inner))
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._iq.pop(iid, None)

    def close(self):
        if self.transport is not None and not self.transport.is_closing():
            try:
                self.transport.write(b"</stream:stream>")
            except Exception:  # noqa: BLE001
                pass
            self.transport.close()


_NAME = re.compile(rb"[^\s/>]+|/[^\s>]+")
_ATTR = {}


def attr(head, name):
    """An attribute's value (str, unescaped) from a start tag (bytes)."""
    rx = _ATTR.get(name)
    if rx is None:
        rx = _ATTR[name] = re.compile(rb"\s" + name.encode() + rb"=(['\"])(.*?)\1", re.S)
    m = rx.search(head)
    return unescape(m.group(2).decode("utf-8", "replace"), _ENT) if m else None


def body_of(raw):
    """The text of <body/> (str) or None."""
    i = raw.find(b"<body>")
    if i < 0:
        if raw.find(b"<body") < 0:
            return None
        b = parse(raw).find(NS_CLIENT + "body")
        return b.text if b is not None else None
    j = raw.find(b"</body>", i)
    return unescape(raw[i + 6:j].decode("utf-8", "replace"), _ENT)


def parse(raw):
    """A whole stanza (bytes) as an element in jabber:client."""
    return ET.fromstring(b"<r xmlns='jabber:client'>" + raw + b"</r>")[0]


_ENT = {"&apos;": "'", "&quot;": '"'}


# ---------------------------------------------------------------------------

class IrcPeer(asyncio.Protocol):
    """A plain IRC client.  on_privmsg(peer, nick, target, text, t_recv)."""

    def __init__(self, nick, on_privmsg=None, clock=None):
        self.nick = nick
        self.on_privmsg = on_privmsg
        self.transport = None
        self._buf = b""
        self._waiters = []   # (predicate, future)
        self.closed = False
        self.lines_in = 0
        import time
        self._clock = clock or time.time

    def connection_made(self, transport):
        self.transport = transport

    def connection_lost(self, exc):
        self.closed = True
        for _, fut in self._waiters:
            if not fut.done():
                fut.set_exception(ConnectionError("IRC connection of %s lost" % self.nick))

    def data_received(self, data):
        now = self._clock()
        buf = self._buf + data
        lines = buf.split(b"\r\n")
        self._buf = lines.pop()
        for raw in lines:
            self.lines_in += 1
            prefix = b""
            if raw.startswith(b":"):
                prefix, _, raw = raw[1:].partition(b" ")
            cmd, _, rest = raw.partition(b" ")
            if cmd == b"PRIVMSG":
                target, _, text = rest.partition(b" :")
                if self.on_privmsg is not None:
                    self.on_privmsg(self, prefix.split(b"!", 1)[0].decode(), target.decode(),
                                    text.decode("utf-8", "replace"), now)
                continue
            if cmd == b"PING":
                self.transport.write(b"PONG " + rest + b"\r\n")
                continue
            if self._waiters:
                self._check(prefix, cmd.decode(), rest.decode("utf-8", "replace"))

    def _check(self, prefix, cmd, rest):
        keep = []
        for pred, fut in self._waiters:
            if fut.done():
                continue
            try:
                hit = pred(cmd, rest)
            except Exception as e:  # noqa: BLE001
                fut.set_exception(e)
                continue
            if hit:
                fut.set_result((cmd, rest))
            else:
                keep.append((pred, fut))
        self._waiters = keep

    def _wait(self, pred):
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append((pred, fut))
        return fut

    def send(self, line):
        self.transport.write(line.encode() + b"\r\n")

    def privmsg(self, target, text):
        self.transport.write(("PRIVMSG %s :%s\r\n" % (target, text)).encode())

    async def start(self, host, port, timeout=20):
        await asyncio.get_running_loop().create_connection(lambda: self, host, port)
        done = self._wait(lambda c, r: c in ("376", "422"))
        bad = self._wait(lambda c, r: c in ("432", "433", "ERROR"))
        self.send("NICK %s" % self.nick)
        self.send("USER %s 0 * :bench" % self.nick)
        finished, _ = await asyncio.wait([done, bad], timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        if bad in finished:
            raise ConnectionError("IRC registration of %s refused: %s" % (self.nick, bad.result()))
        if done not in finished:
            raise TimeoutError("IRC registration of %s timed out" % self.nick)
        bad.cancel()
        return self

    async def join(self, chans, timeout=30):
        """JOIN each channel; returns when NAMES ended for all of them."""
        futs = []
        for ch in chans:
            low = ch.lower()
            futs.append(self._wait(lambda c, r, low=low: c == "366"
                                   and r.split(" ")[1].lower() == low))
            self.send("JOIN %s" % ch)
        await asyncio.wait_for(asyncio.gather(*futs), timeout)

    def close(self):
        if self.transport is not None and not self.transport.is_closing():
            try:
                self.transport.write(b"QUIT :bench done\r\n")
            except Exception:  # noqa: BLE001
                pass
            self.transport.close()
