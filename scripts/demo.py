#!/usr/bin/python3
"""Ferry's local demo, in the foreground, state in .demo/:

  - a Prosody on 127.0.0.1 with the account demo@localhost (password "demo")
    and the components echo.localhost, sms.localhost and irc.localhost;
  - Ferry with the loopback transport (echo.localhost), the SMS transport
    (sms.localhost, provider kannel: demo@localhost owns +15550000001,
    +15550000002 is free to claim by registering) and the IRC transport
    (irc.localhost, one server: "127.0.0.1", the local ngircd, plaintext);
  - a Kannel (bearerbox + smsbox) with its fake SMS centre (fakesmsc): the
    SMS a user sends are printed here as a fake phone receives them, and
    scripts/demo-sms-reply answers from a fake phone (through a Unix socket,
    .demo/phone.sock, to Kannel.inject_mo);
  - an ngircd on 127.0.0.1 (port 6667 when free, plaintext, no TLS):
    #demo%127.0.0.1@irc.localhost is its channel #demo, and
    scripts/demo-irc-say talks there from the IRC side (the port is in
    .demo/irc.port).

    /usr/bin/python3 scripts/demo.py build/ferry

Without Kannel installed (Debian packages kannel, kannel-extras) the SMS
part is left out, without ngircd the IRC part.  Ctrl-C (or SIGTERM) stops
Ferry, then ngircd, Kannel and Prosody.  Reuses the e2e harness
(tests/e2e/ferrytest.py): Prosody, Kannel, Ngircd.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import threading

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import ferrytest as ft  # noqa: E402

COMPONENT = "echo.localhost"
SMS = "sms.localhost"
DEMO_NUMBER = "+15550000001"    # demo@localhost's, assigned in the config
POOL_NUMBER = "+15550000002"    # free: another account can claim it by registering
PHONE = "+15557654321"          # a fake phone to text in the instructions
PHONE_SOCKET = "phone.sock"     # in .demo/; scripts/demo-sms-reply connects here
IRC = "irc.localhost"
IRC_SERVER = "127.0.0.1"        # the IRC server's name in JIDs: #demo%127.0.0.1@irc.localhost
IRC_CHANNEL = "#demo"
IRC_PORT_FILE = "irc.port"      # in .demo/; scripts/demo-irc-say reads the port here
E164_RE = re.compile(r"^\+[1-9][0-9]{6,14}$")

SMS_TRANSPORT = """,
    {
        driver = "sms";
        domain = "%(domain)s";
        description = "SMS gateway (demo: Kannel with a fake SMS centre)";
        provider = "kannel";
        api_url = "http://127.0.0.1:%(sendsms_port)d";
        username = "%(username)s";
        password = "%(password)s";
        public_url = "http://127.0.0.1:%(http_port)d";
        webhook_token = "%(token)s";
        allow_ips = [ "127.0.0.1" ];
        numbers = [ "%(mine)s=demo@localhost", "%(pool)s" ];
        default_country = "1";
    }"""

IRC_TRANSPORT = """,
    {
        driver = "irc";
        domain = "%(domain)s";
        description = "IRC gateway (demo: a local ngircd)";
        servers = (
            { name = "%(server)s"; port = %(port)d; plaintext = true; }
        );
    }"""


def port_or_free(preferred):
    """preferred if nothing listens there and it can be bound, else a free port."""
    if ft.port_open(preferred):
        return ft.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return ft.free_port()


def shown_path(path):
    """path relative to the current directory when it is below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


# ---------------------------------------------------------------------------
# The fake phones: what the fake SMS centre received, printed as it arrives.

def _decode_parts(data):
    """A reassembled concatenated SMS: fakesmsc does not show the coding of
    parts, UCS-2 ones hold UTF-16BE."""
    try:
        text = data.decode("utf-8")
        if "\x00" not in text:
            return text
    except UnicodeDecodeError:
        pass
    return data.decode("utf-16-be", "replace")


