"""End-to-end harness for Ferry: throwaway XMPP servers, a Ferry process and
a blocking slixmpp client, all on 127.0.0.1.

Run with /usr/bin/python3 (Debian's, which has python3-slixmpp).

Every process started here is put in its own session (process group) and is
registered in one live-process registry (harness_proc); stop_all()
(installed with atexit, and called by the runner on SIGTERM/SIGINT) kills
whatever is still running.

This module is the facade that tests import (`import ferrytest as ft`); the
code lives in modules split by concern:

    harness_proc.py     work dirs, ports, Proc, LogFile, wait_until, stop_all
    harness_servers.py  Prosody, Ejabberd, SERVERS
    harness_ferry.py    Ferry, its config text, run_ferry, sanitizer checks
    harness_client.py   Client (slixmpp), XmppError, register_inband
    harness_kannel.py   Kannel (bearerbox + smsbox + fakesmsc), MT records
    harness_irc.py      Ngircd, IrcClient, IrcMessage, the test CA (make_pki)
    harness_ircfake.py  FakeIrcServer (scripted IRC peer: CAP, SASL PLAIN/EXTERNAL)
    harness_case.py     FerryCase (unittest glue)
"""

from harness_case import FerryCase
from harness_client import Client, XmppError, register_inband
from harness_ferry import (DEBUG_RE, FERRY_CONFIG, ONLINE_RE, SANITIZER_RE, Ferry, ferry_bin,
                           ferry_config_text, run_ferry, sanitizer_report)
from harness_irc import (IRC_OPER_NAME, IRC_OPER_PASSWORD, NGIRCD_CONFIG, IrcClient, IrcError,
                         IrcMessage, Ngircd, Pki, cert_fingerprint, issue_client_cert, make_pki,
                         ngircd_info, parse_irc_line)
from harness_ircfake import FAKE_IRC_CAPS, FAKE_IRC_ISUPPORT, FakeConn, FakeIrcServer
from harness_kannel import (DEFAULT_DLR_QUERY, DEFAULT_MO_QUERY, MT, Kannel, MoResult,
                            SendsmsResult, join_parts, kannel_programs, parse_fakesmsc_log)
from harness_proc import (REPO, SECRET, USER_PASSWORD, LogFile, Proc, cpu_seconds, free_port,
                          group_members, make_workdir, port_open, remove_workdir, stop_all,
                          timeout_scale, tool, wait_until)
from harness_servers import (EJABBERD_CONFIG, EJABBERDCTL_CONFIG, EXAMPLE_COMPONENT,
                             EXAMPLE_PORT, EXAMPLE_SECRET, PROSODY_CONFIG, SERVERS, Ejabberd,
                             Prosody, ejabberd_example_listen, example_text)

__all__ = [
    # harness_proc
    "REPO", "SECRET", "USER_PASSWORD", "make_workdir", "remove_workdir", "timeout_scale",
    "stop_all", "tool", "free_port", "port_open", "wait_until", "Proc", "group_members",
    "cpu_seconds", "LogFile",
    # harness_servers
    "PROSODY_CONFIG", "EXAMPLE_PORT", "EXAMPLE_SECRET", "EXAMPLE_COMPONENT", "example_text",
    "Prosody", "EJABBERD_CONFIG", "ejabberd_example_listen", "EJABBERDCTL_CONFIG", "Ejabberd",
    "SERVERS",
    # harness_ferry
    "ONLINE_RE", "DEBUG_RE", "SANITIZER_RE", "FERRY_CONFIG", "ferry_bin", "sanitizer_report",
    "ferry_config_text", "Ferry", "run_ferry",
    # harness_client
    "XmppError", "Client", "register_inband",
    # harness_kannel
    "DEFAULT_MO_QUERY", "DEFAULT_DLR_QUERY", "MT", "SendsmsResult", "MoResult", "Kannel",
    "kannel_programs", "parse_fakesmsc_log", "join_parts",
    # harness_irc
    "IRC_OPER_NAME", "IRC_OPER_PASSWORD", "NGIRCD_CONFIG", "Pki", "make_pki",
    "issue_client_cert", "cert_fingerprint", "ngircd_info", "Ngircd", "IrcMessage",
    "parse_irc_line", "IrcError", "IrcClient",
    # harness_ircfake
    "FAKE_IRC_CAPS", "FAKE_IRC_ISUPPORT", "FakeConn", "FakeIrcServer",
    # harness_case
    "FerryCase",
]
