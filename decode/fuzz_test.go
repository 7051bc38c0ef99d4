package decode

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"tlspcap/capture"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the seed corpora under testdata/fuzz from real handshakes")

// chunkPlan turns fuzz bytes into an interleaving of both directions: each
// byte b feeds (b>>1)+1 bytes of direction b&1; 0xFF is a 10-byte gap.
type chunkStep struct {
	dir capture.Dir
	n   int // bytes, or -1 for a gap
}

func chunkPlan(plan []byte, lens [2]int) []chunkStep {
	var steps []chunkStep
	left := lens
	for _, b := range plan {
		d := capture.Dir(b & 1)
		if b == 0xFF {
			steps = append(steps, chunkStep{d, -1})
			continue
		}
		n := min(int(b>>1)+1, left[d])
		if n > 0 {
			steps = append(steps, chunkStep{d, n})
			left[d] -= n
		}
	}
	for d := range left {
		if left[d] > 0 {
			steps = append(steps, chunkStep{capture.Dir(d), left[d]})
		}
	}
	return steps
}

// runPlan feeds both directions as planned; with bytewise each step is
// handed over one byte at a time (same frame numbers).
func runPlan(streams [2][]byte, steps []chunkStep, bytewise bool) []Event {
	c, evs := collect()
	var pos [2]int
	for i, st := range steps {
		if st.n < 0 {
			c.Gap(st.dir, 10)
			continue
		}
		data := streams[st.dir][pos[st.dir] : pos[st.dir]+st.n]
		pos[st.dir] += st.n
		if bytewise {
			for k := range data {
				c.Payload(st.dir, append([]byte(nil), data[k]), []capture.Span{{Frame: frame(i + 1), Len: 1}})
			}
		} else {
			cp := append([]byte(nil), data...)
			c.Payload(st.dir, cp, []capture.Span{{Frame: frame(i + 1), Len: len(cp)}})
			for k := range cp {
				cp[k] = 0x5A
			}
		}
	}
	c.End()
	return *evs
}

// checkEvents verifies what must hold for any input.
func checkEvents(t *testing.T, evs []Event) {
	t.Helper()
	var notTLS [2]int
	var lastOff [2]int64
	for _, ev := range evs {
		var w Where
		switch e := ev.(type) {
		case *Record:
			w = e.Where
			if e.Received > e.Length || e.Received < 0 || (!e.Truncated && e.Received != e.Length) {
				t.Fatalf("bad record %s", describe(e))
			}
			if e.Offset < lastOff[e.Dir] {
				t.Fatalf("records out of order: %s", describe(e))
			}
			lastOff[e.Dir] = e.Offset
		case *Handshake:
			w = e.Where
			if (e.Body != nil) == (e.ParseErr != nil) && !(e.Body == nil && e.ParseErr == nil) {
				t.Fatalf("body and error: %s", describe(e))
			}
			if e.Truncated && e.Body != nil {
				t.Fatalf("truncated with body: %s", describe(e))
			}
		case *NotTLS:
			w = e.Where
			notTLS[e.Dir]++
			if len(e.Prefix) > sniffLen || notTLS[e.Dir] > 1 {
				t.Fatalf("bad NotTLS %s", describe(e))
			}
		case *Alert:
			w = e.Where
		case *ChangeCipherSpec:
			w = e.Where
		case *DecodeError:
			w = e.Where
		}
		for i := 1; i < len(w.Frames); i++ {
			if w.Frames[i] <= w.Frames[i-1] {
				t.Fatalf("frames not ascending: %s", describe(ev))
			}
		}
	}
}

func FuzzRecordReader(f *testing.F) {
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0}, []byte{21, 3, 3, 0, 2, 2, 40}, []byte{0, 1, 2, 3})
	f.Fuzz(func(t *testing.T, client, server, plan []byte) {
		streams := [2][]byte{client, server}
		steps := chunkPlan(plan, [2]int{len(client), len(server)})
		a := runPlan(streams, steps, false)
		checkEvents(t, a)
		b := runPlan(streams, steps, true)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("chunking changed the events\nwhole:\n%s\nbytewise:\n%s", describeAll(a), describeAll(b))
		}
	})
}

