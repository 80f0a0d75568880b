"""E2E harness, XMPP client: a blocking slixmpp client (Client) whose
asyncio loop runs in a daemon thread, XmppError and in-band registration.

Part of the harness whose facade is ferrytest.py; tests import that.
"""

import asyncio
import threading
import time
import xml.etree.ElementTree as ET

from harness_proc import USER_PASSWORD, _register, _unregister, timeout_scale


def _import_slixmpp():
    import slixmpp  # noqa: F401  (python3-slixmpp; run with /usr/bin/python3)
    return slixmpp


class XmppError(Exception):
    """An IQ answered with type='error'."""

    def __init__(self, condition, text, iq):
        super().__init__("%s: %s" % (condition, text))
        self.condition = condition
        self.text = text
        self.iq = iq


class Client:
    """A slixmpp client whose methods block, each with a timeout.

    The asyncio loop runs in a daemon thread; every slixmpp call is made from
    that thread. Incoming messages and presences are kept in lists so that
    tests can wait for them (wait_message, wait_presence)."""

    def __init__(self, jid, password=USER_PASSWORD, host="127.0.0.1", port=5222):
        self.slixmpp = _import_slixmpp()
        self.jid = jid
        self.password = password
        self.address = (host, port)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="xmpp-" + jid,
                                        daemon=True)
        self._thread.start()
        self._cond = threading.Condition()
        self.messages = []
        self.presences = []
        self._session = None
        self.xmpp = self._run(self._make(), 10)
        _register(self)

    # -- plumbing -------------------------------------------------------
    def _run(self, coro, timeout):
        fut = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout), self.loop)
        try:
            return fut.result(timeout + 5)
        except asyncio.TimeoutError as e:
            raise TimeoutError("XMPP operation timed out after %.1f s" % timeout) from e

    async def _make(self):
        slixmpp = self.slixmpp
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath
        x = slixmpp.ClientXMPP(self.jid, self.password)
        # (xep_0100 is component-side in slixmpp: a client cannot load it.)
        for p in ("xep_0030", "xep_0092", "xep_0199", "xep_0077"):
            x.register_plugin(p)
        x["feature_mechanisms"].unencrypted_plain = True
        self._session = self.loop.create_future()
        x.add_event_handler("session_start", self._on_session)
        x.add_event_handler("failed_auth", self._on_failed_auth)
        x.add_event_handler("disconnected", self._on_disconnected)
        x.register_handler(Callback("ferrytest messages", MatchXPath("{jabber:client}message"),
                                    self._on_message))
        x.register_handler(Callback("ferrytest presences",
                                    MatchXPath("{jabber:client}presence"), self._on_presence))
        return x

    def _on_session(self, _event):
        if not self._session.done():
            self._session.set_result(True)

    def _on_failed_auth(self, _event):
        if not self._session.done():
            self._session.set_exception(RuntimeError("authentication failed for " + self.jid))

    def _on_disconnected(self, _event):
        if self._session is not None and not self._session.done():
            self._session.set_exception(RuntimeError("disconnected before session start"))

    def _on_message(self, msg):
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def _on_presence(self, pres):
        with self._cond:
            self.presences.append(pres)
            self._cond.notify_all()

    def _wait_stanza(self, box, pred, timeout, what):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, st in enumerate(box):
                    if pred(st):
                        del box[i]
                        return st
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no %s within %.1f s; got %s"
                                       % (what, timeout, [str(s) for s in box][-5:]))
                self._cond.wait(left)

    # -- session --------------------------------------------------------
    def connect(self, timeout=15):
        """Connect (no TLS) and log in; blocks until the session starts."""
        async def go():
            if self._session.done():
                self._session = self.loop.create_future()
            self.xmpp.connect(address=self.address, use_ssl=False, force_starttls=False,
                              disable_starttls=True)
            await self._session
            self.xmpp.send_presence()
            await self.xmpp.get_roster()
        self._run(go(), timeout * timeout_scale())
        return self

    def disconnect(self, timeout=5):
        async def go():
            fut = self.xmpp.disconnect(wait=1.0)
            if fut is not None:
                await fut
        try:
            self._run(go(), timeout)
        except Exception:  # noqa: BLE001 - best effort
            pass

    def close(self):
        if self.loop.is_closed():
            return
        self.disconnect()
        self.kill()

    def kill(self):
        _unregister(self)
        if self.loop.is_closed():
            return
        if self.loop.is_running():
            def stop():
                try:
                    self.xmpp.abort()
                except Exception:  # noqa: BLE001
                    pass
                self.loop.stop()
            self.loop.call_soon_threadsafe(stop)
            self._thread.join(5)
        if self._thread.is_alive():
            return
        # Cancel what slixmpp left pending, so that nothing complains at exit.
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    # -- IQ helpers -----------------------------------------------------
    def _iq_error(self, exc):
        iq = exc.iq
        return XmppError(iq["error"]["condition"], iq["error"]["text"], iq)

    def _iq(self, coro_factory, timeout):
        slixmpp = self.slixmpp
        timeout = timeout * timeout_scale()

        async def go():
            try:
                return await coro_factory(timeout)
            except slixmpp.exceptions.IqError as e:
                raise self._iq_error(e) from None
            except slixmpp.exceptions.IqTimeout:
                raise TimeoutError("no IQ answer within %.1f s" % timeout) from None
        return self._run(go(), timeout + 2)

    def command(self, jid, node, fields=None, sessionid=None, action=None, timeout=10):
        """A XEP-0050 command: executes node on jid (fields: a dict
        submitted as a form).  Returns the <command/> element of the
        answer; XmppError on an error answer."""
        NS = "http://jabber.org/protocol/commands"

        def go(t):
            iq = self.xmpp.make_iq_set(ito=jid)
            c = ET.SubElement(iq.xml, "{%s}command" % NS, node=node)
            if sessionid:
                c.set("sessionid", sessionid)
            if action:
                c.set("action", action)
            if fields is not None:
                x = ET.SubElement(c, "{jabber:x:data}x", type="submit")
                for var, value in fields.items():
                    f = ET.SubElement(x, "{jabber:x:data}field", var=var)
                    ET.SubElement(f, "{jabber:x:data}value").text = value
            return iq.send(timeout=t)
        iq = self._iq(go, timeout)
        self.last_iq_from = str(iq["from"])
        return iq.xml.find("{%s}command" % NS)

    def disco_info(self, jid, timeout=10):
        """(identities, features): identities as (category, type, name) tuples."""
        iq = self._iq(lambda t: self.xmpp["xep_0030"].get_info(jid=jid, cached=False,
                                                                timeout=t), timeout)
        info = iq["disco_info"]
        ids = [(i[0], i[1], i[3]) for i in info["identities"]]
        return ids, set(info["features"])

    def disco_items(self, jid, timeout=10, node=None):
        iq = self._iq(lambda t: self.xmpp["xep_0030"].get_items(jid=jid, node=node, timeout=t),
                      timeout)
        return list(iq["disco_items"]["items"])

    def version(self, jid, timeout=10):
        iq = self._iq(lambda t: self.xmpp["xep_0092"].get_version(jid, timeout=t), timeout)
        v = iq["software_version"]
        return {"name": v["name"], "version": v["version"], "os": v["os"]}

    def ping(self, jid, timeout=10):
        return self._iq(lambda t: self.xmpp["xep_0199"].ping(jid, timeout=t), timeout)

    def get_register_form(self, jid, timeout=10):
        """The <query xmlns='jabber:iq:register'/> element of the answer."""
        iq = self._iq(lambda t: self.xmpp["xep_0077"].get_registration(jid=jid, timeout=t),
                      timeout)
        return iq.xml.find("{jabber:iq:register}query")

    def iq_get_raw(self, jid, element, timeout=10):
        """Send an IQ get carrying an ElementTree element; returns the answer."""
        def make(t):
            iq = self.xmpp.make_iq_get(ito=jid)
            iq.xml.append(element)
            return iq.send(timeout=t)
        return self._iq(make, timeout)

    def iq_set_raw(self, jid, element, timeout=10):
        """Send an IQ set carrying an ElementTree element; returns the answer."""
        def make(t):
            iq = self.xmpp.make_iq_set(ito=jid)
            iq.xml.append(element)
            return iq.send(timeout=t)
        return self._iq(make, timeout)

    # -- messages and presence -----------------------------------------
    def send_message(self, to, body, mtype="chat", timeout=5, receipt=False, oob_url=None,
                     subject=None, origin_id=None):
        """Sends a message (body None: no <body/>, e.g. only a chat state,
        or only a subject when subject is given: "" sends <subject/>);
        receipt: ask for an XEP-0184 receipt.  Returns the stanza id."""
        async def go():
            msg = self.xmpp.make_message(mto=to, mbody=body, mtype=mtype)
            msg["id"] = "e2e-%d" % int(time.monotonic() * 1e6)
            if subject is not None:
                ET.SubElement(msg.xml, "{jabber:client}subject").text = subject or None
            elif body is None:
                msg.xml.append(ET.Element("{http://jabber.org/protocol/chatstates}composing"))
            if receipt:
                msg.xml.append(ET.Element("{urn:xmpp:receipts}request"))
            if origin_id:
                ET.SubElement(msg.xml, "{urn:xmpp:sid:0}origin-id", id=origin_id)
            if oob_url:
                x = ET.SubElement(msg.xml, "{jabber:x:oob}x")
                ET.SubElement(x, "{jabber:x:oob}url").text = oob_url
            msg.send()
            return msg["id"]
        return self._run(go(), timeout)

    def invite(self, room, invitee, reason=None, timeout=5):
        """A XEP-0045 mediated invitation through room."""
        async def go():
            msg = self.xmpp.make_message(mto=room)
            x = ET.SubElement(msg.xml, "{http://jabber.org/protocol/muc#user}x")
            inv = ET.SubElement(x, "{http://jabber.org/protocol/muc#user}invite", to=invitee)
            if reason:
                ET.SubElement(inv, "{http://jabber.org/protocol/muc#user}reason").text = reason
            msg.send()
        return self._run(go(), timeout)

    def join_room(self, occupant_jid, password=None, timeout=5):
        """XEP-0045 join: presence with <x xmlns='http://jabber.org/protocol/muc'/>."""
        async def go():
            p = self.xmpp.make_presence(pto=occupant_jid)
            x = ET.SubElement(p.xml, "{http://jabber.org/protocol/muc}x")
            if password is not None:
                ET.SubElement(x, "{http://jabber.org/protocol/muc}password").text = password
            ET.SubElement(x, "{http://jabber.org/protocol/muc}history", maxstanzas="0")
            p.send()
        self._run(go(), timeout)

    def send_presence(self, to, ptype=None, timeout=5):
        async def go():
            self.xmpp.send_presence(pto=to, ptype=ptype)
        self._run(go(), timeout)

    def wait_message(self, frm, timeout=10, mtype=None, pred=None):
        """Wait for a message from frm (full or bare JID string)."""
        timeout = timeout * timeout_scale()

        def match(m):
            f = m["from"]
            if str(f) != frm and f.bare != frm:
                return False
            if mtype is not None and m["type"] != mtype:
                return False
            return pred is None or pred(m)
        return self._wait_stanza(self.messages, match, timeout, "message from " + frm)

    def wait_presence(self, frm, ptype=None, timeout=10):
        """ptype None: an available presence (no type attribute)."""
        timeout = timeout * timeout_scale()

        def match(p):
            f = p["from"]
            if str(f) != frm and f.bare != frm:
                return False
            t = p.xml.get("type")
            return t == ptype
        return self._wait_stanza(self.presences, match, timeout,
                                 "presence %s from %s" % (ptype or "available", frm))

    def echo(self, to, body, timeout=10):
        """Send a chat message to `to` and wait for the reply from `to`."""
        self.send_message(to, body)
        m = self.wait_message(to, timeout, pred=lambda m: m["type"] != "error")
        return m["body"]


