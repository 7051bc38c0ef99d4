package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Display filters used to find the decisive frame. PORT is the scenario port.
const (
	fServerAlert = "tls.record.content_type == 21 && tcp.srcport == PORT"
	fClientAlert = "tls.record.content_type == 21 && tcp.dstport == PORT"
	fServerRST   = "tcp.flags.reset == 1 && tcp.srcport == PORT"
	fServerFIN   = "tcp.flags.fin == 1 && tcp.srcport == PORT"
	fClientFIN   = "tcp.flags.fin == 1 && tcp.dstport == PORT"
	fClientHello = "tls.handshake.type == 1"
	fServerHello = "tls.handshake.type == 2 && tcp.srcport == PORT"
	fCertificate = "tls.handshake.type == 11 && tcp.srcport == PORT"
	fServerData  = "tcp.srcport == PORT && tcp.len > 0"
)

// exp builds an Expect function: the frame is the first (or last, with a
// leading "last:") frame matching filter; dev is "client"/"server" to take the
// device error from that program's printed result, or "" for none.
type exp struct {
	outcome  string
	findings []string
	dev      string
	filter   string
	opts     []string
	// rec, when set, picks the frame of the first server record it accepts
	// (the frame carrying that record's 5-byte header).
	rec func(h recordHeader) bool
}

func (e exp) fn(r *Run) error {
	r.exp.Outcome = e.outcome
	if e.outcome == "ok" {
		for _, p := range r.progs {
			if p.Role == "client" && p.Result != "ok" {
				return fmt.Errorf("expected a successful client, it printed %q", p.Result)
			}
		}
	}
	r.exp.Findings = e.findings
	if e.rec != nil {
		recs, err := r.records(true)
		if err != nil {
			return err
		}
		for _, h := range recs {
			if e.rec(h) {
				r.exp.Frames = []int{h.Frame}
				break
			}
		}
		if r.exp.Frames == nil {
			return fmt.Errorf("no server record matches (%d records)", len(recs))
		}
	}
	if e.filter != "" {
		f := strings.ReplaceAll(e.filter, "PORT", strconv.Itoa(r.Port))
		var n int
		var err error
		if rest, ok := strings.CutPrefix(f, "last:"); ok {
			n, err = r.last(rest, e.opts...)
		} else {
			n, err = r.first(f, e.opts...)
		}
		if err != nil {
			return err
		}
		r.exp.Frames = []int{n}
	}
	if e.dev != "" {
		for _, p := range r.progs {
			if p.Role == e.dev && strings.HasPrefix(p.Result, "-0x") {
				r.exp.DeviceError = p.Result
			}
		}
		if r.exp.DeviceError == "" {
			return fmt.Errorf("%s printed no mbedTLS error code", e.dev)
		}
	}
	return nil
}

func healthy(r *Run) error { return exp{outcome: "ok"}.fn(r) }

// mbed returns a Client func running ssl_client2.
func mbed(build string, extra ...string) func(r *Run) error {
	return func(r *Run) error { _, err := r.mbedClient(build, extra...); return err }
}

func sServer(chain, key string, extra ...string) func(r *Run) error {
	return func(r *Run) error { return r.sServerChain(chain, key, extra...) }
}

func goServer(display string, mk func(r *Run) (*tls.Config, error)) func(r *Run) error {
	return func(r *Run) error {
		cfg, err := mk(r)
		if err != nil {
			return err
		}
		return r.goTLSServer(display, cfg)
	}
}

func pairCfg(chain, key string, max uint16) func(r *Run) (*tls.Config, error) {
	return func(r *Run) (*tls.Config, error) {
		c, err := loadPair(r, chain, key)
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{c}, MaxVersion: max}, nil
	}
}

const inLen4096 = "--in-content-len"

var (
	args4096     = []string{inLen4096, "4096"}
	args228      = []string{"--profile", "esp32-idf4"}
	args228x4096 = []string{"--profile", "esp32-idf4", inLen4096, "4096"}
)

