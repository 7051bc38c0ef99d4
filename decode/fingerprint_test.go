package decode

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"tlspcap/capture"
	"tlspcap/internal/corpus"
)

// helloSeen is one ClientHello or ServerHello a capture holds.
type helloSeen struct {
	stream int
	frames []int // frames of the message
	// recordEnd is the last frame of the record that completes the
	// message: the frame Wireshark shows the message in.
	recordEnd int
	ch        *ClientHello
	sh        *ServerHello
}

// helloCollector is a capture.Handler that runs every TCP connection through
// a decode.Conn and keeps the parsed hellos, in stream order.
type helloCollector struct {
	hellos []helloSeen
	// notTLS and rejected: streams where decode reported bytes that are not
	// TLS, or a handshake message it could not parse.
	notTLS, rejected map[int]bool
}

type helloConn struct {
	c      *helloCollector
	stream int
	dec    *Conn
}

func (h *helloCollector) Conn(c *capture.Conn) capture.ConnHandler {
	hc := &helloConn{c: h, stream: c.Stream}
	var lastRecord [2]int
	hc.dec = NewConn(func(ev Event) {
		if r, ok := ev.(*Record); ok && len(r.Frames) > 0 {
			lastRecord[r.Dir] = r.Frames[len(r.Frames)-1]
		}
		switch ev.(type) {
		case *NotTLS:
			h.mark(&h.notTLS, hc.stream)
		case *DecodeError:
			h.mark(&h.rejected, hc.stream)
		}
		hs, ok := ev.(*Handshake)
		if !ok || hs.Body == nil {
			return
		}
		seen := helloSeen{stream: hc.stream, frames: slices.Clone(hs.Frames), recordEnd: lastRecord[hs.Dir]}
		switch b := hs.Body.(type) {
		case *ClientHello:
			seen.ch = b
		case *ServerHello:
			seen.sh = b
		default:
			return
		}
		h.hellos = append(h.hellos, seen)
	})
	return hc
}

func (h *helloCollector) mark(m *map[int]bool, stream int) {
	if *m == nil {
		*m = map[int]bool{}
	}
	(*m)[stream] = true
}

func (h *helloCollector) DNS(*capture.DNSMessage) {}
func (h *helloCollector) Problem(capture.Problem) {}

func (hc *helloConn) TCP(ev capture.TCPEvent) {
	if ev.Kind == capture.Gap {
		hc.dec.Gap(ev.Dir, ev.Missing)
	}
}
func (hc *helloConn) Payload(p capture.Payload) { hc.dec.Payload(p.Dir, p.Data, p.Spans) }
func (hc *helloConn) End(capture.EndReason)     { hc.dec.End() }

// readHellos reads a capture with the project's own pipeline.
func readHellos(t *testing.T, path string) []helloSeen { return readCapture(t, path).hellos }

func readCapture(t *testing.T, path string) *helloCollector {
	t.Helper()
	h := &helloCollector{}
	if _, err := capture.ReadFile(path, h, capture.Options{}); err != nil {
		t.Logf("%s: %v", path, err)
	}
	sort.SliceStable(h.hellos, func(i, j int) bool { return h.hellos[i].stream < h.hellos[j].stream })
	return h
}

// sharedDir locates the public capture corpus: $TLSPCAP_SHARED (the shared
// dir or its pcaps subdir), else ../../shared/pcaps.
func sharedDir(t *testing.T) string {
	return corpus.Pcaps(t, "fingerprint checks on public captures")
}

// ja4Difference names an expected value this package deliberately does not
// reproduce, with the reason.
type ja4Difference struct {
	capture, key string // key: "stream 3 JA4.1", "frame 65 ja4s"
	reason       string
}

var ja4Differences = []ja4Difference{
	{"tls-non-ascii-alpn.pcapng", "stream 0 JA4.1", nonASCIIALPN},
	{"tls-non-ascii-alpn.pcapng", "stream 0 JA4_r.1", nonASCIIALPN},
	{"tls-non-ascii-alpn.pcapng", "stream 0 JA4_o.1", nonASCIIALPN},
	{"tls-non-ascii-alpn.pcapng", "stream 0 JA4_ro.1", nonASCIIALPN},
	{"socks-https-example.pcap", "*", tunnelled},
	{"https-connect.pcap", "*", tunnelled},
}

