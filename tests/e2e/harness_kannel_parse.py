"""E2E harness, Kannel: what does not need a running Kannel.  Parsers of
fakesmsc's log (MT records, concatenated parts) and of smsbox's access log
(regexps), the fakesmsc MO lines, and Kannel config / URL helpers.

Used by harness_kannel.py, which re-exports the public names; tests import
ferrytest.py.
"""

import collections
import re
import urllib.parse

# fakesmsc reads stdin with fgets(buffer, 256): a longer line becomes two MOs.
MAX_MO_LINE = 254
# Bytes of one concatenated 8-bit part (140 minus the 6-byte UDH).
MAX_PART_BYTES = 134

# gwlib's log line prefix: "2026-11-21 08:50:47 [pid] [thread] LEVEL: "
_LOG_PREFIX_RE = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[\d+\] \[\d+\] [A-Z]+: ")
_GOT_RE = re.compile(rb"Got message (\d+): <")
_SENT_RE = re.compile(rb"fakesmsc: sent message (\d+)")
# smsbox-access.log, one line per finished MO webhook call (after retries).
_MO_HTTP_RE = re.compile(r"SMS HTTP-request sender:(\S*) request: '(.*?)' url: '([^']*)' "
                         r"reply: (-?\d+) ", re.S)


def _conf_value(value):
    """A Kannel config value: integers and booleans bare, the rest quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    value = str(value)
    if '"' in value or "\n" in value or "\\" in value:
        raise ValueError("Kannel config value %r: no quotes, backslashes or newlines" % value)
    return '"%s"' % value


def _conf_group(name, items):
    """One group: no blank line inside (a blank line ends a Kannel group)."""
    lines = ["group = %s" % name]
    for key, value in items:
        if value is None:
            continue
        lines.append("%s = %s" % (key, _conf_value(value)))
    return "\n".join(lines) + "\n"


def _join_url(base, query):
    return base + ("&" if "?" in base else "?") + query


def _pct(data):
    """URL-encode every byte but [A-Za-z0-9] (so '+' never means a space)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return urllib.parse.quote_from_bytes(data, safe="")


# ---------------------------------------------------------------------------
# MT records (what fakesmsc printed)

MT = collections.namedtuple("MT", "n sender receiver type udh payload text concat raw")
MT.__doc__ = """One MT as fakesmsc printed it ("Got message N: <LINE>").

n         fakesmsc's counter (1, 2, ...; restarts with each fakesmsc)
sender    the MT's from, receiver its to (as printed, e.g. "+15551234567")
type      "text", "data", "ucs-2" or "udh"
udh       the UDH bytes (type "udh"), else b""
payload   bytes: raw for text, URL-decoded for data/udh, UTF-16BE for ucs-2
text      payload as str (UTF-16BE for ucs-2, else UTF-8 with replacement)
concat    (ref, total, seq) from a concatenation UDH (8- or 16-bit ref), else None
raw       the printed line, rejoined when the text held newlines
"""


def parse_udh_concat(udh):
    """(ref, total, seq) of a concatenated-SMS UDH, or None."""
    if len(udh) < 1:
        return None
    i, end = 1, 1 + udh[0]
    while i + 1 < len(udh) and i < end:
        iei, ln = udh[i], udh[i + 1]
        val = udh[i + 2:i + 2 + ln]
        if iei == 0x00 and ln == 3 and len(val) == 3:
            return val[0], val[1], val[2]
        if iei == 0x08 and ln == 4 and len(val) == 4:
            return (val[0] << 8) | val[1], val[2], val[3]
        i += 2 + ln
    return None


_HEADER_RE = re.compile(rb"^\S+ \S+ (text|data|ucs-2|udh)( |$)")


def _unquote(data):
    return urllib.parse.unquote_to_bytes(data.replace(b"+", b" "))


def parse_mt_line(n, line):
    """An MT record from one (rejoined) fakesmsc line, given as bytes."""
    parts = line.split(b" ", 3)
    raw = line.decode("utf-8", "replace")
    if len(parts) < 3:
        return MT(n, "", "", "?", b"", line, raw, None, raw)
    sender, receiver, kind = (p.decode("utf-8", "replace") for p in parts[:3])
    rest = parts[3] if len(parts) > 3 else b""
    udh = b""
    if kind in ("data", "ucs-2"):
        payload = _unquote(rest)
    elif kind == "udh":
        # "udh UDH data PAYLOAD" (URL-encoded).  The coding is not shown:
        # UCS-2 parts print as "data" too, their payload being UTF-16BE.
        fields = rest.split(b" ", 2)
        udh = _unquote(fields[0])
        if len(fields) == 3 and fields[1] == b"data":
            payload = _unquote(fields[2])
        else:
            payload = _unquote(b" ".join(fields[1:]))
    else:                       # "text": the bytes as they are
        payload = rest
    if kind == "ucs-2":
        text = payload.decode("utf-16-be", "replace")
    else:
        text = payload.decode("utf-8", "replace")
    return MT(n, sender, receiver, kind, udh, payload, text, parse_udh_concat(udh) if udh else None,
              raw)


