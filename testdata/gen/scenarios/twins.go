package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// TLS 1.3 twins of the TLS 1.2 certificate and client-certificate failures:
// the same servers and the same mbedTLS 3.6 client, now with TLS 1.3, so the
// certificate, the certificate request and (mostly) the alert are
// encrypted. The server writes an NSS key log; it goes into the pcapng as a
// Decryption Secrets Block (editcap --inject-secrets), so the capture is
// self-contained, or, for one twin, next to it as NAME.keys, passed with
// --keylog through the sidecar's args. With the keys tlspcap must reach the
// root cause of the TLS 1.2 twin (NAME without -tls13); without them it can
// only say tls13-handshake-encrypted (cmd/tlspcap/twins_test.go).

// twinKeys is the key log file an openssl s_server twin writes in the run's
// scratch directory.
const twinKeys = "server.keys"

// keysOut says where a twin's key log goes.
type keysOut int

const (
	keysInjected keysOut = iota // Decryption Secrets Block in the pcapng
	keysFile                    // testdata/pcaps/NAME.keys, --keylog in the sidecar's args
)

func twinScenarios() []Scenario {
	tls13 := []string{"-tls1_3", "-keylogfile", twinKeys}
	mbed13 := mbed("3.6-16384", "force_version=tls13")
	twin := func(name, desc string, server, client func(r *Run) error, e exp, out keysOut) Scenario {
		where := "in the pcapng (Decryption Secrets Block)."
		if out == keysFile {
			where = "in " + name + ".keys (--keylog)."
		}
		s := Scenario{Name: name, Desc: desc, Server: server, Client: client,
			Notes: "TLS 1.3 twin of " + strings.TrimSuffix(name, "-tls13") + "; the server's key log is " + where}
		s.Expect = func(r *Run) error {
			if err := r.twinKeys(out); err != nil {
				return err
			}
			if out == keysFile {
				// tshark finds the decisive (encrypted) alert with the keys.
				abs, err := filepath.Abs(filepath.Join(*flagOut, name+".keys"))
				if err != nil {
					return err
				}
				e.opts = append(e.opts, "-o", "tls.keylog_file:"+abs)
			}
			return e.fn(r)
		}
		if out == keysFile {
			s.Args = []string{"--keylog", "testdata/pcaps/" + name + ".keys"}
		}
		return s
	}
	certFail := func(id, filter string) exp {
		return exp{outcome: "failed", findings: []string{id}, dev: "client", filter: filter}
	}
	return []Scenario{
		twin("chain-untrusted-tls13", "TLS 1.3: the server's chain comes from a root the device does not have; the mbedTLS 3.6 client sends unknown_ca.",
			sServer("otherleaf.crt", "otherleaf.key", tls13...), mbed13, certFail("chain-untrusted", fClientAlert), keysInjected),
		twin("chain-incomplete-tls13", "TLS 1.3: the server sends only its leaf, without the intermediate; the device has only the root and sends unknown_ca.",
			sServer("leaf.crt", "leaf.key", tls13...), mbed13, certFail("chain-incomplete", fClientAlert), keysInjected),
		twin("hostname-mismatch-tls13", "TLS 1.3: a Go crypto/tls server (KeyLogWriter) presents a trusted certificate for other.test; the client connects to device.test and sends bad_certificate.",
			goKeyedServer("mismatch-chain.crt", "mismatch.key"), mbed13, certFail("hostname-mismatch", fClientAlert), keysInjected),
		twin("certificate-expired-tls13", "TLS 1.3: the server's leaf expired in 2021; the client sends certificate_expired.",
			sServer("expired-chain.crt", "expired.key", tls13...), mbed13, certFail("certificate-expired", fClientAlert), keysInjected),
		twin("client-cert-required-tls13", "TLS 1.3: openssl s_server requires a client certificate (-Verify 1 -verify_return_error); the mbedTLS client has none and sends an empty Certificate.",
			sServer("leaf-chain.crt", "leaf.key", append(tls13, "-Verify", "1", "-verify_return_error", "-CAfile", "@root.crt")...),
			mbed("3.6-16384", "force_version=tls13", "crt_file=none", "key_file=none"),
			exp{outcome: "failed", findings: []string{"client-certificate-required"}, dev: "client", filter: fServerAlert}, keysInjected),
		twin("client-cert-rejected-tls13", "TLS 1.3: openssl s_server requires a client certificate from the private root; the mbedTLS client presents one from another root and gets unknown_ca.",
			sServer("leaf-chain.crt", "leaf.key", append(tls13, "-Verify", "1", "-verify_return_error", "-CAfile", "@root.crt")...),
			func(r *Run) error {
				_, err := r.mbedClient("3.6-16384", "force_version=tls13", "crt_file="+r.cert("otherclient.crt"), "key_file="+r.cert("otherclient.key"))
				return err
			},
			exp{outcome: "failed", findings: []string{"client-certificate-rejected"}, dev: "client", filter: fServerAlert}, keysFile),
	}
}

// goKeyedServer is a TLS 1.3-only Go crypto/tls server writing its key log
// to the run's twinKeys file.
func goKeyedServer(chain, key string) func(r *Run) error {
	return func(r *Run) error {
		c, err := loadPair(r, chain, key)
		if err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(r.Dir, twinKeys))
		if err != nil {
			return err
		}
		r.stops = append(r.stops, func() { f.Close() })
		cfg := &tls.Config{Certificates: []tls.Certificate{c}, MinVersion: tls.VersionTLS13, KeyLogWriter: &lockedWriter{w: f}}
		return r.goTLSServer("go crypto/tls server, TLS 1.3 only, KeyLogWriter (testdata/gen/scenarios goKeyedServer)", cfg)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *os.File
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// twinKeys puts the server's key log into the capture or next to it.
func (r *Run) twinKeys(out keysOut) error {
	keys := filepath.Join(r.Dir, twinKeys)
	b, err := os.ReadFile(keys)
	if err != nil || len(b) == 0 {
		return fmt.Errorf("the server wrote no key log (%v)", err)
	}
	if out == keysFile {
		return os.WriteFile(filepath.Join(*flagOut, r.S.Name+".keys"), b, 0o644)
	}
	tmp := r.Pcapng + ".tmp"
	if o, err := exec.Command("editcap", "--inject-secrets", "tls,"+keys, r.Pcapng, tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("editcap --inject-secrets: %v: %s", err, o)
	}
	return os.Rename(tmp, r.Pcapng)
}
