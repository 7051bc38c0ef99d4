#!/usr/bin/env bash
# Store tshark's record-level view of every test capture, for the cross-check
# in internal/tsharkcheck (`make expect`).
#
# Inputs (read in place, never copied into the repository):
#   shared  ${TLSPCAP_SHARED:-<repo>/../shared}/pcaps   public captures, listed
#           by its MANIFEST.tsv (zeek, suricata-verify, nDPI, mercury, ja4, ...)
#   local   testdata/pcaps/*.pcap*                      ground-truth captures
# Outputs, under testdata/tshark/:
#   shared/<path>.tsv, local/<name>.tsv   one line per TLS record over TCP;
#       columns and flags are described in tshark2tsv.py (frame, tcp.stream,
#       content type, length, handshake types, note). Only captures where
#       tshark sees at least one TLS record over TCP get a file.
#   INDEX.tsv   every capture considered: set, path, sha256, status
#       (tls | no-tls | capped | error), records, streams. Its header names
#       the tshark version and the preferences used.
#
# Why JSON: `-T fields` aggregates a frame's values per field
# (tls.handshake.type "1,2" for two records, or one record with two
# messages?), which cannot be split back into records. `-T json` keeps the
# tree: each tls.record node holds its own content type, length and handshake
# messages. tshark2tsv.py flattens it.
#
# Preferences that matter (all tshark 4.0 defaults, set explicitly so another
# version or a user profile cannot change the result):
#   tcp.desegment_tcp_streams:TRUE    reassemble records spanning segments; a
#                                     record is shown in the frame completing it
#   tls.desegment_ssl_records:TRUE    same, at the TLS layer
#   tcp.reassemble_out_of_order:FALSE tshark 4.0 default; out-of-order
#                                     segments are not queued
#   tcp.check_checksum:FALSE          offloaded checksums stay valid
#   tcp.try_heuristic_first:FALSE     port-based dissectors first
#   --enable-heuristic tls_tcp        TLS heuristic on TCP ("tcp tls T" in
#                                     `tshark -G heuristic-decodes`): TLS on
#                                     ports tshark does not associate with TLS
# tshark also follows STARTTLS (SMTP, IMAP, POP3, XMPP, LDAP, ...) and hands
# TLS off from other dissectors; tlspcap does not always: the test lists
# those streams as known differences.
#
# Environment: TLSPCAP_SHARED (shared dir), TSHARK (binary), JOBS (parallel
# tshark runs, default nproc), MAX_RECORDS (cap per capture, default 20000).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
shared=${TLSPCAP_SHARED:-$repo/../shared}/pcaps
TSHARK=${TSHARK:-tshark}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
MAX_RECORDS=${MAX_RECORDS:-20000}
HERE=$here
export TSHARK MAX_RECORDS HERE

need() {
	command -v "$1" >/dev/null 2>&1 && return
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" >/dev/null
	else
		echo "expect.sh: $1 not found: install the Debian package $2 (as root: apt-get install $2)" >&2
		exit 2
	fi
}
need "$TSHARK" tshark
need python3 python3
need sha256sum coreutils

