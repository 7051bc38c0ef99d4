package diagnose_test

import (
	"bytes"
	"crypto/tls"
	"encoding/pem"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// These captures are built byte by byte: each case is one a real program
// does not produce on request (or is a unit-sized version of a ground-truth
// capture in testdata/pcaps). Every case asserts the root cause's id, its
// first frame, and the first device error.

const (
	client = "192.168.4.23:51000"
	server = "203.0.113.10:443"
)

func analyse(t *testing.T, pcap []byte, o diagnose.Options) *diagnose.Report {
	t.Helper()
	a, err := diagnose.NewAnalyzer(o)
	if err != nil {
		t.Fatal(err)
	}
	st, err := capture.Read(bytes.NewReader(pcap), "test.pcap", a, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a.Report("test.pcap", st)
}

// exchange records a real TLS exchange with a chain for device.test.
func exchange(t *testing.T, ch *pcapbuild.Chain, version uint16, withIntermediate bool) []pcapbuild.Write {
	t.Helper()
	return exchangeFor(t, ch, "device.test", version, withIntermediate)
}

// exchangeFor is exchange with the client dialling name (an IP address
// sends no SNI).
func exchangeFor(t *testing.T, ch *pcapbuild.Chain, name string, version uint16, withIntermediate bool) []pcapbuild.Write {
	t.Helper()
	cc := &tls.Config{ServerName: name, RootCAs: ch.Pool(), MinVersion: version, MaxVersion: version,
		Time: func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }}
	sc := &tls.Config{Certificates: []tls.Certificate{ch.TLSCertificate(withIntermediate)}, MinVersion: version, MaxVersion: version}
	ws, cerr, serr := pcapbuild.Exchange(cc, sc)
	if cerr != nil || serr != nil {
		t.Fatalf("exchange: client %v, server %v", cerr, serr)
	}
	return ws
}

type want struct {
	id, code string
	outcome  diagnose.Outcome
}

func TestRules(t *testing.T) {
	chain := pcapbuild.NewChain("device.test", 0)
	bigChain := pcapbuild.NewChain("device.test", 6000)
	ws12 := exchange(t, chain, tls.VersionTLS12, true)
	wsBig := exchange(t, bigChain, tls.VersionTLS12, true)
	ws13 := exchange(t, chain, tls.VersionTLS13, true)
	clientHello := ws12[0].Data

	cases := []struct {
		name  string
		build func(c *pcapbuild.Capture) int // returns the expected frame
		opts  diagnose.Options
		want  want
	}{
		{"healthy TLS 1.2", func(c *pcapbuild.Capture) int {
			c.Replay(client, server, ws12)
			return 0
		}, diagnose.Options{}, want{outcome: diagnose.OutcomeOK}},
		{"healthy TLS 1.3", func(c *pcapbuild.Capture) int {
			c.Replay(client, server, ws13)
			return 0
		}, diagnose.Options{}, want{outcome: diagnose.OutcomeOK}},
		{"connection refused", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.SYN()
			return k.RSTToSYN()
		}, diagnose.Options{}, want{id: "connection-refused", outcome: diagnose.OutcomeFailed}},
		{"no SYN-ACK", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			n := k.SYN()
			c.Wait(time.Second)
			k.RetransmitSYN()
			c.Wait(2 * time.Second)
			k.RetransmitSYN()
			return n
		}, diagnose.Options{}, want{id: "no-syn-ack", outcome: diagnose.OutcomeFailed}},
		{"no ClientHello", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			return k.FIN(pcapbuild.C2S)
		}, diagnose.Options{}, want{id: "no-client-hello", outcome: diagnose.OutcomeFailed}},
		{"record exceeds the 4096-byte buffer", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, wsBig[0].Data)
			n := k.Send(pcapbuild.S2C, wsBig[1].Data[:1400])
			k.FIN(pcapbuild.C2S)
			k.RST(pcapbuild.C2S)
			return n
		}, diagnose.Options{InContentLen: 4096}, want{id: "record-exceeds-device-buffer", code: "-0x7100", outcome: diagnose.OutcomeFailed}},
		{"plaintext HTTP answer", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			n := k.Send(pcapbuild.S2C, []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
			k.FIN(pcapbuild.S2C)
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "not-tls", code: "-0x7200", outcome: diagnose.OutcomeNotTLS}},
		{"server resets after ClientHello", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			return k.RST(pcapbuild.S2C)
		}, diagnose.Options{}, want{id: "server-reset", code: "-0x0050", outcome: diagnose.OutcomeFailed}},
		{"server closes after ClientHello", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			n := k.FIN(pcapbuild.S2C)
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "server-closed", code: "-0x7280", outcome: diagnose.OutcomeFailed}},
		{"server closes with close_notify after ClientHello", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			n := k.Send(pcapbuild.S2C, pcapbuild.Alert(1, 0))
			k.FIN(pcapbuild.S2C)
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "server-closed", code: "-0x7880", outcome: diagnose.OutcomeFailed}},
		{"server silent", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			n := k.Send(pcapbuild.C2S, clientHello)
			c.Wait(10 * time.Second)
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "server-silent", outcome: diagnose.OutcomeFailed}},
		{"record truncated by the server", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			rec := pcapbuild.Record(22, 0x0303, make([]byte, 2000))
			n := k.Send(pcapbuild.S2C, rec[:1000])
			k.FIN(pcapbuild.S2C)
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "record-truncated", outcome: diagnose.OutcomeFailed}},
		{"record overflow", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			n := k.Send(pcapbuild.S2C, pcapbuild.RecordHeader(22, 0x0303, 18000))
			k.SendSegments(pcapbuild.S2C, make([]byte, 18000), 1460)
			k.RST(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "record-overflow", outcome: diagnose.OutcomeFailed}},
		{"server alert protocol_version", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			n := k.Send(pcapbuild.S2C, pcapbuild.Alert(2, 70))
			k.FIN(pcapbuild.S2C)
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "version-mismatch", code: "-0x7780", outcome: diagnose.OutcomeFailed}},
		{"server alert handshake_failure", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			n := k.Send(pcapbuild.S2C, pcapbuild.Alert(2, 40))
			k.FIN(pcapbuild.S2C)
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "no-shared-cipher", code: "-0x7780", outcome: diagnose.OutcomeFailed}},
		{"device rejects an untrusted chain", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, ws12[0].Data)
			k.SendSegments(pcapbuild.S2C, ws12[1].Data, 1460)
			n := k.Send(pcapbuild.C2S, pcapbuild.Alert(2, 48))
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "chain-untrusted", code: "-0x2700", outcome: diagnose.OutcomeFailed}},
		{"bytes missing from the capture", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, ws12[0].Data)
			k.Send(pcapbuild.S2C, ws12[1].Data[:500])
			k.Skip(pcapbuild.S2C, 500)
			n := k.Send(pcapbuild.S2C, ws12[1].Data[1000:])
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "capture-missing-bytes", outcome: diagnose.OutcomeIncomplete}},
		{"device aborts after the server's flight", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, ws12[0].Data)
			k.SendSegments(pcapbuild.S2C, ws12[1].Data, 1460)
			c.Wait(2 * time.Second)
			return k.RST(pcapbuild.C2S)
		}, diagnose.Options{}, want{id: "client-aborted", outcome: diagnose.OutcomeFailed}},
		{"device sends decode_error", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, ws12[0].Data)
			k.SendSegments(pcapbuild.S2C, ws12[1].Data, 1460)
			n := k.Send(pcapbuild.C2S, pcapbuild.Alert(2, 50))
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "client-alert", outcome: diagnose.OutcomeFailed}},
		{"server sends internal_error", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			n := k.Send(pcapbuild.S2C, pcapbuild.Alert(2, 80))
			k.FIN(pcapbuild.S2C)
			return n
		}, diagnose.Options{}, want{id: "server-alert", code: "-0x7780", outcome: diagnose.OutcomeFailed}},
		{"record just over the buffer", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			// 4200 bytes: over IN_CONTENT_LEN 4096 but within the buffer's
			// overhead, so mbedTLS reads it and rejects the content length.
			n := k.SendSegments(pcapbuild.S2C, pcapbuild.Record(22, 0x0303, pcapbuild.Handshake(11, make([]byte, 4196))), 1460)
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{InContentLen: 4096}, want{id: "record-exceeds-device-buffer", code: "-0x7200", outcome: diagnose.OutcomeFailed}},
		{"only the client's direction captured", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			n := k.SYN()
			k.Skip(pcapbuild.S2C, 1)
			for _, w := range ws12 {
				if w.Dir == pcapbuild.C2S {
					k.Send(pcapbuild.C2S, w.Data)
				}
			}
			k.FIN(pcapbuild.C2S)
			return n
		}, diagnose.Options{}, want{id: "capture-one-direction", outcome: diagnose.OutcomeIncomplete}},
		{"TLS 1.2 handshake message over two records", func(c *pcapbuild.Capture) int {
			k := c.Conn(client, server)
			k.Handshake()
			k.Send(pcapbuild.C2S, clientHello)
			msg := pcapbuild.Handshake(11, make([]byte, 3000))
			n := k.Send(pcapbuild.S2C, pcapbuild.Record(22, 0x0303, msg[:2000]))
			k.Send(pcapbuild.S2C, pcapbuild.Record(22, 0x0303, msg[2000:]))
			k.FIN(pcapbuild.C2S)
			k.RST(pcapbuild.C2S)
			return n
		}, diagnose.Options{Profile: "esp32-idf4"}, want{id: "handshake-fragmented", code: "-0x7080", outcome: diagnose.OutcomeFailed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := pcapbuild.New()
			frame := tc.build(c)
			rep := analyse(t, c.Bytes(), tc.opts)
			if len(rep.Connections) != 1 {
				t.Fatalf("%d connections, want 1", len(rep.Connections))
			}
			conn := rep.Connections[0]
			if conn.Outcome != tc.want.outcome {
				t.Errorf("outcome %s, want %s; findings %v", conn.Outcome, tc.want.outcome, idsOf(conn.Findings))
			}
			// The root cause of a failure is its first error finding; on a
			// connection that did not fail, the finding asked for.
			var root *diagnose.Finding
			failed := tc.want.outcome == diagnose.OutcomeFailed || tc.want.outcome == diagnose.OutcomeNotTLS
			for i, f := range conn.Findings {
				if (failed && f.Severity == diagnose.SeverityError) || (!failed && string(f.ID) == tc.want.id) {
					root = &conn.Findings[i]
					break
				}
			}
			if tc.want.id == "" {
				if root = firstError(conn.Findings); root != nil {
					t.Fatalf("healthy connection has error %s: %s", root.ID, root.Explanation)
				}
				return
			}
			if root == nil || string(root.ID) != tc.want.id {
				t.Fatalf("root cause %v, want %s; findings %v", root, tc.want.id, idsOf(conn.Findings))
			}
			if len(root.Frames) == 0 || root.Frames[0] != frame {
				t.Errorf("frames %v, want first %d", root.Frames, frame)
			}
			if tc.want.code != "" && (len(root.DeviceErrors) == 0 || root.DeviceErrors[0].Code != tc.want.code) {
				t.Errorf("device errors %+v, want %s first", root.DeviceErrors, tc.want.code)
			}
		})
	}
}

