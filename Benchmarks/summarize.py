#!/usr/bin/env python3
"""Folds `swift package benchmark --format markdown` output into one table:
scenario, ours, peer, ratio, target, met. Reads the markdown on stdin; an optional file
arguments hold ResidentMemoryProbe's output (resident growth of 100k series) and the
remote-write request sizes the benchmarks write (.bench-sizes.txt)."""
import re
import sys

TIME = "Time (wall clock) (ns)"
MALLOC = "Malloc (total)"
MEMORY = "Malloc (bytes total)"
RESIDENT = {}  # from ResidentMemoryProbe: resident growth of 100k series in a fresh process

# scenario prefix -> (statistic, unit, target text, check(ours, peer, ours_row))
SCENARIOS = [
    ("recordRecordsReceived, 100 sourceIDs, 1 thread", "p50", "ns/op",
     "≤ 25 ns, ≤ 0.15× peer, 0 allocs",
     lambda o, p, row: o <= 25 and o / p <= 0.15 and row.get(MALLOC, {}).get("p50", 1) == 0),
    ("recordRecordsReceived, 100 sourceIDs, 2 threads", "p50", "ns/op", "≤ 50 ns", lambda o, p, row: o <= 50),
    ("recordRoutingLatency, 10 pipelines", "p50", "ns/op", "≤ 35 ns", lambda o, p, row: o <= 35),
    ("resolved counter handle vs bare atomic add", "p50", "ns/op", "≤ 2× bare atomic", lambda o, p, row: o / p <= 2),
    ("render 100×100 counters + 10×100 histograms", "p50", "ms", "≤ 0.3× peer", lambda o, p, row: o / p <= 0.3),
    ("remote-write encode + snappy of that registry", "p50", "ms", "≤ 1.5× snappy alone (peer column)",
     lambda o, p, row: o / p <= 1.5),
    ("remote-write 2.0 encode + snappy vs 1.0", "p50", "ms", "≤ 1.0's encode + snappy (peer column)",
     lambda o, p, row: o / p <= 1),
    ("remote-write 2.0 encode + snappy vs snappy alone", "p50", "ms", "≤ 2× snappy alone on 2.0 bytes (peer)",
     lambda o, p, row: o / p <= 2),
    ("create 100k series of one family", "p50", "ms", "< 300 ms, ≤ 15 MiB resident",
     lambda o, p, row: o < 300 and RESIDENT.get("kib", 1e12) <= 15 * 1024),
    ("create 10k series of one family", "p50", "ms", "(scaling vs peer)", None),
    ("disk queue append of a ~100-sample snapshot", "p50", "µs", "(peer column: fsync every write)", None),
    ("record p99 while scrape + flush run", "p99", "ns/op", "≤ 2× idle p99 (peer column)", lambda o, p, row: o / p <= 2),
]


def number(text):
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return None


def parse(lines):
    results, name, columns = {}, None, []
    for line in lines:
        if line.startswith("### "):
            name = line[4:].strip()
            results[name] = {}
        elif name and line.startswith("| Metric"):
            columns = [c.strip() for c in line.strip().strip("|").split("|")]
        elif name and line.startswith("| ") and not line.startswith("|:"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            metric = re.sub(r"\s*\*$", "", cells[0])
            metric = re.sub(r" \((K|M)\)", "", metric)
            scale = 1000 if " (K)" in cells[0] else 1_000_000 if " (M)" in cells[0] else 1
            results[name][metric] = {
                col: (number(v) or 0) * scale for col, v in zip(columns[1:], cells[1:]) if number(v) is not None
            }
    return results


def main():
    extra = []
    for path in sys.argv[1:]:
        try:
            extra += open(path).read().splitlines()
        except OSError:
            print(f"(no {path})")
    for line in extra:
        if line.startswith("resident_kib="):
            RESIDENT["kib"] = int(line.strip().split("=")[1])
    lines = sys.stdin.read().splitlines() + extra
    results = parse(lines)
    rows = [("scenario", "stat", "ours", "peer", "ratio", "target", "met")]
    # Compressed bytes, 2.0 against 1.0 (printed by the 2.0 benchmark): target ≤ 0.8×.
    for line in lines:
        found = re.search(r"remote-write bytes per sample, (.+?) registry: 1\.0 (\d+) protobuf (\d+) snappy, "
                          r"2\.0 (\d+) protobuf (\d+) snappy", line)
        if found:
            v1, v2 = int(found.group(3)), int(found.group(5))
            rows.append((f"remote-write 2.0 compressed bytes, {found.group(1)} registry", "size",
                         f"{v2} B", f"{v1} B (1.0)", f"{v2 / v1:.2f}", "≤ 0.8× 1.0", "yes" if v2 <= 0.8 * v1 else "NO"))
    for prefix, stat, unit, target, check in SCENARIOS:
        ours = results.get(prefix + " | ours", {})
        peer = results.get(prefix + " | peer", {})
        if TIME not in ours:
            rows.append((prefix, stat, "not run", "", "", target, ""))
            continue
        divisor = 1e6 if unit == "ms" else 1e3 if unit == "µs" else 1
        o = ours[TIME][stat] / divisor
        p = peer[TIME][stat] / divisor if TIME in peer else None
        extra = ""
        if MEMORY in ours:
            extra = f", {ours[MEMORY]['p50'] / 1048576:.0f} MiB allocated"
            if prefix.startswith("create 100k") and "kib" in RESIDENT:
                extra += f", {RESIDENT['kib'] / 1024:.1f} MiB resident"
        if MALLOC in ours and unit == "ns/op":
            extra += f", {ours[MALLOC]['p50']:.0f} allocs"
        peer_extra = f", {peer[MEMORY]['p50'] / 1048576:.0f} MiB allocated" if MEMORY in peer else ""
        ratio = f"{o / p:.2f}" if p else "–"
        met = "–" if check is None else ("yes" if p is not None or "peer" not in target else "?")
        if check is not None:
            try:
                met = "yes" if check(o, p if p else float("inf"), ours) else "NO"
            except ZeroDivisionError:
                met = "?"
        fmt = (lambda v: f"{v:.1f} {unit}") if unit == "ns/op" else (lambda v: f"{v:.2f} {unit}")
        rows.append((prefix, stat, fmt(o) + extra, (fmt(p) + peer_extra) if p else "–", ratio, target, met))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
