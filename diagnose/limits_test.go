package diagnose_test

import (
	"crypto/tls"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"tlspcap/decode"
	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// hsMessages splits a flight of plaintext handshake records into messages.
func hsMessages(t *testing.T, flight []byte) [][]byte {
	t.Helper()
	var hs []byte
	for len(flight) >= 5 && flight[0] == 22 {
		n := int(flight[3])<<8 | int(flight[4])
		hs, flight = append(hs, flight[5:5+n]...), flight[5+n:]
	}
	var msgs [][]byte
	for len(hs) >= 4 {
		n := 4 + (int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]))
		msgs, hs = append(msgs, hs[:n]), hs[n:]
	}
	if len(flight) != 0 || len(hs) != 0 || len(msgs) == 0 {
		t.Fatalf("not a plaintext handshake flight (%d bytes left)", len(flight)+len(hs))
	}
	return msgs
}

// TestLimits: a message beyond one of tlspcap's bounds gives a tlspcap-limit
// warning at the frame of its header with the numbers, and the connection
// decodes on to its end.
func TestLimits(t *testing.T) {
	chain := pcapbuild.NewChain("device.test", 0)
	ws := exchange(t, chain, tls.VersionTLS12, true)
	flight := hsMessages(t, ws[1].Data) // ServerHello, Certificate, ServerKeyExchange, ServerHelloDone
	if len(flight) != 4 || flight[1][0] != decode.TypeCertificate {
		t.Fatalf("server flight of %d messages", len(flight))
	}
	// certificate is a Certificate message listing der n times.
	certificate := func(n int, der []byte) []byte {
		var list []byte
		for range n {
			list = append(append(list, byte(len(der)>>16), byte(len(der)>>8), byte(len(der))), der...)
		}
		return pcapbuild.Handshake(decode.TypeCertificate, append([]byte{byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...))
	}
	cases := []struct {
		name        string
		cert        []byte
		title, expl string
		certs       int // certificates in the report
	}{
		{"handshake message over the bound", pcapbuild.Handshake(decode.TypeCertificate, make([]byte, decode.MaxKeptMessage+1)),
			"The server's Certificate claims 1048577 bytes, more than tlspcap's 1048576-byte limit: it was not read",
			"The handshake header in frame %d announces a Certificate of 1048577 bytes. tlspcap keeps handshake messages of up to 1048576 bytes, " +
				"so it counted this one (65 records) without parsing it", 0},
		{"certificates over the bound", certificate(65, chain.Leaf.Raw),
			"The server's Certificate lists 65 certificates: tlspcap kept the first 64",
			"The Certificate message in frame %d lists 65 certificates. tlspcap parses at most 64 per message, so the chain checks saw only the first 64; 1 more was counted but not read.", 64},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := pcapbuild.New()
			k := c.Conn(client, server)
			k.Handshake()
			k.SendSegments(pcapbuild.C2S, ws[0].Data, 1460)
			// The ServerHello and the Certificate's header share a record
			// (and a frame); the rest follows in full-size records, one a frame.
			hs := append(append(append(append([]byte(nil), flight[0]...), tc.cert...), flight[2]...), flight[3]...)
			header := 0
			for len(hs) > 0 {
				n := min(len(hs), 1<<14)
				f := k.Send(pcapbuild.S2C, pcapbuild.Record(22, 0x0303, hs[:n]))
				if header == 0 {
					header = f
				}
				hs = hs[n:]
			}
			for _, w := range ws[2:] {
				k.SendSegments(w.Dir, w.Data, 1460)
			}
			k.FIN(pcapbuild.C2S)
			k.FIN(pcapbuild.S2C)
			rep := analyse(t, c.Bytes(), diagnose.Options{})
			if len(rep.Connections) != 1 {
				t.Fatalf("%d connections", len(rep.Connections))
			}
			r := rep.Connections[0]
			var lim []diagnose.Finding
			for _, f := range r.Findings {
				if f.ID == "tlspcap-limit" {
					lim = append(lim, f)
				}
			}
			if len(lim) != 1 {
				t.Fatalf("findings %v, want one tlspcap-limit", idsOf(r.Findings))
			}
			f := lim[0]
			if f.Severity != diagnose.SeverityWarning || len(f.Frames) != 1 || f.Frames[0] != header || f.Title != tc.title ||
				len(f.Explanation) < len(tc.expl) || f.Explanation[:len(fmt.Sprintf(tc.expl, header))] != fmt.Sprintf(tc.expl, header) {
				t.Errorf("got %s frames %v: %q\n%q\nwant frame %d: %q\n%q", f.Severity, f.Frames, f.Title, f.Explanation, header, tc.title, fmt.Sprintf(tc.expl, header))
			}
			if want := fmt.Sprintf("tcp.stream eq 0 && frame.number >= %d", header); f.WiresharkFilter != want {
				t.Errorf("filter %q, want %q", f.WiresharkFilter, want)
			}
			// The messages after it were read: the handshake completed.
			if r.Stage != diagnose.StageApplicationData || len(r.Certificates) != tc.certs {
				t.Errorf("stage %s, %d certificates; want %s, %d", r.Stage, len(r.Certificates), diagnose.StageApplicationData, tc.certs)
			}
		})
	}
}