func scenarios() []Scenario {
	leaf := []string{"leaf-chain.crt", "leaf.key"}
	big := []string{"bigleaf-chain.crt", "bigleaf.key"}
	var ss []Scenario

	// ---- healthy ----
	ss = append(ss,
		Scenario{Name: "healthy-tls12-mbedtls36", Desc: "mbedTLS 3.6 client completes a TLS 1.2 handshake with openssl s_server (leaf + intermediate, private root) and fetches a page.",
			Server: sServer(leaf[0], leaf[1], "-tls1_2"), Client: mbed("3.6-16384", "force_version=tls12"), Expect: healthy},
		Scenario{Name: "healthy-tls13-mbedtls36", Desc: "mbedTLS 3.6 client completes a TLS 1.3 handshake with openssl s_server and fetches a page.",
			Server: sServer(leaf[0], leaf[1], "-tls1_3"), Client: mbed("3.6-16384", "force_version=tls13"), Expect: healthy},
		Scenario{Name: "healthy-tls12-mbedtls228", Desc: "mbedTLS 2.28 client completes a TLS 1.2 handshake with openssl s_server and fetches a page.",
			Server: sServer(leaf[0], leaf[1]), Client: mbed("2.28-16384"), Expect: healthy},
		Scenario{Name: "healthy-tls13-openssl-client", Desc: "openssl s_client completes a TLS 1.3 handshake with a Go crypto/tls server.",
			Server: goServer("go crypto/tls server, TLS 1.2-1.3, leaf + intermediate (testdata/gen/scenarios goTLSServer)", pairCfg(leaf[0], leaf[1], 0)),
			Client: func(r *Run) error {
				_, err := r.sClient("-servername", "device.test", "-CAfile", r.cert("root.crt"), "-verify_return_error", "-verify_hostname", "device.test")
				return err
			}, Expect: healthy},
		Scenario{Name: "healthy-tls12-go-client", Desc: "Go crypto/tls client completes a TLS 1.2 handshake with openssl s_server and fetches a page.",
			Server: sServer(leaf[0], leaf[1], "-tls1_2"),
			Client: func(r *Run) error {
				return r.goClient("go crypto/tls client, ServerName device.test, RootCAs private root (testdata/gen/scenarios goClient)", &tls.Config{ServerName: "device.test", RootCAs: rootPool(r)})
			}, Expect: healthy},
		Scenario{Name: "healthy-tls13-go-client", Desc: "Go crypto/tls client completes a TLS 1.3 handshake with openssl s_server and fetches a page.",
			Server: sServer(leaf[0], leaf[1], "-tls1_3"),
			Client: func(r *Run) error {
				return r.goClient("go crypto/tls client, ServerName device.test, RootCAs private root (testdata/gen/scenarios goClient)", &tls.Config{ServerName: "device.test", RootCAs: rootPool(r)})
			}, Expect: healthy},
	)

	// ---- record size ----
	bigRecord := exp{outcome: "failed", findings: []string{"record-exceeds-device-buffer"}, dev: "client",
		rec: func(h recordHeader) bool { return h.Length > 4096 }}
	ss = append(ss,
		Scenario{Name: "big-chain-4096-mbedtls36", Desc: "openssl s_server sends a ~6 KB certificate chain in one TLS 1.2 record; an mbedTLS 3.6 client with a 4096-byte input buffer aborts.", Args: args4096,
			Server: sServer(big[0], big[1], "-tls1_2"), Client: mbed("3.6-4096", "force_version=tls12"), Expect: bigRecord.fn},
		Scenario{Name: "big-chain-4096-mbedtls228", Desc: "openssl s_server sends a ~6 KB certificate chain in one TLS 1.2 record; an mbedTLS 2.28 client with a 4096-byte input buffer aborts.", Args: args4096,
			Server: sServer(big[0], big[1], "-tls1_2"), Client: mbed("2.28-4096"), Expect: bigRecord.fn},
		Scenario{Name: "big-chain-4096-tls13-mbedtls36", Desc: "TLS 1.3: the server's encrypted flight with a ~6 KB chain arrives in a record longer than 4096; an mbedTLS 3.6 client with a 4096-byte input buffer aborts.", Args: args4096,
			Server: sServer(big[0], big[1], "-tls1_3"), Client: mbed("3.6-4096", "force_version=tls13"), Expect: bigRecord.fn},
		Scenario{Name: "big-chain-16384-mbedtls36", Desc: "The same ~6 KB chain with the stock 16384-byte input buffer: the mbedTLS 3.6 handshake succeeds.",
			Server: sServer(big[0], big[1], "-tls1_2"), Client: mbed("3.6-16384", "force_version=tls12"), Expect: healthy},
		Scenario{Name: "mfl-fragmented-mbedtls228", Desc: "The client offers max_fragment_length 4096, openssl honours it and splits the ~6 KB Certificate message over several records; mbedTLS 2.28 cannot reassemble it.",
			Server: sServer(big[0], big[1], "-tls1_2"), Client: mbed("2.28-16384", "max_frag_len=4096"),
			Expect: exp{outcome: "failed", findings: []string{"handshake-fragmented"}, dev: "client", rec: func(h recordHeader) bool { return h.HSType == 11 && h.HSLen+4 > h.Length }}.fn},
		Scenario{Name: "mfl-fragmented-mbedtls36", Desc: "The client offers max_fragment_length 4096, openssl splits the Certificate message over several records; mbedTLS 3.6.6 reassembles it and succeeds.",
			Server: sServer(big[0], big[1], "-tls1_2"), Client: mbed("3.6-16384", "force_version=tls12", "max_frag_len=4096"), Expect: healthy},
		Scenario{Name: "mfl-fragmented-4096-mbedtls36", Desc: "An mbedTLS 3.6 client with a 4096-byte input buffer offers max_fragment_length 4096; openssl fragments the ~6 KB Certificate message into records of at most 4096 bytes, yet the client cannot hold the whole message.", Args: []string{"--profile", "mbedtls-default", inLen4096, "4096"},
			Server: sServer(big[0], big[1], "-tls1_2"), Client: mbed("3.6-4096", "force_version=tls12", "max_frag_len=4096"),
			Expect: exp{outcome: "failed", findings: []string{"handshake-fragmented"}, dev: "client", rec: func(h recordHeader) bool { return h.HSType == 11 && h.HSLen+4 > h.Length }}.fn,
			Notes:  "Every record fits the 4096-byte buffer, but mbedTLS 3.6.6 reassembles the ~6 KB Certificate message in its input buffer and fails with -0x7100 ('requesting more data than fits'): max_fragment_length does not help when one handshake message is larger than IN_CONTENT_LEN."},
		Scenario{Name: "mfl-not-acknowledged", Desc: "An mbedTLS 3.6 client with a 4096-byte buffer offers max_fragment_length 4096; the Go server ignores the extension and sends its ~6 KB chain in one record.", Args: args4096,
			Server: goServer("go crypto/tls server, TLS 1.2, ~6 KB chain, ignores max_fragment_length (testdata/gen/scenarios goTLSServer)", pairCfg(big[0], big[1], tls.VersionTLS12)),
			Client: mbed("3.6-4096", "force_version=tls12", "max_frag_len=4096"),
			Expect: exp{outcome: "failed", findings: []string{"mfl-not-acknowledged", "record-exceeds-device-buffer"}, dev: "client", rec: func(h recordHeader) bool { return h.Length > 4096 }}.fn},
	)

	// ---- TCP-level server misbehaviour ----
	ss = append(ss,
		Scenario{Name: "server-reset-after-hello", Desc: "The server reads the ClientHello and resets the connection (SO_LINGER 0).",
			Server: func(r *Run) error {
				return r.rawAfterHello("go raw server: read ClientHello, SO_LINGER 0, close (testdata/gen/scenarios)", func(c *net.TCPConn, logf func(string, ...any)) {
					c.SetLinger(0)
					c.Close()
					logf("sent RST")
				})
			}, Client: mbed("3.6-16384"),
			Expect: exp{outcome: "failed", findings: []string{"server-reset"}, dev: "client", filter: fServerRST}.fn},
		Scenario{Name: "server-fin-after-hello", Desc: "The server reads the ClientHello and closes the connection with FIN, no ServerHello.",
			Server: func(r *Run) error {
				return r.rawAfterHello("go raw server: read ClientHello, close (testdata/gen/scenarios)", func(c *net.TCPConn, logf func(string, ...any)) {
					c.Close()
					logf("closed (FIN)")
				})
			}, Client: mbed("3.6-16384"),
			Expect: exp{outcome: "failed", findings: []string{"server-closed"}, dev: "client", filter: fServerFIN}.fn},
		Scenario{Name: "server-silent", Desc: "The server accepts and reads the ClientHello but never answers; the client gives up after its 2 s read timeout.", Args: []string{"--profile", "mbedtls-default"},
			Server: func(r *Run) error {
				return r.rawAfterHello("go raw server: read ClientHello, then silence (testdata/gen/scenarios)", func(c *net.TCPConn, logf func(string, ...any)) {
					c.SetReadDeadline(time.Now().Add(6 * time.Second))
					buf := make([]byte, 1024)
					for {
						if _, err := c.Read(buf); err != nil {
							logf("peer closed: %v", err)
							break
						}
					}
					c.Close()
				})
			}, Client: mbed("3.6-16384", "read_timeout=2000"),
			Expect: exp{outcome: "failed", findings: []string{"server-silent"}, dev: "client", filter: fClientHello}.fn},
		Scenario{Name: "not-tls-http", Desc: "A plaintext HTTP server on the port answers the ClientHello with 'HTTP/1.1 400 Bad Request' and closes.",
			Server: func(r *Run) error {
				return r.rawAfterHello("go raw server: plaintext HTTP 400 answer (testdata/gen/scenarios)", func(c *net.TCPConn, logf func(string, ...any)) {
					c.Write([]byte("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
					time.Sleep(200 * time.Millisecond)
					c.Close()
					logf("sent HTTP/1.1 400 Bad Request, closed")
				})
			}, Client: mbed("3.6-16384"),
			Expect: exp{outcome: "not-tls", findings: []string{"not-tls"}, dev: "client", filter: fServerData}.fn},
		Scenario{Name: "not-tls-mqtt", Desc: "A plain MQTT broker port (1883-style) answers the TLS ClientHello with a 4-byte MQTT CONNACK and closes.",
			Server: func(r *Run) error {
				return r.rawAfterHello("go raw server: MQTT CONNACK 20 02 00 00, close (testdata/gen/scenarios)", func(c *net.TCPConn, logf func(string, ...any)) {
					c.Write([]byte{0x20, 0x02, 0x00, 0x00})
					time.Sleep(200 * time.Millisecond)
					c.Close()
					logf("sent CONNACK, closed")
				})
			}, Client: mbed("3.6-16384"),
			Expect: exp{outcome: "not-tls", findings: []string{"not-tls"}, dev: "client", filter: fServerData}.fn},
		Scenario{Name: "not-tls-ssh", Desc: "An SSH server on the port sends its banner first; the client's ClientHello is answered with a protocol error and close.",
			Server: func(r *Run) error {
				return r.goListen("go raw server: SSH banner, then 'Invalid SSH identification string' (testdata/gen/scenarios)", func(c *net.TCPConn, logf func(string, ...any)) {
					c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"))
					readRecord(c, 3*time.Second)
					c.Write([]byte("Invalid SSH identification string.\r\n"))
					time.Sleep(100 * time.Millisecond)
					c.Close()
					logf("sent SSH banner; closed")
				})
			}, Client: mbed("3.6-16384"),
			Expect: exp{outcome: "not-tls", findings: []string{"not-tls"}, dev: "client", filter: fServerData}.fn},
		Scenario{Name: "record-truncated", Desc: "The server's TLS 1.2 flight is cut in the middle of the Certificate record and the server closes with FIN.",
			Server: func(r *Run) error {
				return r.serverHelloProxy("go proxy: real crypto/tls TLS 1.2 flight, cut half-way through the Certificate record, then FIN (testdata/gen/scenarios)", leaf, func(c *net.TCPConn, recs [][]byte, logf func(string, ...any)) {
					cut := append(append([]byte{}, recs[0]...), recs[1][:len(recs[1])/2]...)
					c.Write(cut)
					logf("sent ServerHello record and %d of %d bytes of the next record, then FIN", len(recs[1])/2, len(recs[1]))
					time.Sleep(100 * time.Millisecond)
				})
			}, Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: exp{outcome: "failed", findings: []string{"record-truncated"}, dev: "client", rec: func(h recordHeader) bool { return !h.Complete }}.fn},
		Scenario{Name: "record-overflow", Desc: "After a real ServerHello the server sends a handshake record whose header claims 20000 bytes (more than 16384+2048 allowed by RFC 5246).",
			Server: func(r *Run) error {
				return r.serverHelloProxy("go proxy: real ServerHello record, then a record with length 20000 (testdata/gen/scenarios)", leaf, func(c *net.TCPConn, recs [][]byte, logf func(string, ...any)) {
					out := append([]byte{}, recs[0]...)
					body := make([]byte, 20000)
					copy(body, recs[1][5:])
					out = append(out, 0x16, 0x03, 0x03, byte(20000>>8), byte(20000&0xff))
					out = append(out, body...)
					c.Write(out)
					logf("sent ServerHello and an 20000-byte record")
					time.Sleep(time.Second)
				})
			}, Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: exp{outcome: "failed", findings: []string{"record-overflow"}, dev: "client", rec: func(h recordHeader) bool { return h.Length > 16384+2048 }}.fn},
	)

	// ---- negotiation ----
	ss = append(ss,
		Scenario{Name: "tls10-only-server-mbedtls36", Desc: "openssl s_server allows only TLS 1.0; it answers the TLS 1.2-only mbedTLS 3.6 client with a TLS 1.0 ServerHello and the client sends protocol_version.",
			Server: sServer(leaf[0], leaf[1], "-tls1", "-cipher", "DEFAULT@SECLEVEL=0"), Client: mbed("3.6-16384"),
			Expect: exp{outcome: "failed", findings: []string{"version-mismatch"}, dev: "client", filter: fClientAlert}.fn},
		Scenario{Name: "tls10-only-server-mbedtls228", Desc: "openssl s_server allows only TLS 1.0 and answers with a TLS 1.0 ServerHello; the mbedTLS 2.28 client, limited to TLS 1.2 minimum like ESP-IDF, sends protocol_version.",
			Server: sServer(leaf[0], leaf[1], "-tls1", "-cipher", "DEFAULT@SECLEVEL=0"), Client: mbed("2.28-16384", "min_version=tls12"),
			Expect: exp{outcome: "failed", findings: []string{"version-mismatch"}, dev: "client", filter: fClientAlert}.fn},
		Scenario{Name: "tls10-accepted-mbedtls228", Desc: "openssl s_server allows only TLS 1.0; Debian's stock mbedTLS 2.28.3 client (library default minimum TLS 1.0) completes a TLS 1.0 handshake.",
			Server: sServer(leaf[0], leaf[1], "-tls1", "-cipher", "DEFAULT@SECLEVEL=0"), Client: mbed("2.28-16384"),
			Expect: healthy, Notes: "Healthy on the wire; tlspcap may add warnings about TLS 1.0 or a CBC/SHA-1 suite, which this sidecar does not require."},
		Scenario{Name: "tls13-only-server", Desc: "openssl s_server allows only TLS 1.3; an mbedTLS 3.6 client limited to TLS 1.2 gets a protocol_version alert.",
			Server: sServer(leaf[0], leaf[1], "-tls1_3"), Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: exp{outcome: "failed", findings: []string{"version-mismatch"}, dev: "client", filter: fServerAlert}.fn},
		Scenario{Name: "no-shared-cipher", Desc: "openssl s_server allows only ECDHE-RSA-CHACHA20-POLY1305; the mbedTLS client offers only AES-128-GCM and gets handshake_failure.",
			Server: sServer(leaf[0], leaf[1], "-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"),
			Client: mbed("3.6-16384", "force_version=tls12", "force_ciphersuite=TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256"),
			Expect: exp{outcome: "failed", findings: []string{"no-shared-cipher"}, dev: "client", filter: fServerAlert}.fn},
		Scenario{Name: "weak-cipher", Desc: "openssl s_server allows only AES128-SHA (RSA key exchange, CBC, SHA-1); the mbedTLS client accepts it and the handshake succeeds.",
			Server: sServer(leaf[0], leaf[1], "-tls1_2", "-cipher", "AES128-SHA"), Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: exp{outcome: "ok", findings: []string{"weak-cipher"}, filter: fServerHello}.fn},
		Scenario{Name: "client-cert-required", Desc: "openssl s_server requires a client certificate (-Verify 1 -verify_return_error); the mbedTLS client has none and sends an empty Certificate.",
			Server: sServer(leaf[0], leaf[1], "-tls1_2", "-Verify", "1", "-verify_return_error", "-CAfile", "@root.crt"),
			Client: mbed("3.6-16384", "force_version=tls12", "crt_file=none", "key_file=none"),
			Expect: exp{outcome: "failed", findings: []string{"client-certificate-required"}, dev: "client", filter: fServerAlert}.fn},
		Scenario{Name: "client-cert-rejected", Desc: "openssl s_server requires a client certificate from the private root; the mbedTLS client presents one from another root and gets unknown_ca.",
			Server: sServer(leaf[0], leaf[1], "-tls1_2", "-Verify", "1", "-verify_return_error", "-CAfile", "@root.crt"),
			Client: func(r *Run) error {
				_, err := r.mbedClient("3.6-16384", "force_version=tls12", "crt_file="+r.cert("otherclient.crt"), "key_file="+r.cert("otherclient.key"))
				return err
			},
			Expect: exp{outcome: "failed", findings: []string{"client-certificate-rejected"}, dev: "client", filter: fServerAlert}.fn},
		Scenario{Name: "device-server-cert-not-requested", Desc: "The device is the server (mbedTLS 3.6 ssl_server2, auth_mode=none); openssl s_client brings a client certificate that is never requested.", Args: []string{"--device", "server"},
			Server: func(r *Run) error {
				return r.mbedServer("3.6-16384", "auth_mode=none", "crt_file="+r.cert("leaf-chain.crt"), "key_file="+r.cert("leaf.key"), "force_version=tls12")
			},
			Client: func(r *Run) error {
				_, err := r.sClient("-tls1_2", "-servername", "device.test", "-CAfile", r.cert("root.crt"), "-cert", r.cert("client.crt"), "-key", r.cert("client.key"), "-cert_chain", r.cert("inter.crt"))
				return err
			},
			Expect: exp{outcome: "ok", findings: []string{"client-certificate-not-requested"}, filter: "tls.handshake.type == 14 && tcp.srcport == PORT"}.fn},
		Scenario{Name: "device-server-client-cert-missing", Desc: "The device is the server (mbedTLS 3.6 ssl_server2, auth_mode=required, ca_file = private root); openssl s_client has no client certificate.", Args: []string{"--device", "server"},
			Server: func(r *Run) error {
				return r.mbedServer("3.6-16384", "auth_mode=required", "ca_file="+r.cert("root.crt"), "crt_file="+r.cert("leaf-chain.crt"), "key_file="+r.cert("leaf.key"), "force_version=tls12")
			},
			Client: func(r *Run) error {
				_, err := r.sClient("-tls1_2", "-servername", "device.test", "-CAfile", r.cert("root.crt"))
				return err
			},
			Expect: exp{outcome: "failed", findings: []string{"client-certificate-required"}, dev: "server", filter: "tls.handshake.type == 11 && tcp.dstport == PORT"}.fn,
			Notes:  "The device is the server here; ssl_server2 closes with FIN and sends no alert (TLS 1.2)."},
	)

	// ---- certificates ----
	certFail := func(id string, filter string, more ...string) func(r *Run) error {
		return exp{outcome: "failed", findings: append([]string{id}, more...), dev: "client", filter: filter}.fn
	}
	ss = append(ss,
		Scenario{Name: "chain-untrusted", Desc: "The server's chain comes from a root the device does not have (ca_file = private root); the client sends unknown_ca.",
			Server: sServer("otherleaf.crt", "otherleaf.key", "-tls1_2"), Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: certFail("chain-untrusted", fClientAlert)},
		Scenario{Name: "chain-incomplete", Desc: "The server sends only its leaf, without the intermediate; the device has only the root and sends unknown_ca.",
			Server: sServer("leaf.crt", "leaf.key", "-tls1_2"), Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: certFail("chain-incomplete", fClientAlert)},
		Scenario{Name: "hostname-mismatch", Desc: "The server's certificate is for other.test (trusted chain); the client connects to device.test and sends bad_certificate.",
			Server: sServer("mismatch-chain.crt", "mismatch.key", "-tls1_2"), Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: certFail("hostname-mismatch", fClientAlert)},
		Scenario{Name: "certificate-expired", Desc: "The server's leaf expired in 2021; the client sends certificate_expired.",
			Server: sServer("expired-chain.crt", "expired.key", "-tls1_2"), Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: certFail("certificate-expired", fClientAlert)},
		Scenario{Name: "certificate-not-yet-valid", Desc: "The server's leaf is valid from 2030; the client sends certificate_unknown.",
			Server: sServer("future-chain.crt", "future.key", "-tls1_2"), Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: certFail("certificate-not-yet-valid", fClientAlert)},
		Scenario{Name: "self-signed", Desc: "The server presents a self-signed certificate for device.test; the client sends unknown_ca.",
			Server: sServer("selfsigned.crt", "selfsigned.key", "-tls1_2"), Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: certFail("self-signed", fClientAlert)},
		Scenario{Name: "weak-certificate-mbedtls36", Desc: "The server's leaf has a 1024-bit RSA key (trusted chain); mbedTLS 3.6's default profile rejects it.",
			Server: sServer("weak-chain.crt", "weak.key", "-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0"), Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: certFail("weak-certificate", fClientAlert)},
		Scenario{Name: "weak-certificate-mbedtls228", Desc: "The server's leaf has a 1024-bit RSA key (trusted chain); the mbedTLS 2.28 client checks it.",
			Server: sServer("weak-chain.crt", "weak.key", "-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0"), Client: mbed("2.28-16384"),
			Expect: certFail("weak-certificate", fClientAlert)},
		Scenario{Name: "tls13-untrusted-encrypted", Desc: "TLS 1.3 with a chain from an unknown root: the server's certificate is encrypted; the mbedTLS 3.6 client aborts with an unknown_ca alert.",
			Server: sServer("otherleaf.crt", "otherleaf.key", "-tls1_3"), Client: mbed("3.6-16384", "force_version=tls13"),
			Expect: exp{outcome: "failed", findings: []string{"chain-untrusted", "tls13-handshake-encrypted"}, dev: "client", filter: fClientAlert}.fn,
			Notes:  "mbedTLS 3.6.6 sends this certificate alert (unknown_ca) as a plaintext record (15 03 03 00 02 02 30): its outgoing transform is still the null one while it processes the server's encrypted flight. The server certificate itself is encrypted."},
		Scenario{Name: "missing-sni-required", Desc: "The Go server needs SNI to pick a certificate; the mbedTLS client sends no server_name and gets unrecognized_name.",
			Server: goServer("go crypto/tls server: certificate only for SNI device.test, none without SNI (testdata/gen/scenarios)", func(r *Run) (*tls.Config, error) {
				c, err := loadPair(r, leaf[0], leaf[1])
				if err != nil {
					return nil, err
				}
				return &tls.Config{MaxVersion: tls.VersionTLS12, GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
					if h.ServerName == "device.test" {
						return &c, nil
					}
					return nil, nil
				}}, nil
			}),
			Client: mbed("3.6-16384", "force_version=tls12", "set_hostname=NULL"),
			Expect: exp{outcome: "failed", findings: []string{"missing-sni"}, dev: "client", filter: fServerAlert}.fn},
		Scenario{Name: "missing-sni-default-cert", Desc: "Without SNI the Go server falls back to its default certificate (from another root); the mbedTLS client, sending no server_name, rejects it with unknown_ca.",
			Server: sniDefaultServer,
			Client: mbed("3.6-16384", "force_version=tls12", "set_hostname=NULL"),
			Expect: exp{outcome: "failed", findings: []string{"missing-sni", "chain-untrusted"}, dev: "client", filter: fClientAlert}.fn},
		// The same server seen by a browser-like client that sends SNI: the
		// capture given to --browser-chain by the next scenario.
		Scenario{Name: "browser-sni", Desc: "openssl s_client, sending SNI device.test as a browser does, gets the device.test chain from the SNI-dependent Go server (the browser's view for missing-sni-default-cert).",
			Server: sniDefaultServer,
			Client: func(r *Run) error {
				_, err := r.sClient("-tls1_2", "-servername", "device.test", "-CAfile", r.cert("root.crt"), "-verify_return_error")
				return err
			},
			Expect: exp{outcome: "ok", findings: []string{}}.fn},
		Scenario{Name: "chain-differs-from-browser", Desc: "The mbedTLS client without SNI gets the server's default certificate; compared with the browser's capture (browser-sni.pcapng), the leaf differs.",
			Args:   []string{"--browser-chain", "testdata/pcaps/browser-sni.pcapng"},
			Server: sniDefaultServer,
			Client: mbed("3.6-16384", "force_version=tls12", "set_hostname=NULL"),
			Expect: exp{outcome: "failed", findings: []string{"missing-sni", "chain-untrusted", "chain-differs-from-browser"}, dev: "client", filter: fClientAlert}.fn},
	)

	// ---- connection ----
	ss = append(ss,
		Scenario{Name: "connection-refused", Desc: "Nothing listens on the port: the SYN is answered with RST.", NoListener: true, Args: []string{"--device", "127.0.0.1"},
			Client: mbed("3.6-16384"),
			Expect: exp{outcome: "failed", findings: []string{"connection-refused"}, filter: "tcp.flags.reset == 1"}.fn},
		Scenario{Name: "no-syn-ack", Desc: "The server address is black-holed: the client's SYNs are never answered and it gives up after 4.5 s.", NoListener: true, Args: []string{"--device", "10.231.0.1"},
			Iface: "tlsgenA", Net: vethBlackhole,
			Client: func(r *Run) error { return r.mbedClientLimited("3.6-16384", "10.231.0.2", 4500*time.Millisecond) },
			Expect: exp{outcome: "failed", findings: []string{"no-syn-ack"}, filter: "tcp.flags.syn == 1 && tcp.flags.ack == 0"}.fn},
		Scenario{Name: "no-client-hello", Desc: "The client opens the TCP connection and closes it without sending a ClientHello (as ESP-TLS does when no verification option is set).",
			Server: sServer(leaf[0], leaf[1]), Client: func(r *Run) error { return r.rawConnectClose(300 * time.Millisecond) },
			Expect: exp{outcome: "failed", findings: []string{"no-client-hello"}, filter: fClientFIN}.fn},
		Scenario{Name: "zero-window", Desc: "The client stops reading during the handshake; its receive window fills and it advertises a zero window while the server's ~6 KB flight is pending, then closes.",
			Server: goServer("go crypto/tls server, TLS 1.2, ~6 KB chain (testdata/gen/scenarios goTLSServer)", pairCfg(big[0], big[1], tls.VersionTLS12)),
			Client: func(r *Run) error { return r.zeroWindowClient(3 * time.Second) },
			Expect: exp{outcome: "failed", findings: []string{"zero-window"}, filter: "tcp.analysis.zero_window && tcp.dstport == PORT"}.fn},
		Scenario{Name: "slow-handshake", Desc: "The Go server waits 4 s before its ServerHello; the mbedTLS client (read timeout 6 s) still completes the handshake.",
			Server: goServer("go crypto/tls server, sleeps 4 s before ServerHello (testdata/gen/scenarios)", func(r *Run) (*tls.Config, error) {
				c, err := loadPair(r, leaf[0], leaf[1])
				if err != nil {
					return nil, err
				}
				return &tls.Config{MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{c}, GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
					time.Sleep(4 * time.Second)
					return nil, nil
				}}, nil
			}),
			Client: mbed("3.6-16384", "force_version=tls12", "read_timeout=6000"),
			Expect: exp{outcome: "ok", findings: []string{"slow-handshake"}, filter: fServerHello}.fn},
	)

	// ---- DNS ----
	dns := func(name string, rcode int, id, desc, filter string) Scenario {
		return Scenario{Name: name, Desc: desc, NoListener: true,
			Server: func(r *Run) error {
				r.Filter = "udp port 53 and host " + strings.Split(r.dnsAddr(), ":")[0]
				return r.dnsServer(rcode)
			},
			Client: func(r *Run) error { return r.lwipResolve("device.test") },
			Expect: func(r *Run) error {
				r.exp.Stream = -1
				return exp{outcome: "failed", findings: []string{id}, filter: filter}.fn(r)
			}}
	}
	ss = append(ss,
		dns("dns-nxdomain", 3, "dns-nxdomain", "The DNS server answers the device's A query for device.test with NXDOMAIN; no TCP connection follows.", "dns.flags.response == 1"),
		dns("dns-servfail", 2, "dns-servfail", "The DNS server answers the device's A query for device.test with SERVFAIL; no TCP connection follows.", "dns.flags.response == 1"),
		dns("dns-no-response", -1, "dns-no-response", "The DNS server never answers; the device repeats its A query at 1, 2 and 4 s, then gives up; no TCP connection follows.", "dns.flags.response == 0"),
	)

	// ---- capture quality (post-processed from healthy-tls12-mbedtls36) ----
	const base = "healthy-tls12-mbedtls36"
	ss = append(ss,
		Scenario{Name: "capture-snaplen-cut", Desc: "The healthy TLS 1.2 capture cut to a 96-byte snapshot length (editcap -s 96): TLS records are not readable.", Base: base,
			Derive: func(r *Run, in string) error { return editcap(in, r.Pcapng, "-s", "96") },
			Expect: exp{outcome: "incomplete", findings: []string{"capture-truncated-packets"}, filter: "frame.cap_len < frame.len"}.fn},
		Scenario{Name: "capture-missing-bytes", Desc: "The healthy TLS 1.2 capture with the frame of the server's ServerHello..ServerHelloDone flight removed (editcap): the capture lost bytes the endpoints exchanged.", Base: base,
			Derive: func(r *Run, in string) error {
				f, err := firstIn(in, strings.ReplaceAll(fServerHello, "PORT", portOf(in)))
				if err != nil {
					return err
				}
				r.dropped, r.basePort = f, portOf(in)
				return editcap(in, r.Pcapng, strconv.Itoa(f))
			},
			// The first server segment with data after the hole: where the
			// server's byte stream jumps (a reassembler sees the gap there).
			Expect: func(r *Run) error {
				return exp{outcome: "incomplete", findings: []string{"capture-missing-bytes"},
					filter: fmt.Sprintf("tcp.srcport == %s && tcp.len > 0 && frame.number >= %d", r.basePort, r.dropped)}.fn(r)
			},
			Notes: "Wireshark flags the client's ACK just after the hole as 'ACKed unseen segment'; frames[0] is the server's first data segment after the hole."},
		Scenario{Name: "capture-started-mid-connection", Desc: "The healthy TLS 1.2 capture with everything before the ServerHello removed: no SYN, no ClientHello.", Base: base,
			Derive: func(r *Run, in string) error {
				f, err := firstIn(in, strings.ReplaceAll(fServerHello, "PORT", portOf(in)))
				if err != nil {
					return err
				}
				return editcap(in, r.Pcapng, "1-"+strconv.Itoa(f-1))
			},
			Expect: exp{outcome: "ok", findings: []string{"capture-started-mid-connection"}, filter: "frame.number == 1"}.fn},
	)
	// ---- added later; appended so earlier scenarios keep their ports ----
	ss = append(ss,
		Scenario{Name: "server-reset-mid-certificate", Desc: "The server's TLS 1.2 flight stops half-way through the Certificate record and the server resets the connection (it died mid-certificate).",
			Server: func(r *Run) error {
				return r.serverHelloProxy("go proxy: real crypto/tls TLS 1.2 flight, cut half-way through the Certificate record, then RST (testdata/gen/scenarios)", leaf, func(c *net.TCPConn, recs [][]byte, logf func(string, ...any)) {
					c.Write(append(append([]byte{}, recs[0]...), recs[1][:len(recs[1])/2]...))
					time.Sleep(50 * time.Millisecond)
					c.SetLinger(0)
					c.Close()
					logf("sent ServerHello record and %d of %d bytes of the Certificate record, then RST", len(recs[1])/2, len(recs[1]))
				})
			}, Client: mbed("3.6-16384", "force_version=tls12"),
			Expect: exp{outcome: "failed", findings: []string{"server-reset"}, dev: "client", filter: fServerRST}.fn},
		Scenario{Name: "tls10-only-server-mbedtls36-tls13", Desc: "openssl s_server allows only TLS 1.0; an mbedTLS 3.6 client offering TLS 1.2 and 1.3 (supported_versions) gets a protocol_version alert from the server.",
			Server: sServer(leaf[0], leaf[1], "-tls1", "-cipher", "DEFAULT@SECLEVEL=0"), Client: mbed("3.6-16384", "force_version="),
			Expect: exp{outcome: "failed", findings: []string{"version-mismatch"}, dev: "client", filter: fServerAlert}.fn},
		Scenario{Name: "openssl-client-hostname-mismatch", Desc: "openssl s_client (not an mbedTLS device) checks the name device.test against a trusted certificate for other.test and sends bad_certificate.",
			Server: sServer("mismatch-chain.crt", "mismatch.key", "-tls1_2"),
			Client: func(r *Run) error {
				_, err := r.sClient("-servername", "device.test", "-CAfile", r.cert("root.crt"), "-verify_return_error", "-verify_hostname", "device.test")
				return err
			},
			Expect: exp{outcome: "failed", findings: []string{"hostname-mismatch"}, filter: fClientAlert}.fn},
	)
	ss = append(ss, chainScenarios()...)
	ss = append(ss, moreScenarios()...)
	ss = append(ss, twinScenarios()...)
	return ss
}

