#!/usr/bin/env python3
"""Instructions per operation, counted by valgrind's callgrind: repeatable whatever else the
machine does. Each operation of InstructionProbe runs twice, with a small and a large
iteration count; (instructions(large) - instructions(small)) / (large - small) is the cost of
one operation with set-up cancelled out. Usage: instructions.py PROBE_BINARY"""
import os
import re
import subprocess
import sys
import tempfile

# operation -> (small, large) iteration counts
RUNS = {
    "record-ours": (1000, 101000), "record-peer": (1000, 101000),
    "render-ours": (1, 4), "render-peer": (1, 4),
    "encode-snappy-v1": (1, 4), "snappy-v1": (1, 6),
    "encode-snappy-v2": (1, 4), "snappy-v2": (1, 6),
    "flush": (1, 4), "flush-snapshot": (1, 4),
    "observe-classic": (1000, 101000), "observe-native": (1000, 101000), "observe-both": (1000, 101000),
    "observe-classic-exemplar": (1000, 21000), "record-exemplar": (1000, 21000),
}
# 100×100 counters + 10×100 histograms of 15 buckets (+Inf, _sum, _count): samples a flush sends
FLUSH_SAMPLES = 100 * 100 + 10 * 100 * (15 + 3)

# (row, ours, peer, target text, check)
ROWS = [
    ("recordRecordsReceived, 100 sourceIDs", "record-ours", "record-peer", "≤ 0.15× peer", lambda r: r <= 0.15),
    ("render 100×100 counters + 10×100 histograms", "render-ours", "render-peer", "≤ 0.3× peer", lambda r: r <= 0.3),
    ("remote-write 1.0 encode + snappy vs snappy alone", "encode-snappy-v1", "snappy-v1", "≤ 1.5×", lambda r: r <= 1.5),
    ("remote-write 2.0 encode + snappy vs snappy alone", "encode-snappy-v2", "snappy-v2", "≤ 2×", lambda r: r <= 2),
    ("remote-write 2.0 encode + snappy vs 1.0's", "encode-snappy-v2", "encode-snappy-v1", "≤ 1×", lambda r: r <= 1),
    ("native observe vs classic observe", "observe-native", "observe-classic", "≤ 2×", lambda r: r <= 2),
    ("classic + native observe vs classic observe", "observe-both", "observe-classic", "–", None),
    ("classic observe with an exemplar vs without", "observe-classic-exemplar", "observe-classic", "–", None),
    ("recordRecordsReceived with an exemplar vs without", "record-exemplar", "record-ours", "–", None),
]


def count(probe, operation, iterations):
    with tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}", probe, operation, str(iterations)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Swift seeds its hashing per process; a fixed seed keeps dictionary work the same.
            env=dict(os.environ, SWIFT_DETERMINISTIC_HASHING="1"))
        for line in open(out.name):
            found = re.match(r"summary: (\d+)", line)
            if found:
                return int(found.group(1))
    raise RuntimeError(f"no callgrind summary for {operation} {iterations}")


# Recording operations that must not allocate once their series (and bucket) exist:
# valgrind's heap summary counts allocations at both iteration counts.
NO_ALLOCATION = ["record-ours", "observe-classic", "observe-native", "observe-both"]


def allocations(probe, operation, iterations):
    done = subprocess.run(["valgrind", probe, operation, str(iterations)], check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env=dict(os.environ, SWIFT_DETERMINISTIC_HASHING="1"))
    found = re.search(r"total heap usage: ([\d,]+) allocs", done.stderr)
    if not found:
        raise RuntimeError(f"no heap summary for {operation} {iterations}")
    return int(found.group(1).replace(",", ""))


def main():
    probe = sys.argv[1]
    per_op = {}
    for operation, (small, large) in RUNS.items():
        per_op[operation] = (count(probe, operation, large) - count(probe, operation, small)) / (large - small)
    rows = [("scenario (instructions per operation)", "ours", "peer", "ratio", "target", "met")]
    for name, ours, peer, target, check in ROWS:
        ratio = per_op[ours] / per_op[peer]
        met = "–" if check is None else "yes" if check(ratio) else "NO"
        rows.append((name, f"{per_op[ours]:,.0f}", f"{per_op[peer]:,.0f}", f"{ratio:.2f}", target, met))
    flush = per_op["flush"]
    rows.append(("one flush, registry → request bytes (1.0)", f"{flush:,.0f}", "–", "–",
                 f"{flush / FLUSH_SAMPLES:,.0f} per sample", "–"))
    through = per_op["flush-snapshot"]
    rows.append(("the same through a snapshot", f"{through:,.0f}", "–", f"{flush / through:.2f}",
                 f"{through / FLUSH_SAMPLES:,.0f} per sample", "–"))
    for operation in NO_ALLOCATION:
        small, large = RUNS[operation]
        extra = allocations(probe, operation, large) - allocations(probe, operation, small)
        rows.append((f"allocations in {large - small:,} more {operation}", f"{extra:,}", "–", "–", "0",
                     "yes" if extra == 0 else "NO"))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
        if index == 0:
            print("-+-".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