// TestDNSLimit: queries past maxDNSQueries (100000) are counted, and one
// capture-level tlspcap-limit warning names the first of them and how many.
func TestDNSLimit(t *testing.T) {
	const resolver = "192.168.4.1:53"
	c := pcapbuild.New()
	nx := c.DNS("192.168.4.23:40000", resolver, 1, "gone.example", false, 0)
	c.DNS("192.168.4.23:40000", resolver, 1, "gone.example", true, layers.DNSResponseCodeNXDomain)
	// Queries answered well are forgotten: the limit counts those still
	// awaiting an answer (here, too close to the end to count as lost).
	c.DNS("192.168.4.23:40001", resolver, 1, "device.test", false, 0)
	c.DNS("192.168.4.23:40001", resolver, 1, "device.test", true, 0, netip.MustParseAddrPort(server).Addr())
	c.Step = time.Microsecond
	for i := 2; i <= 100000; i++ {
		c.DNS("192.168.4.23:40001", resolver, uint16(i), "device.test", false, 0)
	}
	first := c.DNS("192.168.4.23:40002", resolver, 2, "late.example", false, 0)
	c.DNS("192.168.4.23:40002", resolver, 2, "late.example", true, layers.DNSResponseCodeNXDomain)
	c.DNS("192.168.4.23:40003", resolver, 3, "late.example", false, 0)
	rep := analyse(t, c.Bytes(), diagnose.Options{})
	if len(rep.Findings) != 2 {
		t.Fatalf("findings %v, want dns-nxdomain and tlspcap-limit", idsOf(rep.Findings))
	}
	if f := rep.Findings[0]; f.ID != "dns-nxdomain" || f.Frames[0] != nx+1 {
		t.Errorf("%s %v, want dns-nxdomain at frame %d", f.ID, f.Frames, nx+1)
	}
	f := rep.Findings[1]
	want := diagnose.Finding{ID: "tlspcap-limit", Severity: diagnose.SeverityWarning, Frames: []int{first}, DeviceErrors: []diagnose.DeviceError{},
		Title: "DNS: 2 queries after tlspcap's limit of 100000 were not followed",
		Explanation: fmt.Sprintf("tlspcap follows up to 100000 DNS queries per capture. From frame %d on, 2 queries were counted but not matched with their answers: "+
			"an NXDOMAIN, SERVFAIL or unanswered query among them is not reported, so a DNS failure after frame %d may be missing from this report.", first, first),
		Fix:             f.Fix,
		WiresharkFilter: fmt.Sprintf("dns && frame.number >= %d", first)}
	if fmt.Sprint(f) != fmt.Sprint(want) {
		t.Errorf("got  %+v\nwant %+v", f, want)
	}
}

