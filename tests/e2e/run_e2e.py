#!/usr/bin/python3
"""Runs Ferry's end-to-end tests (tests/e2e/test_*.py) with unittest.

    /usr/bin/python3 tests/e2e/run_e2e.py --bin build/ferry [--counts FILE]
                                          [-k SUBSTRING] [-v] [TEST_NAME ...]

Prints one line per test and, at the end, `e2e: N passed, N failed[, N skipped]`.
--counts FILE also writes "passed failed skipped" there for tests/run.sh.
Exit status: 0 if nothing failed and at least one test ran.
"""

import argparse
import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import ferrytest  # noqa: E402


class Result(unittest.TestResult):
    def __init__(self, stream, verbose):
        super().__init__()
        self.stream = stream
        self.verbose = verbose
        self.passed = 0
        self._t0 = {}

    def _line(self, test, status, detail=""):
        took = time.monotonic() - self._t0.get(test.id(), time.monotonic())
        self.stream.write("%-7s %s (%.1f s)%s\n" % (status, _name(test), took, detail))
        self.stream.flush()

    def startTest(self, test):
        super().startTest(test)
        self._t0[test.id()] = time.monotonic()
        if self.verbose:
            self.stream.write("...     %s\n" % _name(test))
            self.stream.flush()

    def stopTest(self, test):
        super().stopTest(test)
        self._t0.pop(test.id(), None)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1
        self._line(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line(test, "FAIL")
        self._report(self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        if test.id() in self._t0:
            self._line(test, "ERROR")
        else:  # setUpClass / tearDownClass / module fixtures
            self.stream.write("ERROR   %s\n" % test)
        self._report(self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line(test, "skip", ": " + reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.passed += 1
        self._line(test, "ok", " (expected failure)")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line(test, "FAIL", " (unexpected success)")

    def _report(self, text):
        for line in text.rstrip().splitlines():
            self.stream.write("        | %s\n" % line)
        self.stream.flush()


def _name(test):
    parts = test.id().split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else test.id()


def _filter(suite, pred):
    out = unittest.TestSuite()
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            sub = _filter(t, pred)
            if sub.countTestCases():
                out.addTest(sub)
        elif pred(t):
            out.addTest(t)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", help="the ferry binary (default: $FERRY_BIN or build/ferry)")
    ap.add_argument("--counts", help="write 'passed failed skipped' to this file")
    ap.add_argument("-k", action="append", default=[],
                    help="only tests whose id contains this substring (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("names", nargs="*", help="test modules/classes/methods (unittest names)")
    args = ap.parse_args()

    if args.bin:
        os.environ["FERRY_BIN"] = os.path.abspath(args.bin)

    # A SIGTERM (CI timeout, Ctrl-C of make) still cleans up the servers.
    def on_term(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    loader = unittest.TestLoader()
    if args.names:
        suite = loader.loadTestsFromNames(args.names)
    else:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    if args.k:
        suite = _filter(suite, lambda t: any(k in t.id() for k in args.k))

    print("e2e: ferry binary %s" % ferrytest.ferry_bin(), flush=True)
    result = Result(sys.stdout, args.verbose)
    t0 = time.monotonic()
    interrupted = False
    try:
        suite.run(result)
    except KeyboardInterrupt:
        interrupted = True
        print("e2e: interrupted", flush=True)
    finally:
        ferrytest.stop_all()

    skipped = len(result.skipped)
    # A test can fail and then also error in its cleanup: count tests, not reports.
    failed = len({str(t) for t, _ in result.failures + result.errors}
                 | {str(t) for t in result.unexpectedSuccesses})
    if interrupted:
        failed += 1
    print("e2e: took %.1f s" % (time.monotonic() - t0))
    line = "%d passed, %d failed" % (result.passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print("e2e: " + line, flush=True)
    if args.counts:
        with open(args.counts, "w") as f:
            f.write("%d %d %d\n" % (result.passed, failed, skipped))
    return 0 if failed == 0 and result.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
