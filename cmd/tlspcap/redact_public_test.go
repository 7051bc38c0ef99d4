package main

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"go/scanner"
	"go/token"
	"html"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/crypto/cryptobyte"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/diagnose/values"
	"tlspcap/internal/corpus"
	"tlspcap/reports"
)

// TestRedactPublicCaptures: on every public capture, no IP address, MAC
// address, host name (SNI, DNS query) or certificate subject/issuer
// attribute value of the capture appears in the redacted output of any
// format of analyze, records or certs. The values are read from the
// capture here, independently of tlspcap: packets with gopacket's own
// readers and layers, certificates found as DER in each direction's TCP
// bytes and parsed with crypto/x509, SNI from ClientHellos parsed here.
// Left out, as the tool's own words or too common to identify anyone:
// countries (C=), values under 3 characters, and values that occur as a
// whole word in the string literals and data files of diagnose and reports
// (a certificate's O=Internet may say "Internet", and so does the tool).
// Each capture is analysed once (with what records and certs need) and
// rendered in every format.
func TestRedactPublicCaptures(t *testing.T) {
	dir := sharedPcaps(t)
	vocab := toolWords(t)
	checked := 0
	for _, e := range corpus.Captures(t, dir) {
		path := filepath.Join(dir, e.Path)
		t.Run(e.Path, func(t *testing.T) {
			t.Parallel()
			orig := captureValues(path)
			var keep []string
			for _, v := range orig {
				if len(v) >= 3 && !vocab.has(v) {
					keep = append(keep, v)
				}
			}
			out := redactedOutputs(t, path)
			if len(keep) == 0 {
				return
			}
			for name, s := range out {
				t2 := newText(unescape(s))
				for _, v := range keep {
					if wholeWord(t2, unescape(v)) {
						t.Errorf("%s: %q survives redaction", name, v)
					}
				}
				// Nor are the country and the tool's own words rewritten.
				if m := countryPseudonym.FindString(s); m != "" {
					t.Errorf("%s: a country became %s", name, m)
				}
				if i := strings.Index(s, "old roots are dropped from it, e.g."); i >= 0 {
					// The text format wraps lines.
					if words := strings.Join(strings.Fields(s[i:min(len(s), i+120)]), " "); !strings.HasPrefix(words, "old roots are dropped from it, e.g. GlobalSign Root CA in ESP-IDF v6.0") {
						t.Errorf("%s: the tool's own example is rewritten: %.80q", name, words)
					}
				}
			}
		})
		checked++
	}
	t.Logf("%d public captures checked", checked)
}