// TestLongConnection: past the records a connection keeps (4096), the
// rules and the timeline still see how it ended, and a tlspcap-limit info
// finding says how many records are not listed.
func TestLongConnection(t *testing.T) {
	chain := pcapbuild.NewChain("device.test", 0)
	ws := exchange(t, chain, tls.VersionTLS12, true)
	records := 0 // in the exchange
	for _, w := range ws {
		for b := w.Data; len(b) >= 5; b = b[5+(int(b[3])<<8|int(b[4])):] {
			records++
		}
	}
	const extra = 5000 // server records after the exchange
	appData := pcapbuild.Record(23, 0x0303, make([]byte, 100))
	cases := []struct {
		name  string
		last  []byte // the server's last record (or its first bytes), then its FIN
		opts  diagnose.Options
		id    string
		bytes int
	}{
		{"record over the device buffer", pcapbuild.Record(23, 0x0303, make([]byte, 6000)), diagnose.Options{InContentLen: 4096}, "record-exceeds-device-buffer", 6000},
		{"record cut by the server's FIN", pcapbuild.Record(23, 0x0303, make([]byte, 2000))[:1005], diagnose.Options{}, "record-truncated", 2000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := pcapbuild.New()
			k := c.Conn(client, server)
			k.Handshake()
			for _, w := range ws {
				k.SendSegments(w.Dir, w.Data, 1460)
			}
			firstLate := 0
			for i := range extra - 1 {
				f := k.Send(pcapbuild.S2C, appData)
				if records+i+1 == 4097 {
					firstLate = f
				}
			}
			last := k.Send(pcapbuild.S2C, tc.last)
			k.FIN(pcapbuild.S2C)
			end := k.FIN(pcapbuild.C2S)
			tc.opts.KeepTimeline, tc.opts.AllTimelines = true, true
			rep := analyse(t, c.Bytes(), tc.opts)
			r := rep.Connections[0]
			// The timeline keeps the first 150 steps and the last 50: the end.
			if tl := r.Timeline; len(tl) != 200 || tl[0].Frame != 1 || tl[199].Frame != end || tl[198].Frame != end-1 || tl[150].Frame <= tl[149].Frame+1 {
				t.Errorf("timeline of %d steps, frames %d, %d…%d, %d", len(tl), tl[0].Frame, tl[149].Frame, tl[150].Frame, tl[len(tl)-1].Frame)
			}
			var got, lim *diagnose.Finding
			for i, f := range r.Findings {
				switch string(f.ID) {
				case tc.id:
					got = &r.Findings[i]
				case "tlspcap-limit":
					lim = &r.Findings[i]
				}
			}
			// The record after the bound is found, at its frame.
			if got == nil || got.Frames[0] != last || !strings.Contains(got.Title, fmt.Sprintf(" %d-byte record", tc.bytes)) && !strings.Contains(got.Title, fmt.Sprintf(" %d bytes", tc.bytes)) {
				t.Errorf("%+v, want %s at frame %d (findings %v)", got, tc.id, last, idsOf(r.Findings))
			}
			total, listed := records+extra, 4096+8
			want := fmt.Sprintf("This connection carried %d TLS records: tlspcap lists %d of them", total, listed)
			expl := fmt.Sprintf("From frame %d on it kept only the last 8 of each direction and those its rules look for (a truncated record, one larger than all before it), "+
				"and counted the other %d: the diagnosis is complete, the records listing is not.", firstLate, total-listed)
			if lim == nil || lim.Severity != diagnose.SeverityInfo || lim.Title != want || len(lim.Frames) != 1 || lim.Frames[0] != firstLate || !strings.HasSuffix(lim.Explanation, expl) {
				t.Errorf("got %+v\nwant %q at frame %d: %q", lim, want, firstLate, expl)
			}
		})
	}
}