const (
	// The first ALPN value starts with 0xb. and ends with 0x.d: the
	// FoxIO JA4 specification (technical_details/JA4.md, "ALPN Extension
	// Value") prints the first and last hex digits, "bd"; the shipped
	// Python and Rust outputs predate that rule and print "99".
	nonASCIIALPN = "non-alphanumeric ALPN: spec's hex rule gives bd, shipped outputs use the older 99"
	// TLS starts after a SOCKS5 or HTTP CONNECT exchange in the same TCP
	// stream: decode sniffs the first bytes of a direction and reports the
	// stream as not TLS, so no hello is decoded.
	tunnelled = "TLS inside a SOCKS/HTTP CONNECT tunnel: decode sees a non-TLS stream"
)

// ja4Check compares one expected value with ours.
type ja4Check struct {
	t                          *testing.T
	capture                    string
	compared, equal, differing int
	used                       map[string]bool
}

func (c *ja4Check) check(key, want, got string) {
	c.t.Helper()
	c.compared++
	if want == got {
		c.equal++
		return
	}
	for _, d := range ja4Differences {
		if d.capture == c.capture && (d.key == key || d.key == "*") {
			c.used[c.capture+"|"+d.key] = true
			c.differing++
			c.t.Logf("%s %s: known difference (%s): expected %s, ours %s", c.capture, key, d.reason, want, got)
			return
		}
	}
	c.t.Errorf("%s %s: expected %s, ours %s", c.capture, key, want, got)
}