def watch_phones(kannel, stop):
    """Prints each SMS the fake SMS centre receives until stop is set."""
    done = 0                    # records of fakesmsc.out already handled
    parts = {}                  # (sender, receiver, ref, total) -> {seq: payload}
    last_size = -1
    while not stop.wait(0.3):
        try:
            size = os.path.getsize(kannel.fakesmsc_path)
            records = kannel.mt_messages()
        except OSError:
            continue
        # A text holding newlines is logged line by line: leave the last
        # record until the log has stopped growing.
        ready = len(records) if size == last_size else len(records) - 1
        last_size = size
        for r in records[done:ready]:
            if r.concat is None:
                text = r.text
            else:
                ref, total, seq = r.concat
                key = (r.sender, r.receiver, ref, total)
                parts.setdefault(key, {})[seq] = r.payload
                if len(parts[key]) < total:
                    continue
                got = parts.pop(key)
                text = _decode_parts(b"".join(got[i] for i in sorted(got)))
            print("[fake phone %s] SMS from %s: %s" % (r.receiver, r.sender, text), flush=True)
        done = max(done, ready)


# ---------------------------------------------------------------------------
# The reply channel: scripts/demo-sms-reply sends one JSON line
# {"from": ..., "to": ..., "text": ...} and gets one back {"ok": ..., "message": ...}.

class PhoneServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, state, kannel):
        self.kannel = kannel
        self.lock = threading.Lock()
        self.path = os.path.join(state, PHONE_SOCKET)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        # Bound by a relative name from inside .demo/ (mode 0700): no limit
        # on the length of the checkout's path (sun_path has 108 bytes).
        cwd = os.getcwd()
        os.chdir(state)
        try:
            super().__init__(PHONE_SOCKET, PhoneHandler)
        finally:
            os.chdir(cwd)

    def close(self):
        self.shutdown()
        self.server_close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def send_mo(self, sender, receiver, text):
        """Hands an MO to the fake SMS centre and waits until Kannel has
        called Ferry's webhook: (ok, message)."""
        if not E164_RE.match(sender) or not E164_RE.match(receiver):
            return False, "numbers are written +<country code><number>, e.g. %s" % PHONE
        if not text:
            return False, "the text is empty"
        with self.lock:
            before = len(self.kannel.mo_http_results())
            try:
                self.kannel.inject_mo(sender, receiver, text)
            except (RuntimeError, ValueError, TimeoutError) as e:
                return False, "the fake SMS centre did not take it: %s" % e

            def finished():
                new = [r for r in self.kannel.mo_http_results()[before:] if r.sender == sender]
                return new[0] if new else None
            try:
                result = ft.wait_until(finished, 30, what="Kannel's webhook call")
            except TimeoutError:
                return False, "Kannel has not called Ferry within 30 s (see .demo/kannel/)"
        if result.status in (200, 202):
            return True, ("SMS from %s to %s handed to Ferry (HTTP %d): it goes to the "
                          "owner of %s (demo@localhost owns %s)."
                          % (sender, receiver, result.status, receiver, DEMO_NUMBER))
        if result.status < 0:
            return False, "Kannel could not reach Ferry's webhook (is Ferry running?)"
        return False, ("Ferry answered Kannel's webhook with HTTP %d (see the demo's log)"
                       % result.status)


class PhoneHandler(socketserver.StreamRequestHandler):
    def handle(self):
        try:
            req = json.loads(self.rfile.readline(65536).decode("utf-8"))
            ok, message = self.server.send_mo(str(req.get("from") or ""),
                                              str(req.get("to") or DEMO_NUMBER),
                                              str(req.get("text") or ""))
        except (ValueError, AttributeError) as e:
            ok, message = False, "bad request: %s" % e
        self.wfile.write(json.dumps({"ok": ok, "message": message}).encode("utf-8") + b"\n")


# ---------------------------------------------------------------------------

def kannel_missing():
    """None when Kannel and fakesmsc are installed, else why not."""
    try:
        ft.kannel_programs()
        return None
    except RuntimeError as e:
        return str(e)


def ngircd_missing():
    """None when ngircd is installed, else why not."""
    try:
        ft.ngircd_info()
        return None
    except (RuntimeError, OSError) as e:
        return str(e)


