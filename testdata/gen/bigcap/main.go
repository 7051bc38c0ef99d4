// Command bigcap writes a large realistic pcap for the speed and memory
// benchmarks (see BENCHMARKS.md):
//
//	go run ./testdata/gen/bigcap -size 1GiB -out /tmp/big.pcap
//
// At start it runs real crypto/tls handshakes once per server (several
// certificate chains, TLS 1.2 and 1.3), records the bytes each side wrote,
// and replays them into many TCP connections with fresh addresses, ports and
// sequence numbers, segmented at 1448 bytes, with application data, failing
// connections (RST after ClientHello, silent server, record over 4096 bytes,
// client alert, plaintext HTTP answer), DNS (with NXDOMAIN), non-TLS TCP and
// UDP noise, and some out-of-order and retransmitted segments. Packets are
// streamed to the file. The seed fixes the layout (which connections, sizes,
// addresses, ports, sequence numbers, timing); the handshake bytes themselves
// come from real crypto with fresh randomness on each run.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"tlspcap/testdata/gen/bigcap/synth"
)

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("bad -size %q (use e.g. 256MiB, 1GiB)", s)
	}
	return int64(f * float64(mult)), nil
}

func main() {
	size := flag.String("size", "1GiB", "approximate capture size (e.g. 256MiB, 1GiB)")
	out := flag.String("out", "big.pcap", "output pcap file")
	seed := flag.Uint64("seed", 1, "seed for the layout")
	active := flag.Int("active", 64, "connections open at once")
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigcap:", err)
		os.Exit(2)
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	t0 := time.Now()
	ts, err := synth.Prepare(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigcap:", err)
		os.Exit(1)
	}
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigcap:", err)
		os.Exit(1)
	}
	st, err := synth.Generate(f, ts, start, synth.Options{Size: n, Seed: *seed, Active: *active})
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bigcap:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bigcap: %s: %d bytes, %d packets; %d TLS ok, %d failing, %d DNS, %d TCP noise, %d UDP noise, %d out-of-order, %d retransmitted; %d real handshakes; %.1fs\n",
		*out, st.Bytes, st.Packets, st.TLS, st.Failed, st.DNS, st.NoiseTCP, st.NoiseUDP, st.OOO, st.Rtx, st.Transcripts, time.Since(t0).Seconds())
}
