#!/usr/bin/env bash
# Store tshark's JA3 and JA3S of every ClientHello and ServerHello in every
# public capture (${TLSPCAP_SHARED:-<repo>/../shared}/pcaps, listed by its
# MANIFEST.tsv, read in place), for TestJA3Tshark in decode.
#
# Output: testdata/tshark/ja3.tsv, one line per hello tshark dissects over
# TCP, in capture (MANIFEST) order, then frame order:
#   capture  frame  stream  type  full  md5
# type 1 = ClientHello (tls.handshake.ja3_full, tls.handshake.ja3),
# type 2 = ServerHello (tls.handshake.ja3s_full, tls.handshake.ja3s); "-" when
# tshark shows the hello but computes no JA3. A capture in which tshark shows
# no hello gets one line "capture 0 0 0 - -", so the file lists every capture
# that was run. Columns are described in ja3tsv.py.
#
# Preferences: the same as expect.sh (tshark 4.0 defaults set explicitly,
# plus the TLS heuristic on TCP so TLS on any port is dissected).
#
# Environment: TLSPCAP_SHARED (shared dir), TSHARK (binary), PYTHON (default
# python3; a pyenv shim adds seconds per capture, PYTHON=/usr/bin/python3
# avoids it), JOBS (parallel tshark runs, default nproc).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
shared=${TLSPCAP_SHARED:-$repo/../shared}/pcaps
TSHARK=${TSHARK:-tshark}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
HERE=$here
export TSHARK PYTHON HERE

for c in "$TSHARK" "$PYTHON"; do
	command -v "$c" >/dev/null 2>&1 || { echo "ja3.sh: $c not found (Debian packages tshark, python3)" >&2; exit 2; }
done
[ -f "$shared/MANIFEST.tsv" ] || { echo "ja3.sh: $shared/MANIFEST.tsv not found (set TLSPCAP_SHARED)" >&2; exit 2; }

# One capture: $1 = relative path, $2 = absolute path, $3 = output file.
one() {
	"$TSHARK" -n -r "$2" \
		-o tcp.desegment_tcp_streams:TRUE -o tls.desegment_ssl_records:TRUE \
		-o tcp.reassemble_out_of_order:FALSE -o tcp.check_checksum:FALSE \
		-o tcp.try_heuristic_first:FALSE --enable-heuristic tls_tcp \
		-Y 'tcp && (tls.handshake.type == 1 || tls.handshake.type == 2)' \
		-T json -J 'frame tcp tls' 2>/dev/null |
		"$PYTHON" "$HERE/ja3tsv.py" | awk -v f="$1" 'BEGIN { OFS = "\t" } { print f, $0 }' >"$3" || true
	[ -s "$3" ] || printf '%s\t0\t0\t0\t-\t-\n' "$1" >"$3"
}
export -f one

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Rows whose packets column is "-" are companion files (scripts, keys), not captures.
tail -n +2 "$shared/MANIFEST.tsv" | awk -F"\t" '$6 != "-"' | cut -f1 | while IFS= read -r p; do
	[ -f "$shared/$p" ] && printf '%s\n' "$p"
done >"$tmp/list"
echo "ja3.sh: $(wc -l <"$tmp/list") captures, $JOBS at a time" >&2
i=0
while IFS= read -r p; do
	i=$((i + 1))
	printf '%s\0%s\0%s\0' "$p" "$shared/$p" "$tmp/$i.out"
done <"$tmp/list" | xargs -0 -n 3 -P "$JOBS" bash -c 'one "$1" "$2" "$3"' _

{
	echo "# tshark's JA3/JA3S of every hello in the public captures; made by testdata/tshark/ja3.sh, read by decode's TestJA3Tshark."
	echo "# tshark: $("$TSHARK" -v 2>/dev/null | head -1)"
	echo "# preferences: tcp.desegment_tcp_streams:TRUE tls.desegment_ssl_records:TRUE tcp.reassemble_out_of_order:FALSE tcp.check_checksum:FALSE tcp.try_heuristic_first:FALSE --enable-heuristic tls_tcp"
	printf 'capture\tframe\tstream\ttype\tfull\tmd5\n'
	i=0
	while IFS= read -r p; do
		i=$((i + 1))
		cat "$tmp/$i.out"
	done <"$tmp/list"
} >"$here/ja3.tsv"
awk -F'\t' '!/^#/ && $1 != "capture" { caps[$1] = 1; if ($4 == 1) c++; if ($4 == 2) s++ } END { n = 0; for (k in caps) n++; printf "ja3.sh: %d captures, %d ClientHellos, %d ServerHellos\n", n, c, s }' "$here/ja3.tsv" >&2
