package diagnose_test

import (
	"crypto/tls"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// TestDNSSeverity: only the device's address lookups stop a connection;
// a reverse (PTR) or SRV lookup that fails, or another host's lookup when
// --device names the device, is info, and the exit code follows.
func TestDNSSeverity(t *testing.T) {
	c := pcapbuild.New()
	c.DNSOfType("192.168.4.23:40000", "192.168.4.1:53", 1, "23.4.168.192.in-addr.arpa", layers.DNSTypePTR, false, 0)
	ptr := c.DNSOfType("192.168.4.23:40000", "192.168.4.1:53", 1, "23.4.168.192.in-addr.arpa", layers.DNSTypePTR, true, layers.DNSResponseCodeNXDomain)
	c.DNSOfType("192.168.4.23:40001", "192.168.4.1:53", 2, "_mqtt._tcp.example.com", layers.DNSTypeSRV, false, 0)
	srv := c.DNSOfType("192.168.4.23:40001", "192.168.4.1:53", 2, "_mqtt._tcp.example.com", layers.DNSTypeSRV, true, layers.DNSResponseCodeServFail)
	c.DNSOfType("192.168.4.99:40002", "192.168.4.1:53", 3, "laptop.example.invalid", layers.DNSTypeAAAA, false, 0)
	other := c.DNSOfType("192.168.4.99:40002", "192.168.4.1:53", 3, "laptop.example.invalid", layers.DNSTypeAAAA, true, layers.DNSResponseCodeNXDomain)
	k := c.Conn(client, server)
	k.Handshake()
	k.FIN(pcapbuild.C2S)
	k.FIN(pcapbuild.S2C)

	type sev struct {
		frame int
		sev   diagnose.Severity
	}
	check := func(rep *diagnose.Report, want map[string]sev) {
		t.Helper()
		got := map[string]sev{}
		for _, f := range rep.Findings {
			got[string(f.ID)+" "+f.WiresharkFilter] = sev{f.Frames[0], f.Severity}
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %+v, want %+v (all %v)", k, got[k], w, got)
			}
		}
	}
	rep := analyse(t, c.Bytes(), diagnose.Options{})
	check(rep, map[string]sev{
		`dns-nxdomain dns.qry.name == "23.4.168.192.in-addr.arpa"`: {ptr, diagnose.SeverityInfo},
		`dns-servfail dns.qry.name == "_mqtt._tcp.example.com"`:    {srv, diagnose.SeverityInfo},
		`dns-nxdomain dns.qry.name == "laptop.example.invalid"`:    {other, diagnose.SeverityError},
	})
	if s := rep.Summary(); s.Verdict() != diagnose.VerdictFailed || len(s.CaptureErrors) != 1 ||
		s.CaptureErrors[0] != "DNS: laptop.example.invalid does not exist (NXDOMAIN)" {
		t.Errorf("summary %+v", s)
	}
	// The device is 192.168.4.23: the AAAA lookup of .99 is not its own.
	rep = analyse(t, c.Bytes(), diagnose.Options{Device: netip.MustParseAddr("192.168.4.23")})
	check(rep, map[string]sev{`dns-nxdomain dns.qry.name == "laptop.example.invalid"`: {other, diagnose.SeverityInfo}})
	// The connection (no ClientHello) is the one failure.
	s := rep.Summary()
	if len(s.CaptureErrors) != 0 || s.Failed != 1 || s.Connections != 1 {
		t.Errorf("with --device: summary %+v", s)
	}
	if l := s.Lines(); len(l) != 1 || l[0] != "1 of 1 connections failed." {
		t.Errorf("lines %q", l)
	}
}

// TestSummaryCaptureError: a capture-level error has its own line and
// makes the verdict a failure though no connection failed.
func TestSummaryCaptureError(t *testing.T) {
	c := pcapbuild.New()
	c.Replay(client, server, exchange(t, pcapbuild.NewChain("device.test", 0), tls.VersionTLS12, true))
	c.DNS("192.168.4.23:40000", "192.168.4.1:53", 1, "mqtt.example.invalid", false, 0)
	c.DNS("192.168.4.23:40000", "192.168.4.1:53", 1, "mqtt.example.invalid", true, layers.DNSResponseCodeNXDomain)
	s := analyse(t, c.Bytes(), diagnose.Options{}).Summary()
	want := []string{"0 of 1 connections failed,", "and 1 capture-level error: DNS: mqtt.example.invalid does not exist (NXDOMAIN)."}
	if got := s.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") || s.Verdict() != diagnose.VerdictFailed {
		t.Errorf("lines %q verdict %v, want %q", got, s.Verdict(), want)
	}
}

