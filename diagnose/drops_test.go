package diagnose_test

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// dropAt is a reading of the kernel's drop counter, handed to the analyzer
// after frame `after` (as a live capture does between packets).
type dropAt struct {
	after   int
	dropped uint64
	// decideFirst advances the clock first, so connections closed by then
	// are decided before the reading.
	decideFirst bool
}

// streamWithDrops feeds a built capture packet by packet through a
// Decoder, interleaving the drop readings, and returns the report.
func streamWithDrops(t *testing.T, pcap []byte, drops []dropAt) *diagnose.Report {
	t.Helper()
	a, err := diagnose.NewAnalyzer(diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	dec := capture.NewDecoder(a, capture.Options{IdleTimeout: time.Minute})
	var st capture.Stats
	var total uint64
	for n := 1; ; n++ {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		dec.Packet(uint32(r.LinkType()), data, ci.Length, ci.Timestamp)
		for _, d := range drops {
			if d.after != n {
				continue
			}
			if d.decideFirst {
				dec.Tick(ci.Timestamp.Add(10 * time.Second))
			}
			total += d.dropped
			a.KernelDrops(capture.KernelDrops{Frame: capture.Frame{Number: n, Time: ci.Timestamp}, Dropped: d.dropped, Total: total})
		}
	}
	st = dec.Close()
	return a.Report("live", st)
}

func TestKernelDrops(t *testing.T) {
	chain := pcapbuild.NewChain("device.test", 0)
	ws12 := exchange(t, chain, tls.VersionTLS12, true)
	clientHello := ws12[0].Data

	// Two connections: 0 is reset by the server after the ClientHello
	// (frames 1-5), 1 is a healthy TLS 1.2 handshake (from frame 6).
	c := pcapbuild.New()
	k := c.Conn(client, server)
	k.Handshake()
	hello := k.Send(pcapbuild.C2S, clientHello) // frame 4
	reset := k.RST(pcapbuild.S2C)               // frame 5
	c.Wait(time.Second)
	h := c.Conn("192.168.4.23:51001", server)
	h.Handshake()
	for _, w := range ws12 {
		h.SendSegments(w.Dir, w.Data, 1460)
	}
	h.FIN(pcapbuild.C2S)
	h.FIN(pcapbuild.S2C)
	pcap := c.Bytes()

	for _, tc := range []struct {
		name  string
		drops []dropAt
		// capture-kernel-drops on each stream: "" none, else its frames.
		want [2]string
	}{
		{"no drops", nil, [2]string{"", ""}},
		{"drops while the reset connection was open", []dropAt{{after: hello, dropped: 7}}, [2]string{"[4] 7 packets", ""}},
		{"two readings add up", []dropAt{{after: 2, dropped: 3}, {after: hello, dropped: 1}}, [2]string{"[2 4] 4 packets", ""}},
		{"a reading without new drops", []dropAt{{after: hello, dropped: 0}}, [2]string{"", ""}},
		{"drops after the reset connection was decided, during the healthy one",
			[]dropAt{{after: reset + 4, dropped: 9, decideFirst: true}}, [2]string{"", ""}},
		{"drops before the reset connection was decided",
			[]dropAt{{after: reset, dropped: 2}}, [2]string{"[5] 2 packets", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := streamWithDrops(t, pcap, tc.drops)
			if len(rep.Connections) != 2 {
				t.Fatalf("%d connections, want 2", len(rep.Connections))
			}
			for i, conn := range rep.Connections {
				var got string
				for _, f := range conn.Findings {
					if f.ID == "capture-kernel-drops" {
						var n int
						fmt.Sscanf(f.Title, "The kernel dropped %d packets", &n)
						got = fmt.Sprintf("%v %d packets", f.Frames, n)
						if f.Severity != diagnose.SeverityWarning {
							t.Errorf("stream %d: severity %s", i, f.Severity)
						}
					}
				}
				if got != tc.want[i] {
					t.Errorf("stream %d: capture-kernel-drops %q, want %q", i, got, tc.want[i])
				}
				// The root cause stays what the packets show.
				wantOutcome, wantRoot := diagnose.OutcomeFailed, "server-reset"
				if i == 1 {
					wantOutcome, wantRoot = diagnose.OutcomeOK, ""
				}
				root := ""
				if len(conn.Findings) > 0 && conn.Findings[0].Severity == diagnose.SeverityError {
					root = string(conn.Findings[0].ID)
				}
				if conn.Outcome != wantOutcome || root != wantRoot {
					t.Errorf("stream %d: %s %q, want %s %q", i, conn.Outcome, root, wantOutcome, wantRoot)
				}
			}
		})
	}
}
