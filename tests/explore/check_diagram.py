#!/usr/bin/env python3
"""A failing run's space-time diagram, in a real browser (headless Chromium).

  check_diagram.py FIXTURE SCHEDULE WORK_DIR

Replays the planted double grant of broken_filter_test.cpp from SCHEDULE, opens the diagram it
writes in headless Chromium and checks what the page holds and drew (its #dsys-selftest element,
filled on load through the page's query API): the three lanes, the messages by procedure, both
holds of the lock, the failure, no script errors and no console errors; then the procedure
filter; then saves a screenshot (WORK_DIR/double-grant.png). Exit status 77 (skipped, said so)
without Chromium: ./dsys setup installs it (the Debian package chromium).
"""
import json
import os
import re
import shutil
import subprocess
import sys

fixture, schedule, work = sys.argv[1:4]
browser = os.environ.get("DSYS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if not browser or not os.access(browser, os.X_OK):
    print(f"SKIPPED: Chromium is not installed ({browser or 'no chromium on PATH'}; apt-get install "
          "chromium, or ./dsys setup as root): the diagram was not checked in a browser")
    sys.exit(77)
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []


def expect(condition, what):
    if not condition:
        failures.append(what)
    return condition


env = dict(os.environ, DSYS_SEED="1", DSYS_SCHEDULE=f"choices:{os.path.abspath(schedule)}",
           DSYS_TRACE_DIR=work)
run = subprocess.run([fixture], capture_output=True, text=True, env=env, timeout=120)
shown = re.search(r"^diagram: (\S+)$", run.stdout, re.M)
if not (run.returncode != 0 and shown and os.path.isfile(shown.group(1))):
    print(run.stdout + run.stderr)
    print("FAILED: the planted double grant did not fail, or wrote no diagram")
    sys.exit(1)
page = shown.group(1)


def open_page(fragment=""):
    profile = os.path.join(work, "profile")
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--no-first-run", f"--user-data-dir={profile}",
                           "--enable-logging=stderr", "--v=0", "--window-size=1400,900",
                           "--dump-dom", "file://" + os.path.abspath(page) + fragment],
                          capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="dsys-selftest"[^>]*>(.*?)</pre>', done.stdout, re.S)
    if not found:
        print(done.stderr[-3000:])
        return None, done.stderr
    text = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    return json.loads(text), done.stderr


state, log = open_page()
if expect(state is not None, "the page did not fill #dsys-selftest (it did not load or threw)"):
    expect(state["lanes"] == ["n0 lock_server", "n1 client1", "n2 client2"], f"lanes {state['lanes']}")
    expect(state["errors"] == [], f"script errors: {state['errors']}")
    expect(state["kinds"].get("fail") == 1, "no failure event")
    expect(state["kinds"].get("duplicate", 0) >= 1, "no duplicated message")
    expect(state["procedures"] == ["lock.acquire", "lock.release"], f"procedures {state['procedures']}")
    drawn = state["drawn"]
    expect("holds lock 0 (twice!)" in drawn and "holds lock 0" in drawn, "the two holds are not drawn")
    expect(any(d.startswith("FAIL invariant 'one holder per lock' broken") for d in drawn),
           "the failure is not drawn")
    expect("the test failed here" in drawn, "the failure line is not drawn")
    expect(any(re.fullmatch(r"lock\.release xid \d+ \(duplicate\)", d) for d in drawn),
           "the duplicated release is not drawn as a duplicate")
    expect(any(d.startswith("↩ lock.acquire xid") for d in drawn), "no reply is drawn")
    expect(state["timings"]["firstDraw"] > 0, "no first drawing")
console = [line for line in log.splitlines() if "CONSOLE" in line or "Uncaught" in line]
expect(not console, f"console messages: {console}")

filtered, _ = open_page("#procedure=lock.release")
if expect(filtered is not None, "the page with a procedure filter did not load"):
    expect(filtered["shownRows"] < filtered["events"], "the procedure filter hid nothing")
    expect(not any("lock.acquire" in d for d in filtered["drawn"]), "lock.acquire drawn under the lock.release filter")
    expect(any("lock.release" in d for d in filtered["drawn"]), "lock.release not drawn under its filter")

shot = os.path.join(work, "double-grant.png")
subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                f"--user-data-dir={os.path.join(work, 'profile')}", "--window-size=1400,900",
                f"--screenshot={shot}", "file://" + os.path.abspath(page)],
               capture_output=True, timeout=120)
expect(os.path.isfile(shot) and os.path.getsize(shot) > 10000, "no screenshot")
print(f"diagram: {page}\nscreenshot: {shot}")
for f in failures:
    print("FAILED:", f)
sys.exit(1 if failures else 0)
