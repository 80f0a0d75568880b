"""End-to-end harness for Ferry: throwaway XMPP servers, a Ferry process and
a blocking slixmpp client, all on 127.0.0.1.

Run with /usr/bin/python3 (Debian's, which has python3-slixmpp).

Every process started here is put in its own session (process group) and is
registered in _LIVE; stop_all() (installed with atexit, and called by the
runner on SIGTERM/SIGINT) kills whatever is still running.
"""

import asyncio
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECRET = "e2e-dummy-secret"          # a test dummy, not a real secret
USER_PASSWORD = "e2e-dummy-pass"

# Ferry's log lines are "TIMESTAMP LEVEL [scope] message" (gateway/log.h).
ONLINE_RE = r"^\S+\s+info\s+\[[^\]]*\]\s.*\bonline\b"      # the link is up
DEBUG_RE = r"^\S+\s+debug\s+\["

# Patterns of a sanitizer report in a process's stderr.
SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|runtime error:|LeakSanitizer")


def make_workdir(prefix):
    """(path, temporary): a fresh directory for one server or Ferry.
    Under $FERRY_E2E_LOGDIR (tests/run.sh sets it in the build dir) it is
    kept for post-mortems; otherwise it is a temp dir removed at cleanup."""
    base = os.environ.get("FERRY_E2E_LOGDIR")
    if base:
        os.makedirs(base, exist_ok=True)
        return tempfile.mkdtemp(prefix=prefix, dir=base), False
    return tempfile.mkdtemp(prefix=prefix), True


def remove_workdir(path, temporary):
    if temporary and not os.environ.get("FERRY_E2E_KEEP"):
        shutil.rmtree(path, ignore_errors=True)


def timeout_scale():
    """Sanitizer builds are slower: tests multiply their timeouts by this."""
    try:
        return float(os.environ.get("FERRY_E2E_TIMEOUT_SCALE", "1"))
    except ValueError:
        return 1.0


# ---------------------------------------------------------------------------
# processes and ports

_LIVE = []          # objects with a kill() method
_LIVE_LOCK = threading.Lock()


def _register(obj):
    with _LIVE_LOCK:
        _LIVE.append(obj)


def _unregister(obj):
    with _LIVE_LOCK:
        if obj in _LIVE:
            _LIVE.remove(obj)


def stop_all():
    """Kill every process this harness started and that is still alive."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for obj in reversed(live):
        try:
            obj.kill()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


atexit.register(stop_all)


def tool(name):
    """Absolute path of a server program (root's PATH may lack /usr/sbin)."""
    path = shutil.which(name)
    if path:
        return path
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    raise RuntimeError("%s is not installed (run scripts/deps.sh)" % name)


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value or timeout seconds pass.
    Returns that value; raises TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


class Proc:
    """A child process in its own process group, output to a file."""

    def __init__(self, argv, log_path, env=None, cwd=None, stdout_path=None):
        self.argv = argv
        self.log_path = log_path
        self._err = open(log_path, "ab")
        self._out = open(stdout_path, "ab") if stdout_path else self._err
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                      stderr=self._err, env=env, cwd=cwd,
                                      start_new_session=True)
        self.pid = self.popen.pid
        _register(self)

    def alive(self):
        return self.popen.poll() is None

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Exit status (negative: killed by that signal), or None on timeout."""
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def _killpg(self, sig):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout=10, sig=signal.SIGTERM, group=False):
        """Polite stop: sig to the leader (or the whole group), then SIGKILL
        to the whole group. Returns the leader's exit status."""
        if self.alive():
            if group:
                # Signal the children first so that the leader (a shell
                # script waiting for them) can still reap them.
                for pid in group_members(self.pid):
                    if pid != self.pid:
                        try:
                            os.kill(pid, sig)
                        except ProcessLookupError:
                            pass
            else:
                self.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            self._killpg(signal.SIGKILL)
            rc = self.popen.wait()
        self._reap_group()
        return rc

    def _reap_group(self):
        # Children that outlived the leader (e.g. beam.smp helpers) die too.
        self._killpg(signal.SIGKILL)
        for f in {self._err, self._out}:
            try:
                f.close()
            except OSError:
                pass
        _unregister(self)

    def kill(self):
        self._killpg(signal.SIGKILL)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._reap_group()


