package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// moreScenarios: headless Chromium as the browser, and real programs for the
// findings that were first covered only by captures built byte by byte
// (client-aborted, client-alert, server-alert, dns-multiple-servers, a record
// a few bytes over a 4096-byte input buffer).
func moreScenarios() []Scenario {
	leaf := []string{"leaf-chain.crt", "leaf.key"}
	notMbed := func(e exp) func(r *Run) error {
		return func(r *Run) error {
			if err := e.fn(r); err != nil {
				return err
			}
			r.exp.ClientLabelNot = "mbedTLS"
			return nil
		}
	}
	var ss []Scenario

	// ---- headless Chromium as the browser ----
	ss = append(ss,
		Scenario{Name: "healthy-tls13-chromium", Desc: "Headless Chromium (the browser) fetches https://device.test/ from a Go crypto/tls server over TLS 1.3; its SSLKEYLOGFILE is injected into the capture as a Decryption Secrets Block, so the handshake is decrypted without --keylog.",
			Server: goServer("go crypto/tls server, TLS 1.2-1.3, leaf + intermediate (testdata/gen/scenarios goTLSServer)", pairCfg(leaf[0], leaf[1], 0)),
			Client: func(r *Run) error { return r.chromiumFetch("device.test") },
			Expect: func(r *Run) error {
				if err := r.injectKeylog(r.chromiumKeylog()); err != nil {
					return err
				}
				if err := notMbed(exp{outcome: "ok", findings: []string{}})(r); err != nil {
					return err
				}
				// tshark reads the injected secrets too: the certificates it
				// decrypts are those tlspcap must list.
				return r.countCertificates(0)
			},
			Notes: "The client must not be labelled mbedTLS (expect.client_label_not). The pcapng carries Chromium's key log (editcap --inject-secrets tls,KEYLOG)."},
		// The browser's view of the SNI-dependent server, then the device's.
		Scenario{Name: "browser-sni-chromium", Desc: "Headless Chromium, sending SNI device.test, gets the device.test chain (TLS 1.2) from the SNI-dependent Go server: the browser's view for chain-differs-from-chromium.",
			Server: sniDefaultServer,
			Client: func(r *Run) error { return r.chromiumFetch("device.test") },
			Expect: notMbed(exp{outcome: "ok", findings: []string{}})},
		Scenario{Name: "chain-differs-from-chromium", Desc: "The mbedTLS client without SNI gets the server's default certificate; compared with headless Chromium's capture of the same server (browser-sni-chromium.pcapng), the leaf differs.",
			Args:   []string{"--browser-chain", "testdata/pcaps/browser-sni-chromium.pcapng"},
			Server: sniDefaultServer,
			Client: mbed("3.6-16384", "force_version=tls12", "set_hostname=NULL"),
			Expect: exp{outcome: "failed", findings: []string{"missing-sni", "chain-untrusted", "chain-differs-from-browser"}, dev: "client", filter: fClientAlert}.fn},
	)

	// ---- the client gives up ----
	ss = append(ss,
		Scenario{Name: "client-aborted-timeout-mbedtls36", Desc: "The server sends its ServerHello and then stalls; the mbedTLS 3.6 client (read_timeout 2 s) gives up and closes without an alert.", Args: []string{"--profile", "mbedtls-default"},
			Server: func(r *Run) error { return r.stallAfterServerHello(leaf) },
			Client: mbed("3.6-16384", "force_version=tls12", "read_timeout=2000"),
			Expect: exp{outcome: "failed", findings: []string{"client-aborted"}, dev: "client", filter: fClientFIN}.fn},
	)

	// ---- the client or the server refuses with an alert ----
	wrongSuite := func(build string, args []string) Scenario {
		name := map[string]string{"3.6-16384": "mbedtls36", "2.28-16384": "mbedtls228"}[build]
		return Scenario{Name: "server-picks-unoffered-suite-" + name, Args: args,
			Desc:   "The client offers only TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256; the server's ServerHello picks TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, which the client did not offer, and the " + mbedLabel(build) + " client sends a fatal alert.",
			Server: func(r *Run) error { return r.rewriteSuiteServer(leaf, 0xC030) },
			Client: mbed(build, "force_version=tls12", "force_ciphersuite=TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"),
			Expect: exp{outcome: "failed", findings: []string{"client-alert"}, dev: "client", filter: fClientAlert}.fn}
	}
	ss = append(ss,
		wrongSuite("3.6-16384", nil),
		wrongSuite("2.28-16384", args228),
		Scenario{Name: "server-unrecognized-name", Desc: "openssl s_server serves only other.test and answers any other SNI with a fatal unrecognized_name alert (-servername other.test -servername_fatal); the mbedTLS client asks for device.test.",
			Server: sServer(leaf[0], leaf[1], "-tls1_2", "-servername", "other.test", "-servername_fatal", "-cert2", "@mismatch-chain.crt", "-key2", "@mismatch.key"),
			Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: exp{outcome: "failed", findings: []string{"server-alert"}, dev: "client", filter: fServerAlert}.fn,
			Notes:  "Unlike missing-sni-required, the client does send SNI: the server does not serve that name."},
	)

	// ---- a record a few bytes over the 4096-byte input buffer ----
	const justOver = 4100
	overBuf := func(build string, args []string) Scenario {
		name := map[string]string{"3.6-4096": "mbedtls36", "2.28-4096": "mbedtls228"}[build]
		extra := []string{}
		if strings.HasPrefix(build, "3.") {
			extra = append(extra, "force_version=tls12")
		}
		return Scenario{Name: "record-just-over-4096-" + name, Args: args,
			Desc:   fmt.Sprintf("A Go crypto/tls server sends a Certificate record of exactly %d bytes (leaf padded with SANs), a few bytes over the 4096-byte input buffer of the %s client.", justOver, mbedLabel(build)),
			Server: func(r *Run) error { return r.exactCertRecordServer(justOver) },
			Client: mbed(build, extra...),
			Expect: exp{outcome: "failed", findings: []string{"record-exceeds-device-buffer"}, dev: "client",
				rec: func(h recordHeader) bool { return h.Length > 4096 }}.fn}
	}
	ss = append(ss, overBuf("3.6-4096", args4096), overBuf("2.28-4096", args228x4096))

	// ---- DNS: a resolver that fails over to a second server ----
	ss = append(ss,
		Scenario{Name: "dns-multiple-servers", Desc: "The glibc resolver (getent ahostsv4, in a network namespace whose resolv.conf lists two nameservers, timeout 1 s) asks the first server, which never answers, then the second, which answers.",
			NoListener: true, Iface: dnsNSHost, Net: dnsFailoverNet,
			Server: func(r *Run) error {
				r.Filter = "udp port 53"
				if err := r.answeringDNS(dnsNSSilent+":53", nil); err != nil {
					return err
				}
				return r.answeringDNS(dnsNSAnswer+":53", net.ParseIP("10.232.0.80").To4())
			},
			Client: func(r *Run) error { return r.getentResolve("device.test") },
			Expect: func(r *Run) error {
				r.exp.Stream = -1
				if err := (exp{outcome: "ok", findings: []string{"dns-multiple-servers"}, filter: "dns.flags.response == 0"}).fn(r); err != nil {
					return err
				}
				second, err := r.first("dns.flags.response == 0 && ip.dst == " + dnsNSAnswer)
				if err != nil {
					return err
				}
				r.exp.Frames = append(r.exp.Frames, second)
				return nil
			}},
	)
	return ss
}

