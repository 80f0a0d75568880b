#!/usr/bin/python3
"""Ferry's local demo: a Prosody on 127.0.0.1 with the component
echo.localhost, an account demo@localhost (password "demo") and Ferry with
the loopback transport, in the foreground.  State lives in .demo/.

    /usr/bin/python3 scripts/demo.py build/ferry

Ctrl-C (or SIGTERM) stops Ferry, then Prosody.  Reuses the e2e harness's
Prosody launcher (tests/e2e/ferrytest.py).
"""

import os
import secrets
import signal
import socket
import subprocess
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import ferrytest as ft  # noqa: E402

COMPONENT = "echo.localhost"


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
    # A fresh component secret each run; it is written to files under .demo/
    # (mode 0700) and never printed.
    secret = secrets.token_hex(16)

    c2s_port = port_or_free(5222)
    component_port = port_or_free(5347)
    http_port = port_or_free(8080)

    prosody = ft.Prosody(workdir=os.path.join(state, "prosody"), component=COMPONENT,
                         secret=secret, c2s_port=c2s_port, component_port=component_port)
    ferry_proc = None
    stopping = []

    def on_term(signum, _frame):
        stopping.append(signum)
        if ferry_proc is not None and ferry_proc.poll() is None:
            ferry_proc.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    try:
        prosody.start()
        prosody.register("demo", "demo")

        config_path = os.path.join(state, "ferry.conf")
        text = ft.ferry_config_text(prosody, store=os.path.join(state, "ferry.db"),
                                    log_level="info", http_port=http_port,
                                    reconnect_min=1, reconnect_max=10)
        fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)

        print("""
Ferry demo
  XMPP server : Prosody on 127.0.0.1, client port %d (plain, no TLS)
  account     : demo@localhost   password: demo
  gateway     : %s (loopback transport: echoes what you send)
  health      : http://127.0.0.1:%d/healthz
  state, logs : %s  (Prosody log: prosody/prosody.log)

In an XMPP client (Gajim, Dino, Profanity, ...) add the account demo@localhost
with password "demo", server 127.0.0.1, port %d, TLS/encryption off (allow
plain-text authentication), then send a message to anything@%s, or look
at %s in the service discovery window.  Ctrl-C stops the demo.
""" % (c2s_port, COMPONENT, http_port, state, c2s_port, COMPONENT, COMPONENT), flush=True)

        # Ferry stays in our process group: Ctrl-C reaches it directly.
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
        print("demo: stopping prosody", flush=True)
        prosody.stop()
        prosody.cleanup()


if __name__ == "__main__":
    sys.exit(main())
