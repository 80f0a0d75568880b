"""Base for the local fakes of SMS providers' HTTP APIs.

A fake is an HTTP server on 127.0.0.1 (a free port) that follows one
provider's documented API exactly: paths, auth, field names, status codes,
response bodies, and signed webhooks towards the system under test. Tests
drive it directly from Python (no HTTP control plane needed):

    fake = FakeTwilio(...); fake.start()
    fake.fail_next(2, status=429, headers={"Retry-After": "1"})
    fake.delay = 0.5                       # answer every API call late
    fake.wait_sent(1, timeout=10)          # -> list of Sent records
    fake.post_webhook(url, ...)            # provider-specific helpers

Subclasses implement handle(req) -> Reply for their API paths.
"""

import http.server
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


class Request:
    """An HTTP request as the fake received it."""

    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path            # without the query
        self.query = query          # raw query string
        self.headers = headers      # case-insensitive (email.message.Message)
        self.body = body            # bytes

    def form(self):
        """Body (POST form) or query (GET) parsed as ordered (name, value) pairs."""
        raw = self.body.decode("utf-8") if self.method == "POST" else self.query
        return urllib.parse.parse_qsl(raw, keep_blank_values=True)

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class Reply:
    def __init__(self, status=200, body=b"", content_type="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


class Sent:
    """One accepted send, as a fake records it."""

    def __init__(self, request, fields, provider_id):
        self.request = request
        self.fields = fields        # dict of the provider's send fields
        self.provider_id = provider_id
        self.time = time.monotonic()


class FakeProvider:
    name = "fake"

    def __init__(self):
        self.port = None
        self.requests = []          # every Request, in order
        self.sent = []              # accepted sends (Sent)
        self.delay = 0.0            # seconds before answering an API call
        self._failures = []         # queued (status, body, headers) for the next calls
        self._lock = threading.Condition()
        self._server = None
        self._thread = None

    # -- life cycle ------------------------------------------------------
    def start(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                path, _, query = self.path.partition("?")
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = Request(self.command, path, query, self.headers, body)
                with fake._lock:
                    fake.requests.append(req)
                    failure = fake._failures.pop(0) if fake._failures else None
                if fake.delay:
                    time.sleep(fake.delay)
                if failure is not None:
                    status, fbody, fheaders = failure
                    reply = Reply(status, fbody, headers=fheaders)
                else:
                    try:
                        reply = fake.handle(req)
                    except Exception as e:  # noqa: BLE001 - a fake must answer
                        reply = Reply(500, {"fake_error": repr(e)})
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (e.g. Ferry killed mid-request)
                with fake._lock:
                    fake._lock.notify_all()

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    # -- behaviour -------------------------------------------------------
    def handle(self, req):
        raise NotImplementedError

    def fail_next(self, n, status=503, body=None, headers=None):
        """The next n API calls get this answer instead of the real one."""
        with self._lock:
            for _ in range(n):
                self._failures.append((status, body if body is not None else b"", headers or {}))

    def record_sent(self, req, fields, provider_id):
        with self._lock:
            s = Sent(req, fields, provider_id)
            self.sent.append(s)
            self._lock.notify_all()
            return s

    def wait_sent(self, n, timeout=10):
        """Blocks until at least n sends were accepted; returns them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.sent) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("%s: %d of %d sends after %.1f s"
                                       % (self.name, len(self.sent), n, timeout))
                self._lock.wait(left)
            return list(self.sent)


def post(url, body, headers, method="POST", timeout=10):
    """Sends a webhook to the system under test; returns (status, headers, body)."""
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    req = urllib.request.Request(url, data=data if method != "GET" else None,
                                 headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