func FuzzClientHello(f *testing.F) {
	f.Add([]byte{3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		ch, err := ParseClientHello(data)
		if (ch == nil) == (err == nil) {
			t.Fatal("result and error disagree")
		}
		if ch != nil && len(ch.Random) != 32 {
			t.Fatal("random not 32 bytes")
		}
		// Through the record reader too.
		c, _ := collect()
		msg := hsMessage(TypeClientHello, data)
		for len(msg) > 0 {
			n := min(len(msg), 1<<14)
			rec := record(22, msg[:n])
			c.Payload(capture.FromClient, rec, []capture.Span{{Frame: frame(1), Len: len(rec)}})
			msg = msg[n:]
		}
		c.End()
	})
}

func FuzzServerHello(f *testing.F) {
	f.Add([]byte{3, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		sh, err := ParseServerHello(data)
		if (sh == nil) == (err == nil) {
			t.Fatal("result and error disagree")
		}
		if sh != nil && sh.HelloRetryRequest != bytes.Equal(sh.Random, helloRetryRequestRandom) {
			t.Fatal("HRR flag wrong")
		}
	})
}

func FuzzCertificate(f *testing.F) {
	f.Add([]byte{0, 0, 0}, false)
	f.Fuzz(func(t *testing.T, data []byte, tls13 bool) {
		m, err := ParseCertificate(data, tls13)
		if (m == nil) == (err == nil) {
			t.Fatal("result and error disagree")
		}
		if m != nil {
			for _, e := range m.Entries {
				if (e.Cert == nil) == (e.ParseErr == nil) {
					t.Fatal("entry cert and error disagree")
				}
			}
		}
	})
}

func FuzzCertificateRequest(f *testing.F) {
	f.Add([]byte{1, 1, 0, 0, 0, 0}, uint16(VersionTLS12))
	f.Fuzz(func(t *testing.T, data []byte, version uint16) {
		m, err := ParseCertificateRequest(data, version)
		if (m == nil) == (err == nil) {
			t.Fatal("result and error disagree")
		}
	})
}

func FuzzServerKeyExchange(f *testing.F) {
	f.Add([]byte{3, 0, 29, 1, 0}, uint16(0xC02F))
	f.Fuzz(func(t *testing.T, data []byte, suite uint16) {
		m, err := ParseServerKeyExchange(data, suite)
		if (m == nil) == (err == nil) {
			t.Fatal("result and error disagree")
		}
	})
}

func FuzzSSLv2Hello(f *testing.F) {
	f.Add(sslv2Hello())
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 2 {
			ch, err := ParseSSLv2ClientHello(data[2:])
			if (ch == nil) == (err == nil) {
				t.Fatal("result and error disagree")
			}
		}
		a := runPlan([2][]byte{data, nil}, chunkPlan(nil, [2]int{len(data), 0}), false)
		checkEvents(t, a)
		b := runPlan([2][]byte{data, nil}, chunkPlan(nil, [2]int{len(data), 0}), true)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("chunking changed the events\n%s\n%s", describeAll(a), describeAll(b))
		}
	})
}

func FuzzNotTLS(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := detectProtocol(data)
		if p == "" {
			t.Fatal("empty protocol name")
		}
		evs := runPlan([2][]byte{nil, data}, chunkPlan(nil, [2]int{0, len(data)}), false)
		checkEvents(t, evs)
		if classifyStart(data) == startNotTLS {
			if len(evs) != 1 {
				t.Fatalf("want one NotTLS, got\n%s", describeAll(evs))
			}
			n, ok := evs[0].(*NotTLS)
			if !ok || !bytes.HasPrefix(data, n.Prefix) || len(n.Prefix) != min(len(data), sniffLen) {
				t.Fatalf("bad NotTLS %s", describe(evs[0]))
			}
		}
	})
}