// TestPastKeptCounts: past the 64 gaps and 64 alerts a connection keeps,
// the totals still count and a fatal alert is still named.
func TestPastKeptCounts(t *testing.T) {
	chain := pcapbuild.NewChain("device.test", 0)
	clientHello := exchange(t, chain, tls.VersionTLS12, true)[0].Data
	t.Run("70 gaps", func(t *testing.T) {
		c := pcapbuild.New()
		k := c.Conn(client, server)
		k.Handshake()
		k.Send(pcapbuild.C2S, clientHello)
		first := 0
		for i := range 70 {
			k.Send(pcapbuild.S2C, pcapbuild.Record(22, 0x0303, make([]byte, 20)))
			k.Skip(pcapbuild.S2C, 10)
			if i == 0 {
				first = c.Frames() + 1 // the gap shows at the next packet
			}
		}
		k.Send(pcapbuild.S2C, pcapbuild.Record(22, 0x0303, make([]byte, 20)))
		k.FIN(pcapbuild.S2C)
		rep := analyse(t, c.Bytes(), diagnose.Options{})
		for _, f := range rep.Connections[0].Findings {
			if f.ID == "capture-missing-bytes" {
				if f.Title != "700 bytes missing from the capture" || !strings.Contains(f.Explanation, "over 700 bytes in 70 places") || len(f.Frames) != 64 || f.Frames[0] != first {
					t.Errorf("%s (frames %d from %d)\n%s", f.Title, len(f.Frames), f.Frames[0], f.Explanation)
				}
				return
			}
		}
		t.Errorf("no capture-missing-bytes: %v", idsOf(rep.Connections[0].Findings))
	})
	t.Run("70 warnings, then a fatal alert", func(t *testing.T) {
		c := pcapbuild.New()
		k := c.Conn(client, server)
		k.Handshake()
		k.Send(pcapbuild.C2S, clientHello)
		for range 70 {
			k.Send(pcapbuild.S2C, pcapbuild.Alert(1, 112))
		}
		fatal := k.Send(pcapbuild.S2C, pcapbuild.Alert(2, 80))
		k.FIN(pcapbuild.S2C)
		rep := analyse(t, c.Bytes(), diagnose.Options{})
		root := firstError(rep.Connections[0].Findings)
		if root == nil || root.ID != "server-alert" || root.Frames[0] != fatal || !strings.Contains(root.Title, "internal_error (80)") {
			t.Errorf("root cause %+v, want server-alert internal_error at frame %d", root, fatal)
		}
	})
}

// TestDNSForgetsAnsweredQueries: queries answered well are dropped as they
// come (memory follows the queries still needed), and the failures among
// thousands of them are still reported, in the order asked, at their frames.
func TestDNSForgetsAnsweredQueries(t *testing.T) {
	const resolver = "192.168.4.1:53"
	c := pcapbuild.New()
	var nx []int
	for i := range 5000 {
		id := uint16(i + 1)
		if i%1000 == 500 {
			name := fmt.Sprintf("gone%d.example", i/1000)
			c.DNS("192.168.4.23:40000", resolver, id, name, false, 0)
			nx = append(nx, c.DNS("192.168.4.23:40000", resolver, id, name, true, layers.DNSResponseCodeNXDomain))
			continue
		}
		c.DNS("192.168.4.23:40001", resolver, id, "device.test", false, 0)
		c.DNS("192.168.4.23:40001", resolver, id, "device.test", true, 0, netip.MustParseAddrPort(server).Addr())
	}
	rep := analyse(t, c.Bytes(), diagnose.Options{})
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprint(f.ID, f.Frames))
	}
	var want []string
	for _, f := range nx {
		want = append(want, fmt.Sprint("dns-nxdomain", []int{f}))
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
}