// TestNothingMatched: --device or --client matching none of the
// connections says so, with the clients the capture has, Espressif first.
func TestNothingMatched(t *testing.T) {
	c := pcapbuild.New()
	for _, cl := range []string{"192.168.4.50:51000", "192.168.4.50:51001", "192.168.4.23:52000"} {
		k := c.Conn(cl, server)
		if strings.HasPrefix(cl, "192.168.4.50") {
			k.ClientMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 7} // not Espressif
		}
		k.Handshake()
		k.RST(pcapbuild.C2S)
	}
	rep := analyse(t, c.Bytes(), diagnose.Options{Device: netip.MustParseAddr("10.0.0.9")})
	s := rep.Summary()
	if s.Verdict() != diagnose.VerdictNothing || s.Nothing == nil || s.Nothing.Connections != 3 {
		t.Fatalf("summary %+v", s)
	}
	want := "Nothing matched --device 10.0.0.9: the capture has 3 TCP connections; clients seen: " +
		"192.168.4.23 (Espressif 24:0a:c4:01:02:03, 1 connection), 192.168.4.50 (02:00:00:00:00:07, 2 connections)."
	if got := s.Lines(); len(got) != 1 || got[0] != want {
		t.Errorf("lines %q\nwant %q", got, want)
	}

	rep = analyse(t, c.Bytes(), diagnose.Options{})
	if err := rep.SelectClients("ja4=t13d1516h2_8daaf6152771_e5627efa2ab1"); err != nil {
		t.Fatal(err)
	}
	s = rep.Summary()
	if s.Verdict() != diagnose.VerdictNothing || s.Nothing == nil || s.Nothing.Flag != "--client" || s.Nothing.Connections != 3 || len(s.Nothing.Clients) != 2 {
		t.Fatalf("--client: summary %+v", s.Nothing)
	}
}

// TestNoTCP: a capture without TCP says what its frames were.
func TestNoTCP(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(c *pcapbuild.Capture)
		want  string
		v     diagnose.Verdict
	}{
		{"header only", func(c *pcapbuild.Capture) {},
			"No TLS connection analysed: the capture holds no TCP connection (tlspcap analyses TLS over TCP); its frames: none (the file holds only its header).",
			diagnose.VerdictNothing},
		{"DNS answered", func(c *pcapbuild.Capture) {
			c.DNS("192.168.4.23:40000", "192.168.4.1:53", 1, "device.test", false, 0)
			c.DNS("192.168.4.23:40000", "192.168.4.1:53", 1, "device.test", true, 0, netip.MustParseAddr("203.0.113.10"))
		}, "No TLS connection analysed: the capture holds no TCP connection (tlspcap analyses TLS over TCP); its frames: 2 of link type 1 (Ethernet); 2 UDP (2 DNS).",
			diagnose.VerdictOK},
		{"DNS failed", func(c *pcapbuild.Capture) {
			c.DNS("192.168.4.23:40000", "192.168.4.1:53", 1, "device.test", false, 0)
			c.DNS("192.168.4.23:40000", "192.168.4.1:53", 1, "device.test", true, layers.DNSResponseCodeNXDomain)
		}, "No TLS connection analysed: the capture holds no TCP connection (tlspcap analyses TLS over TCP); its frames: 2 of link type 1 (Ethernet); 2 UDP (2 DNS).",
			diagnose.VerdictFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pcapbuild.New()
			tc.build(c)
			s := analyse(t, c.Bytes(), diagnose.Options{}).Summary()
			if s.Nothing == nil || s.Nothing.String() != tc.want || s.Verdict() != tc.v {
				t.Errorf("nothing %v, verdict %v\nwant %q, %v", s.Nothing, s.Verdict(), tc.want, tc.v)
			}
		})
	}
}