// ---- Chromium ----

// chromiumKeylog is where chromiumFetch has Chromium write its TLS secrets.
func (r *Run) chromiumKeylog() string { return filepath.Join(r.Dir, "chromium-keylog.txt") }

// chromiumFetch runs headless Chromium with an empty profile against
// https://HOST:PORT/, HOST mapped to 127.0.0.1. Trust in the private root
// comes from an NSS database in the temporary HOME ($HOME/.pki/nssdb), as a
// user would import it; SSLKEYLOGFILE records the TLS secrets.
func (r *Run) chromiumFetch(host string) error {
	home := filepath.Join(r.Dir, "chromium-home")
	nssdb := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nssdb, 0o700); err != nil {
		return err
	}
	for _, c := range [][]string{
		{"certutil", "-N", "-d", "sql:" + nssdb, "--empty-password"},
		{"certutil", "-A", "-d", "sql:" + nssdb, "-n", "tlspcap Test Root CA", "-t", "C,,", "-i", r.cert("root.crt")},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %v: %s", c, err, out)
		}
	}
	ver, _ := exec.Command("chromium", "--version").Output()
	url := fmt.Sprintf("https://%s:%d/", host, r.Port)
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + filepath.Join(r.Dir, "chromium-profile"),
		"--host-resolver-rules=MAP " + host + " 127.0.0.1", "--dump-dom", url}
	env := []string{"HOME=" + home, "SSLKEYLOGFILE=" + r.chromiumKeylog()}
	out, err := r.runFg(60*time.Second, nil, "env", append(append(env, "chromium"), args...)...)
	if err != nil {
		return err
	}
	var kept []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "<html") || strings.Contains(l, "ERR_") || strings.Contains(l, "[stopped after") {
			kept = append(kept, strings.TrimSpace(l))
		}
	}
	result := "ok"
	if !strings.Contains(out, "hello") {
		result = "error: page not fetched"
	}
	if _, err := os.Stat(r.chromiumKeylog()); err != nil {
		result = "error: no SSLKEYLOGFILE written"
	}
	display := "chromium " + strings.Join(args, " ")
	display = strings.ReplaceAll(display, r.Dir, "$TMP")
	r.addProg(Program{Role: "client",
		Cmd:     fmt.Sprintf("HOME=$TMP/chromium-home (NSS db with the private root, trust C,,) SSLKEYLOGFILE=$TMP/chromium-keylog.txt %s (%s)", display, strings.TrimSpace(string(ver))),
		Printed: strings.Join(kept, "\n"), Result: result})
	if result != "ok" {
		return fmt.Errorf("chromium: %s: %s", result, out)
	}
	return nil
}

