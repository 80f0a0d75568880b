"""A minimal, fast stand-in for Twilio's send endpoint for benchmarks:
asyncio, HTTP/1.1 keep-alive, answers 201 with a Twilio-shaped body and
records (arrival time, Body) for every send.  GET /_stats returns the
records as JSON.  Not a faithful fake (tests/e2e/fakes/fake_twilio.py is):
it only has to be fast enough not to be the bottleneck.

    /usr/bin/python3 fast_fake.py PORT
"""

import asyncio
import json
import os
import sys
import time
import urllib.parse

records = []


def reply(status, body, ctype="application/json"):
    head = ("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
            % (status, ctype, len(body)))
    return head.encode() + body


async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            now = time.time()
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            body = await reader.readexactly(length) if length else b""
            if method == "GET" and path == "/_stats":
                writer.write(reply(200, json.dumps(records).encode()))
            elif method == "POST":
                fields = urllib.parse.parse_qs(body.decode("utf-8"))
                records.append((now, fields.get("Body", [""])[0]))
                sid = "SM" + os.urandom(16).hex()
                writer.write(reply(201, ('{"sid":"%s","status":"queued"}' % sid).encode()))
            else:
                writer.write(reply(404, b"{}"))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(serve, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