def stop_quietly(what, fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - keep stopping the rest
        print("demo: stopping %s: %s" % (what, e), file=sys.stderr, flush=True)


def main():
    if len(sys.argv) != 2:
        print("usage: %s FERRY_BINARY" % sys.argv[0], file=sys.stderr)
        return 2
    ferry_bin = os.path.abspath(sys.argv[1])
    if not os.access(ferry_bin, os.X_OK):
        print("demo: %s is not built (run make)" % ferry_bin, file=sys.stderr)
        return 1

    state = os.path.join(REPO, ".demo")
    os.makedirs(state, exist_ok=True)
    os.chmod(state, 0o700)
    # A fresh component secret and webhook token each run; they are written
    # to files under .demo/ (mode 0700) and never printed.
    secret = secrets.token_hex(16)
    token = secrets.token_hex(16)

    c2s_port = port_or_free(5222)
    component_port = port_or_free(5347)
    http_port = port_or_free(8080)

    no_kannel = kannel_missing()
    kannel = None
    if no_kannel is None:
        kannel_dir = os.path.join(state, "kannel")
        shutil.rmtree(kannel_dir, ignore_errors=True)       # last run's logs and FIFO
        os.makedirs(kannel_dir)
        # As tests/e2e/test_sms_kannel.py: MOs and reports go to the
        # instance's webhook with the token.
        kannel = ft.Kannel(
            webhook_base_url="http://127.0.0.1:%d/sms/%s?token=%s" % (http_port, SMS, token),
            workdir=kannel_dir, password=secrets.token_hex(12), http_queue_delay=1)

    no_ngircd = ngircd_missing()
    ngircd = None
    irc_port_path = os.path.join(state, IRC_PORT_FILE)
    try:
        os.unlink(irc_port_path)                            # last run's
    except FileNotFoundError:
        pass
    if no_ngircd is None:
        ngircd_dir = os.path.join(state, "ngircd")
        shutil.rmtree(ngircd_dir, ignore_errors=True)       # last run's config and logs
        os.makedirs(ngircd_dir)
        # Plaintext only: TLS to IRC (the default for real servers) is shown
        # in conf/ferry.conf.example and covered by the e2e tests.
        ngircd = ft.Ngircd(workdir=ngircd_dir, server_name="ngircd.localhost",
                           port=port_or_free(6667), tls=False, motd="Ferry demo IRC server")

    extra = ([SMS] if kannel else []) + ([IRC] if ngircd else [])
    prosody = ft.Prosody(workdir=os.path.join(state, "prosody"), component=COMPONENT,
                         secret=secret, c2s_port=c2s_port, component_port=component_port,
                         extra_components=extra)
    ferry_proc = None
    phone_server = None
    stop_watch = threading.Event()
    stopping = []

    def on_term(signum, _frame):
        stopping.append(signum)
        if ferry_proc is not None and ferry_proc.poll() is None:
            ferry_proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    try:
        if kannel:
            kannel.start()
        if ngircd:
            ngircd.start()
            with open(irc_port_path, "w") as f:
                f.write("%d\n" % ngircd.port)
        prosody.start()
        prosody.register("demo", "demo")

        more = ""
        if kannel:
            more = SMS_TRANSPORT % dict(domain=SMS, sendsms_port=kannel.sendsms_port,
                                        username=kannel.username, password=kannel.password,
                                        http_port=http_port, token=token, mine=DEMO_NUMBER,
                                        pool=POOL_NUMBER)
        if ngircd:
            more += IRC_TRANSPORT % dict(domain=IRC, server=IRC_SERVER, port=ngircd.port)
        config_path = os.path.join(state, "ferry.conf")
        text = ft.ferry_config_text(prosody, store=os.path.join(state, "ferry.db"),
                                    log_level="info", http_port=http_port,
                                    reconnect_min=1, reconnect_max=10, more_transports=more)
        fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)

        if kannel:
            phone_server = PhoneServer(state, kannel)
            threading.Thread(target=phone_server.serve_forever, name="phone", daemon=True).start()
            threading.Thread(target=watch_phones, args=(kannel, stop_watch), name="phones",
                             daemon=True).start()
            sms_gateway = ("\n                %s  (SMS through a local Kannel and its fake SMS "
                           "centre:\n                demo@localhost owns %s; %s is free to "
                           "claim by registering)" % (SMS, DEMO_NUMBER, POOL_NUMBER))
            sms_howto = """  - send a message to %(phone)s@%(sms)s: it leaves as an SMS from
    %(mine)s and the fake phone prints it here,
        [fake phone %(phone)s] SMS from %(mine)s: ...
    (Kannel's own record of it: %(mt_log)s);
  - reply from the fake phone, in another terminal:
        %(reply)s %(phone)s "hello back"
    and the reply arrives in your client from %(phone)s@%(sms)s.
""" % dict(phone=PHONE, sms=SMS, mine=DEMO_NUMBER, mt_log=shown_path(kannel.fakesmsc_path),
           reply=shown_path(os.path.join(REPO, "scripts", "demo-sms-reply")))
        else:
            sms_gateway = ""
            sms_howto = ("  (the SMS part of the demo needs Kannel: %s)\n" % no_kannel)

        if ngircd:
            room = "%s%%%s@%s" % (IRC_CHANNEL, IRC_SERVER, IRC)
            irc_gateway = ("\n                %s  (IRC: the server \"%s\" is a local ngircd, "
                           "port %d, plaintext)" % (IRC, IRC_SERVER, ngircd.port))
            irc_howto = """  - join the group chat %(room)s with any nickname:
    it is the channel %(chan)s of the local IRC server.  Talk in it from the
    IRC side, in another terminal:
        %(say)s "%(chan)s" "hello from IRC"
        %(say)s --stay --nick bob "%(chan)s"     (stays, prints what is said)
    or with any IRC client: 127.0.0.1 port %(port)d, no TLS, e.g.
        irssi -c 127.0.0.1 -p %(port)d -n bob      then  /join %(chan)s
    A private chat with bob: bob%%%(server)s@%(irc)s.
""" % dict(room=room, chan=IRC_CHANNEL, server=IRC_SERVER, irc=IRC, port=ngircd.port,
           say=shown_path(os.path.join(REPO, "scripts", "demo-irc-say")))
        else:
            irc_gateway = ""
            irc_howto = "  (the IRC part of the demo needs ngircd: %s)\n" % no_ngircd

        print("""
Ferry demo
  XMPP server : Prosody on 127.0.0.1, client port %d (plain, no TLS)
  account     : demo@localhost   password: demo
  gateways    : %s (loopback transport: echoes what you send)%s%s
  health      : http://127.0.0.1:%d/healthz
  state, logs : %s  (Prosody log: prosody/prosody.log%s%s)

In an XMPP client (Gajim, Dino, Profanity, ...) add the account demo@localhost
with password "demo", server 127.0.0.1, port %d, TLS/encryption off (allow
plain-text authentication), then:
  - send a message to anything@%s: it comes back;
%s%sCtrl-C stops the demo.
""" % (c2s_port, COMPONENT, sms_gateway, irc_gateway, http_port, state,
       ", Kannel: kannel/" if kannel else "", ", ngircd: ngircd/" if ngircd else "",
       c2s_port, COMPONENT, sms_howto, irc_howto), flush=True)

        # Ferry stays in our process group: Ctrl-C reaches it directly.
        # (Prosody, Kannel and ngircd run in sessions of their own: stopped below.)
        ferry_proc = subprocess.Popen([ferry_bin, "-c", config_path], stdin=subprocess.DEVNULL)
        try:
            rc = ferry_proc.wait()
        except KeyboardInterrupt:
            # A Ctrl-C at the terminal reached Ferry too: let it finish.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                rc = ferry_proc.wait(5)
            except subprocess.TimeoutExpired:
                ferry_proc.send_signal(signal.SIGTERM)
                try:
                    rc = ferry_proc.wait(10)
                except subprocess.TimeoutExpired:
                    ferry_proc.kill()
                    rc = ferry_proc.wait()
        if stopping or rc in (0, -signal.SIGINT, -signal.SIGTERM):
            print("demo: ferry exited (%s)" % rc, flush=True)
            return 0 if rc in (0, -signal.SIGINT, -signal.SIGTERM) else 1
        print("demo: ferry exited with status %s" % rc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if ferry_proc is not None and ferry_proc.poll() is None:
            ferry_proc.send_signal(signal.SIGTERM)
            try:
                ferry_proc.wait(10)
            except subprocess.TimeoutExpired:
                ferry_proc.kill()
                ferry_proc.wait()
        stop_watch.set()
        if ngircd is not None:
            print("demo: stopping ngircd", flush=True)
            stop_quietly("ngircd", ngircd.stop)
            stop_quietly("ngircd", ngircd.cleanup)      # kills leftovers; keeps .demo/ngircd
            try:
                os.unlink(irc_port_path)
            except FileNotFoundError:
                pass
        if phone_server is not None:
            stop_quietly("the reply socket", phone_server.close)
        if kannel is not None:
            print("demo: stopping kannel", flush=True)
            stop_quietly("kannel", kannel.stop)
            stop_quietly("kannel", kannel.cleanup)      # kills leftovers; keeps .demo/kannel
        print("demo: stopping prosody", flush=True)
        stop_quietly("prosody", prosody.stop)
        prosody.cleanup()


if __name__ == "__main__":
    sys.exit(main())
