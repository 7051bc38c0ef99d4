#!/usr/bin/env python3
"""Regenerates tshark-bytes.tsv: for every capture in the shared corpus, the
number of distinct TCP payload bytes each side of each tcp.stream sent, as
the union of tshark's [tcp.seq_raw, +tcp.len) ranges. Run from this
directory: ./gen-tshark-bytes.py [/path/to/shared/pcaps]
TestPublicPayloadMatchesTshark reads the TSV; it needs no tshark."""
import subprocess, sys, os
from concurrent.futures import ThreadPoolExecutor

pcaps = sys.argv[1] if len(sys.argv) > 1 else "../../../shared/pcaps"
with open(os.path.join(pcaps, "MANIFEST.tsv")) as f:
    paths = sorted(l.split("\t")[0] for l in f.read().splitlines()[1:] if l)

def one(rel):
    out = subprocess.run(["tshark", "-n", "-r", os.path.join(pcaps, rel), "-T", "fields",
        "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
        "-e", "tcp.seq_raw", "-e", "tcp.len"], capture_output=True, text=True).stdout
    ranges = {}
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 6 or not f[0] or "," in f[0] or not f[5] or "," in f[5] or not f[4] or "," in f[4]:
            continue
        n = int(f[5])
        if n <= 0:
            continue
        src = (f[2] or f[1]).split(",")[-1]
        if ":" in src:
            src = "[" + src + "]"
        key = (int(f[0]), src + ":" + f[3].split(",")[-1])
        ranges.setdefault(key, []).append((int(f[4]), n))
    rows = []
    for (stream, src), rs in sorted(ranges.items()):
        base = rs[0][0]
        iv = []
        for s, n in rs:
            r = (s - base) % (1 << 32)
            if r >= 1 << 31:
                r -= 1 << 32
            iv.append((r, r + n))
        iv.sort()
        total, cur_s, cur_e = 0, None, None
        for s, e in iv:
            if cur_e is None or s > cur_e:
                if cur_e is not None:
                    total += cur_e - cur_s
                cur_s, cur_e = s, e
            else:
                cur_e = max(cur_e, e)
        total += cur_e - cur_s
        rows.append("%s\t%d\t%s\t%d" % (rel, stream, src, total))
    return rows

with ThreadPoolExecutor(2) as ex:
    results = list(ex.map(one, paths))
with open("tshark-bytes.tsv", "w") as f:
    f.write("# capture\ttcp.stream\tsender\tdistinct payload bytes (gen-tshark-bytes.py)\n")
    for rows in results:
        for r in rows:
            f.write(r + "\n")
print("wrote tshark-bytes.tsv:", sum(len(r) for r in results), "rows")
