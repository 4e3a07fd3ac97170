#!/usr/bin/env python3
"""log_latency.py - time from a commit to a signed checkpoint covering it.

    log_latency.py URL API_KEY REFERENCE SECONDS

For SECONDS, at random moments, adds a public note to case REFERENCE through
the API; once the 201 is back (the event is committed), polls GET /log/checkpoint every 5 ms
until its tree size covers the event's log index, and records the time in
between. On PostgreSQL the entry is queued and the answer has no index yet:
the case's events are polled, every 5 ms too, until the event has one. Prints one "RESULT key=value ..." line for bench/log.sh.
"""
import json
import random
import sys
import time
import urllib.request


def post_note(base, key, reference):
    req = urllib.request.Request(
        f"{base}/api/v1/cases/{reference}/events",
        data=json.dumps({"type": "public_note", "note": "benchmark"}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        event = json.load(r)["event"]
        return event["id"], event["log_index"]


def event_index(base, key, reference, event_id):
    req = urllib.request.Request(f"{base}/api/v1/cases/{reference}",
                                 headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        events = json.load(r)["events"]
    return next((e["log_index"] for e in events if e["id"] == event_id), None)


def signed_size(base):
    with urllib.request.urlopen(f"{base}/log/checkpoint", timeout=30) as r:
        return int(r.read().decode().split("\n")[1])


def percentile(sorted_values, p):
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[i]


def main():
    base, key, reference, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    samples = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        # Commits arrive at any moment, not just after a checkpoint appears.
        time.sleep(random.random())
        event_id, index = post_note(base, key, reference)
        committed = time.monotonic()
        while index is None:
            time.sleep(0.005)
            index = event_index(base, key, reference, event_id)
        while signed_size(base) <= index:
            time.sleep(0.005)
        samples.append(time.monotonic() - committed)
    samples.sort()
    print("RESULT samples=%d p50_ms=%.0f p99_ms=%.0f max_ms=%.0f" % (
        len(samples), percentile(samples, 50) * 1000, percentile(samples, 99) * 1000,
        samples[-1] * 1000))


if __name__ == "__main__":
    main()