def group_members(pgid):
    """PIDs of the processes in process group pgid (from /proc)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:      # field 5: pgrp
            pids.append(int(name))
    return pids


def cpu_seconds(pid):
    """utime + stime of a process, in seconds, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


class LogFile:
    """Reads a growing log file; marks let a test look only at new lines."""

    def __init__(self, path):
        self.path = path

    def text(self, since=0):
        try:
            with open(self.path, "rb") as f:
                f.seek(since)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def mark(self):
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def lines(self, since=0):
        return self.text(since).splitlines()

    def grep(self, pattern, since=0):
        rx = re.compile(pattern)
        return [line for line in self.lines(since) if rx.search(line)]

    def wait_for(self, pattern, timeout=10, since=0, alive=None):
        """Wait for a line matching pattern (regex) after offset since.
        alive: optional callable; when it returns False the wait stops early."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines(since):
                if rx.search(line):
                    return line
            if alive is not None and not alive():
                # One last look: the line may have been written just before exit.
                for line in self.lines(since):
                    if rx.search(line):
                        return line
                raise AssertionError("process exited while waiting for /%s/ in %s:\n%s"
                                     % (pattern, self.path, self.tail()))
            if time.monotonic() >= deadline:
                raise AssertionError("no line matching /%s/ within %.1f s in %s:\n%s"
                                     % (pattern, timeout, self.path, self.tail()))
            time.sleep(0.05)

    def tail(self, n=25):
        return "\n".join(self.lines()[-n:])


# ---------------------------------------------------------------------------
# Prosody

PROSODY_CONFIG = """\
-- Generated by Ferry's e2e harness (tests/e2e/ferrytest.py).
run_as_root = true              -- the harness may run as root (CI); data lives in a temp dir
pidfile = "{dir}/prosody.pid"
data_path = "{dir}/data"
certificates = "{dir}/certs"    -- empty: no TLS offered
plugin_paths = {{}}

interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s_port} }}
c2s_interfaces = {{ "127.0.0.1" }}
s2s_ports = {{}}
http_ports = {{}}
https_ports = {{}}

modules_enabled = {{
    "disco"; "ping"; "version"; "roster"; "saslauth"; "register"; {offline_enabled}
}}
modules_disabled = {{ "s2s"; {offline_disabled} }}
allow_registration = true

c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
storage = "internal"

log = {{
    {{ levels = {{ min = "{log_level}" }}, to = "file", filename = "{dir}/prosody.log" }};
}}

-------- conf/prosody.cfg.lua.example, with test port, domain and secret --------
{example}
-------- end of conf/prosody.cfg.lua.example --------

VirtualHost "localhost"
"""

EXAMPLE_PORT = "5347"
EXAMPLE_SECRET = "change-me-to-a-long-random-secret"
EXAMPLE_COMPONENT = "echo.example.org"


def example_text(name, component_port, component, secret):
    """conf/NAME with the test's component port, domain and secret."""
    with open(os.path.join(REPO, "conf", name)) as f:
        text = f.read()
    for needle in (EXAMPLE_PORT, EXAMPLE_SECRET, EXAMPLE_COMPONENT):
        if needle not in text:
            raise RuntimeError("conf/%s no longer contains %r" % (name, needle))
    return (text.replace(EXAMPLE_PORT, str(component_port))
            .replace(EXAMPLE_SECRET, secret)
            .replace(EXAMPLE_COMPONENT, component)
            .replace("example.org", "localhost"))