def parse_fakesmsc_log(data):
    """MT records from fakesmsc's stderr (bytes), "Got message N: <LINE>".

    Kannel writes a "text" MT to fakesmsc as it is, so a text holding
    newlines arrives as several lines, each logged as a message of its own
    (the CR of a CRLF is lost).  A logged line that does not start with
    "SENDER RECEIVER TYPE " and follows a "text" MT is taken as the next line
    of that MT and rejoined with "\n".  (A text line that itself looks like
    such a header cannot be told apart.)"""
    out, raws = [], []
    for line in data.split(b"\n"):
        if not _LOG_PREFIX_RE.match(line):
            continue
        m = _GOT_RE.search(line)
        if not m or not line.endswith(b">"):
            continue
        body = line[m.end():-1]
        if out and out[-1].type == "text" and not _HEADER_RE.match(body):
            raws[-1] += b"\n" + body
            out[-1] = parse_mt_line(out[-1].n, raws[-1])
            continue
        raws.append(body)
        out.append(parse_mt_line(int(m.group(1)), body))
    return out


def join_parts(records, encoding="utf-8"):
    """Reassemble concatenated MTs: a list of (sender, receiver, text), one per
    SMS, in the order of each SMS's first part; single MTs pass through.
    A udh line does not show the coding: pass encoding="utf-16-be" for UCS-2
    parts.  Incomplete SMSs are left out."""
    out, groups = [], {}
    for r in records:
        if r.concat is None:
            out.append((r.sender, r.receiver, r.text))
            continue
        ref, total, seq = r.concat
        key = (r.sender, r.receiver, ref, total)
        if key not in groups:
            groups[key] = {}
            out.append(key)
        groups[key][seq] = r.payload
    result = []
    for item in out:
        if item in groups:
            parts = groups[item]
            total = item[3]
            if len(parts) == total and all(i in parts for i in range(1, total + 1)):
                data = b"".join(parts[i] for i in range(1, total + 1))
                result.append((item[0], item[1], data.decode(encoding, "replace")))
        else:
            result.append(item)
    return result


# ---------------------------------------------------------------------------
# MO lines (what Kannel.inject_mo() writes to fakesmsc)


def build_mo_lines(sender, receiver, text, kind, next_ref):
    """The fakesmsc lines Kannel.inject_mo() would write for this MO.

    kind: "text" (literal; coding 0, UTF-8 passes through), "ucs2"
    (URL-encoded UTF-16BE; with mo-recode it reaches the webhook as coding
    0 UTF-8: used for newlines, control characters and edge spaces),
    "data" (URL-encoded bytes; coding 1, charset 8-BIT), "parts"
    (udh-data concatenated parts, coding 1; bearerbox joins them), or
    "auto": text, else ucs2, else parts when the line would be too long.
    next_ref: see build_part_lines()."""
    for v, what in ((sender, "sender"), (receiver, "receiver")):
        if not v or any(c.isspace() for c in v) or not v.isprintable():
            raise ValueError("MO %s %r: fakesmsc numbers are space-delimited words"
                             % (what, v))
    if isinstance(text, str):
        data = text.encode("utf-8")
    else:
        data, text = bytes(text), None
    head = "%s %s " % (sender, receiver)

    def fits(line):
        return len(line.encode("utf-8")) <= MAX_MO_LINE

    if kind == "auto":
        plain = (text is not None and text != "" and text == text.strip()
                 and all(c.isprintable() for c in text))
        if plain and fits(head + "text " + text):
            return [head + "text " + text]
        if text is not None and fits(head + "ucs2 " + _pct(text.encode("utf-16-be"))):
            return [head + "ucs2 " + _pct(text.encode("utf-16-be"))]
        kind = "parts"
    if kind == "text":
        if text is None or not all(c.isprintable() for c in text) or text != text.strip():
            raise ValueError("kind 'text' needs printable text without edge spaces")
        lines = [head + "text " + text]
    elif kind == "ucs2":
        if text is None:
            raise ValueError("kind 'ucs2' needs str text")
        lines = [head + "ucs2 " + _pct(text.encode("utf-16-be"))]
    elif kind == "data":
        lines = [head + "data " + _pct(data)]
    elif kind == "parts":
        lines = build_part_lines(head, data, next_ref)
    else:
        raise ValueError("unknown MO kind %r" % (kind,))
    for line in lines:
        if not fits(line):
            raise ValueError("fakesmsc line of %d bytes (max %d): %r"
                             % (len(line.encode("utf-8")), MAX_MO_LINE, line[:80]))
    return lines


def build_part_lines(head, data, next_ref):
    """udh-data lines of a concatenated 8-bit SMS; never splits a UTF-8
    sequence, each line at most MAX_MO_LINE bytes.  next_ref() gives the
    concatenation reference (0-255), called once the data is known to fit."""
    chunks, i = [], 0
    room = MAX_MO_LINE - len(head.encode("utf-8")) - len("udh-data ") - len(
        _pct(b"\x05\x00\x03\x00\x00\x00")) - 1
    while i < len(data):
        j, size = i, 0
        while j < len(data):
            k = j + 1
            while k < len(data) and (data[k] & 0xC0) == 0x80:   # continuation bytes
                k += 1
            enc = len(_pct(data[j:k]))
            if size + enc > room or k - i > MAX_PART_BYTES:
                break
            size += enc
            j = k
        if j == i:
            raise ValueError("cannot split MO data at byte %d" % i)
        chunks.append(data[i:j])
        i = j
    if not chunks:
        raise ValueError("an empty MO cannot be sent as parts")
    if len(chunks) > 255:
        raise ValueError("MO too long: %d parts" % len(chunks))
    ref, total = next_ref(), len(chunks)
    return [head + "udh-data %s %s" % (_pct(bytes([5, 0, 3, ref, total, seq])), _pct(c))
            for seq, c in enumerate(chunks, 1)]
