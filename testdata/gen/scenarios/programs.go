package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mbedVersion names a build directory: "2.28-4096" → "mbedTLS 2.28.3, IN_CONTENT_LEN 4096".
func mbedLabel(build string) string {
	v, inlen, _ := strings.Cut(build, "-")
	full := map[string]string{"2.28": "2.28.3", "3.6": "3.6.6"}[v]
	return fmt.Sprintf("mbedTLS %s, IN_CONTENT_LEN %s", full, inlen)
}

func (r *Run) cert(name string) string { return filepath.Join(r.Certs, name) }

// display shortens paths for the sidecar: certificate files by base name.
func (r *Run) display(prog string, args []string) string {
	var b strings.Builder
	b.WriteString(prog)
	for _, a := range args {
		a = strings.ReplaceAll(a, r.Certs+"/", "")
		b.WriteString(" ")
		b.WriteString(a)
	}
	return b.String()
}

var (
	reReturned = regexp.MustCompile(`(mbedtls_\w+|\w+\(\)) returned (-?0x[0-9a-fA-F]+|-?\d+)`)
	reKeep     = regexp.MustCompile(`(?i)returned|connecting|alert|fits|fragment|bad |unknown|verif|failed|error|timeout|closed|reset|handshake\.\.\.|protocol is|ciphersuite is|record|peer|certificate|hostname|expired|future|not correctly|!`)
)

// mbedResult picks the mbedTLS error code a program reported: the code of the
// first "mbedtls_ssl_handshake returned" line, else the first "returned" line.
func mbedResult(out string) string {
	var firstAny string
	for _, m := range reReturned.FindAllStringSubmatch(out, -1) {
		code := normCode(m[2])
		if code == "0x0000" || !strings.HasPrefix(code, "-") {
			continue
		}
		if m[1] == "mbedtls_ssl_handshake" {
			return code
		}
		if firstAny == "" && !strings.HasPrefix(m[1], "ssl_") {
			firstAny = code
		}
	}
	if firstAny != "" {
		return firstAny
	}
	if strings.Contains(out, "handshake... ok") || strings.Contains(out, "[ Protocol is ") {
		return "ok"
	}
	if strings.Contains(out, "[stopped after") {
		return "no result: stopped by the time limit"
	}
	return "no error code printed"
}

func normCode(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var v int64
	if strings.HasPrefix(s, "0x") {
		v, _ = strconv.ParseInt(s[2:], 16, 64)
	} else {
		v, _ = strconv.ParseInt(s, 10, 64)
	}
	if neg {
		return fmt.Sprintf("-0x%04X", v)
	}
	return fmt.Sprintf("0x%04X", v)
}

// keepLines keeps the output lines that matter (errors, alerts, results).
func keepLines(out string, max int) string {
	var kept []string
	seen := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, "\r ")
		if strings.TrimSpace(l) == "" || !reKeep.MatchString(l) || seen[l] {
			continue
		}
		if strings.Contains(l, "=> ") || strings.Contains(l, "<= ") {
			continue
		}
		seen[l] = true
		kept = append(kept, l)
	}
	if len(kept) > max {
		kept = append(kept[:max], "...")
	}
	return strings.Join(kept, "\n")
}

func summarizeMbed(out string) (string, string) { return keepLines(out, 16), mbedResult(out) }

// summarizeOpenSSL reads s_server / s_client output.
func summarizeOpenSSL(out string) (string, string) {
	printed := keepLines(out, 12)
	result := "ok"
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, ":error:"); i >= 0 {
			result = strings.TrimSpace(l[i+1:])
			break
		}
		if strings.Contains(l, "Verify return code:") && !strings.Contains(l, "0 (ok)") {
			result = strings.TrimSpace(l)
		}
		if strings.Contains(l, "verify error:") {
			result = strings.TrimSpace(l)
		}
	}
	if strings.Contains(out, "[stopped after") && result == "ok" {
		result = "no result: stopped by the time limit"
	}
	return printed, result
}

// mbedClient runs ssl_client2 of the given build against the scenario port.
// The device's defaults: server_name device.test, ca_file = the private root,
// auth_mode required, debug_level 1, read_timeout 3000.
func (r *Run) mbedClient(build string, extra ...string) (string, error) {
	args := []string{"server_addr=127.0.0.1", fmt.Sprintf("server_port=%d", r.Port)}
	set := map[string]bool{}
	for _, e := range extra {
		k, _, _ := strings.Cut(e, "=")
		set[k] = true
	}
	defaults := []string{}
	if strings.HasPrefix(build, "3.") {
		// ESP-IDF 5.x offers TLS 1.2 only unless TLS 1.3 is enabled in menuconfig.
		defaults = append(defaults, "force_version=tls12")
	}
	defaults = append(defaults, "server_name=device.test", "ca_file="+r.cert("root.crt"), "auth_mode=required", "debug_level=1", "read_timeout=3000")
	for _, d := range defaults {
		k, _, _ := strings.Cut(d, "=")
		if !set[k] {
			args = append(args, d)
		}
	}
	for _, e := range extra {
		if strings.HasSuffix(e, "=") { // "key=" removes a default
			continue
		}
		args = append(args, e)
	}
	out, err := r.runFg(10*time.Second, nil, mbedBin(build, "ssl_client2"), args...)
	if err != nil {
		return out, err
	}
	printed, result := summarizeMbed(out)
	r.addProg(Program{Role: "client", Cmd: r.display("ssl_client2", args) + " (" + mbedLabel(build) + ")", Printed: printed, Result: result})
	return out, nil
}

