"""What sdk_check.py and otel_check.py share: a pass/fail tally that prints one
line per check, and running a skilltrace server (proxy, otlp) the way a user
does: start it, read the address from its banner, stop it with SIGTERM."""

import signal
import subprocess


class Checks:
    """Counts and prints checks: `ok    name` or `FAIL  name detail`."""

    def __init__(self):
        self.passed, self.failed = 0, 0

    def __call__(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok    {name}")
        else:
            self.failed += 1
            print(f"FAIL  {name} {detail}")

    def summary(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def start(cmd):
    """Starts a skilltrace server; returns (process, address from its banner) or
    (process, None) when it printed no banner."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    banner = proc.stdout.readline()
    if "http://" not in banner:
        return proc, None
    return proc, banner.split("http://", 1)[1].split(",", 1)[0].strip()


def stop(proc):
    """SIGTERM, then wait (killing after 30 s); returns its standard error."""
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err
