#!/usr/bin/python3
"""LAN discovery benchmark on a two-host namespace LAN (run as root).

Per trial, with an observer node already running on host 1:
  appear   - start parley-node on host 2 -> observer's `added` event (by introduction or mDNS)
  mdns     - start -> the observer lists it from mDNS (its announcement, after probing); the
             node is stopped only after this, so leaving is measured on an announced device
  leave    - SIGTERM it -> observer's `removed` (goodbye)
  appear   - start it again (same data dir, same id) -> `added`
  crash    - kill -9 it -> observer's `removed` (unreachable)
Prints p50/p95/max per measure as a Markdown table, and how each `added` came about.
Usage: tests/lan/bench.py [TRIALS]   (default 30; PARLEY_NODE selects the binary)
"""

import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lanbed import Lab, added, node_binary, removed  # noqa: E402


def from_mdns(peer_id: str):
    return lambda e: (e.get("event") in ("added", "updated") and e["peer"]["id"] == peer_id
                      and e["peer"]["source"] == "mdns")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    samples: dict[str, list[float]] = {"appear": [], "mdns": [], "leave": [], "crash": []}
    added_by: dict[str, int] = {}
    # A stopped peer leaves by whichever comes first: its goodbye, or failed health checks.
    reasons: dict[str, dict[str, int]] = {"leave": {}, "crash": {}}
    with Lab() as lab:
        lab.switch("sw1")
        h1, h2 = lab.host("h1", "sw1", 1), lab.host("h2", "sw1", 2)
        observer = h1.node("Observer")
        data = lab.tmp / "subject-data"
        for trial in range(trials):
            for ending in ("leave", "crash"):
                since = observer.mark()
                started = time.monotonic()
                subject = h2.node("Subject 被测", data_dir=data)
                t_added, event = observer.wait_event("added", added(subject.id), 10, since)
                samples["appear"].append(t_added - started)
                source = event["peer"]["source"]
                added_by[source] = added_by.get(source, 0) + 1
                t_mdns, _ = observer.wait_event("listed from mDNS", from_mdns(subject.id), 10, since)
                samples["mdns"].append(t_mdns - started)
                since = observer.mark()
                stopped = time.monotonic()
                if ending == "leave":
                    subject.terminate()
                else:
                    subject.kill9()
                t_removed, event = observer.wait_event("removed", removed(subject.id), 20, since)
                reasons[ending][event["reason"]] = reasons[ending].get(event["reason"], 0) + 1
                samples[ending].append(t_removed - stopped)
                subject.wait_exit()
            print(f"trial {trial + 1}/{trials}: appear {samples['appear'][-1]:.3f} s, "
                  f"leave {samples['leave'][-1]:.3f} s, crash {samples['crash'][-1]:.3f} s",
                  file=sys.stderr)

    targets = {"appear": 1.0, "mdns": "-", "leave": 1.5, "crash": 5.0}
    print(f"binary: {node_binary()}, trials: {trials}")
    print("| measure | samples | p50 (s) | p95 (s) | max (s) | target p95 (s) |")
    print("|---|---|---|---|---|---|")
    for name, values in samples.items():
        print(f"| {name} | {len(values)} | {percentile(values, 50):.3f} | {percentile(values, 95):.3f} "
              f"| {max(values):.3f} | {targets[name]} |")
    print(f"added by: {json.dumps(added_by)}; removal reasons: {json.dumps(reasons)}")
    print(json.dumps({k: [round(v, 4) for v in vs] for k, vs in samples.items()}), file=sys.stderr)


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("tests/lan/bench.py needs root (network namespaces)")
    main()
