"""E2E harness, processes and ports: work directories, free ports, Proc (a
child in its own process group), LogFile, wait_until and the registry of live
processes that stop_all() (installed with atexit) cleans up.

Part of the harness whose facade is ferrytest.py; tests import that.
"""

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

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECRET = "e2e-dummy-secret"          # a test dummy, not a real secret
USER_PASSWORD = "e2e-dummy-pass"


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