// injectKeylog stores a key log in the scenario's pcapng as a Decryption
// Secrets Block.
func (r *Run) injectKeylog(keylog string) error {
	if _, err := os.Stat(keylog); err != nil {
		return err
	}
	tmp := r.Pcapng + ".secrets"
	out, err := exec.Command("editcap", "--inject-secrets", "tls,"+keylog, r.Pcapng, tmp).CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("editcap --inject-secrets: %v: %s", err, out)
	}
	return os.Rename(tmp, r.Pcapng)
}

// countCertificates sets the expected number of server certificates in a
// stream from tshark's view of the capture (decrypted with the capture's
// Decryption Secrets Block).
func (r *Run) countCertificates(stream int) error {
	out, err := exec.Command("tshark", "-r", r.Pcapng, "-Y", fmt.Sprintf("tcp.stream == %d && tls.handshake.type == 11 && tcp.srcport == %d", stream, r.Port),
		"-T", "fields", "-e", "tls.handshake.certificate_length").Output()
	if err != nil {
		return fmt.Errorf("tshark: %v", err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if first == "" {
		return fmt.Errorf("tshark decrypted no server Certificate in stream %d", stream)
	}
	r.exp.Certificates = len(strings.Split(first, ","))
	return nil
}

// ---- misbehaving TLS servers built on a real crypto/tls flight ----

// serverHelloProxy reads the ClientHello, has a real crypto/tls TLS 1.2
// server answer it, and hands the server's first flight, split into records,
// to then.
func (r *Run) serverHelloProxy(display string, chain []string, then func(c *net.TCPConn, recs [][]byte, logf func(string, ...any))) error {
	cfg, err := pairCfg(chain[0], chain[1], tls.VersionTLS12)(r)
	if err != nil {
		return err
	}
	return r.goListen(display, func(c *net.TCPConn, logf func(string, ...any)) {
		defer c.Close()
		hello, err := readRecord(c, 5*time.Second)
		if err != nil {
			logf("error: %v", err)
			return
		}
		flight, err := r.upstreamFlight(hello, cfg)
		if err != nil {
			logf("error: %v", err)
			return
		}
		recs := splitRecords(flight)
		if len(recs) < 2 || len(recs[0]) < 6 || recs[0][5] != 2 {
			logf("error: the flight does not start with a ServerHello record (%d records)", len(recs))
			return
		}
		then(c, recs, logf)
	})
}

// stallAfterServerHello sends only the ServerHello record and then nothing,
// until the client closes (or 8 s).
func (r *Run) stallAfterServerHello(chain []string) error {
	return r.serverHelloProxy("go proxy: real crypto/tls TLS 1.2 ServerHello record, then silence until the client closes (testdata/gen/scenarios stallAfterServerHello)", chain,
		func(c *net.TCPConn, recs [][]byte, logf func(string, ...any)) {
			c.Write(recs[0])
			logf("sent the ServerHello record (%d bytes), withholding Certificate..ServerHelloDone", len(recs[0]))
			start := time.Now()
			c.SetReadDeadline(start.Add(8 * time.Second))
			buf := make([]byte, 1024)
			for {
				if _, err := c.Read(buf); err != nil {
					logf("client closed after %.1fs: %v", time.Since(start).Seconds(), err)
					return
				}
			}
		})
}

// rewriteSuiteServer forwards a real TLS 1.2 flight with the ServerHello's
// cipher suite replaced by suite.
func (r *Run) rewriteSuiteServer(chain []string, suite uint16) error {
	return r.serverHelloProxy(fmt.Sprintf("go proxy: real crypto/tls TLS 1.2 flight, ServerHello cipher suite rewritten to 0x%04X (testdata/gen/scenarios rewriteSuiteServer)", suite), chain,
		func(c *net.TCPConn, recs [][]byte, logf func(string, ...any)) {
			sh := append([]byte{}, recs[0]...)
			// record header 5, handshake header 4, version 2, random 32, session id
			off := 5 + 4 + 2 + 32
			if len(sh) < off+1 || len(sh) < off+1+int(sh[off])+2 {
				logf("error: short ServerHello")
				return
			}
			off += 1 + int(sh[off])
			was := binary.BigEndian.Uint16(sh[off:])
			binary.BigEndian.PutUint16(sh[off:], suite)
			var out []byte
			out = append(out, sh...)
			for _, rec := range recs[1:] {
				out = append(out, rec...)
			}
			c.Write(out)
			logf("sent the flight with cipher suite 0x%04X instead of 0x%04X", suite, was)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 1024)
			for {
				n, err := c.Read(buf)
				if n >= 7 && buf[0] == 21 {
					logf("client alert: level %d description %d", buf[5], buf[6])
				}
				if err != nil {
					return
				}
			}
		})
}

// exactCertRecordServer runs a crypto/tls TLS 1.2 server whose Certificate
// record is exactly recordLen bytes: its device.test leaf (issued by the
// test intermediate) carries filler SANs sized for that.
func (r *Run) exactCertRecordServer(recordLen int) error {
	chain, err := r.paddedChain(recordLen)
	if err != nil {
		return err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{chain}, MaxVersion: tls.VersionTLS12}
	return r.goTLSServer(fmt.Sprintf("go crypto/tls server, TLS 1.2, device.test leaf padded with SANs so that the Certificate record is %d bytes, + intermediate (testdata/gen/scenarios exactCertRecordServer)", recordLen), cfg)
}

// paddedChain issues a device.test leaf from the test intermediate, with
// filler SANs, so that leaf + intermediate make a Certificate handshake
// record of exactly recordLen bytes.
func (r *Run) paddedChain(recordLen int) (tls.Certificate, error) {
	inter, err := loadPair(r, "inter.crt", "inter.key")
	if err != nil {
		return tls.Certificate{}, err
	}
	interCert, err := x509.ParseCertificate(inter.Certificate[0])
	if err != nil {
		return tls.Certificate{}, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, err
	}
	ski := sha256.Sum256(x509.MarshalPKCS1PublicKey(&key.PublicKey))
	// handshake header 4 + list length 3 + (3 + cert) per certificate
	want := recordLen - 4 - 3 - 3 - len(inter.Certificate[0]) - 3
	issue := func(pad int) ([]byte, error) {
		names := []string{"device.test"}
		for i := 0; pad > 0; i++ {
			n := pad - 2 // each SAN costs its length plus 2 bytes
			if n > 60 {
				n = 60
			}
			if n < 12 {
				n = 12
			}
			prefix := fmt.Sprintf("f%03d.", i)
			suffix := ".fill.test"
			body := n - len(prefix) - len(suffix)
			if body < 1 {
				body = 1
			}
			names = append(names, prefix+strings.Repeat("x", body)+suffix)
			pad -= len(names[len(names)-1]) + 2
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(4096),
			Subject:               pkix.Name{CommonName: "device.test", Organization: []string{"tlspcap test"}},
			NotBefore:             validFrom,
			NotAfter:              validTo,
			DNSNames:              names,
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
			BasicConstraintsValid: true,
			SubjectKeyId:          ski[:20],
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			IssuingCertificateURL: []string{"http://ca.test/inter.crt"},
		}
		return x509.CreateCertificate(rand.Reader, tmpl, interCert, &key.PublicKey, inter.PrivateKey)
	}
	pad := 0
	for i := 0; i < 12; i++ {
		der, err := issue(pad)
		if err != nil {
			return tls.Certificate{}, err
		}
		if len(der) == want {
			return tls.Certificate{Certificate: [][]byte{der, inter.Certificate[0]}, PrivateKey: key}, nil
		}
		pad += want - len(der)
		if pad < 0 {
			return tls.Certificate{}, fmt.Errorf("a %d-byte Certificate record is too small for leaf + intermediate", recordLen)
		}
	}
	return tls.Certificate{}, fmt.Errorf("could not size the leaf for a %d-byte Certificate record", recordLen)
}

// ---- DNS failover in a network namespace ----

const (
	dnsNS       = "tlspcapgtdns"
	dnsNSHost   = "tlspcapgtd0" // host end of the veth pair: the capture interface
	dnsNSPeer   = "tlspcapgtd1" // the namespace's end: the device
	dnsNSSilent = "10.232.0.1"  // first nameserver: never answers
	dnsNSAnswer = "10.232.0.2"  // second nameserver: answers
	dnsNSClient = "10.232.0.10"
)

// dnsFailoverNet makes the namespace tlspcapgtdns (the device) joined by a
// veth pair to the host, where both nameservers listen, and gives the
// namespace a resolv.conf listing both (ip netns exec mounts
// /etc/netns/NAME/resolv.conf over /etc/resolv.conf).
func dnsFailoverNet(r *Run) (func(), error) {
	etc := filepath.Join("/etc/netns", dnsNS)
	cleanup := func() {
		exec.Command("ip", "netns", "del", dnsNS).Run()
		exec.Command("ip", "link", "del", dnsNSHost).Run()
		os.RemoveAll(etc)
		os.Remove(filepath.Dir(etc)) // only when empty
	}
	cleanup()
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return cleanup, err
	}
	conf := "nameserver " + dnsNSSilent + "\nnameserver " + dnsNSAnswer + "\noptions timeout:1 attempts:1\n"
	if err := os.WriteFile(filepath.Join(etc, "resolv.conf"), []byte(conf), 0o644); err != nil {
		return cleanup, err
	}
	if err := os.WriteFile(filepath.Join(etc, "hosts"), []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		return cleanup, err
	}
	cmds := [][]string{
		{"ip", "netns", "add", dnsNS},
		{"ip", "link", "add", dnsNSHost, "address", "02:00:5e:10:01:01", "type", "veth", "peer", "name", dnsNSPeer, "address", "02:00:5e:10:01:0a"},
		{"ip", "link", "set", dnsNSPeer, "netns", dnsNS},
		{"ip", "addr", "add", dnsNSSilent + "/24", "dev", dnsNSHost},
		{"ip", "addr", "add", dnsNSAnswer + "/24", "dev", dnsNSHost},
		{"ip", "link", "set", dnsNSHost, "up"},
		{"ip", "-n", dnsNS, "addr", "add", dnsNSClient + "/24", "dev", dnsNSPeer},
		{"ip", "-n", dnsNS, "link", "set", dnsNSPeer, "up"},
		{"ip", "-n", dnsNS, "link", "set", "lo", "up"},
	}
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return cleanup, fmt.Errorf("%v: %v: %s", c, err, out)
		}
	}
	// Resolve both nameservers' MAC addresses before the capture starts, so
	// the capture holds only the DNS exchange (and DAD is over).
	time.Sleep(500 * time.Millisecond)
	for _, ip := range []string{dnsNSSilent, dnsNSAnswer} {
		exec.Command("ip", "-n", dnsNS, "neigh", "replace", ip, "lladdr", "02:00:5e:10:01:01", "dev", dnsNSPeer, "nud", "permanent").Run()
	}
	exec.Command("ip", "neigh", "replace", dnsNSClient, "lladdr", "02:00:5e:10:01:0a", "dev", dnsNSHost, "nud", "permanent").Run()
	return cleanup, nil
}

