"""(h, j) The command line: -n config check, --version, --help."""

import os
import re

import ferrytest as ft


class CommandLine(ft.FerryCase):

    def setUp(self):
        self.dir, temporary = ft.make_workdir("cli-")
        self.addCleanup(ft.remove_workdir, self.dir, temporary)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def good_config(self):
        return ft.ferry_config_text(port=5347, store=os.path.join(self.dir, "ferry.db"))

    def test_check_good_config(self):
        path = self.write("good.conf", self.good_config())
        cp = ft.run_ferry(["-n", "-c", path])
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertIn("configuration OK", cp.stdout + cp.stderr)

    def test_check_unknown_key(self):
        lines = self.good_config().splitlines()
        self.assertEqual(lines[1], "xmpp = {")    # line 2 opens the xmpp group
        lines.insert(6, "    bogus_key = 1;")     # so this is line 7, inside it
        path = self.write("unknown.conf", "\n".join(lines) + "\n")
        cp = ft.run_ferry(["-n", "-c", path])
        self.assertNotEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertIn(path, cp.stderr)
        self.assertRegex(cp.stderr, r"\b7\b")
        self.assertIn("bogus_key", cp.stderr)

    def test_version(self):
        cp = ft.run_ferry(["--version"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertRegex(cp.stdout, re.compile(r"^ferry \d+\.\d+\.\d+", re.I | re.M))

    def test_help(self):
        cp = ft.run_ferry(["--help"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertTrue(cp.stdout.strip(), "--help printed nothing on stdout")

    def test_example_config_parses(self):
        """(j) conf/ferry.conf.example is a valid configuration."""
        cp = ft.run_ferry(["-n", "-c", os.path.join(ft.REPO, "conf", "ferry.conf.example")])
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertIn("configuration OK", cp.stdout + cp.stderr)

    def test_docker_config_parses(self):
        """docker/ferry.conf (the container's default) is a valid configuration."""
        cp = ft.run_ferry(["-n", "-c", os.path.join(ft.REPO, "docker", "ferry.conf")])
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