def register_inband(jid, password, host, port, timeout=15):
    """Create an account by XEP-0077 in-band registration."""
    slixmpp = _import_slixmpp()
    loop = asyncio.new_event_loop()
    try:
        async def go():
            x = slixmpp.ClientXMPP(jid, password)
            x.register_plugin("xep_0030")
            x.register_plugin("xep_0077")
            x["xep_0077"].force_registration = True
            # slixmpp 1.8 queues every stanza until the session starts, which
            # blocks the pre-auth registration IQs: let them through.
            x._always_send_everything = True
            x["feature_mechanisms"].unencrypted_plain = True
            done = loop.create_future()

            async def on_register(_event):
                resp = x.Iq()
                resp["type"] = "set"
                resp["register"]["username"] = x.boundjid.user
                resp["register"]["password"] = password
                try:
                    await resp.send(timeout=timeout)
                except slixmpp.exceptions.IqError as e:
                    if e.iq["error"]["condition"] != "conflict":
                        if not done.done():
                            done.set_exception(RuntimeError("registration failed: %s"
                                                            % e.iq["error"]["condition"]))
                        return

            def on_session(_event):
                if not done.done():
                    done.set_result(True)

            def on_failed(_event):
                if not done.done():
                    done.set_exception(RuntimeError("login after registration failed"))

            x.add_event_handler("register", on_register)
            x.add_event_handler("session_start", on_session)
            x.add_event_handler("failed_auth", on_failed)
            x.connect(address=(host, port), use_ssl=False, force_starttls=False,
                      disable_starttls=True)
            try:
                await asyncio.wait_for(done, timeout)
            finally:
                fut = x.disconnect(wait=0.5)
                if fut is not None:
                    try:
                        await asyncio.wait_for(fut, 3)
                    except Exception:  # noqa: BLE001
                        pass
        asyncio.set_event_loop(loop)
        loop.run_until_complete(go())
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)

