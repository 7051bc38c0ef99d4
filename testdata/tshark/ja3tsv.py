#!/usr/bin/env python3
"""Turn `tshark -T json -J "frame tcp tls"` output (read on stdin) into one
line per ClientHello and ServerHello that tshark dissects over TCP:

    frame  stream  type  full  md5

frame   frame.number of the frame tshark shows the hello in (the frame that
        completes the record, or the reassembled handshake message).
stream  tcp.stream of that frame.
type    tls.handshake.type: 1 ClientHello, 2 ServerHello.
full    tls.handshake.ja3_full (type 1) or tls.handshake.ja3s_full (type 2);
        "-" when tshark dissects the hello but computes no JA3 for it.
md5     tls.handshake.ja3 or tls.handshake.ja3s; "-" likewise.

Hellos are listed in the order tshark shows them, several per frame when a
frame carries several. The JSON is parsed as lists of (key, value) pairs so
that repeated keys (several "tls" layers or "tls.record" nodes in a frame)
keep their order. Handshake messages inside a "tls.handshake.fragments"
tree are skipped: tshark shows the reassembled message itself as well.
"""
import json
import sys


def pairs(obj):
    return obj if isinstance(obj, list) else []


def is_node(v):
    return isinstance(v, list) and (not v or isinstance(v[0], tuple))


def first(node, key):
    for k, v in pairs(node):
        if k == key and not is_node(v):
            return v[0] if isinstance(v, list) else v
    return None


def handshakes(node):
    """Every tls.handshake node under node, depth first, in order."""
    for k, v in pairs(node):
        if k == "tls.handshake.fragments":
            continue
        if isinstance(v, list) and v and not isinstance(v[0], tuple):
            # several occurrences of a key merged into an array
            items = v
        else:
            items = [v]
        for item in items:
            if not is_node(item):
                continue
            if k == "tls.handshake":
                yield item
            yield from handshakes(item)


def main():
    packets = json.load(sys.stdin, object_pairs_hook=lambda p: p)
    out = sys.stdout
    for pkt in pairs(packets) if isinstance(packets, list) and packets and isinstance(packets[0], tuple) else packets:
        layers = None
        for k, v in pairs(pkt):
            if k == "_source":
                for k2, v2 in pairs(v):
                    if k2 == "layers":
                        layers = v2
        if layers is None:
            continue
        frame = stream = None
        tls_layers = []
        for k, v in pairs(layers):
            if k == "frame" and frame is None:
                frame = first(v, "frame.number")
            elif k == "tcp" and stream is None:
                stream = first(v, "tcp.stream")
            elif k == "tls":
                tls_layers.extend(v if (isinstance(v, list) and v and not isinstance(v[0], tuple)) else [v])
        if frame is None or stream is None:
            continue
        for tls in tls_layers:
            for hs in handshakes(tls):
                t = first(hs, "tls.handshake.type")
                if t == "1":
                    full, md5 = first(hs, "tls.handshake.ja3_full"), first(hs, "tls.handshake.ja3")
                elif t == "2":
                    full, md5 = first(hs, "tls.handshake.ja3s_full"), first(hs, "tls.handshake.ja3s")
                else:
                    continue
                out.write("\t".join([frame, stream, t, full or "-", md5 or "-"]) + "\n")


if __name__ == "__main__":
    main()