// serveDNS listens on UDP addr and hands each query to answer, which returns
// the response (nil: none is sent) and a line for the sidecar.
func (r *Run) serveDNS(addr, display string, answer func(q []byte, from net.Addr) ([]byte, string)) error {
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return err
	}
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			resp, line := answer(buf[:n], from)
			if resp != nil {
				pc.WriteTo(resp, from)
			}
			if line != "" {
				lines = append(lines, line)
			}
		}
	}()
	r.stops = append(r.stops, func() {
		pc.Close()
		<-done
		r.addProg(Program{Role: "server", Cmd: display, Printed: strings.Join(lines, "\n"), Result: "ok"})
	})
	return nil
}

// answeringDNS listens on addr and answers A queries with one A record (a),
// or never answers when a is nil.
func (r *Run) answeringDNS(addr string, a net.IP) error {
	what := "never answering"
	if a != nil {
		what = "answering A " + a.String()
	}
	display := fmt.Sprintf("go DNS server on %s %s (testdata/gen/scenarios answeringDNS)", addr, what)
	return r.serveDNS(addr, display, func(q []byte, from net.Addr) ([]byte, string) {
		if a == nil {
			return nil, fmt.Sprintf("query %d bytes from %s: not answered", len(q), from)
		}
		// Keep the question only (drop an EDNS OPT record), add the answer.
		end := 12
		for end < len(q) && q[end] != 0 {
			end += int(q[end]) + 1
		}
		end += 5
		if end > len(q) {
			return nil, ""
		}
		resp := append([]byte(nil), q[:end]...)
		resp[2] = 0x80 | (q[2] & 0x79)
		resp[3] = 0x80
		resp[6], resp[7], resp[8], resp[9], resp[10], resp[11] = 0, 1, 0, 0, 0, 0
		resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4)
		resp = append(resp, a...)
		return resp, fmt.Sprintf("query %d bytes from %s: answered A %s", len(q), from, a)
	})
}

// getentResolve resolves name with the glibc resolver inside the namespace.
func (r *Run) getentResolve(name string) error {
	args := []string{"netns", "exec", dnsNS, "getent", "ahostsv4", name}
	start := time.Now()
	out, err := r.runFg(10*time.Second, nil, "ip", args...)
	if err != nil {
		return err
	}
	took := time.Since(start)
	glibc, _ := exec.Command("getconf", "GNU_LIBC_VERSION").Output()
	result := "ok"
	if !strings.Contains(out, name) {
		result = "not resolved"
	}
	r.addProg(Program{Role: "client",
		Cmd:     fmt.Sprintf("ip %s (%s resolver; /etc/netns/%s/resolv.conf: nameserver %s, nameserver %s, options timeout:1 attempts:1)", strings.Join(args, " "), strings.TrimSpace(string(glibc)), dnsNS, dnsNSSilent, dnsNSAnswer),
		Printed: strings.TrimSpace(out) + fmt.Sprintf("\n(took %.1fs)", took.Seconds()), Result: result})
	if result != "ok" {
		return fmt.Errorf("getent: %s", out)
	}
	return nil
}