// TestJA4PublicExpected checks JA4, JA4_r, JA4_o, JA4_ro, JA4S and JA4S_r
// against the expected outputs that ship with FoxIO's JA4 test captures:
// the Python implementation's (per tcp.stream) and the Wireshark plugin's
// (per frame). QUIC hellos (transport 'q') are not compared: capture hands
// over TCP only.
func TestJA4PublicExpected(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "ja4")
	caps, _ := filepath.Glob(filepath.Join(dir, "*"))
	used := map[string]bool{}
	var nCaps, nHellos, compared, equal, differing, quic int
	for _, path := range caps {
		if strings.Contains(filepath.Base(path), ".ja4-") {
			continue
		}
		name := filepath.Base(path)
		nCaps++
		hellos := readHellos(t, path)
		nHellos += len(hellos)
		c := &ja4Check{t: t, capture: name, used: used}

		// Ours, by stream (client hellos in order, first server hello) and
		// by frame (the frame that completes a server hello).
		type streamFP struct {
			ch []*ClientHello
			sh *ServerHello
		}
		byStream := map[int]*streamFP{}
		shByFrame := map[int]*ServerHello{}
		for _, h := range hellos {
			s := byStream[h.stream]
			if s == nil {
				s = &streamFP{}
				byStream[h.stream] = s
			}
			if h.ch != nil {
				s.ch = append(s.ch, h.ch)
			} else {
				if s.sh == nil {
					s.sh = h.sh
				}
				shByFrame[h.recordEnd] = h.sh
			}
		}

		var py []map[string]any
		readJSON(t, path+".ja4-python-expected.json", &py)
		for _, e := range py {
			stream := int(e["stream"].(float64))
			s := byStream[stream]
			if s == nil {
				s = &streamFP{}
			}
			for k, v := range e {
				want, ok := v.(string)
				if !ok || !strings.HasPrefix(k, "JA4") {
					continue
				}
				if strings.HasPrefix(want, "q") {
					quic++
					continue
				}
				key := "stream " + strconv.Itoa(stream) + " " + k
				base, nth, _ := strings.Cut(k, ".")
				var got string
				switch base {
				case "JA4", "JA4_r", "JA4_o", "JA4_ro":
					n, _ := strconv.Atoi(nth)
					if n < 1 || n > len(s.ch) {
						c.check(key, want, "(no ClientHello)")
						continue
					}
					ch := s.ch[n-1]
					got = map[string]func(*ClientHello, byte) string{
						"JA4": JA4, "JA4_r": JA4R, "JA4_o": JA4O, "JA4_ro": JA4RO,
					}[base](ch, 't')
				case "JA4S", "JA4S_r":
					if s.sh == nil {
						c.check(key, want, "(no ServerHello)")
						continue
					}
					if base == "JA4S" {
						got = JA4S(s.sh, 't')
					} else {
						got = JA4SR(s.sh, 't')
					}
				default:
					continue // JA4H, JA4L, JA4X, JA4SSH: not TLS hello fingerprints
				}
				c.check(key, want, got)
			}
		}

		var ws []struct {
			Source struct {
				Layers map[string][]string `json:"layers"`
			} `json:"_source"`
		}
		readJSON(t, path+".ja4-wireshark-expected.json", &ws)
		for _, e := range ws {
			l := e.Source.Layers
			frame, _ := strconv.Atoi(first(l["frame.number"]))
			for _, k := range []string{"ja4.ja4s", "ja4.ja4s_r"} {
				want := first(l[k])
				if want == "" {
					continue
				}
				if strings.HasPrefix(want, "q") {
					quic++
					continue
				}
				key := "frame " + strconv.Itoa(frame) + " " + k
				sh := shByFrame[frame]
				if sh == nil {
					c.check(key, want, "(no ServerHello ends in this frame)")
					continue
				}
				got := JA4S(sh, 't')
				if k == "ja4.ja4s_r" {
					got = JA4SR(sh, 't')
				}
				c.check(key, want, got)
			}
		}
		compared += c.compared
		equal += c.equal
		differing += c.differing
	}
	for _, d := range ja4Differences {
		if !used[d.capture+"|"+d.key] {
			t.Errorf("known difference %s %s no longer differs: remove it", d.capture, d.key)
		}
	}
	t.Logf("JA4 public expected: %d captures, %d hellos decoded, %d expected values compared: %d equal, %d known differences; %d QUIC values not compared",
		nCaps, nHellos, compared, equal, differing, quic)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("expected output missing: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// A hello that only one side has is a difference; each must have a reason.
// Most fall in one of these classes, each checked on the evidence of that
// hello, not assumed.
const (
	// tshark only, and decode reported non-TLS bytes on the stream.
	reasonNotTLS = "TLS after another protocol or inside a tunnel in the same stream (STARTTLS, a database's SSL request, HTTP CONNECT, SOCKS, OpenVPN, proxies): decode sniffs the first bytes and sees a non-TLS stream"
	// tshark only, and decode rejected a handshake message of the stream.
	reasonRejected = "decode rejects the message as malformed (fuzzed or synthetic); tshark fingerprints what it could read"
	// decode only, and tshark's record view (testdata/tshark/shared) has
	// no TLS record in that frame.
	reasonNoRecord = "tshark shows no TLS record in this frame: it does not dissect these bytes as TLS (a port it does not associate with TLS where the heuristic did not fire, or a segment tshark 4.0 leaves out of reassembly)"
	// decode only, and tshark shows an SSLv2 record there.
	reasonSSLv2 = "SSLv2-compatible ClientHello: tshark dissects it as SSLv2 and computes no JA3; decode reads it as a ClientHello"
)

// ja3Difference names a difference no class covers, by capture and tcp.stream.
type ja3Difference struct {
	capture string
	stream  int
	reason  string
}

var ja3Differences = []ja3Difference{
	{"ja4/socks-https-example.pcap", 4, tunnelled},
	{"suricata-verify/tls/tls13-draft14/tls13_draft14.pcap", 0, "TLS 1.3 draft-14 ServerHello (laid out before RFC 8446; its version field reads 0x0304): decode does not parse it, tshark fingerprints what it reads"},
	{"arkime/arkime_synthetic.pcap", 90, "synthetic ServerHello whose extension block is malformed: tshark fingerprints what it could read, decode rejects it"},
	{"arkime/arkime_synthetic.pcap", 97, "synthetic ServerHello with extensions 0..255, all empty: decode rejects the empty max_fragment_length (RFC 6066: one byte)"},
	{"mercury/afl_data/corner-cases.pcap", 2, fuzzed40},
	{"mercury/afl_data/encrypted_handshake_cert_false_positive.pcap", 0, fuzzed40},
	{"nDPI/capwap_data.pcapng", 0, "TCP inside a CAPWAP data tunnel (UDP): capture does not open CAPWAP and sees no TCP connection, tshark does"},
	{"nDPI/tls_cipher_lens.pcap", 4, "ClientHello with an empty cipher suite list (tshark's JA3 \"769,,\"): decode does not accept it as a ClientHello"},
	{"mercury/capture2.pcap", 100, twoCopies},
	{"mercury/capture2.pcap", 102, twoCopies},
	{"mercury/capture2.pcap", 103, twoCopies},
	{"mercury/dns_packet.capture2.pcap", 100, twoCopies},
	{"mercury/dns_packet.capture2.pcap", 102, twoCopies},
	{"mercury/dns_packet.capture2.pcap", 103, twoCopies},
}

const (
	fuzzed40  = "fuzzed 40-byte \"ServerHello\" too short for its fixed fields: tshark fingerprints what it could read, decode rejects it"
	twoCopies = "the server's first segment is in the capture twice (tshark flags the first copy a spurious retransmission): decode reads the ServerHello from the first copy, tshark shows it in the second frame"
	// reasonDraft: tshark only, and tshark's JA3S starts with a TLS 1.3
	// draft version (0x7f00-0x7fff).
	reasonDraft = "TLS 1.3 draft ServerHello (version 0x7fNN, laid out before RFC 8446): decode does not parse it, tshark does"
)

// draftVersion: a JA3S string whose version field is a TLS 1.3 draft.
func draftVersion(ja3s string) bool {
	v, _, _ := strings.Cut(ja3s, ",")
	n, err := strconv.Atoi(v)
	return err == nil && n >= 0x7f00 && n <= 0x7fff
}

// ja3Row is one line of testdata/tshark/ja3.tsv.
type ja3Row struct {
	frame, stream int
	typ           uint8 // 1 ClientHello, 2 ServerHello, 0 "no hello in this capture"
	full, hash    string
}

// readJA3TSV reads testdata/tshark/ja3.tsv (made by testdata/tshark/ja3.sh):
// the captures in file order and tshark's hellos per capture.
func readJA3TSV(t *testing.T) ([]string, map[string][]ja3Row) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "tshark", "ja3.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	rows := map[string][]ja3Row{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "capture\t") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			t.Fatalf("ja3.tsv line %d: bad line %q", i+1, line)
		}
		frame, err1 := strconv.Atoi(f[1])
		stream, err2 := strconv.Atoi(f[2])
		typ, err3 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || err3 != nil || typ > 2 {
			t.Fatalf("ja3.tsv line %d: bad line %q", i+1, line)
		}
		if _, ok := rows[f[0]]; !ok {
			order = append(order, f[0])
			rows[f[0]] = nil
		}
		if typ == 0 {
			continue
		}
		rows[f[0]] = append(rows[f[0]], ja3Row{frame, stream, uint8(typ), f[4], f[5]})
	}
	return order, rows
}

