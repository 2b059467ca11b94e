#!/usr/bin/env python3
"""./dsys bench diagram: how fast a run's space-time diagram opens in headless Chromium.

  bench/diagram_bench.py BENCH_DIAGRAM [--events N]

Writes diagrams of runs of 1,000 and of N events (default 100,000) with bench_diagram, opens each
in headless Chromium three times, and prints their sizes and the medians of what the page itself
measured (performance.now(), from navigation): the JSON parsed, the first drawing done, the load
event, and one redraw after scrolling to the middle of the run; the wall time of the browser
process, start-up included; and the ratios of the large run to the small one.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def open_in(browser, page, profile, middle):
    started = time.monotonic()
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           f"--user-data-dir={profile}", "--window-size=1400,900", "--dump-dom",
                           f"file://{page}#scroll={middle}"],
                          capture_output=True, text=True, timeout=300)
    wall = (time.monotonic() - started) * 1000
    found = re.search(r'<pre id="dsys-selftest"[^>]*>(.*?)</pre>', done.stdout, re.S)
    if not found:
        sys.exit(f"bench diagram: {page} did not load in Chromium:\n{done.stderr[-2000:]}")
    state = json.loads(found.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    if state["errors"]:
        sys.exit(f"bench diagram: script errors: {state['errors']}")
    t = state["timings"]
    return {"parse": t["parse"], "first": t["sinceNavigation"], "load": t["load"],
            "scroll": t["scrollDraw"], "wall": wall}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench_diagram")
    parser.add_argument("--events", type=int, default=100000)
    args = parser.parse_args()
    browser = os.environ.get("DSYS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        sys.exit("bench diagram: Chromium is not installed (apt-get install chromium, or ./dsys setup)")
    work = tempfile.mkdtemp(prefix="dsys-diagram-bench-")
    rows = {}
    for events in (1000, args.events):
        page = os.path.join(work, f"run-{events}.html")
        out = subprocess.run([args.bench_diagram, page, str(events)], capture_output=True, text=True, check=True)
        n, size = map(int, out.stdout.split())
        samples = [open_in(browser, page, os.path.join(work, "profile"), n // 2) for _ in range(3)]
        rows[events] = (n, size, {k: statistics.median(s[k] for s in samples) for k in samples[0]})
    shutil.rmtree(work, ignore_errors=True)
    print("space-time diagram in headless Chromium, medians of 3 (ms from navigation, page's own clock)")
    print(f"{'events':>9} {'MB':>7} {'parsed':>8} {'drawn':>8} {'loaded':>8} {'redraw':>8} {'process':>9}")
    for events, (n, size, m) in rows.items():
        print(f"{n:>9} {size / 1e6:>7.2f} {m['parse']:>8.0f} {m['first']:>8.0f} {m['load']:>8.0f} "
              f"{m['scroll']:>8.1f} {m['wall']:>9.0f}")
    (n0, s0, a), (n1, s1, b) = rows[1000], rows[args.events]
    print(f"ratios ({n1} / {n0} events): size {s1 / s0:.1f}x, drawn {b['first'] / a['first']:.1f}x, "
          f"loaded {b['load'] / a['load']:.1f}x, redraw {b['scroll'] / max(a['scroll'], 0.01):.1f}x")
    print(f"targets for {n1} events: loaded and drawn within 3000 ms "
          f"({'met' if b['load'] <= 3000 and b['first'] <= 3000 else 'NOT met'}), at most 5 MB "
          f"({'met' if s1 <= 5e6 else 'NOT met'})")


if __name__ == "__main__":
    main()
