"""Real processes for the kit's Python tests of programs: start one with its output gathered,
wait for a line under a deadline, stop it. Nothing sleeps a fixed time; every wait is bounded."""

import os
import queue
import signal
import subprocess
import threading
import time


class Program:
    """A running program, its stdout and stderr gathered line by line by a thread of its own."""

    def __init__(self, argv, env=None, cwd=None, prefix=()):
        self.argv = list(argv)
        self.lines, self.seen = queue.Queue(), []
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.process = subprocess.Popen(list(prefix) + self.argv, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                                        errors="replace", env=full_env, cwd=cwd, start_new_session=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for_line(self, text, limit):
        """The first line (not yet read by a wait) that contains TEXT, within LIMIT seconds; None
        when the program ends or the time is up."""
        deadline = time.monotonic() + limit
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self.lines.put(None)
                return None
            self.seen.append(line)
            if text in line:
                return line

    def wait(self, limit):
        """Its exit status, within LIMIT seconds; None if it still runs."""
        try:
            status = self.process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(timeout=5)
        return status

    def output(self):
        """Everything it printed so far (what the waits read, then the rest)."""
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                break
            if line is None:
                self.lines.put(None)
                break
            self.seen.append(line)
        return "\n".join(self.seen)

    def stop(self, sig=signal.SIGTERM, limit=20):
        """Signals it (its whole session) and waits for it; SIGKILL if it does not end in time."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            if self.wait(limit) is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.wait(limit)
        return self.process.returncode


def port_of(line):
    """The port of "NAME: listening on A.B.C.D:PORT[, announced as ...]"."""
    return int(line.split("listening on ", 1)[1].split(",")[0].rsplit(":", 1)[1])
