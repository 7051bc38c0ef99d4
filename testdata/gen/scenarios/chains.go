package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Certificate-chain scenarios: a device that verified nothing, an IP address
// sent as SNI, a cross-signed chain under different CA files, chains in the
// wrong order or with extra certificates, and browser captures (TLS 1.2, and
// TLS 1.3 with the browser's key log) of the server that omits its
// intermediate.
//
// Files these scenarios put next to the captures, for the sidecars' --ca,
// --browser-chain and --keylog arguments:
//
//	ca-private-root.pem      the private root (ssl_client2's default ca_file)
//	ca-cross-root-a.pem      root A, the issuer of the cross-signed root B
//	ca-cross-root-a-old.pem  root A's expired certificate (same name and key)
//	ca-cross-root-b.pem      root B, self-signed
//	ca-cross-root-a-old-and-b.pem  both
//	browser-viewer-leaf-path.pem   leaf, intermediate, root: what a browser's certificate viewer exports
//	browser-viewer-xleaf-path.pem  the cross-signed leaf's path as a browser trusting root B shows it
//	browser-chain-incomplete-tls13.keys  the TLS 1.3 browser's key log
func chainScenarios() []Scenario {
	const (
		caRoot    = "testdata/pcaps/ca-private-root.pem"
		caA       = "testdata/pcaps/ca-cross-root-a.pem"
		caAOld    = "testdata/pcaps/ca-cross-root-a-old.pem"
		caB       = "testdata/pcaps/ca-cross-root-b.pem"
		caAOldB   = "testdata/pcaps/ca-cross-root-a-old-and-b.pem"
		viewLeaf  = "testdata/pcaps/browser-viewer-leaf-path.pem"
		viewXLeaf = "testdata/pcaps/browser-viewer-xleaf-path.pem"
	)
	publishAll := func(r *Run) error {
		for from, to := range map[string]string{
			"root.crt": caRoot, "xroota.crt": caA, "xroota-old.crt": caAOld, "xrootb.crt": caB,
			"xroot-a-and-b.crt": caAOldB, "leaf-viewer-path.crt": viewLeaf, "xleaf-viewer-path.crt": viewXLeaf,
		} {
			if err := r.publish(from, filepath.Base(to)); err != nil {
				return err
			}
		}
		return nil
	}
	// client runs ssl_client2 after putting the CA and browser files next to
	// the captures; ca names a certificate file of the cache ("" = root.crt).
	client := func(build, ca string, extra ...string) func(r *Run) error {
		return func(r *Run) error {
			if err := publishAll(r); err != nil {
				return err
			}
			if ca != "" {
				extra = append([]string{"ca_file=" + r.cert(ca)}, extra...)
			}
			_, err := r.mbedClient(build, extra...)
			return err
		}
	}
	// completed: the handshake succeeded and tlspcap must warn. With
	// auth_mode=optional ssl_client2 prints the code x509_verify_cert()
	// returned, then completes the handshake ("[ Protocol is ...]"): the
	// result says both.
	completed := func(findings ...string) func(r *Run) error {
		return func(r *Run) error {
			for i, p := range r.progs {
				if p.Role == "client" && strings.HasPrefix(p.Result, "-0x") && strings.Contains(p.Printed, "Protocol is") {
					r.progs[i].Result = "ok: handshake completed although x509_verify_cert() returned " + p.Result + " (auth_mode=optional: the verify result is reported, not enforced)"
				}
				if p.Role == "client" && !strings.HasPrefix(r.progs[i].Result, "ok") {
					return fmt.Errorf("expected a completed handshake, the client printed %q", p.Result)
				}
			}
			if err := (exp{findings: findings, filter: fCertificate}).fn(r); err != nil {
				return err
			}
			r.exp.Outcome = "ok"
			return nil
		}
	}
	failed := func(findings ...string) func(r *Run) error {
		return exp{outcome: "failed", findings: findings, dev: "client", filter: fClientAlert}.fn
	}
	// sniSent records the server_name the client really put in its
	// ClientHello, as tshark reads it.
	sniSent := func(findings ...string) func(r *Run) error {
		return func(r *Run) error {
			out, err := exec.Command("tshark", "-r", r.Pcapng, "-Y", fClientHello, "-T", "fields", "-e", "tls.handshake.extensions_server_name").Output()
			if err != nil {
				return fmt.Errorf("tshark: %v", err)
			}
			sni := strings.TrimSpace(string(out))
			if sni == "" {
				r.note("The ClientHello carries no server_name extension (tshark).")
			} else {
				r.note(fmt.Sprintf("The ClientHello carries server_name %q (tshark tls.handshake.extensions_server_name): the client sent the IP address as SNI.", sni))
			}
			return failed(findings...)(r)
		}
	}
	xleaf := sServer("xleaf-chain.crt", "xleaf.key", "-tls1_2")
	caArgs := func(ca string, more ...string) []string { return append([]string{"--ca", ca}, more...) }

	var ss []Scenario
	// ---- the device verified nothing ----
	ss = append(ss,
		Scenario{Name: "verify-none-untrusted-mbedtls36", Desc: "ssl_client2 with auth_mode=none (MBEDTLS_SSL_VERIFY_NONE, what CONFIG_ESP_TLS_SKIP_SERVER_CERT_VERIFY sets) completes a handshake with a chain from a root its CA file does not hold.",
			Args:   caArgs(caRoot),
			Server: sServer("otherleaf.crt", "otherleaf.key", "-tls1_2"), Client: client("3.6-16384", "", "auth_mode=none"),
			Expect: completed("certificate-not-verified", "chain-untrusted")},
		Scenario{Name: "verify-optional-untrusted-mbedtls36", Desc: "ssl_client2 with auth_mode=optional (MBEDTLS_SSL_VERIFY_OPTIONAL) prints the verify failure for a chain from an unknown root and completes the handshake anyway.",
			Args:   caArgs(caRoot),
			Server: sServer("otherleaf.crt", "otherleaf.key", "-tls1_2"), Client: client("3.6-16384", "", "auth_mode=optional"),
			Expect: completed("certificate-not-verified", "chain-untrusted")},
		Scenario{Name: "verify-optional-untrusted-mbedtls228", Desc: "mbedTLS 2.28 ssl_client2 with auth_mode=optional prints the verify failure for a chain from an unknown root and completes the handshake anyway.",
			Args:   caArgs(caRoot, "--profile", "esp32-idf4"),
			Server: sServer("otherleaf.crt", "otherleaf.key", "-tls1_2"), Client: client("2.28-16384", "", "auth_mode=optional"),
			Expect: completed("certificate-not-verified", "chain-untrusted")},
		Scenario{Name: "verify-none-hostname-mismatch-mbedtls36", Desc: "ssl_client2 with auth_mode=none connects to device.test and completes a handshake with a certificate for other.test: no name check either (no --ca needed to see it).",
			Server: sServer("mismatch-chain.crt", "mismatch.key", "-tls1_2"), Client: client("3.6-16384", "", "auth_mode=none"),
			Expect: completed("certificate-not-verified", "hostname-mismatch")},
		Scenario{Name: "verified-private-root-mbedtls36", Desc: "ssl_client2 with auth_mode=required and the private root as ca_file verifies the chain and completes the handshake: nothing to warn about.",
			Args:   caArgs(caRoot),
			Server: sServer("leaf-chain.crt", "leaf.key", "-tls1_2"), Client: client("3.6-16384", ""),
			Expect: healthy},
	)

	// ---- an IP address as SNI ----
	ss = append(ss,
		Scenario{Name: "sni-ip-literal-mbedtls36", Desc: "ssl_client2 is given the IP address 127.0.0.1 as host name (server_name=127.0.0.1): mbedTLS 3.6 sends it as SNI; the SNI-dependent Go server does not know that name and answers with its default certificate from another root; the client sends unknown_ca.",
			Args:   caArgs(caRoot),
			Server: sniDefaultServer, Client: client("3.6-16384", "", "server_name=127.0.0.1"),
			Expect: sniSent("missing-sni", "chain-untrusted")},
		Scenario{Name: "sni-ip-literal-mbedtls228", Desc: "The same with mbedTLS 2.28: given the IP address 127.0.0.1 as host name it also sends it as SNI, gets the default certificate and sends unknown_ca.",
			Args:   caArgs(caRoot, "--profile", "esp32-idf4"),
			Server: sniDefaultServer, Client: client("2.28-16384", "", "server_name=127.0.0.1"),
			Expect: sniSent("missing-sni", "chain-untrusted")},
	)

	// ---- cross-signed chain: leaf + intermediate (under B) + B cross-signed by A ----
	ss = append(ss,
		Scenario{Name: "cross-signed-root-a-mbedtls36", Desc: "The server sends leaf, intermediate and root B cross-signed by root A; a device whose CA file holds only root A verifies through the cross-signed certificate.",
			Args:   caArgs(caA),
			Server: xleaf, Client: client("3.6-16384", "xroota.crt"), Expect: healthy},
		Scenario{Name: "cross-signed-root-b-mbedtls36", Desc: "The same chain; a device whose CA file holds only root B (self-signed) verifies by the shorter path: mbedTLS looks in the CA list first and stops at B.",
			Args:   caArgs(caB),
			Server: xleaf, Client: client("3.6-16384", "xrootb.crt"), Expect: healthy},
		Scenario{Name: "cross-signed-expired-root-a-mbedtls36", Desc: "The same chain; the device's CA file holds root A's old certificate, expired in 2025 (same name and key): mbedTLS 3.6 follows the cross-signed path to it and sends certificate_expired. The browser's certificate viewer shows the shorter path to root B.",
			Args:   caArgs(caAOld, "--browser-chain", viewXLeaf),
			Server: xleaf, Client: client("3.6-16384", "xroota-old.crt"),
			Expect: failed("certificate-expired", "chain-differs-from-browser")},
		Scenario{Name: "cross-signed-expired-root-a-mbedtls228", Desc: "The same with mbedTLS 2.28: the expired root A at the end of the cross-signed path gives certificate_expired.",
			Args:   caArgs(caAOld, "--profile", "esp32-idf4"),
			Server: xleaf, Client: client("2.28-16384", "xroota-old.crt"),
			Expect: failed("certificate-expired")},
		Scenario{Name: "cross-signed-root-a-old-and-b-mbedtls36", Desc: "The same chain; the CA file holds the expired root A and root B: mbedTLS finds B in the CA list first and verifies.",
			Args:   caArgs(caAOldB),
			Server: xleaf, Client: client("3.6-16384", "xroot-a-and-b.crt"), Expect: healthy},
	)

	// ---- wrong order, extra certificates ----
	// serve: s_server with NAME.crt and the certificates of a bundle file
	// (certBundles) as the rest of the chain, in that file's order.
	serve := func(name, rest string) func(r *Run) error {
		return func(r *Run) error {
			return r.sServer("-cert", r.cert(name+".crt"), "-cert_chain", r.cert(rest), "-key", r.cert(name+".key"), "-tls1_2")
		}
	}
	reordered := serve("xleaf", "xleaf-inters-reordered.crt")
	extra := serve("leaf", "leaf-inters-extra.crt")
	ss = append(ss,
		Scenario{Name: "chain-wrong-order-mbedtls36", Desc: "The server sends leaf, root B cross-signed by A, then the intermediate (B's certificate before the one it signs); a device trusting root A fails: mbedTLS looks for an issuer only after the certificate it signs.",
			Args:   caArgs(caA),
			Server: reordered, Client: client("3.6-16384", "xroota.crt"),
			Expect: failed("chain-untrusted")},
		Scenario{Name: "chain-wrong-order-mbedtls228", Desc: "The same wrong order with mbedTLS 2.28 trusting root A.",
			Args:   caArgs(caA, "--profile", "esp32-idf4"),
			Server: reordered, Client: client("2.28-16384", "xroota.crt"),
			Expect: failed("chain-untrusted")},
		Scenario{Name: "chain-wrong-order-root-b-mbedtls36", Desc: "The same wrong order; a device trusting root B verifies: the intermediate's issuer B is in its CA list, so the misplaced certificate is never needed.",
			Args:   caArgs(caB),
			Server: reordered, Client: client("3.6-16384", "xrootb.crt"), Expect: healthy},
		Scenario{Name: "chain-extra-certificates-mbedtls36", Desc: "The server sends leaf, intermediate, an unrelated CA certificate and the root; mbedTLS 3.6 ignores what is not on its path and verifies.",
			Args:   caArgs(caRoot),
			Server: extra, Client: client("3.6-16384", ""), Expect: healthy},
		Scenario{Name: "chain-extra-certificates-mbedtls228", Desc: "The same extra certificates with mbedTLS 2.28: ignored, the chain verifies.",
			Args:   caArgs(caRoot, "--profile", "esp32-idf4"),
			Server: extra, Client: client("2.28-16384", ""), Expect: healthy},
	)

	// ---- a browser's captures of the server that sends its leaf only ----
	// (chain-incomplete). A browser-like Go client sends SNI, finds the
	// issuer missing, fetches it from the leaf's AIA caIssuers URL over
	// plain HTTP (ca.test is the scenario's HTTP server) as browsers do,
	// verifies, then asks for a page; the capture holds both connections.
	browser := func(maxVersion uint16, keylog bool) func(r *Run) error {
		return func(r *Run) error {
			if err := publishAll(r); err != nil {
				return err
			}
			keys := ""
			if keylog {
				keys = filepath.Join(*flagOut, r.S.Name+".keys")
			}
			return r.aiaBrowser(maxVersion, keys)
		}
	}
	browserSeen := func(frameFilter string) func(r *Run) error {
		return func(r *Run) error {
			if err := (exp{findings: []string{"chain-incomplete"}, filter: frameFilter}).fn(r); err != nil {
				return err
			}
			r.exp.Outcome = "ok"
			return nil
		}
	}
	ss = append(ss,
		Scenario{Name: "browser-chain-incomplete", Desc: "A browser-like client (Go, SNI device.test, fetches a missing issuer by AIA) captured against the server of chain-incomplete: the TLS connection shows the leaf only, as the device got it; a second connection is the browser's HTTP fetch of http://ca.test/inter.crt.",
			Server: func(r *Run) error {
				if err := r.caIssuersServer(); err != nil {
					return err
				}
				return r.sServerChain("leaf.crt", "leaf.key", "-tls1_2")
			},
			Client: browser(tls.VersionTLS12, false), Expect: browserSeen(fCertificate)},
		Scenario{Name: "browser-chain-incomplete-tls13", Desc: "The same browser-like client over TLS 1.3, writing its key log (browser-chain-incomplete-tls13.keys): the leaf-only chain is encrypted and readable with the key log; the AIA fetch is plain HTTP.",
			Args: []string{"--keylog", "testdata/pcaps/browser-chain-incomplete-tls13.keys"},
			Server: func(r *Run) error {
				if err := r.caIssuersServer(); err != nil {
					return err
				}
				return r.sServerChain("leaf.crt", "leaf.key", "-tls1_3")
			},
			Client: browser(tls.VersionTLS13, true), Expect: browserSeen(fServerHello)},
	)
	return ss
}