func TestDNSFindings(t *testing.T) {
	c := pcapbuild.New()
	nx := c.DNS("192.168.4.23:40000", "192.168.4.1:53", 1, "mqtt.example.invalid", false, 0)
	nxr := c.DNS("192.168.4.23:40000", "192.168.4.1:53", 1, "mqtt.example.invalid", true, layers.DNSResponseCodeNXDomain)
	c.DNS("192.168.4.23:40001", "192.168.4.1:53", 2, "broken.example.com", false, 0)
	sf := c.DNS("192.168.4.23:40001", "192.168.4.1:53", 2, "broken.example.com", true, layers.DNSResponseCodeServFail)
	lost := c.DNS("192.168.4.23:40002", "192.168.4.1:53", 3, "lost.example.com", false, 0)
	c.Wait(5 * time.Second)
	c.DNS("192.168.4.23:40003", "192.168.4.1:53", 4, "ok.example.com", false, 0)
	_ = nx
	rep := analyse(t, c.Bytes(), diagnose.Options{})
	got := map[string]int{}
	for _, f := range rep.Findings {
		if len(f.Frames) > 0 {
			got[string(f.ID)] = f.Frames[0]
		}
	}
	want := map[string]int{"dns-nxdomain": nxr, "dns-servfail": sf, "dns-no-response": lost}
	for id, fr := range want {
		if got[id] != fr {
			t.Errorf("%s frame %d, want %d (all: %v)", id, got[id], fr, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("findings %v, want exactly %v", got, want)
	}
}

func idsOf(fs []diagnose.Finding) []string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f.ID)+"/"+string(f.Severity))
	}
	return s
}