class Prosody:
    """A throwaway Prosody in a temp dir, on free ports of 127.0.0.1."""

    name = "prosody"

    def __init__(self, workdir=None, component="echo.localhost", secret=SECRET,
                 c2s_port=None, component_port=None, log_level="info", offline=False):
        """offline: load mod_offline (messages to an offline user are kept
        and delivered at their next login), as most production servers do."""
        if workdir:
            self.dir, self._temporary = workdir, False
        else:
            self.dir, self._temporary = make_workdir("prosody-")
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)
        self.host = "127.0.0.1"
        self.domain = "localhost"
        self.component = component
        self.secret = secret
        self.c2s_port = c2s_port or free_port()
        self.component_port = component_port or free_port()
        self.config_path = os.path.join(self.dir, "prosody.cfg.lua")
        with open(self.config_path, "w") as f:
            f.write(PROSODY_CONFIG.format(dir=self.dir, c2s_port=self.c2s_port,
                                          log_level=log_level,
                                          offline_enabled='"offline";' if offline else "",
                                          offline_disabled="" if offline else '"offline";',
                                          example=example_text("prosody.cfg.lua.example",
                                                               self.component_port,
                                                               component, secret)))
        self.proc = None
        self.log = LogFile(os.path.join(self.dir, "prosody.log"))

    def _env(self):
        env = dict(os.environ)
        env["HOME"] = self.dir
        env["PROSODY_CONFIG"] = self.config_path
        return env

    def start(self, timeout=20):
        assert self.proc is None or not self.proc.alive(), "already running"
        for port in (self.c2s_port, self.component_port):
            if port_open(port):
                raise RuntimeError("port %d is already in use" % port)
        log_mark = self.log.mark()
        self.proc = Proc([tool("prosody"), "-F", "--config", self.config_path],
                         os.path.join(self.dir, "prosody.out"), env=self._env(), cwd=self.dir)
        deadline = time.monotonic() + timeout
        # Prosody keeps running when it cannot bind a port: wait for its own
        # word that it listens, not just for the port to accept connections.
        want = ["Activated service '%s' on [127.0.0.1]:%d" % (svc, port)
                for svc, port in (("c2s", self.c2s_port), ("component", self.component_port))]
        while not (all(w in self.log.text(log_mark) for w in want)
                   and port_open(self.c2s_port) and port_open(self.component_port)):
            if "Failed to open server port" in self.log.text(log_mark):
                raise RuntimeError("prosody could not listen\n%s" % self._diag())
            if not self.proc.alive():
                raise RuntimeError("prosody exited: %s\n%s" % (self.proc.wait(1),
                                                               self._diag()))
            if time.monotonic() >= deadline:
                raise RuntimeError("prosody did not listen within %d s\n%s"
                                   % (timeout, self._diag()))
            time.sleep(0.05)
        return self

    def _diag(self):
        out = LogFile(os.path.join(self.dir, "prosody.out")).tail()
        return out + "\n" + self.log.tail()

    def stop(self, timeout=10):
        if self.proc is not None:
            self.proc.stop(timeout)
            self.proc = None
        # Wait until the ports are really closed (a restart reuses them).
        wait_until(lambda: not port_open(self.c2s_port) and not port_open(self.component_port),
                   10, what="prosody ports to close")

    def register(self, user, password=USER_PASSWORD):
        subprocess.run([tool("prosodyctl"), "--config", self.config_path, "register", user,
                        self.domain, password], check=True, env=self._env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        return "%s@%s" % (user, self.domain)

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc = None
        remove_workdir(self.dir, self._temporary)


# ---------------------------------------------------------------------------
# ejabberd

EJABBERD_CONFIG = """\
# Generated by Ferry's e2e harness (tests/e2e/ferrytest.py).
hosts:
  - localhost
loglevel: {log_level}
log_rotate_count: 0
certfiles: []
auth_method: internal
auth_password_format: plain
s2s_access: none
registration_timeout: infinity

listen:
  -
    port: {c2s_port}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: c2s_shaper
    access: c2s
    starttls_required: false
    backlog: 1024
  # ---- the listener of conf/ejabberd.yml.example, test port/domain/secret ----
{example_listen}
  # ---- end of conf/ejabberd.yml.example ----

acl:
  local:
    user_regexp: ""
  loopback:
    ip:
      - 127.0.0.0/8

access_rules:
  local:
    allow: local
  c2s:
    allow: all
  register:
    allow: all
  trusted_network:
    allow: loopback

shaper_rules:
  c2s_shaper: none
  s2s_shaper: none
  max_user_sessions: 10

modules:
  mod_disco: {{}}
  mod_ping: {{}}
  mod_roster: {{}}
  mod_version: {{}}
  mod_register:
    ip_access: trusted_network
    access: register
"""


def ejabberd_example_listen(component_port, component, secret):
    """The items of the `listen:` list in conf/ejabberd.yml.example."""
    text = example_text("ejabberd.yml.example", component_port, component, secret)
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("listen:"):
            inside = True
            continue
        if inside and line and not line[0].isspace() and not line.startswith("#"):
            break
        if inside:
            out.append(line)
    if not any(line.strip() for line in out):
        raise RuntimeError("no listen: items in conf/ejabberd.yml.example")
    return "\n".join(out).rstrip()


EJABBERDCTL_CONFIG = """\
# Generated by Ferry's e2e harness.
EXEC_CMD=as_current_user
ERLANG_NODE={node}
ERL_DIST_PORT={dist_port}
INET_DIST_INTERFACE=127.0.0.1
"""


class Ejabberd:
    """A throwaway ejabberd (ejabberdctl foreground) in a temp dir."""

    name = "ejabberd"

    def __init__(self, component="echo.localhost", secret=SECRET, log_level="info"):
        self.dir, self._temporary = make_workdir("ejabberd-")
        self.host = "127.0.0.1"
        self.domain = "localhost"
        self.component = component
        self.secret = secret
        self.log_level = log_level
        self.c2s_port = free_port()
        self.component_port = free_port()
        self.config_path = os.path.join(self.dir, "ejabberd.yml")
        self.ctl_path = os.path.join(self.dir, "ejabberdctl.cfg")
        self.logs = os.path.join(self.dir, "logs")
        self.spool = os.path.join(self.dir, "spool")
        os.makedirs(self.logs)
        os.makedirs(self.spool)
        # --config-dir is this dir (keeps ejabberdctl away from /etc/ejabberd,
        # which only root and ejabberd can read): Erlang's resolver config.
        with open(os.path.join(self.dir, "inetrc"), "w") as f:
            f.write('{lookup, ["file", "native"]}.\n'
                    '{host, {127,0,0,1}, ["localhost"]}.\n')
        with open(self.config_path, "w") as f:
            f.write(EJABBERD_CONFIG.format(
                c2s_port=self.c2s_port, log_level=log_level,
                example_listen=ejabberd_example_listen(self.component_port, component, secret)))
        self.proc = None
        self.log = LogFile(os.path.join(self.logs, "ejabberd.log"))

    def _write_ctl(self):
        # A fresh distribution port at each start: one in TIME_WAIT from the
        # last run makes the next start fail.
        self.dist_port = free_port()
        with open(self.ctl_path, "w") as f:
            f.write(EJABBERDCTL_CONFIG.format(node="ferrye2e%d@localhost" % self.c2s_port,
                                              dist_port=self.dist_port))

    def start(self, timeout=60):
        assert self.proc is None or not self.proc.alive(), "already running"
        for port in (self.c2s_port, self.component_port):
            if port_open(port):
                raise RuntimeError("port %d is already in use" % port)
        self._write_ctl()
        env = dict(os.environ)
        env["HOME"] = self.dir
        argv = [self._ejabberdctl(), "--config-dir", self.dir, "--config", self.config_path,
                "--ctl-config", self.ctl_path, "--logs", self.logs, "--spool", self.spool,
                "foreground"]
        self.proc = Proc(argv, os.path.join(self.dir, "ejabberd.out"), env=env, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while not (port_open(self.c2s_port) and port_open(self.component_port)):
            if not self.proc.alive():
                raise RuntimeError("ejabberd exited: %s\n%s" % (self.proc.wait(1), self._diag()))
            if time.monotonic() >= deadline:
                raise RuntimeError("ejabberd did not listen within %d s\n%s"
                                   % (timeout, self._diag()))
            time.sleep(0.1)
        return self

    def _ejabberdctl(self):
        """ejabberdctl refuses to run as anyone but root or `ejabberd` (it
        checks before reading the ctl config): other users get a copy with
        that check disabled."""
        path = tool("ejabberdctl")
        if os.geteuid() == 0:
            return path
        with open(path) as f:
            text = f.read()
        copy = os.path.join(self.dir, "ejabberdctl")
        with open(copy, "w") as f:
            f.write(re.sub(r"(?m)^INSTALLUSER=.*$", "INSTALLUSER=", text))
        os.chmod(copy, 0o755)
        return copy

    def _diag(self):
        return (LogFile(os.path.join(self.dir, "ejabberd.out")).tail() + "\n"
                + self.log.tail() + "\n"
                + LogFile(os.path.join(self.logs, "error.log")).tail())

    def stop(self, timeout=15):
        if self.proc is not None:
            # ejabberdctl is a shell script waiting for erl: signal the whole
            # group, beam.smp stops cleanly on SIGTERM (init:stop()).
            self.proc.stop(timeout, group=True)
            self.proc = None

    def register(self, user, password=USER_PASSWORD):
        """In-band registration (XEP-0077): much cheaper than ejabberdctl."""
        jid = "%s@%s" % (user, self.domain)
        register_inband(jid, password, self.host, self.c2s_port)
        return jid

    def cleanup(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc = None
        remove_workdir(self.dir, self._temporary)


SERVERS = {"prosody": Prosody, "ejabberd": Ejabberd}


# ---------------------------------------------------------------------------
# Ferry

FERRY_CONFIG = """\
# Generated by Ferry's e2e harness.
xmpp = {{
    host = "{host}";
    port = {port};
    secret = "{secret}";
    keepalive = {keepalive};
    reconnect_min = {reconnect_min};
    reconnect_max = {reconnect_max};
{xmpp_extra}
}};
store = {{
    path = "{store}";
}};
log = {{
    level = "{log_level}";
}};
http = {{
    enabled = {http_enabled};
    address = "127.0.0.1";
    port = {http_port};
}};
access = {{
{access}
}};
transports = (
    {{
        driver = "loopback";
        domain = "{component}";
{transport_extra}
    }}
);
"""


def ferry_bin():
    path = os.environ.get("FERRY_BIN") or os.path.join(REPO, "build", "ferry")
    return os.path.abspath(path)


def sanitizer_report(text):
    """The first sanitizer report line in text, or None."""
    for line in text.splitlines():
        if SANITIZER_RE.search(line):
            return line
    return None


def ferry_config_text(server=None, host="127.0.0.1", port=5347, secret=None,
                      keepalive=60, reconnect_min=1, reconnect_max=2, store=":memory:",
                      log_level="info", http_port=None, access=None, component=None,
                      xmpp_extra="", transport_extra=""):
    if server is not None:
        host, port = server.host, server.component_port
        component = component or server.component
        secret = secret if secret is not None else server.secret
    component = component or "echo.localhost"
    if secret is None:
        secret = SECRET
    if access is None:
        access = '    open = false;\n    allow_domains = [ "localhost" ];'
    return FERRY_CONFIG.format(host=host, port=port, secret=secret, keepalive=keepalive,
                               reconnect_min=reconnect_min, reconnect_max=reconnect_max,
                               store=store, log_level=log_level,
                               http_enabled="true" if http_port else "false",
                               http_port=http_port or 8080, access=access, component=component,
                               xmpp_extra=xmpp_extra, transport_extra=transport_extra)


class Ferry:
    """A Ferry process with its own config file and stderr log."""

    def __init__(self, server=None, workdir=None, **config):
        if workdir:
            self.dir, self._temporary = workdir, False
        else:
            self.dir, self._temporary = make_workdir("ferry-")
        self.bin = ferry_bin()
        self.config_path = os.path.join(self.dir, "ferry.conf")
        self.server = server
        self.config = dict(config)
        self.config.setdefault("store", os.path.join(self.dir, "ferry.db"))
        self.http_port = self.config.get("http_port")
        self.write_config()
        self.log = LogFile(os.path.join(self.dir, "ferry.err"))
        self.proc = None
        self.exit_status = None
        self._reported = False

    def write_config(self, text=None):
        if text is None:
            text = ferry_config_text(self.server, **self.config)
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    def start(self, wait_online=True, timeout=15):
        self.proc = Proc([self.bin, "-c", self.config_path], self.log.path, cwd=self.dir,
                         stdout_path=os.path.join(self.dir, "ferry.out"))
        if wait_online:
            self.wait_log(ONLINE_RE, timeout * timeout_scale())
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def mark(self):
        return self.log.mark()

    def wait_log(self, pattern, timeout=10, since=0):
        return self.log.wait_for(pattern, timeout, since, alive=self.alive)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def terminate(self, timeout=5):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return self.exit_status
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout)
        if rc is None:
            self.proc.kill()
        else:
            self.proc.stop(1)
        self.exit_status = rc
        self.proc = None
        return rc

    def check_sanitizers(self):
        """Raise AssertionError if Ferry's stderr holds a sanitizer report."""
        report = sanitizer_report(self.log.text())
        if report and not self._reported:
            self._reported = True       # one failure per report, not one per check
            raise AssertionError("sanitizer report in Ferry's stderr (%s): %s\n%s"
                                 % (self.log.path, report, self.log.tail(60)))

    def cleanup(self):
        """Stop Ferry (SIGTERM), check its exit status and its stderr; for
        addCleanup(). Raises AssertionError on a sanitizer report or an
        unclean exit."""
        try:
            rc = 0
            if self.proc is not None:
                rc = self.terminate(10)
            self.check_sanitizers()
            if rc is None:
                raise AssertionError("ferry still running 10 s after SIGTERM (killed)\n%s"
                                     % self.log.tail())
            if rc != 0:
                raise AssertionError("ferry exited with status %s on SIGTERM\n%s"
                                     % (rc, self.log.tail()))
        finally:
            remove_workdir(self.dir, self._temporary)


def run_ferry(args, timeout=20, cwd=None):
    """Run the Ferry binary to completion (for -n, --version, --help).
    Returns CompletedProcess with text stdout/stderr; checks sanitizers."""
    cp = subprocess.run([ferry_bin()] + list(args), stdin=subprocess.DEVNULL,
                        capture_output=True, timeout=timeout * timeout_scale(), cwd=cwd)
    cp.stdout = cp.stdout.decode("utf-8", "replace")
    cp.stderr = cp.stderr.decode("utf-8", "replace")
    report = sanitizer_report(cp.stderr)
    if report:
        raise AssertionError("sanitizer report from %s: %s\n%s" % (args, report, cp.stderr))
    return cp


# ---------------------------------------------------------------------------
# XMPP client (slixmpp in a background event loop)

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

    def disco_info(self, jid, timeout=10):
        """(identities, features): identities as (category, type, name) tuples."""
        iq = self._iq(lambda t: self.xmpp["xep_0030"].get_info(jid=jid, cached=False,
                                                                timeout=t), timeout)
        info = iq["disco_info"]
        ids = [(i[0], i[1], i[3]) for i in info["identities"]]
        return ids, set(info["features"])

    def disco_items(self, jid, timeout=10):
        iq = self._iq(lambda t: self.xmpp["xep_0030"].get_items(jid=jid, timeout=t), timeout)
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

    # -- messages and presence -----------------------------------------
    def send_message(self, to, body, mtype="chat", timeout=5):
        async def go():
            msg = self.xmpp.make_message(mto=to, mbody=body, mtype=mtype)
            msg["id"] = "e2e-%d" % int(time.monotonic() * 1e6)
            msg.send()
            return msg["id"]
        return self._run(go(), timeout)

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


# ---------------------------------------------------------------------------
# unittest glue


class FerryCase(unittest.TestCase):
    """Base class: helpers that start things and register their cleanup."""

    server_kind = "prosody"

    def start_server(self, kind=None, **kw):
        server = SERVERS[kind or self.server_kind](**kw)
        self.addCleanup(server.cleanup)
        server.start()
        return server

    def start_ferry(self, server, wait_online=True, **config):
        ferry = Ferry(server, **config)
        self.addCleanup(ferry.cleanup)
        ferry.start(wait_online=wait_online)
        return ferry

    def client(self, server, user="alice", register=True):
        """A connected client for user@domain (registered first unless told)."""
        if register:
            jid = server.register(user)
        else:
            jid = "%s@%s" % (user, server.domain)
        c = Client(jid, host=server.host, port=server.c2s_port)
        self.addCleanup(c.close)
        c.connect()
        return c

    def assert_echo(self, client, to="x@echo.localhost", body="ping ✓"):
        got = client.echo(to, body)
        self.assertEqual(got, body)
