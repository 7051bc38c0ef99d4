package main

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// ---- misbehaving raw servers ----

// rawAfterHello reads the ClientHello, then calls then(c).
func (r *Run) rawAfterHello(display string, then func(c *net.TCPConn, logf func(string, ...any))) error {
	return r.goListen(display, func(c *net.TCPConn, logf func(string, ...any)) {
		rec, err := readRecord(c, 5*time.Second)
		if err != nil {
			logf("error reading ClientHello: %v", err)
			c.Close()
			return
		}
		logf("read %s", describeClientHello(rec))
		then(c, logf)
	})
}

// upstreamFlight runs a Go crypto/tls server on a second port (not captured),
// hands it the ClientHello and returns the server's first flight as bytes.
func (r *Run) upstreamFlight(hello []byte, cfg *tls.Config) ([]byte, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tc := tls.Server(c, cfg)
		tc.SetDeadline(time.Now().Add(3 * time.Second))
		tc.Handshake()
	}()
	up, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	defer up.Close()
	up.Write(hello)
	var flight []byte
	buf := make([]byte, 65536)
	up.SetReadDeadline(time.Now().Add(700 * time.Millisecond))
	for {
		n, err := up.Read(buf)
		flight = append(flight, buf[:n]...)
		if err != nil {
			break
		}
	}
	if len(flight) == 0 {
		return nil, errors.New("upstream sent nothing")
	}
	return flight, nil
}