// mbedServer starts ssl_server2 of the given build on the scenario port.
func (r *Run) mbedServer(build string, extra ...string) error {
	args := append([]string{"server_addr=127.0.0.1", fmt.Sprintf("server_port=%d", r.Port), "debug_level=1", "exchanges=1"}, extra...)
	return r.startProc("server", r.display("ssl_server2", args)+" ("+mbedLabel(build)+")", summarizeMbed, mbedBin(build, "ssl_server2"), args...)
}

// sServer starts openssl s_server for one connection on the scenario port.
func (r *Run) sServer(extra ...string) error {
	for i, a := range extra {
		if strings.HasPrefix(a, "@") {
			extra[i] = r.cert(a[1:])
		}
	}
	args := append([]string{"s_server", "-accept", fmt.Sprintf("127.0.0.1:%d", r.Port), "-naccept", "1", "-www"}, extra...)
	return r.startProc("server", r.display("openssl", args), summarizeOpenSSL, "openssl", args...)
}

// sServerChain is s_server with a certificate and key. For NAME-chain.crt
// the leaf is NAME.crt and the intermediates (NAME-inters.crt) go to
// -cert_chain: s_server sends only the first certificate of a -cert file.
func (r *Run) sServerChain(chain, key string, extra ...string) error {
	args := []string{"-cert", r.cert(chain), "-key", r.cert(key)}
	if name, ok := strings.CutSuffix(chain, "-chain.crt"); ok {
		args = []string{"-cert", r.cert(name + ".crt"), "-cert_chain", r.cert(name + "-inters.crt"), "-key", r.cert(key)}
	}
	return r.sServer(append(args, extra...)...)
}

// sClient runs openssl s_client; stdin is empty so it closes after the handshake.
func (r *Run) sClient(extra ...string) (string, error) {
	args := append([]string{"s_client", "-connect", fmt.Sprintf("127.0.0.1:%d", r.Port)}, extra...)
	out, err := r.runFg(10*time.Second, strings.NewReader(""), "openssl", args...)
	if err != nil {
		return out, err
	}
	printed, result := summarizeOpenSSL(out)
	r.addProg(Program{Role: "client", Cmd: r.display("openssl", args), Printed: printed, Result: result})
	return out, nil
}

// ---- Go servers ----

func loadPair(r *Run, chain, key string) (tls.Certificate, error) {
	return tls.LoadX509KeyPair(r.cert(chain), r.cert(key))
}

func rootPool(r *Run) *x509.CertPool {
	p := x509.NewCertPool()
	b, _ := os.ReadFile(r.cert("root.crt"))
	p.AppendCertsFromPEM(b)
	return p
}

// goListen listens on the scenario port and calls handle for each connection
// until the scenario ends. display/summary describe the server in the sidecar.
func (r *Run) goListen(display string, handle func(c *net.TCPConn, logf func(string, ...any))) error {
	ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", r.Port))
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var lines []string
	logf := func(f string, a ...any) {
		mu.Lock()
		lines = append(lines, fmt.Sprintf(f, a...))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(c.(*net.TCPConn), logf)
			}()
		}
	}()
	r.stops = append(r.stops, func() {
		ln.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			mu.Lock()
			for _, c := range conns {
				c.Close()
			}
			mu.Unlock()
			<-done
		}
		mu.Lock()
		printed := strings.Join(lines, "\n")
		mu.Unlock()
		result := "ok"
		for _, l := range lines {
			if strings.HasPrefix(l, "error") || strings.Contains(l, "handshake error") {
				result = l
				break
			}
		}
		r.addProg(Program{Role: "server", Cmd: display, Printed: printed, Result: result})
	})
	return nil
}

// goTLSServer serves TLS with crypto/tls: handshake, read a request, answer.
func (r *Run) goTLSServer(display string, cfg *tls.Config) error {
	return r.goListen(display, func(c *net.TCPConn, logf func(string, ...any)) {
		defer c.Close()
		tc := tls.Server(c, cfg)
		tc.SetDeadline(time.Now().Add(8 * time.Second))
		if err := tc.Handshake(); err != nil {
			logf("handshake error: %v", err)
			return
		}
		st := tc.ConnectionState()
		logf("handshake ok: %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
		buf := make([]byte, 4096)
		n, _ := tc.Read(buf)
		if n > 0 {
			tc.Write([]byte("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n"))
		}
		tc.Close()
	})
}

// readRecord reads one TLS record (the ClientHello) from c.
func readRecord(c net.Conn, d time.Duration) ([]byte, error) {
	c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint16(hdr[3:5]))
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	return append(hdr, body...), nil
}

// describeClientHello gives a one-line summary of a ClientHello record for logs.
func describeClientHello(rec []byte) string {
	if len(rec) < 6 || rec[0] != 0x16 || rec[5] != 1 {
		return fmt.Sprintf("%d bytes, not a ClientHello", len(rec))
	}
	return fmt.Sprintf("ClientHello record, %d bytes", len(rec))
}