func editcap(in, out string, args ...string) error {
	a := append([]string{"-F", "pcapng"}, args...)
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		// frame ranges to delete come after the file names
		a = []string{"-F", "pcapng", in, out}
		a = append(a, args...)
	} else {
		a = append(a, in, out)
	}
	b, err := exec.Command("editcap", a...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("editcap %v: %v: %s", a, err, b)
	}
	return nil
}

// firstIn returns the first frame of file matching filter.
func firstIn(file, filter string) (int, error) {
	r := &Run{Pcapng: file}
	return r.first(filter)
}

// portOf is the server port of a capture (the destination port of frame 1).
func portOf(file string) string {
	out, _ := exec.Command("tshark", "-r", file, "-c", "1", "-T", "fields", "-e", "tcp.dstport").Output()
	return strings.TrimSpace(string(out))
}

// sniDefaultServer answers with the device.test chain when asked for
// device.test by SNI, and with a certificate from another root otherwise.
var sniDefaultServer = goServer("go crypto/tls server: device.test chain for SNI device.test, default otherleaf without SNI (testdata/gen/scenarios)", func(r *Run) (*tls.Config, error) {
	c, err := loadPair(r, "leaf-chain.crt", "leaf.key")
	if err != nil {
		return nil, err
	}
	d, err := loadPair(r, "otherleaf.crt", "otherleaf.key")
	if err != nil {
		return nil, err
	}
	return &tls.Config{MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{d}, GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if h.ServerName == "device.test" {
			return &c, nil
		}
		return nil, nil
	}}, nil
})