// caIssuersPort is where ca.test's HTTP server listens during a scenario.
func (r *Run) caIssuersPort() int { return r.Port + 400 }

// caIssuersServer serves the certificate cache over HTTP as http://ca.test/
// (NAME.crt as DER, as CAs publish caIssuers) and widens the capture to it.
func (r *Run) caIssuersServer() error {
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", r.caIssuersPort()))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) {
		b, err := os.ReadFile(r.cert(filepath.Base(q.URL.Path)))
		blk, _ := pem.Decode(b)
		if err != nil || blk == nil {
			http.NotFound(w, q)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Write(blk.Bytes)
	})}
	go srv.Serve(ln)
	r.stops = append(r.stops, func() { srv.Close() })
	r.Filter = fmt.Sprintf("port %d or port %d", r.Port, r.caIssuersPort())
	return nil
}

// aiaBrowser is a browser-like client: SNI device.test, the private root
// as its trust store; a missing issuer is fetched from the AIA caIssuers
// URL (ca.test resolves to caIssuersServer), then the chain is verified and
// a page requested. keys, when set, receives the key log.
func (r *Run) aiaBrowser(maxVersion uint16, keys string) error {
	var log []string
	logf := func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }
	cfg := &tls.Config{ServerName: "device.test", InsecureSkipVerify: true, MaxVersion: maxVersion}
	if keys != "" {
		kf, err := os.Create(keys)
		if err != nil {
			return err
		}
		defer kf.Close()
		cfg.KeyLogWriter = kf
	}
	result := "ok"
	func() {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp4", fmt.Sprintf("127.0.0.1:%d", r.Port), cfg)
		if err != nil {
			result = "handshake error: " + err.Error()
			return
		}
		defer c.Close()
		st := c.ConnectionState()
		logf("handshake ok: %s, the server sent %d certificate(s)", tls.VersionName(st.Version), len(st.PeerCertificates))
		leaf := st.PeerCertificates[0]
		inters := x509.NewCertPool()
		for _, x := range st.PeerCertificates[1:] {
			inters.AddCert(x)
		}
		opts := x509.VerifyOptions{Roots: rootPool(r), Intermediates: inters, DNSName: "device.test"}
		if _, err := leaf.Verify(opts); err != nil {
			logf("verify: %v", err)
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", r.caIssuersPort()))
				}}}
			for _, u := range leaf.IssuingCertificateURL {
				resp, err := hc.Get(u)
				if err != nil {
					logf("AIA fetch %s: %v", u, err)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				ic, err := x509.ParseCertificate(b)
				if err != nil {
					logf("AIA fetch %s: %s, not a certificate: %v", u, resp.Status, err)
					continue
				}
				logf("AIA fetch %s: %s, %q issued by %q", u, resp.Status, ic.Subject.String(), ic.Issuer.String())
				inters.AddCert(ic)
			}
			if _, err := leaf.Verify(opts); err != nil {
				result = "verify error: " + err.Error()
				logf("%s", result)
				return
			}
		}
		logf("verified: device.test chains to the private root")
		fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: device.test\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		b, _ := io.ReadAll(c)
		if line, _, ok := strings.Cut(string(b), "\r\n"); ok {
			logf("response: %s", line)
		}
	}()
	r.addProg(Program{Role: "client", Cmd: fmt.Sprintf("go browser-like client: SNI device.test, max %s, trusts the private root, fetches a missing issuer from the AIA caIssuers URL (ca.test = 127.0.0.1:%d) (testdata/gen/scenarios aiaBrowser)", tls.VersionName(maxVersion), r.caIssuersPort()),
		Printed: strings.Join(log, "\n"), Result: result})
	if result != "ok" {
		return fmt.Errorf("browser: %s", result)
	}
	return nil
}

// publish copies a file of the certificate cache next to the captures, for
// the sidecars' arguments.
func (r *Run) publish(certFile, name string) error {
	b, err := os.ReadFile(r.cert(certFile))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*flagOut, name), b, 0o644)
}