// corpusEntry renders values in the go test fuzz v1 format.
func corpusEntry(vals ...any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, v := range vals {
		switch x := v.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", x)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", x)
		case uint16:
			fmt.Fprintf(&b, "uint16(%d)\n", x)
		default:
			panic(fmt.Sprintf("corpus type %T", v))
		}
	}
	return []byte(b.String())
}

func writeCorpus(t *testing.T, name string, entries [][]byte) {
	dir := filepath.Join("testdata", "fuzz", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
	for _, o := range old {
		os.Remove(o)
	}
	for _, e := range entries {
		sum := sha256.Sum256(e)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%x", sum[:8])), e, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWriteCorpus rebuilds the committed seed corpora from the real
// handshakes: go test ./decode -run TestWriteCorpus -update-corpus
func TestWriteCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite testdata/fuzz")
	}
	tr := realTraces(t)
	seeds := map[string][][]byte{}
	add := func(name string, vals ...any) { seeds[name] = append(seeds[name], corpusEntry(vals...)) }
	for _, tc := range tlsCases {
		var streams [2][]byte
		for _, s := range tr[tc.name] {
			streams[s.dir] = append(streams[s.dir], s.data...)
		}
		add("FuzzRecordReader", streams[0], streams[1], []byte{})
		add("FuzzRecordReader", streams[0], streams[1], []byte{0x20, 0x41, 0x07, 0xFE, 0x13, 0x80, 0x02, 0xFF, 0x31})
		for dir := capture.FromClient; dir <= capture.FromServer; dir++ {
			for _, m := range firstMessages(t, tc.name, dir) {
				body := m[4:]
				switch m[0] {
				case TypeClientHello:
					add("FuzzClientHello", body)
				case TypeServerHello:
					add("FuzzServerHello", body)
				case TypeCertificate:
					add("FuzzCertificate", body, false)
					// The same certificates in the TLS 1.3 layout.
					list := body[3:]
					var l13 []byte
					for len(list) >= 3 {
						n := int(list[0])<<16 | int(list[1])<<8 | int(list[2])
						l13 = append(l13, list[:3+n]...)
						l13 = append(l13, 0, 0)
						list = list[3+n:]
					}
					add("FuzzCertificate", append([]byte{0, byte(len(l13) >> 16), byte(len(l13) >> 8), byte(len(l13))}, l13...), true)
				case TypeCertificateRequest:
					add("FuzzCertificateRequest", body, VersionTLS12)
					add("FuzzCertificateRequest", body, VersionTLS11)
				case TypeServerKeyExchange:
					add("FuzzServerKeyExchange", body, uint16(0xC02F))
					add("FuzzServerKeyExchange", body, uint16(0))
				}
			}
		}
	}
	add("FuzzCertificateRequest", []byte{0, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3}, VersionTLS13)
	add("FuzzServerKeyExchange", []byte{0, 3, 0xC3, 0x51, 0x07, 0, 1, 2, 0, 1, 5}, uint16(0x009E))
	add("FuzzSSLv2Hello", sslv2Hello())
	add("FuzzRecordReader", sslv2Hello(), []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), []byte{})
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\n", "SSH-2.0-OpenSSH_9.6\r\n",
		"220 mail ESMTP\r\n", "+OK ready\r\n", "* OK ready\r\n", "\x20\x02\x00\x00",
		"\x10\x12\x00\x04MQTT\x04\x02\x00\x3c\x00\x06esp32a", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	} {
		add("FuzzNotTLS", []byte(s))
	}
	for name, entries := range seeds {
		writeCorpus(t, name, entries)
	}
}