// tsharkRecordNotes reads tshark's record view of a public capture
// (testdata/tshark/shared/<capture>.tsv, made by expect.sh): the note of
// each frame that shows a TLS record ("-" for none).
func tsharkRecordNotes(capture string) map[int]string {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "tshark", "shared", capture+".tsv"))
	if err != nil {
		// No file: expect.sh found no TLS record in the capture ("no-tls"
		// in INDEX.tsv), or was not run.
		index, _ := os.ReadFile(filepath.Join("..", "testdata", "tshark", "INDEX.tsv"))
		if strings.Contains(string(index), "\nshared\t"+capture+"\t") && strings.Contains(string(index), "\t"+capture+"\t") {
			for _, line := range strings.Split(string(index), "\n") {
				if f := strings.Split(line, "\t"); len(f) >= 4 && f[0] == "shared" && f[1] == capture && f[3] == "no-tls" {
					return map[int]string{}
				}
			}
		}
		return nil
	}
	out := map[int]string{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 6 || strings.HasPrefix(line, "#") {
			continue
		}
		if n, err := strconv.Atoi(f[0]); err == nil {
			out[n] += f[5]
		}
	}
	return out
}

// TestJA3Tshark checks JA3 and JA3S against tshark's tls.handshake.ja3 /
// ja3_full and ja3s / ja3s_full on every public capture (testdata/tshark/
// ja3.tsv). Each tshark hello is matched with decode's hello of the same
// type whose record ends in the frame tshark shows it in, in order (the
// stream is not compared: tcp.stream numbering is checked in capture).
// Hellos only one side has are differences: each must fall in a class whose
// evidence it shows, or be listed in ja3Differences.
func TestJA3Tshark(t *testing.T) {
	dir := sharedDir(t)
	order, rows := readJA3TSV(t)
	listed := map[string]bool{}
	for _, c := range order {
		listed[c] = true
	}
	nManifest := 0
	for _, e := range corpus.Captures(t, dir) {
		p := e.Path
		nManifest++
		if !listed[p] {
			t.Errorf("%s is in MANIFEST.tsv but not in testdata/tshark/ja3.tsv: run testdata/tshark/ja3.sh", p)
		}
	}

	type key struct {
		frame int
		typ   uint8
	}
	used := map[string]bool{}
	listedReason := func(capture string, stream int) string {
		for _, d := range ja3Differences {
			if d.capture == capture && d.stream == stream {
				used[fmt.Sprintf("%s|%d", d.capture, d.stream)] = true
				return d.reason
			}
		}
		return ""
	}
	var nCH, nSH, equal, noJA3, ours int
	classes := map[string]int{}
	for _, name := range order {
		col := readCapture(t, filepath.Join(dir, name))
		ours += len(col.hellos)
		byKey := map[key][]helloSeen{}
		for _, h := range col.hellos {
			k := key{h.recordEnd, TypeServerHello}
			if h.ch != nil {
				k.typ = TypeClientHello
			}
			byKey[k] = append(byKey[k], h)
		}
		for _, r := range rows[name] {
			where := fmt.Sprintf("%s frame %d stream %d type %d", name, r.frame, r.stream, r.typ)
			k := key{r.frame, r.typ}
			if r.full == "-" {
				// tshark shows the hello but computes no JA3: nothing to compare.
				noJA3++
				if len(byKey[k]) > 0 {
					byKey[k] = byKey[k][1:]
				}
				continue
			}
			if r.typ == TypeClientHello {
				nCH++
			} else {
				nSH++
			}
			if len(byKey[k]) == 0 {
				why := listedReason(name, r.stream)
				switch {
				case why != "":
				case r.typ == TypeServerHello && draftVersion(r.full):
					why = reasonDraft
				case col.notTLS[r.stream]:
					why = reasonNotTLS
				case col.rejected[r.stream]:
					why = reasonRejected
				default:
					t.Errorf("%s: tshark has a hello, decode none", where)
					continue
				}
				classes["tshark only: "+why]++
				continue
			}
			h := byKey[k][0]
			byKey[k] = byKey[k][1:]
			var full, hash string
			if r.typ == TypeClientHello {
				full, hash = JA3(h.ch)
			} else {
				full, hash = JA3S(h.sh)
			}
			if full == r.full && hash == r.hash {
				equal++
			} else {
				t.Errorf("%s:\n tshark %s %s\n ours   %s %s", where, r.full, r.hash, full, hash)
			}
		}
		var notes map[int]string
		for k, left := range byKey {
			for _, h := range left {
				if notes == nil {
					notes = tsharkRecordNotes(name)
				}
				why := listedReason(name, h.stream)
				note, shown := notes[k.frame]
				switch {
				case why != "":
				case notes == nil:
					t.Errorf("%s: no tshark record view (testdata/tshark/shared/%s.tsv): run make expect", name, name)
					continue
				case !shown:
					why = reasonNoRecord
				case k.typ == TypeClientHello && strings.Contains(note, "ssl2"):
					why = reasonSSLv2
				default:
					t.Errorf("%s frame %d stream %d type %d: decode has a hello tshark shows no JA3 for", name, k.frame, h.stream, k.typ)
					continue
				}
				classes["decode only: "+why]++
			}
		}
	}
	for _, d := range ja3Differences {
		if !used[fmt.Sprintf("%s|%d", d.capture, d.stream)] {
			t.Errorf("known difference %s stream %d no longer differs: remove it", d.capture, d.stream)
		}
	}
	named := 0
	for why, n := range classes {
		named += n
		t.Logf("%d hellos: %s", n, why)
	}
	t.Logf("JA3 vs tshark: %d captures (MANIFEST %d); tshark hellos with a JA3: %d ClientHellos, %d ServerHellos; %d compared, %d equal; %d named differences (one side only); %d hellos tshark shows without a JA3; decode found %d hellos",
		len(order), nManifest, nCH, nSH, equal, equal, named, noJA3, ours)
}