func firstError(fs []diagnose.Finding) *diagnose.Finding {
	for i, f := range fs {
		if f.Severity == diagnose.SeverityError {
			return &fs[i]
		}
	}
	return nil
}

// TestObservations covers findings that accompany a healthy connection.
func TestObservations(t *testing.T) {
	chain := pcapbuild.NewChain("device.test", 0)
	other := pcapbuild.NewChain("device.test", 0)
	ws := exchange(t, chain, tls.VersionTLS12, true)
	c := pcapbuild.New()
	c.Replay(client, server, ws)
	c.DNS("192.168.4.23:40000", "192.168.4.1:53", 7, "device.test", false, 0)
	c.DNS("192.168.4.23:40000", "192.168.4.1:53", 7, "device.test", true, 0, netip.MustParseAddr("203.0.113.10"))
	c.DNS("192.168.4.23:40001", "8.8.8.8:53", 8, "device.test", false, 0)
	c.DNS("192.168.4.23:40001", "8.8.8.8:53", 8, "device.test", true, 0, netip.MustParseAddr("203.0.113.10"))
	browser := pemOf(other.Leaf.Raw, other.Intermediate.Raw)
	rep := analyse(t, c.Bytes(), diagnose.Options{BrowserChain: browser})
	conn := rep.Connections[0]
	if conn.Outcome != diagnose.OutcomeOK {
		t.Fatalf("outcome %s: %v", conn.Outcome, idsOf(conn.Findings))
	}
	got := map[string]diagnose.Severity{}
	for _, f := range append(conn.Findings, rep.Findings...) {
		got[string(f.ID)] = f.Severity
	}
	for id, sev := range map[string]diagnose.Severity{
		"memory-estimate":            diagnose.SeverityInfo,
		"chain-differs-from-browser": diagnose.SeverityWarning,
		"chain-untrusted":            diagnose.SeverityWarning, // private test CA: not in the bundle
		"dns-multiple-servers":       diagnose.SeverityInfo,
	} {
		if got[id] != sev {
			t.Errorf("%s: severity %q, want %q (all %v)", id, got[id], sev, got)
		}
	}
}

// TestTruncatedFile: a capture cut in the middle of a packet is analysed up
// to the cut and says so.
func TestTruncatedFile(t *testing.T) {
	c := pcapbuild.New()
	k := c.Conn(client, server)
	k.Handshake()
	k.Send(pcapbuild.C2S, make([]byte, 300))
	b := c.Bytes()
	rep := analyse(t, b[:len(b)-100], diagnose.Options{})
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, string(f.ID))
	}
	if len(ids) != 1 || ids[0] != "capture-file-truncated" || len(rep.Connections) != 1 {
		t.Fatalf("findings %v, %d connections; want capture-file-truncated and the connection kept", ids, len(rep.Connections))
	}
}

func pemOf(ders ...[]byte) []byte {
	var b bytes.Buffer
	for _, d := range ders {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: d})
	}
	return b.Bytes()
}
