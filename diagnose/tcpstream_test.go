package diagnose_test

import (
	"crypto/tls"
	"testing"
	"time"

	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// A server flight whose second part is captured first, then a copy of
// 100 of its bytes with other bytes, then the first segment: the first
// copy is read (the handshake completes) and the copy with other bytes is
// a capture-overlap-conflict warning on its frame; the same when the copy
// is a retransmission of the whole held segment (its range seen already).
func TestOverlapConflict(t *testing.T) {
	flip := func(b []byte, from, to int) []byte {
		b = append([]byte(nil), b...)
		for j := from; j < to; j++ {
			b[j] ^= 0xff
		}
		return b
	}
	for name, send := range map[string]func(k *pcapbuild.TCPConn, mark uint32, data []byte) int{
		"part of a held segment": func(k *pcapbuild.TCPConn, mark uint32, data []byte) int {
			k.SendAt(pcapbuild.S2C, mark, 500, data[500:])
			conflict := k.SendAt(pcapbuild.S2C, mark, 600, flip(data[600:700], 0, 100))
			k.SendAt(pcapbuild.S2C, mark, 0, data[:500])
			return conflict
		},
		"retransmission of a held segment": func(k *pcapbuild.TCPConn, mark uint32, data []byte) int {
			k.SendAt(pcapbuild.S2C, mark, 500, data[500:700])
			conflict := k.SendAt(pcapbuild.S2C, mark, 500, flip(data[500:700], 100, 200))
			k.SendAt(pcapbuild.S2C, mark, 700, data[700:])
			k.SendAt(pcapbuild.S2C, mark, 0, data[:500])
			return conflict
		},
	} {
		t.Run(name, func(t *testing.T) {
			ws := exchange(t, pcapbuild.NewChain("device.test", 0), tls.VersionTLS12, true)
			c := pcapbuild.New()
			k := c.Conn(client, server)
			k.Handshake()
			conflict := 0
			for _, w := range ws {
				if conflict != 0 || w.Dir != pcapbuild.S2C || len(w.Data) < 1000 {
					k.SendSegments(w.Dir, w.Data, 1460)
					continue
				}
				conflict = send(k, k.Next(pcapbuild.S2C), w.Data)
			}
			if conflict == 0 {
				t.Fatal("no server flight of 1000 bytes in the exchange")
			}
			k.FIN(pcapbuild.C2S)
			k.FIN(pcapbuild.S2C)
			rep := analyse(t, c.Bytes(), diagnose.Options{})
			conn := rep.Connections[0]
			if conn.Outcome != diagnose.OutcomeOK {
				t.Fatalf("outcome %s: %v", conn.Outcome, idsOf(conn.Findings))
			}
			for _, f := range conn.Findings {
				if f.ID != "capture-overlap-conflict" {
					continue
				}
				const title = "Overlapping TCP segments with different bytes: 1 segment from the server (100 bytes differing)"
				if f.Severity != diagnose.SeverityWarning || len(f.Frames) != 1 || f.Frames[0] != conflict || f.Title != title {
					t.Errorf("%s frames %v %q, want warning, frame %d, %q", f.Severity, f.Frames, f.Title, conflict, title)
				}
				return
			}
			t.Errorf("no capture-overlap-conflict: %v", idsOf(conn.Findings))
		})
	}
}

// A SYN refused by a RST and sent again 3 s later (as Windows does):
// one connection, as Wireshark's one tcp.stream, judged by the attempt
// that went on: a handshake that completed, not the RST before it.
func TestRefusedThenSentAgain(t *testing.T) {
	ws := exchange(t, pcapbuild.NewChain("device.test", 0), tls.VersionTLS12, true)
	c := pcapbuild.New()
	k := c.Conn(client, server)
	k.SYN()
	k.RSTToSYN()
	c.Wait(3 * time.Second)
	k.RetransmitSYN()
	k.SYNACK()
	k.Send(pcapbuild.C2S, nil)
	for _, w := range ws {
		k.SendSegments(w.Dir, w.Data, 1460)
	}
	fin := k.FIN(pcapbuild.C2S)
	k.FIN(pcapbuild.S2C)
	rep := analyse(t, c.Bytes(), diagnose.Options{})
	if len(rep.Connections) != 1 {
		t.Fatalf("%d connections, want 1", len(rep.Connections))
	}
	conn := rep.Connections[0]
	if conn.Outcome != diagnose.OutcomeOK {
		t.Errorf("outcome %s: %v", conn.Outcome, idsOf(conn.Findings))
	}
	if e := conn.Ending; e.By != "client" || e.How != "FIN" || e.Frame != fin {
		t.Errorf("ended by %q %q in frame %d, want the client's FIN in frame %d", e.By, e.How, e.Frame, fin)
	}
}