// specHello is the ClientHello of the FoxIO JA4 README example
// (t13d1516h2_8daaf6152771_e5627efa2ab1), with GREASE values added: they
// must change nothing.
func specHello() *ClientHello {
	return &ClientHello{
		Version: VersionTLS12,
		CipherSuites: []uint16{0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
			0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []uint16{0x8a8a, 0xff01, 0x0033, 0x002d, 0x0005, 0x4469, 0x000d, 0x0010, 0x0023, 0x001b,
			0x002b, 0x0000, 0x0012, 0x000a, 0x0017, 0x000b, 0x0015, 0xbaba},
		ServerName:          "example.com",
		SupportedVersions:   []uint16{0x5a5a, VersionTLS13, VersionTLS12},
		SupportedGroups:     []uint16{0x3a3a, 0x001d, 0x0017, 0x0018},
		ECPointFormats:      []uint8{0},
		SignatureAlgorithms: []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		ALPN:                []string{"h2", "http/1.1"},
	}
}

func TestJA4Spec(t *testing.T) {
	ch := specHello()
	if got, want := JA4(ch, 't'), "t13d1516h2_8daaf6152771_e5627efa2ab1"; got != want {
		t.Errorf("JA4 = %s, want %s", got, want)
	}
	if got, want := JA4R(ch, 't'), "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_"+
		"0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"; got != want {
		t.Errorf("JA4_r = %s\n want %s", got, want)
	}
	// No SNI, no ALPN, TLS 1.2 only, no signature algorithms.
	ch = &ClientHello{Version: VersionTLS12, CipherSuites: []uint16{0xc02f}, Extensions: []uint16{0x000a}}
	if got, want := JA4R(ch, 't'), "t12i010100_c02f_000a"; got != want {
		t.Errorf("JA4_r = %s, want %s", got, want)
	}
	// Nothing hashed but SNI: zeros, in both renderings.
	ch = &ClientHello{Version: VersionTLS10, CipherSuites: []uint16{0x0005}, Extensions: []uint16{0x0000}}
	for _, got := range []string{JA4(ch, 't'), JA4O(ch, 't')} {
		if !strings.HasSuffix(got, "_000000000000") || !strings.HasPrefix(got, "t10d0101") {
			t.Errorf("JA4 of an SNI-only hello = %s", got)
		}
	}
}

func TestJA4ALPN(t *testing.T) {
	for _, c := range []struct {
		alpn []string
		want string
	}{
		{nil, "00"}, {[]string{""}, "00"}, {[]string{"h2"}, "h2"}, {[]string{"http/1.1"}, "h1"},
		{[]string{"h"}, "hh"}, {[]string{"\xab"}, "ab"}, {[]string{"\xab\xcd"}, "ad"}, {[]string{"0\xab"}, "3b"},
		{[]string{"01\xab\xcd"}, "3d"}, {[]string{"0\xab\xcd1"}, "01"},
	} {
		if got := string(appendJA4ALPN(nil, c.alpn)); got != c.want {
			t.Errorf("ALPN %q: %s, want %s", c.alpn, got, c.want)
		}
	}
}

func TestJA3GREASE(t *testing.T) {
	raw, hash := JA3(specHello())
	want := "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53," +
		"65281-51-45-5-17513-13-16-35-27-43-0-18-10-23-11-21,29-23-24,0"
	if raw != want {
		t.Errorf("JA3 = %s\n want %s", raw, want)
	}
	if len(hash) != 32 {
		t.Errorf("JA3 hash %q", hash)
	}
	sh := &ServerHello{Version: VersionTLS12, CipherSuite: 0xc030, Extensions: []uint16{0xff01, 0x000b}}
	if raw, _ := JA3S(sh); raw != "771,49200,65281-11" {
		t.Errorf("JA3S = %s", raw)
	}
	if got, want := JA4S(sh, 't'), "t120200_c030_"; !strings.HasPrefix(got, want) {
		t.Errorf("JA4S = %s", got)
	}
	if got := JA4SR(sh, 't'); got != "t120200_c030_ff01,000b" {
		t.Errorf("JA4S_r = %s", got)
	}
}
