package diagnose_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/testdata/gen/bigcap/synth"
)

var (
	benchOnce  sync.Once
	benchTS    []*synth.Transcript
	benchErr   error
	benchStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// benchPcap builds an in-memory capture from real crypto/tls handshakes
// (recorded once per process) replayed into many connections.
func benchPcap(b *testing.B, size int64, handshakes bool) ([]byte, synth.Stats) {
	b.Helper()
	benchOnce.Do(func() { benchTS, benchErr = synth.Prepare(benchStart) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	var buf bytes.Buffer
	st, err := synth.Generate(&buf, benchTS, benchStart, synth.Options{Size: size, Seed: 1, Handshakes: handshakes})
	if err != nil {
		b.Fatal(err)
	}
	return buf.Bytes(), st
}

func analyze(b *testing.B, pc []byte) *diagnose.Report {
	a, err := diagnose.NewAnalyzer(diagnose.Options{})
	if err != nil {
		b.Fatal(err)
	}
	st, err := capture.Read(bytes.NewReader(pc), "bench", a, capture.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return a.Report("bench", st)
}

// BenchmarkAnalyze is end-to-end analysis (capture.Read + diagnose) of a
// realistic mix: TLS 1.2/1.3 with application data, failures, DNS, noise.
func BenchmarkAnalyze(b *testing.B) {
	pc, st := benchPcap(b, 16<<20, false)
	conns := st.TLS + st.Failed + st.NoiseTCP
	b.SetBytes(int64(len(pc)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := analyze(b, pc); len(r.Connections) < conns {
			b.Fatalf("%d connections, want at least %d", len(r.Connections), conns)
		}
	}
	b.ReportMetric(float64(conns)*float64(b.N)/b.Elapsed().Seconds(), "conns/s")
}

// BenchmarkAnalyzeHandshakes is the handshake-heavy case: only short
// connections with full certificate chains (target: 20,000 connections/s).
func BenchmarkAnalyzeHandshakes(b *testing.B) {
	pc, st := benchPcap(b, 4<<20, true)
	b.SetBytes(int64(len(pc)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := analyze(b, pc); len(r.Connections) < st.TLS {
			b.Fatalf("%d connections, want %d", len(r.Connections), st.TLS)
		}
	}
	b.ReportMetric(float64(st.TLS)*float64(b.N)/b.Elapsed().Seconds(), "conns/s")
}
