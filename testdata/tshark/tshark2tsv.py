#!/usr/bin/env python3
"""Turn `tshark -T json -J "frame tcp tls"` output (read on stdin) into one
line per TLS record carried over TCP:

    frame  stream  content_type  length  handshake_types  note

frame           frame.number of the frame tshark shows the record in. tshark
                dissects a record that spans TCP segments only once it is
                complete, so this is the LAST frame that carried part of it.
stream          tcp.stream of that frame.
content_type    tls.record.content_type, or tls.record.opaque_type for TLS 1.3
                protected records; "-" for SSLv2 records (they have none).
length          tls.record.length (body, without the header); "-" if absent.
handshake_types tls.handshake.type values inside the record, in order,
                comma-separated; "-" for none. Types shown only inside a
                "Reassembled Handshake Fragments" tree are not counted: they
                belong to the record where the fragment started (see note).
note            comma-separated flags, "-" for none:
                ssl2   SSLv2 record
                enc    handshake record tshark shows as "Encrypted Handshake
                       Message" (no handshake type readable)
                frag   the record carries a fragment of a handshake message
                       split over records (tls.handshake.fragment*,
                       tls.handshake.reassembled_in present)
                badlen tshark flagged tls.record.length.invalid

The JSON is parsed as lists of (key, value) pairs, so repeated keys (several
"tls" layers in one frame, several "tls.record" in one layer) keep their order.
TLS seen outside TCP (QUIC CRYPTO frames, EAP-TLS, ...) is ignored.
"""
import json
import sys


def pairs(obj):
    return obj if isinstance(obj, list) else []


def walk(node, skip_under=("tls.handshake.fragments",)):
    """Yield every (key, value) leaf in node depth-first, in order."""
    for k, v in pairs(node):
        if isinstance(v, list) and v and isinstance(v[0], tuple):
            if k in skip_under:
                yield (k, None)
                continue
            yield (k, None)
            yield from walk(v, skip_under)
        elif isinstance(v, list):
            # An array value of a field (several occurrences merged).
            for x in v:
                if isinstance(x, list):
                    yield from walk(x, skip_under)
                else:
                    yield (k, x)
        else:
            yield (k, v)


def records_in_tls(tls):
    """Each tls.record under a tls layer (records may appear at any depth)."""
    for k, v in pairs(tls):
        if k == "tls.record":
            yield v
        elif isinstance(v, list):
            yield from records_in_tls(v)


def record_line(rec):
    ctype = length = None
    hs = []
    note = []
    has_hs_node = False
    for k, v in walk(rec):
        if k == "tls.record.content_type" and ctype is None:
            ctype = v
        elif k == "tls.record.opaque_type" and ctype is None:
            ctype = v
        elif k == "tls.record.length" and length is None:
            length = v
        elif k == "tls.handshake.type":
            hs.append(v)
        elif k == "tls.handshake":
            has_hs_node = True
        elif k in ("tls.handshake.fragments", "tls.handshake.fragment",
                   "tls.handshake.reassembled_in", "tls.handshake.fragment.count"):
            if "frag" not in note:
                note.append("frag")
        elif k == "tls.record.length.invalid" and "badlen" not in note:
            note.append("badlen")
        elif k == "_ws.expert" and v is None:
            pass
    if ctype is None:
        note.insert(0, "ssl2")
    if ctype == "22" and not hs and has_hs_node and "frag" not in note:
        note.append("enc")
    return [ctype or "-", length or "-", ",".join(hs) or "-", ",".join(note) or "-"]


def main():
    data = json.load(sys.stdin, object_pairs_hook=lambda p: p)
    out = sys.stdout
    out.write("#frame\tstream\tcontent_type\tlength\thandshake_types\tnote\n")
    n = 0
    for pkt in data if isinstance(data, list) else []:
        src = dict(pairs(pkt)).get("_source")
        layers = dict(pairs(src)).get("layers")
        frame = stream = None
        for name, layer in pairs(layers):
            if name == "frame":
                frame = dict(pairs(layer)).get("frame.number")
            elif name == "tcp":
                stream = dict(pairs(layer)).get("tcp.stream")
            elif name in ("udp", "sctp"):
                stream = None  # TLS above this is not over TCP
            elif name == "tls" and stream is not None:
                for rec in records_in_tls(layer):
                    out.write("\t".join([frame, stream] + record_line(rec)) + "\n")
                    n += 1
    return n


if __name__ == "__main__":
    main()