# One capture: $1 = absolute path, $2 = output .tsv path. Prints the index row
# (without the set and path columns).
one() {
	local in=$1 out=$2 tmp status records streams sum
	sum=$(sha256sum "$in" | cut -d' ' -f1)
	mkdir -p "$(dirname "$out")"
	tmp=$out.tmp.$$
	if ! "$TSHARK" -n -r "$in" \
		-o tcp.desegment_tcp_streams:TRUE -o tls.desegment_ssl_records:TRUE \
		-o tcp.reassemble_out_of_order:FALSE -o tcp.check_checksum:FALSE \
		-o tcp.try_heuristic_first:FALSE --enable-heuristic tls_tcp \
		-Y 'tcp && tls' -T json -J 'frame tcp tls' 2>"$tmp.err" |
		python3 "$HERE/tshark2tsv.py" >"$tmp"; then
		# tshark exits non-zero on a capture cut short, after printing
		# everything it read: keep what it printed if it parsed.
		if [ ! -s "$tmp" ]; then
			rm -f "$tmp" "$tmp.err" "$out"
			printf '%s\terror\t0\t0\n' "$sum"
			return
		fi
	fi
	rm -f "$tmp.err"
	records=$(($(wc -l <"$tmp") - 1))
	streams=$(tail -n +2 "$tmp" | cut -f2 | sort -u | wc -l)
	status=tls
	if [ "$records" -le 0 ]; then
		rm -f "$tmp" "$out"
		printf '%s\tno-tls\t0\t0\n' "$sum"
		return
	fi
	if [ "$records" -gt "$MAX_RECORDS" ]; then
		head -n $((MAX_RECORDS + 1)) "$tmp" >"$out"
		rm -f "$tmp"
		status=capped
	else
		mv "$tmp" "$out"
	fi
	printf '%s\t%s\t%s\t%s\n' "$sum" "$status" "$records" "$streams"
}
export -f one

# The list: set<TAB>relative path<TAB>absolute path.
list=$(mktemp)
trap 'rm -f "$list" "$list".*' EXIT
if [ -d "$shared" ]; then
	if [ -f "$shared/MANIFEST.tsv" ]; then
		tail -n +2 "$shared/MANIFEST.tsv" | awk -F"\t" '$6 != "-"' | cut -f1 # "-": companion files, not captures
	else
		(cd "$shared" && find . -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' -o -name '*.pcap.gz' -o -name '*.pcapng.gz' \) | sed 's|^\./||')
	fi | sort | while IFS= read -r p; do
		[ -f "$shared/$p" ] && printf 'shared\t%s\t%s\n' "$p" "$shared/$p"
	done >>"$list"
else
	echo "expect.sh: $shared not found: public captures skipped (set TLSPCAP_SHARED)" >&2
fi
for f in "$repo"/testdata/pcaps/*.pcap*; do
	[ -f "$f" ] || continue
	printf 'local\t%s\t%s\n' "$(basename "$f")" "$f" >>"$list"
done

# Start from scratch so captures that vanished leave no stale files.
rm -rf "$here/shared" "$here/local"
n=$(wc -l <"$list")
echo "expect.sh: $n captures, $JOBS at a time" >&2
# Each job writes its index row to its own file; rows are joined in list order.
i=0
while IFS=$'\t' read -r set rel abs; do
	i=$((i + 1))
	printf '%s\0%s\0%s\0' "$abs" "$here/$set/$rel.tsv" "$list.$i"
done <"$list" | xargs -0 -n 3 -P "$JOBS" bash -c 'one "$1" "$2" >"$3"' _

{
	echo "# tshark's record-level view of the test captures; made by testdata/tshark/expect.sh, read by internal/tsharkcheck."
	echo "# tshark: $("$TSHARK" -v 2>/dev/null | head -1)"
	echo "# preferences: tcp.desegment_tcp_streams:TRUE tls.desegment_ssl_records:TRUE tcp.reassemble_out_of_order:FALSE tcp.check_checksum:FALSE tcp.try_heuristic_first:FALSE --enable-heuristic tls_tcp"
	echo "# status: tls = <set>/<path>.tsv holds every record; capped = only the first $MAX_RECORDS records are stored; no-tls = tshark saw no TLS record over TCP; error = tshark could not read it"
	printf 'set\tpath\tsha256\tstatus\trecords\tstreams\n'
	i=0
	while IFS=$'\t' read -r set rel abs; do
		i=$((i + 1))
		printf '%s\t%s\t%s\n' "$set" "$rel" "$(cat "$list.$i")"
	done <"$list"
} >"$here/INDEX.tsv"

awk -F'\t' '!/^#/ && NR>1 && $1!="set" {c[$4]++; r+=$5} END {for (s in c) printf "expect.sh: %s %d\n", s, c[s]; printf "expect.sh: %d records\n", r}' "$here/INDEX.tsv" >&2
du -sh "$here" >&2