// splitRecords splits a byte stream into whole TLS records.
func splitRecords(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 5 {
		n := 5 + int(binary.BigEndian.Uint16(b[3:5]))
		if n > len(b) {
			break
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// ---- Go clients ----

// goClient runs a crypto/tls client, sends a GET and reads the answer.
func (r *Run) goClient(display string, cfg *tls.Config) error {
	d := net.Dialer{Timeout: 3 * time.Second}
	var lines []string
	result := "ok"
	c, err := tls.DialWithDialer(&d, "tcp4", fmt.Sprintf("127.0.0.1:%d", r.Port), cfg)
	if err != nil {
		result = "error: " + err.Error()
		lines = append(lines, result)
	} else {
		st := c.ConnectionState()
		lines = append(lines, fmt.Sprintf("handshake ok: %s %s, peer %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.PeerCertificates[0].Subject.CommonName))
		c.SetDeadline(time.Now().Add(3 * time.Second))
		c.Write([]byte("GET / HTTP/1.0\r\nHost: device.test\r\n\r\n"))
		b, _ := io.ReadAll(c)
		first, _, _ := strings.Cut(string(b), "\r\n")
		lines = append(lines, fmt.Sprintf("read %d bytes: %q", len(b), first))
		c.Close()
	}
	r.addProg(Program{Role: "client", Cmd: display, Printed: strings.Join(lines, "\n"), Result: result})
	return nil
}

// zeroWindowClient connects with the smallest receive buffer, starts a TLS
// handshake, and never reads, so the kernel advertises a zero window while the
// server's flight is queued. After hold it closes (unread data → RST).
func (r *Run) zeroWindowClient(hold time.Duration) error {
	d := net.Dialer{Timeout: 3 * time.Second, Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1)
		})
		return serr
	}}
	raw, err := d.Dial("tcp4", fmt.Sprintf("127.0.0.1:%d", r.Port))
	if err != nil {
		return err
	}
	stalled := &stallConn{Conn: raw, hold: hold}
	tc := tls.Client(stalled, &tls.Config{ServerName: "device.test", RootCAs: rootPool(r), MaxVersion: tls.VersionTLS12})
	herr := tc.Handshake()
	raw.Close()
	r.addProg(Program{Role: "client",
		Cmd:     fmt.Sprintf("go crypto/tls client, SO_RCVBUF minimum, does not read for %s, then closes (testdata/gen/scenarios zeroWindowClient)", hold),
		Printed: fmt.Sprintf("handshake: %v", herr), Result: "closed by the client after " + hold.String() + " without reading"})
	return nil
}

// stallConn blocks the first Read for hold, then fails it.
type stallConn struct {
	net.Conn
	hold time.Duration
}

func (s *stallConn) Read(p []byte) (int, error) {
	time.Sleep(s.hold)
	return 0, errors.New("client stopped reading")
}

// rawConnectClose connects and closes without sending anything.
func (r *Run) rawConnectClose(wait time.Duration) error {
	c, err := net.DialTimeout("tcp4", fmt.Sprintf("127.0.0.1:%d", r.Port), 3*time.Second)
	if err != nil {
		return err
	}
	time.Sleep(wait)
	c.Close()
	r.addProg(Program{Role: "client", Cmd: fmt.Sprintf("go net.Dial, then close after %s without sending (testdata/gen/scenarios rawConnectClose)", wait),
		Printed: "connected; closed without a ClientHello", Result: "closed"})
	return nil
}

// ---- DNS ----

// dnsAddr is where the scenario's resolver listens: the real DNS port on a
// loopback address of its own, so tlspcap sees DNS as on a real network.
func (r *Run) dnsAddr() string { return fmt.Sprintf("127.53.%d.%d:53", r.Port/250%250, r.Port%250+1) }

// dnsServer answers A queries on UDP port 53 of dnsAddr with rcode (0 NOERROR with
// no answer, 2 SERVFAIL, 3 NXDOMAIN), or not at all when rcode < 0.
func (r *Run) dnsServer(rcode int) error {
	name := map[int]string{-1: "no answer", 0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN"}[rcode]
	display := fmt.Sprintf("go DNS server on %s answering %s (testdata/gen/scenarios dnsServer)", r.dnsAddr(), name)
	return r.serveDNS(r.dnsAddr(), display, func(q []byte, from net.Addr) ([]byte, string) {
		if rcode < 0 {
			return nil, fmt.Sprintf("query %d bytes from %s: not answered", len(q), from)
		}
		resp := append([]byte(nil), q...)
		resp[2] = 0x80 | (q[2] & 0x79) // QR, opcode, RD
		resp[3] = 0x80 | byte(rcode)   // RA, rcode
		resp[6], resp[7], resp[8], resp[9], resp[10], resp[11] = 0, 0, 0, 0, 0, 0
		return resp, fmt.Sprintf("query %d bytes from %s: answered rcode %d", len(q), from, rcode)
	})
}

// dnsQuery builds a query for name, type A, recursion desired.
func dnsQuery(id uint16, name string) []byte {
	q := []byte{byte(id >> 8), byte(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		q = append(q, byte(len(l)))
		q = append(q, l...)
	}
	return append(q, 0, 0, 1, 0, 1)
}

// lwipResolve resolves name the way lwIP's dns.c does: one A query, retried
// at t = 1, 2 and 4 s when unanswered, giving up at about 7 s.
func (r *Run) lwipResolve(name string) error {
	c, err := net.Dial("udp4", r.dnsAddr())
	if err != nil {
		return err
	}
	defer c.Close()
	var lines []string
	result := ""
	start := time.Now()
	schedule := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 7 * time.Second}
	buf := make([]byte, 1500)
	q := dnsQuery(0x1a2b, name)
	for i := 0; i < len(schedule)-1 && result == ""; i++ {
		c.Write(q)
		lines = append(lines, fmt.Sprintf("t=%.1fs query %s A", time.Since(start).Seconds(), name))
		c.SetReadDeadline(start.Add(schedule[i+1]))
		for {
			n, err := c.Read(buf)
			if err != nil {
				break
			}
			if n >= 12 && buf[0] == q[0] && buf[1] == q[1] {
				rc := int(buf[3] & 0x0f)
				rname := map[int]string{0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN"}[rc]
				lines = append(lines, fmt.Sprintf("t=%.1fs answer rcode %d %s, %d answers", time.Since(start).Seconds(), rc, rname, binary.BigEndian.Uint16(buf[6:8])))
				result = rname
				break
			}
		}
	}
	if result == "" {
		result = "no answer"
		lines = append(lines, fmt.Sprintf("t=%.1fs giving up (no answer)", time.Since(start).Seconds()))
	}
	r.addProg(Program{Role: "client", Cmd: "go resolver imitating lwIP dns.c: A query, retries at 1, 2, 4 s (testdata/gen/scenarios lwipResolve) " + name,
		Printed: strings.Join(lines, "\n"), Result: result + " (an ESP would log: getaddrinfo() returns 202)"})
	return nil
}

// ---- network for no-SYN-ACK ----

// vethBlackhole makes a veth pair whose far end answers nothing: packets to
// 10.231.0.2 leave tlsgenA (captured there) and are dropped by tlsgenB.
func vethBlackhole(r *Run) (func(), error) {
	cmds := [][]string{
		{"ip", "link", "add", "tlsgenA", "type", "veth", "peer", "name", "tlsgenB"},
		{"ip", "addr", "add", "10.231.0.1/24", "dev", "tlsgenA"},
		{"ip", "link", "set", "tlsgenA", "up"},
		{"ip", "link", "set", "tlsgenB", "up"},
		{"ip", "neigh", "replace", "10.231.0.2", "lladdr", "02:00:5e:10:00:02", "dev", "tlsgenA", "nud", "permanent"},
	}
	exec.Command("ip", "link", "del", "tlsgenA").Run()
	cleanup := func() { exec.Command("ip", "link", "del", "tlsgenA").Run() }
	for _, c := range cmds {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return cleanup, fmt.Errorf("%v: %v: %s", c, err, out)
		}
	}
	return cleanup, nil
}

// mbedClientLimited runs ssl_client2 against addr with a short time limit
// (for connects that never complete).
func (r *Run) mbedClientLimited(build, addr string, limit time.Duration, extra ...string) error {
	args := append([]string{"server_addr=" + addr, fmt.Sprintf("server_port=%d", r.Port), "server_name=device.test",
		"ca_file=" + r.cert("root.crt"), "auth_mode=required", "debug_level=1", "read_timeout=3000"}, extra...)
	out, err := r.runFg(limit, nil, mbedBin(build, "ssl_client2"), args...)
	if err != nil {
		return err
	}
	printed, result := summarizeMbed(out)
	r.addProg(Program{Role: "client", Cmd: r.display("ssl_client2", args) + " (" + mbedLabel(build) + "), stopped with SIGINT after " + limit.String(), Printed: printed, Result: result})
	return nil
}