// FuzzKeyLog parses NSS key log text: lines taken never exceed the lines
// given, and adding the same text twice changes nothing.
func FuzzKeyLog(f *testing.F) {
	f.Add([]byte("# comment\nCLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("cd", 48) + "\n"))
	f.Add([]byte("CLIENT_HANDSHAKE_TRAFFIC_SECRET " + strings.Repeat("01", 32) + " " + strings.Repeat("ef", 32)))
	f.Fuzz(func(t *testing.T, data []byte) {
		k := NewKeyLog()
		n := k.Add(data)
		if lines := bytes.Count(data, []byte{'\n'}) + 1; n > lines {
			t.Fatalf("%d lines taken of %d", n, lines)
		}
		sessions := k.Len()
		if n == 0 && sessions != 0 || n > 0 && sessions == 0 || sessions > n {
			t.Fatalf("%d lines taken, %d sessions", n, sessions)
		}
		if again := k.Add(data); again != n || k.Len() != sessions {
			t.Fatalf("second Add took %d lines (first %d), %d sessions (first %d)", again, n, k.Len(), sessions)
		}
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			f := bytes.Fields(line)
			if len(f) == 3 && len(f[1]) == 64 {
				var cr [32]byte
				if _, err := fmt.Sscanf(string(f[1]), "%x", &cr); err == nil {
					k.Lookup(cr[:]) // any answer, no panic
				}
			}
		}
	})
}

// FuzzCertCache parses DER through the certificate cache: the entry keeps
// its own copy of the bytes, a second parse of the same DER gives the same
// entry, and a certificate and its error never come together.
func FuzzCertCache(f *testing.F) {
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, der []byte) {
		in := bytes.Clone(der)
		e := parseCertEntry(in)
		if (e.Cert == nil) == (e.ParseErr == nil) {
			t.Fatalf("certificate %v and error %v", e.Cert != nil, e.ParseErr)
		}
		if !bytes.Equal(e.Raw, der) {
			t.Fatal("Raw is not the DER given")
		}
		for i := range in {
			in[i] ^= 0xff // the caller's buffer is reused
		}
		again := parseCertEntry(der)
		if !bytes.Equal(again.Raw, der) || again.Cert != e.Cert {
			t.Fatal("the cached entry changed with the caller's buffer")
		}
	})
}

// TestWriteRobustCorpus writes the seeds of FuzzKeyLog (the key logs
// embedded in the committed TLS 1.3 captures) and FuzzCertCache (the
// certificates of the real handshakes):
// go test ./decode -run TestWriteRobustCorpus -update-corpus
func TestWriteRobustCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite testdata/fuzz")
	}
	var keylogs [][]byte
	for _, name := range []string{"chain-incomplete-tls13", "hostname-mismatch-tls13"} {
		h := &secretsOnly{}
		if _, err := capture.ReadFile(filepath.Join("..", "testdata", "pcaps", name+".pcapng"), h, capture.Options{}); err != nil {
			t.Fatal(err)
		}
		for _, s := range h.secrets {
			keylogs = append(keylogs, corpusEntry(s))
		}
	}
	writeCorpus(t, "FuzzKeyLog", keylogs)
	var certs [][]byte
	seen := map[string]bool{}
	for _, tc := range tlsCases {
		for _, m := range firstMessages(t, tc.name, capture.FromServer) {
			if m[0] != TypeCertificate || seen[string(m[4:])] {
				continue
			}
			seen[string(m[4:])] = true
			c, err := ParseCertificate(m[4:], false)
			if err != nil {
				continue
			}
			for _, e := range c.Entries {
				certs = append(certs, corpusEntry(e.Raw))
			}
		}
	}
	writeCorpus(t, "FuzzCertCache", certs)
}

type secretsOnly struct{ secrets [][]byte }

func (*secretsOnly) Conn(*capture.Conn) capture.ConnHandler { return nil }
func (*secretsOnly) DNS(*capture.DNSMessage)                {}
func (*secretsOnly) Problem(capture.Problem)                {}
func (s *secretsOnly) Secrets(_ uint32, data []byte) {
	s.secrets = append(s.secrets, bytes.Clone(data))
}
