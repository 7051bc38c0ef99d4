#!/usr/bin/env bash
# Whole-process comparison on one capture, in one run:
#   tlspcap analyze --format json, the floor (bench/floor), tshark, cat,
#   and tlspcap again with its progress bar drawn on a terminal (script(1)).
# Each is measured with /usr/bin/time -v (wall time, CPU time, peak RSS).
#   bench/compare.sh FILE.pcap
# Builds bin/tlspcap and bin/floor first. tshark is installed with apt-get
# when missing (as root); set TSHARK=0 to skip it.
set -euo pipefail
file=${1:?usage: bench/compare.sh FILE.pcap}
cd "$(dirname "$0")/.."
[ -r "$file" ] || { echo "compare.sh: cannot read $file" >&2; exit 2; }
if [ ! -x /usr/bin/time ]; then
  echo "compare.sh: /usr/bin/time missing; install it: DEBIAN_FRONTEND=noninteractive apt-get install -y time" >&2
  exit 2
fi
GO=${GO:-go}
$GO build -o bin/tlspcap ./cmd/tlspcap
$GO build -o bin/floor ./bench/floor
size=$(stat -c %s "$file")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: run CMD (stdout to /dev/null) under time -v.
declare -A wall rss cpu
measure() {
  local name=$1; shift
  local rc=0 t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$tmp/$name.time" "$@" > /dev/null 2> "$tmp/$name.err" || rc=$?
  t1=$(date +%s%N)
  # tlspcap exits 1 when it found failing connections: that is a result.
  if [ "$rc" -gt 1 ] || ! grep -q 'Elapsed' "$tmp/$name.time"; then
    echo "compare.sh: $name failed (exit $rc):" >&2; cat "$tmp/$name.err" >&2; exit 1
  fi
  # wall time from date(1) in ns (time -v rounds to 10 ms); RSS from time -v
  wall[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  rss[$name]=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/$name.time")
  # CPU time (user + system): steadier than wall time on a shared machine
  cpu[$name]=$(awk -F': ' '/User time|System time/{s += $2} END{printf "%.3f", s}' "$tmp/$name.time")
}

if [ "${TSHARK:-1}" != 0 ] && ! command -v tshark > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "compare.sh: installing tshark for the comparison" >&2
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2> /dev/null || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y tshark > "$tmp/apt.log" 2>&1 ||
      { apt-get update > /dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y tshark > "$tmp/apt.log" 2>&1; } ||
      echo "compare.sh: apt-get install tshark failed (see above): tshark skipped" >&2
  fi
fi

cat "$file" > /dev/null   # warm the page cache so every run reads from memory
order=(cat floor tlspcap)
measure cat cat "$file"
measure floor bin/floor "$file"
measure tlspcap bin/tlspcap analyze --format json --no-progress "$file"
# The progress bar is drawn only when stderr is a terminal: script(1) gives
# the run a pseudo-terminal (stdout still goes to /dev/null).
if command -v script > /dev/null; then
  measure progress script -qefc "bin/tlspcap analyze --format json '$file' > /dev/null" /dev/null
  order+=(progress)
else
  echo "note: script(1) missing (util-linux): progress bar run skipped"
fi
if [ "${TSHARK:-1}" != 0 ] && command -v tshark > /dev/null; then
  measure tshark tshark -r "$file" -Y tls -T fields -e frame.number -e tls.record.length
  order+=(tshark)
else
  echo "note: tshark skipped (TSHARK=0, or not installed and not installable here: apt-get install -y tshark as root)"
fi

echo "file: $file ($size bytes, $(awk -v s="$size" 'BEGIN{printf "%.1f", s/1048576}') MiB)"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %10s %10s %10s %12s\n' program wall_s cpu_s MB/s peak_RSS_MiB
for n in "${order[@]}"; do
  awk -v n="$n" -v w="${wall[$n]}" -v c="${cpu[$n]}" -v r="${rss[$n]}" -v s="$size" \
    'BEGIN{mbs = (w > 0) ? sprintf("%.0f", s/1e6/w) : "inf"; printf "%-8s %10.3f %10.3f %10s %12.1f\n", n, w, c, mbs, r/1024}'
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a" }'; }
echo "tlspcap/floor (time): $(ratio "${wall[tlspcap]}" "${wall[floor]}"), (CPU): $(ratio "${cpu[tlspcap]}" "${cpu[floor]}")"
if [ -n "${wall[progress]:-}" ]; then
  echo "with progress bar/without (time): $(ratio "${wall[progress]}" "${wall[tlspcap]}"), (CPU): $(ratio "${cpu[progress]}" "${cpu[tlspcap]}")"
fi
if [ -n "${wall[tshark]:-}" ]; then
  echo "tshark/tlspcap (time): $(ratio "${wall[tshark]}" "${wall[tlspcap]}")"
  echo "tshark/tlspcap (peak RSS): $(ratio "${rss[tshark]}" "${rss[tlspcap]}")"
fi