// redactedOutputs analyses the capture once, as --redact does, and renders
// analyze (every format), records and certs (text, markdown, JSON).
func redactedOutputs(t *testing.T, path string) map[string]string {
	p := values.NewPseudonyms()
	a, err := diagnose.NewAnalyzer(diagnose.Options{Values: p, KeepRecords: true, KeepTimeline: true, AllTimelines: true, Concurrent: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := capture.ReadFile(path, a, capture.Options{})
	if err != nil {
		return nil // unreadable: TestPublicCaptures reports it
	}
	rep := a.Report(path, st)
	defer rep.Close()
	red := reports.Redact(rep, p)
	out := map[string]string{}
	for _, f := range reports.Formats {
		var b bytes.Buffer
		if err := reports.Write(&b, red, f, reports.Options{All: true}); err != nil {
			t.Fatal(err)
		}
		out["analyze "+string(f)] = b.String()
		if f == reports.HTML {
			continue
		}
		b.Reset()
		if err := reports.WriteRecords(&b, red, f, reports.Options{}); err != nil {
			t.Fatal(err)
		}
		out["records "+string(f)] = b.String()
		b.Reset()
		if err := reports.WriteCerts(&b, red, f); err != nil {
			t.Fatal(err)
		}
		out["certs "+string(f)] = b.String()
	}
	return out
}

// wholeWord: v occurs in s not as part of a longer word, number or name
// (10.0.0.1 is not in 10.0.0.12, 2001:db8::9 not in 2001:db8::99; host
// names case-insensitively).
func wholeWord(t text, v string) bool {
	s := t.s
	if strings.Contains(v, ".") && !strings.ContainsAny(v, " ,") {
		s, v = t.lower, strings.ToLower(v)
	}
	// A colon continues an IPv6 address; after anything else it starts a
	// port (10.0.0.1:443 shows 10.0.0.1).
	v6 := strings.Contains(v, ":")
	word := func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == ':' && v6
	}
	for off := 0; ; {
		i := strings.Index(s[off:], v)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(v)
		off = i + 1
		if before, _ := utf8.DecodeLastRuneInString(s[:i]); i > 0 && (word(before) || before == '.') {
			continue
		}
		if end < len(s) {
			after, n := utf8.DecodeRuneInString(s[end:])
			if word(after) {
				continue
			}
			if after == '.' && end+n < len(s) {
				if r, _ := utf8.DecodeRuneInString(s[end+n:]); unicode.IsLetter(r) || unicode.IsDigit(r) {
					continue
				}
			}
		}
		return true
	}
}

var countryPseudonym = regexp.MustCompile(`\bC=name-\d+`)

// unescape undoes what the formats do to a value (HTML entities; the
// backslashes of a DN's escaped comma, of JSON and of Markdown), so that
// "O=Starfield Technologies\, Inc." is found as the value it is.
func unescape(s string) string { return strings.ReplaceAll(html.UnescapeString(s), `\`, "") }

// text is an output with its lower-case copy.
type text struct{ s, lower string }

func newText(s string) text { return text{s, strings.ToLower(s)} }

// captureValues reads the identifying values of a capture.
func captureValues(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	src, err := packetSource(f)
	if err != nil {
		return nil
	}
	set := map[string]bool{}
	add := func(s string) {
		s = strings.TrimSuffix(strings.TrimSpace(s), ".")
		if s != "" {
			set[s] = true
		}
	}
	type flow struct{ a, b string }
	type seg struct {
		seq  uint32
		data []byte
	}
	flows := map[flow][]seg{}
	for pk := range src.Packets() {
		if eth, ok := pk.Layer(layers.LayerTypeEthernet).(*layers.Ethernet); ok {
			add(eth.SrcMAC.String())
			add(eth.DstMAC.String())
		}
		var s, d string
		if ip, ok := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			add(ip.SrcIP.String())
			add(ip.DstIP.String())
			s, d = ip.SrcIP.String(), ip.DstIP.String()
		}
		if ip, ok := pk.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			add(ip.SrcIP.String())
			add(ip.DstIP.String())
			s, d = ip.SrcIP.String(), ip.DstIP.String()
		}
		if dns, ok := pk.Layer(layers.LayerTypeDNS).(*layers.DNS); ok {
			for _, q := range dns.Questions {
				add(string(q.Name))
			}
		}
		if tcp, ok := pk.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && len(tcp.Payload) > 0 {
			k := flow{fmt.Sprint(s, tcp.SrcPort), fmt.Sprint(d, tcp.DstPort)}
			if len(flows[k]) < 20000 {
				flows[k] = append(flows[k], seg{tcp.Seq, append([]byte(nil), tcp.Payload...)})
			}
		}
	}
	for _, segs := range flows {
		sort.SliceStable(segs, func(i, j int) bool { return int32(segs[i].seq-segs[0].seq) < int32(segs[j].seq-segs[0].seq) })
		var b []byte
		next := segs[0].seq
		for _, sg := range segs {
			if off := int32(next - sg.seq); off >= 0 && int(off) < len(sg.data) {
				b = append(b, sg.data[off:]...)
				next = sg.seq + uint32(len(sg.data))
			} else if off < 0 {
				b = append(b, sg.data...) // a hole: go on after it
				next = sg.seq + uint32(len(sg.data))
			}
		}
		for _, v := range streamValues(b) {
			add(v)
		}
	}
	var out []string
	for v := range set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func packetSource(r io.ReadSeeker) (*gopacket.PacketSource, error) {
	if ng, err := pcapgo.NewNgReader(r, pcapgo.DefaultNgReaderOptions); err == nil {
		return gopacket.NewPacketSource(ng, ng.LinkType()), nil
	}
	r.Seek(0, io.SeekStart)
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, err
	}
	return gopacket.NewPacketSource(pr, pr.LinkType()), nil
}

var oidCountry = asn1.ObjectIdentifier{2, 5, 4, 6}

// streamValues finds the certificates (DER) and ClientHello server names
// in one direction's bytes.
func streamValues(b []byte) []string {
	var out []string
	for i := 0; i+4 < len(b); i++ {
		if b[i] == 0x30 && b[i+1] == 0x82 {
			n := int(b[i+2])<<8 | int(b[i+3])
			if i+4+n <= len(b) && n > 100 {
				if c, err := x509.ParseCertificate(b[i : i+4+n]); err == nil {
					for _, names := range [][]pkix.AttributeTypeAndValue{c.Subject.Names, c.Issuer.Names} {
						for _, a := range names {
							if !a.Type.Equal(oidCountry) {
								out = append(out, fmt.Sprint(a.Value))
							}
						}
					}
					out = append(out, c.DNSNames...)
					out = append(out, c.EmailAddresses...)
					for _, ip := range c.IPAddresses {
						if a, ok := netip.AddrFromSlice(ip); ok {
							out = append(out, a.Unmap().String())
						}
					}
					i += 3 + n
					continue
				}
			}
		}
		// A handshake record holding a ClientHello.
		if b[i] == 0x16 && b[i+1] == 0x03 && i+9 < len(b) && b[i+5] == 0x01 {
			if sni := serverName(b[i+9:]); sni != "" {
				out = append(out, sni)
			}
		}
	}
	return out
}

// serverName reads the server_name of a ClientHello body.
func serverName(b []byte) string {
	s := cryptobyte.String(b)
	var random, sid, suites, comp, exts cryptobyte.String
	var v uint16
	if !s.ReadUint16(&v) || !s.ReadBytes((*[]byte)(&random), 32) || !s.ReadUint8LengthPrefixed(&sid) ||
		!s.ReadUint16LengthPrefixed(&suites) || !s.ReadUint8LengthPrefixed(&comp) || !s.ReadUint16LengthPrefixed(&exts) {
		return ""
	}
	for !exts.Empty() {
		var typ uint16
		var ext cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&ext) {
			return ""
		}
		if typ != 0 {
			continue
		}
		var list, name cryptobyte.String
		var nt uint8
		if ext.ReadUint16LengthPrefixed(&list) && list.ReadUint8(&nt) && list.ReadUint16LengthPrefixed(&name) && nt == 0 {
			return string(name)
		}
	}
	return ""
}

// vocabulary is the tool's own words: every string literal and data file
// of the packages that write reports.
type vocabulary struct{ t text }

func (v vocabulary) has(s string) bool { return wholeWord(v.t, s) }

func toolWords(t *testing.T) vocabulary {
	var b strings.Builder
	for _, root := range []string{"../../diagnose", "../../reports"} {
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err != nil || fi.IsDir() || strings.HasSuffix(p, "_test.go") || strings.Contains(p, "testdata") {
				return nil
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return nil
			}
			if !strings.HasSuffix(p, ".go") {
				if bytes.IndexByte(src, 0) < 0 {
					b.Write(src)
					b.WriteByte('\n')
				}
				return nil
			}
			var sc scanner.Scanner
			fs := token.NewFileSet()
			sc.Init(fs.AddFile(p, -1, len(src)), src, nil, 0)
			for {
				_, tok, lit := sc.Scan()
				if tok == token.EOF {
					break
				}
				if tok == token.STRING {
					b.WriteString(lit)
					b.WriteByte('\n')
				}
			}
			return nil
		})
	}
	if b.Len() == 0 {
		t.Fatal("no string literals found in diagnose and reports")
	}
	return vocabulary{newText(b.String())}
}

// records and certs take --redact, in every format they write, with the
// pseudonyms analyze gives; certs --out says its PEM files are not redacted.
func TestRedactRecordsCerts(t *testing.T) {
	const capture = "../../testdata/pcaps/chain-incomplete.pcapng"
	for _, cmd := range []string{"records", "certs"} {
		for _, f := range []string{"text", "markdown", "json"} {
			code, out, errs := tlspcap(t, cmd, "--redact", "--format", f, capture)
			if code != exitOK {
				t.Fatalf("%s --redact --format %s: exit %d: %s", cmd, f, code, errs)
			}
			for _, orig := range []string{"127.0.0.1", "device.test", "tlspcap test", "chain-incomplete.pcapng"} {
				if strings.Contains(out, orig) {
					t.Errorf("%s --format %s: %q survives", cmd, f, orig)
				}
			}
			if !strings.Contains(out, "192.0.2.1:14133") || (cmd == "certs" && !strings.Contains(out, "CN=host-1.example,O=name-2")) {
				t.Errorf("%s --format %s: no pseudonyms:\n%s", cmd, f, out)
			}
		}
	}
	dir := t.TempDir()
	if code, _, errs := tlspcap(t, "certs", "--redact", "--out", dir, capture); code != exitOK || !strings.Contains(errs, "--redact applies to the listing only: the PEM files in "+dir+" hold the original certificates") {
		t.Errorf("certs --redact --out: exit %d, %q", code, errs)
	}
}
