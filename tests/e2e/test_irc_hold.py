"""Messages from IRC go to XMPP at once and are kept only in memory until
the XMPP server confirms them (the ping behind them); one the server has
not confirmed within hold_ms is written to the store, so a kill -9 after
that loses nothing.  Here Prosody is stopped (SIGSTOP): nothing is
confirmed, the messages reach the store, Ferry is killed, Prosody resumes,
and the restarted Ferry delivers them from the store in order."""

import signal

import ferrytest as ft
from test_durability import queued
from test_irc import IrcSetup, irc_transport


class IrcHold(IrcSetup, ft.FerryCase):
    server_kind = "prosody"

    def test_unconfirmed_messages_are_stored_and_survive_kill9(self):
        ngircd, server, ferry = self.start_irc(lambda n: irc_transport(n).replace(
            "flood_burst = 20;", "flood_burst = 20; hold_ms = 200;"))
        irc = ngircd.client("hal")
        irc.join("#hold")
        c, room = self.joined(server, "hana", "#hold")
        # Confirmed at once while Prosody runs: nothing is written.
        irc.privmsg("#hold", "before")
        c.wait_message(room + "/hal", 15, pred=lambda m: m["body"] == "before")
        self.assertEqual(queued(ferry.config["store"]), 0)

        server.proc.send_signal(signal.SIGSTOP)
        try:
            for i in range(3):
                irc.privmsg("#hold", "held %d" % i)
            # Not confirmed within hold_ms: written to the store.
            ft.wait_until(lambda: queued(ferry.config["store"]) == 3, 15,
                          what="the three unconfirmed messages in the store")
            ferry.proc.send_signal(signal.SIGKILL)
            self.assertEqual(ferry.proc.wait(5), -signal.SIGKILL)
            ferry.proc.stop(1)
            ferry.proc = None
        finally:
            server.proc.send_signal(signal.SIGCONT)

        mark = ferry.mark()
        ferry.start(wait_online=False)
        # The store had them: the restarted Ferry sends them again.
        ferry.wait_log(r"\[irc\] delivering 3 queued messages", 15, since=mark)
        # (Prosody may also have read them from its socket before the kill:
        # each arrives at least once, and the store's copies in order.)
        got = [c.wait_message(room + "/hal", 15, pred=lambda m: m["body"].startswith("held"))
               ["body"] for _ in range(3)]
        while got[-3:] != ["held 0", "held 1", "held 2"] and len(got) < 6:
            got.append(c.wait_message(room + "/hal", 15,
                                      pred=lambda m: m["body"].startswith("held"))["body"])
        self.assertEqual(got[-3:], ["held 0", "held 1", "held 2"])
        ft.wait_until(lambda: queued(ferry.config["store"]) == 0, 15,
                      what="the delivered messages removed from the store")
