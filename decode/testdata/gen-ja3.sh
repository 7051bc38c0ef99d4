#!/bin/sh
# Regenerates ja3-tshark.tsv: tshark's JA3 and JA3S of every ClientHello and
# ServerHello in a sample of the public captures (../shared/pcaps): the
# first 8 captures with TLS handshakes of each source in MANIFEST.tsv order,
# the ja4/ captures excepted (they have their own expected outputs).
# Columns: capture (relative to pcaps/), frame, tcp.stream, handshake type,
# ja3 or ja3s full string, its MD5. Several hellos in one frame give one
# line each, in order.
# Usage: decode/testdata/gen-ja3.sh [PCAPS_DIR] > decode/testdata/ja3-tshark.tsv
set -eu
pcaps=${1:-${TLSPCAP_SHARED:-$(dirname "$0")/../../../shared}/pcaps}
[ -f "$pcaps/MANIFEST.tsv" ] || pcaps=${1:-$TLSPCAP_SHARED}
echo "# tshark $(tshark --version 2>/dev/null | head -1 | sed -e 's/^TShark (Wireshark) //' -e 's/\.$//'), default preferences; made by gen-ja3.sh"
awk -F'\t' 'NR > 1 && $8 > 0 && $1 !~ /^ja4\// {
	split($1, p, "/"); if (n[p[1]]++ < 8) print $1 }' "$pcaps/MANIFEST.tsv" |
while read -r f; do
	tshark -n -r "$pcaps/$f" -Y 'tls.handshake.type == 1 || tls.handshake.type == 2' \
		-T fields -E aggregator=';' -e frame.number -e tcp.stream -e tls.handshake.type \
		-e tls.handshake.ja3_full -e tls.handshake.ja3 -e tls.handshake.ja3s_full -e tls.handshake.ja3s 2>/dev/null |
	awk -F'\t' -v f="$f" 'BEGIN { OFS = "\t" } {
		nt = split($3, t, ";"); split($4, cf, ";"); split($5, ch, ";"); split($6, sf, ";"); split($7, sh, ";")
		c = 0; s = 0
		for (i = 1; i <= nt; i++) {
			if (t[i] == 1) { c++; print f, $1, $2, 1, cf[c], ch[c] }
			else if (t[i] == 2) { s++; print f, $1, $2, 2, sf[s], sh[s] }
		}
	}'
done
