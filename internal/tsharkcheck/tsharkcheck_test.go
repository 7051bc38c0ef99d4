package tsharkcheck

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"tlspcap/capture"
	"tlspcap/diagnose"
)

// What is compared, per TCP stream (tcp.stream == Connection.Stream), record
// by record:
//
//   - frame: tshark dissects a record that spans TCP segments once, in the
//     frame that completes it (the LAST frame carrying part of it);
//     RecordRow.Frames lists every frame that carried part of it, so tshark's
//     frame is compared with the last element of Frames. Records are paired
//     in order within that frame.
//   - content type: tls.record.content_type, or tls.record.opaque_type for
//     TLS 1.3 protected records (the header byte, 23). SSLv2 records have
//     none in tshark; tlspcap gives its SSLv2-compatible ClientHello content
//     type 22 and the note "SSLv2-compatible ClientHello".
//   - length: the length the record header announces.
//   - handshake types of plaintext handshake records. tshark prints none for
//     what it shows as "Encrypted Handshake Message" (TLS 1.3 after
//     ServerHello, TLS 1.2 Finished): tlspcap must mark those Encrypted (or
//     list no type). For a handshake message split over several records
//     tlspcap lists the type in the record where the message starts; tshark
//     lists it in the record that completes it (note "frag" in the stored
//     file) and none in the first: the comparison allows for that shift.
//
// Not compared: records tlspcap marks Truncated with no tshark counterpart.
// The capture ended (or bytes were missing) inside them; tshark never shows
// a record it could not complete, tlspcap reports it on purpose (a record cut
// by a reset is the evidence of several findings). They are counted apart.

// knownDifference is a stream where tlspcap deliberately differs from
// tshark. stream -1 stands for every stream of the capture.
type knownDifference struct {
	capture string // "shared/<path in pcaps>" or "local/<file name>"
	stream  int
	why     string
}

// knownDifferences: every entry says why tlspcap is right to differ (or why
// tshark's view is not a reference there). The test fails when an entry is
// no longer needed, so the list stays short and true.
// whyNotCaptured: after a segment the capture lost, tshark shows the rest of
// the stream as "Ignored Unknown Record"; tlspcap resynchronises on the next
// record header and decodes the records.
const whyNotCaptured = "after \"previous segment not captured\" tshark shows \"Ignored Unknown Record\"; tlspcap resynchronises on the next record header and decodes what follows"

var knownDifferences = []knownDifference{
	// Application protocol first, TLS later in the same stream.
	{"shared/arkime/smtp-starttls.pcap", -1, whyStartTLS},
	{"shared/arkime/mysql-tls.pcap", -1, whyStartTLS},
	{"shared/mercury/imap2.pcap", -1, whyStartTLS},
	{"shared/zeek/tls/xmpp-starttls.pcap", -1, whyStartTLS},
	{"shared/zeek/tls/xmpp-dialback-starttls.pcap", -1, whyStartTLS},
	{"shared/zeek/tls/smtp-starttls.pcap", -1, whyStartTLS},
	{"shared/zeek/tls/pop3-starttls.pcap", -1, whyStartTLS},
	{"shared/zeek/tls/imap-starttls.pcap", -1, whyStartTLS},
	{"shared/zeek/postgresql/psql-aws-ssl-require.pcap", -1, whyStartTLS},
	{"shared/zeek/postgresql/psql-aws-ssl-require-15432.pcap", -1, whyStartTLS},
	{"shared/zeek/postgresql/psql-aws-ssl-preferred.pcap", -1, whyStartTLS},
	{"shared/zeek/mysql/tls-13-amazon-rds.pcap", -1, whyStartTLS},
	{"shared/zeek/mysql/tls-12-amazon-rds.pcap", -1, whyStartTLS},
	{"shared/zeek/mysql/encrypted.pcap", -1, whyStartTLS},
	{"shared/zeek/ldap/ldap-starttls.pcap", -1, whyStartTLS},
	{"shared/zeek/ftp/ftp-auth-tls.pcap", -1, whyStartTLS},
	{"shared/suricata-verify/smtp-startssl/input.pcap", -1, whyStartTLS},
	{"shared/suricata-verify/pgsql/pgsql-upgrade-tls/input.pcap", -1, whyStartTLS},
	{"shared/suricata-verify/ldap-starttls/input.pcap", -1, whyStartTLS},
	{"shared/nDPI/pop3_stls.pcap", -1, whyStartTLS},
	{"shared/nDPI/smtp-starttls.pcap", -1, whyStartTLS},
	{"shared/nDPI/ftp-start-tls.pcap", -1, whyStartTLS},
	{"shared/nDPI/pgsql2.pcapng", -1, whyStartTLS},
	{"shared/nDPI/mysql.pcapng", -1, whyStartTLS},
	{"shared/pcapplusplus/pcapng-example.pcapng", -1, whyStartTLS},
	{"shared/nDPI/gnutella.pcap", -1, whyStartTLS + " (Gnutella's TLS upgrade); " + whyPort + " (stream 124: BitTorrent)"},
	{"shared/arkime/adb_synthetic.pcap", 4, whyStartTLS + " (ADB: CNXN, SYNC and STLS messages in frames 75-79 on port 5555, then the ClientHello in frame 80 and ServerHello in frame 81)"},
	{"shared/nDPI/nomachine.pcapng", 0, whyStartTLS + " (NoMachine on port 4000: the client sends \"NXSH-8.10.1\\n\" in frame 4, the server \"NXD-8.10.1\\n\" in frame 6, TLS from frame 8)"},

	{"local/capture-snaplen-cut.pcapng", 0, "every packet is cut at a 96-byte snap length: tshark does not dissect the handshake messages of a record whose bytes were not captured and lists the server's cut records where their claimed length would end; tlspcap decodes the captured part of each record and marks it truncated (the capture-snaplen-cut finding rests on it)"},
	{"local/capture-started-mid-connection.pcapng", 0, "the capture starts after the ClientHello: tshark has no session state and shows the server's 186-byte handshake record in frame 7 as encrypted; tlspcap reads it as the NewSessionTicket a TLS 1.2 server sends in the clear before its ChangeCipherSpec"},

	{"shared/ja4/socks-https-example.pcap", -1, whyProxy},
	{"shared/ja4/https-connect.pcap", -1, whyProxy},
	{"shared/zeek/socks-with-ssl.pcap", -1, whyProxy},
	{"shared/zeek/http/connect-with-header.pcap", -1, whyProxy},
	{"shared/suricata-verify/bug-2430/backwards.pcap", -1, whyProxy},
	{"shared/suricata-verify/bug-2769/issue_no_icmp.pcap", -1, whyProxy},
	{"shared/nDPI/http_connect.pcap", -1, whyProxy},
	{"shared/nDPI/tls_heur__vmess-websocket.pcapng", -1, whyProxy + "; " + whySocksIndex},
	{"shared/nDPI/tls_heur__vmess-tcp.pcapng", -1, whyProxy + "; " + whySocksIndex},
	{"shared/nDPI/tls_heur__vmess-tcp-tls.pcapng", -1, whyProxy + "; " + whySocksIndex},
	{"shared/nDPI/tls_heur__trojan-tcp-tls.pcapng", -1, whyProxy + "; " + whySocksIndex},
	{"shared/nDPI/tls_heur__shadowsocks-tcp.pcapng", -1, whyProxy + "; " + whySocksIndex},
	{"shared/nDPI/haproxy.pcap", 0, "frame 1 (the only frame) carries a PROXY protocol v1 line (\"PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\\r\\n\", 51 bytes) before the ClientHello: tshark's PROXY dissector hands the rest to TLS, tlspcap stops decoding a direction at its first non-TLS bytes"},
	// mercury/emix.pcap: four SOCKS connections to port 1080 (frames 2224,
	// 2238, 2253, 2270) shift tshark's numbering by 4 from there on;
	// `tshark --disable-protocol socks` numbers as tlspcap does. Streams
	// tlspcap's streams 152-156 carry the ClientHellos of frames 3214-3218,
	// which tshark numbers 156-160.
	{"shared/mercury/emix.pcap", 152, whySocksIndex},
	{"shared/mercury/emix.pcap", 153, whySocksIndex},
	{"shared/mercury/emix.pcap", 154, whySocksIndex},
	{"shared/mercury/emix.pcap", 155, whySocksIndex},
	{"shared/mercury/emix.pcap", 156, whySocksIndex},
	{"shared/mercury/emix.pcap", 157, whySocksIndex},
	{"shared/mercury/emix.pcap", 158, whySocksIndex},
	{"shared/mercury/emix.pcap", 159, whySocksIndex},
	{"shared/mercury/emix.pcap", 160, whySocksIndex},
	{"shared/mercury/emix.pcap", 489, whySocksIndex + " (tshark's stream 489 is tlspcap's 485, 1.20.121.102:38764 to port 1194); " + whyOpenVPN + " (the 235-byte application-data record tshark shows in frame 6613)"},

	{"shared/mercury/openvpn_tcp_single.pcap", -1, whyOpenVPN},
	{"shared/mercury/openvpn_tcp_multi.pcap", -1, whyOpenVPN},
	{"shared/nDPI/openvpn_nohmac_tcp.pcapng", -1, whyOpenVPN},
	{"shared/nDPI/openvpn.pcap", -1, whyOpenVPN},
	{"shared/nDPI/443-opvn.pcap", -1, whyOpenVPN},

	// TLS tunnelled in a protocol tlspcap does not decapsulate.
	{"shared/nDPI/capwap_data.pcapng", 0, "tlspcap limitation: the TCP connection is tunnelled in CAPWAP data (UDP port 5247, then IEEE 802.11, LLC, IPv4, TCP); tlspcap decapsulates IP in IP, GRE, VXLAN, Geneve and GTP-U but not CAPWAP, so it sees no TCP stream and misses the ClientHello of frame 9 (frames 10 and 12 are retransmissions of it)"},

	// TLS on a port tshark gives to another dissector.
	{"shared/nDPI/KakaoTalk_talk.pcap", 5, whyPort + " (8080: HTTP)"},
	{"shared/nDPI/anydesk.pcapng", -1, whyPort + " (80: HTTP)"},
	{"shared/nDPI/anyconnect-vpn.pcap", 2, whyPort + " (8009: AJP13)"},
	{"shared/ja4/tls3.pcapng", 0, whyPort + " (8009: AJP13)"},
	{"shared/nDPI/ookla.pcap", 5, whyPort + " (8080: HTTP)"},

	// Segments out of order (or retransmitted with new bytes).
	{"shared/ja4/browsers-x509.pcapng", 0, whyOOO},
	{"shared/zeek/tls/ssl.v3.pcap", 2, whyOOO},
	{"shared/zeek/tls/hrr.pcap", 0, whyOOO},
	{"shared/zeek/tls/dhe.pcap", 0, whyOOO},
	{"shared/suricata-verify/tls/tls-fingerprint-alert/input.pcap", 0, whyOOO},
	{"shared/suricata-verify/tls/tls-bypass-missing-event/tor_bl.pcap", 0, whyOOO},
	{"shared/suricata-verify/tls/tls-subjectaltname/input.pcap", 3, whyOOO},
	{"shared/suricata-verify/tls/tls-subjectaltname/input.pcap", 4, whyOOO},
	{"shared/suricata-verify/tls/tls-subjectaltname/input.pcap", 10, whyOOO},
	{"shared/suricata-verify/tls/tls-subjectaltname/input.pcap", 14, whyOOO},
	{"shared/suricata-verify/tls/tls-subjectaltname/input.pcap", 40, whyOOO},
	{"shared/suricata-verify/tls/tls-subjectaltname/input.pcap", 57, whyOOO},
	{"shared/pcapplusplus/many-protocols.pcap", 49, whyOOO},
	{"shared/nDPI/whatsappfiles.pcap", 0, whyOOO},
	{"shared/nDPI/viber.pcap", -1, whyOOO},
	{"shared/nDPI/tor.pcap", 0, whyOOO},
	{"shared/nDPI/tls_multiple_synack_different_seq.pcapng", 0, whyOOO},
	{"shared/nDPI/teams.pcap", -1, whyOOO},
	{"shared/nDPI/no_sni.pcap", 1, whyOOO},
	{"shared/nDPI/google_ssl.pcap", 0, whyOOO},
	{"shared/nDPI/android.pcap", 7, whyOOO},
	{"shared/nDPI/malware.pcap", 3, whyOOO},
	{"shared/nDPI/ultrasurf.pcap", 1, whyOOO},

	// Captures tshark's view is no reference for.
	{"shared/pcapplusplus/tls2.pcap", -1, "capture gaps (\"previous segment not captured\") in most streams: after missing bytes tshark and tlspcap each guess where the next record header starts, and guess differently"},
	{"shared/mercury/capture2.pcap", -1, whyTwoCopies},
	{"shared/mercury/dns_packet.capture2.pcap", -1, whyTwoCopies},
	{"shared/zeek/tls/tls1.2-late-protocol-error.pcap", 0, "the client's CCS header in frame 10 is 14 ff ff ff 01 (version 0xffff, length 65281): tshark waits for those bytes and shows nothing more; tlspcap skips the bad header, resynchronises on the next record and reports the records at frames 10, 13, 15 and 20"},
	{"shared/nDPI/1kxun.pcap", 23, "not SSL: the server speaks first and each frame starts 80 02 00 02, which tshark's SSLv2 heuristic takes for 2-byte SSLv2 records; tlspcap reports these bytes as not TLS"},
	{"shared/nDPI/heuristic_tcp_ack_payload.pcap", -1, "bare ACKs and SYN-ACKs carry 2-6 bytes of zero link padding counted in the IP length; tshark takes them as stream bytes and loses the ClientHello/ServerHello behind them, tlspcap treats them as padding and finds the records"},
	{"shared/nDPI/KakaoTalk_chat.pcap", 2, "a second SYN-ACK with a new sequence start: tshark marks the server's data as retransmissions and does not dissect it; tlspcap follows the sequence start the client acknowledged and decodes the records"},
	{"shared/nDPI/netflix.pcap", 9, whyNotCaptured},
	{"shared/nDPI/netflix.pcap", 41, whyNotCaptured},
	{"shared/nDPI/anyconnect-vpn.pcap", 17, "the capture starts at the client's FIN (frame 366) of a connection to port 5223, so no handshake is seen: frame 378 carries one 53-byte segment, a 48-byte alert record (15 03 03 00 30) whose body (d8 41 22 23 ...) is no plaintext alert; tshark gives port 5223 no TLS and shows \"Data\" (with -d tcp.port==5223,tls it shows the same Encrypted Alert), tlspcap recognises the record by content and marks it encrypted"},
	{"shared/nDPI/ultrasurf.pcap", 0, "tlspcap limitation: the capture starts inside the connection (no SYN; frame 1 from 65.49.68.25 carries ciphertext from the middle of a record) and tlspcap has no mid-stream start: it reports that direction's first bytes as not TLS and stops decoding it, so it misses the 1434-byte application-data records whose headers start frames 16 and 21, which tshark's per-segment heuristic finds"},
	{"shared/nDPI/ossfuzz_seed_fake_traces_1.pcapng", 4, whyLeadingZero},
	{"shared/nDPI/ossfuzz_seed_fake_traces_1.pcapng", 5, whyLeadingZero},
	{"shared/suricata-verify/firewall/app-layer-protocol-negated-unknown-shortcircuit/input.pcap", 0, "frame 4 carries 32 bytes de ad be ef ... before the client's ClientHello in frame 6 (and frame 8 16 bytes ca fe ba be ...): on port 443 tshark shows frame 4 as \"Continuation Data\" and dissects the ClientHello; tlspcap stops decoding the client's direction at its first non-TLS bytes"},
	{"shared/nDPI/anyconnect-vpn.pcap", 13, "frame 447 retransmits bytes already delivered in frames 418-437 re-packed differently; tshark dissects them a second time, tlspcap delivers each byte once"},
	{"shared/zeek/tls/tls-fragmented-handshake.pcap.gz", 0, "a Certificate message spread over 16384-byte records: tshark 4.0 shows its first record as \"Encrypted Handshake Message\" (no handshake type), tlspcap reads type 11 where the message starts"},
}

const (
	whyStartTLS = "TLS starts after an application protocol's plaintext upgrade (STARTTLS, AUTH TLS, SSLRequest, MySQL SSL request, ...): tshark follows the upgrade, tlspcap stops decoding a direction at its first non-TLS bytes"
	whyProxy    = "TLS inside an HTTP CONNECT or SOCKS tunnel: the proxy handshake comes first in the stream; tshark follows the tunnel, tlspcap reports the non-TLS bytes"
	whyOpenVPN  = "TLS carried inside OpenVPN's TCP packet framing (P_CONTROL messages): tshark's OpenVPN dissector hands TLS on, tlspcap sees OpenVPN bytes"
	whyPort     = "TLS on a port tshark hands to another dissector first, so its TLS heuristic never runs; tlspcap recognises TLS by content on any port"
	whyOOO      = "segments out of order, or retransmitted with new bytes: tshark 4.0 with its default tcp.reassemble_out_of_order:FALSE loses those records; with TRUE it shows as many records as tlspcap"
	// Fuzzing seeds: a 1-byte segment before the ClientHello.
	whyLeadingZero = "a fuzzing seed: a segment with no TCP flags carries one 0x00 byte at the client's first sequence number, the next segment the ClientHello, so the client's stream reads 00 16 03 01 ...; tshark (no TLS on ports 10/11) runs its heuristic per segment and finds the ClientHello, tlspcap stops decoding the direction at its first non-TLS byte"
	// SOCKS: tshark's dissector opens a conversation for the proxied
	// connection, which takes a tcp.stream number.
	whySocksIndex = "tshark's SOCKS dissector takes a tcp.stream number for the proxied connection, so tshark numbers the next TCP connection one higher than tlspcap"
	whyTwoCopies  = "server packets captured twice (the copies with zeroed MACs carry other sequence numbers, from before a sequence-rewriting firewall), plus duplicates after gaps: tshark dissects the copy the client ACKs, tlspcap the first copy; also 5-byte zero-length records on port 33033 tshark's heuristic skips"
)

type tsharkRecord struct {
	frame, stream int
	contentType   int // -1: none (SSLv2)
	length        int // -1: tshark printed none
	hs            []uint8
	ssl2, enc     bool
	frag, badlen  bool
}

func (r tsharkRecord) String() string {
	ct := strconv.Itoa(r.contentType)
	if r.ssl2 {
		ct = "SSLv2"
	}
	s := fmt.Sprintf("type %s len %d", ct, r.length)
	if len(r.hs) > 0 {
		s += " hs " + hsList(r.hs)
	}
	if r.enc {
		s += " encrypted-handshake"
	}
	if r.frag {
		s += " (handshake fragment)"
	}
	return s
}

func rowString(r diagnose.RecordRow) string {
	s := fmt.Sprintf("type %d len %d", r.ContentType, r.Length)
	if len(r.HandshakeTypes) > 0 {
		s += " hs " + hsList(r.HandshakeTypes)
	}
	if r.Encrypted {
		s += " encrypted"
	}
	if r.Truncated {
		s += " truncated"
	}
	if r.Note != "" {
		s += " (" + r.Note + ")"
	}
	return s + fmt.Sprintf(" frames %v", r.Frames)
}

// hsList prints handshake types, shortened past 8.
func hsList(t []uint8) string {
	if len(t) > 8 {
		return fmt.Sprintf("%v...(%d types)", t[:8], len(t))
	}
	return fmt.Sprint(t)
}

type indexEntry struct {
	set, path, sha, status string
	records, streams       int
}

func repoRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

func readIndex(t *testing.T, root string) []indexEntry {
	f, err := os.Open(filepath.Join(root, "testdata", "tshark", "INDEX.tsv"))
	if err != nil {
		t.Fatalf("%v: run `make expect` to store tshark's view of the captures", err)
	}
	defer f.Close()
	var out []indexEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "set\t") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 6 {
			t.Fatalf("INDEX.tsv: bad line %q", line)
		}
		e := indexEntry{set: c[0], path: c[1], sha: c[2], status: c[3]}
		e.records, _ = strconv.Atoi(c[4])
		e.streams, _ = strconv.Atoi(c[5])
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func readTshark(path string) ([]tsharkRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []tsharkRecord
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 6 {
			return nil, fmt.Errorf("%s:%d: want 6 columns, got %q", path, n, line)
		}
		num := func(s string) int {
			if s == "-" {
				return -1
			}
			v, e := strconv.Atoi(s)
			if e != nil && err == nil {
				err = fmt.Errorf("%s:%d: bad number %q", path, n, s)
			}
			return v
		}
		r := tsharkRecord{frame: num(c[0]), stream: num(c[1]), contentType: num(c[2]), length: num(c[3])}
		if c[4] != "-" {
			for _, h := range strings.Split(c[4], ",") {
				r.hs = append(r.hs, uint8(num(h)))
			}
		}
		for _, fl := range strings.Split(c[5], ",") {
			switch fl {
			case "ssl2":
				r.ssl2 = true
			case "enc":
				r.enc = true
			case "frag":
				r.frag = true
			case "badlen":
				r.badlen = true
			}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// result is the comparison of one capture.
type result struct {
	compared, agree int
	truncatedOnly   int              // tlspcap-only records cut short (not compared)
	diffs           map[int][]string // stream -> differences
	diffRecords     map[int]int      // stream -> records that differ
	counts          map[int][2]int   // stream -> records tshark, tlspcap show
}

// compareCapture runs tlspcap on capPath and compares it with want.
// maxFrame > 0 limits the comparison to frames <= maxFrame (capped files).
func compareCapture(capPath string, want []tsharkRecord, maxFrame int) (*result, error) {
	a, err := diagnose.NewAnalyzer(diagnose.Options{KeepRecords: true})
	if err != nil {
		return nil, err
	}
	st, err := capture.ReadFile(capPath, a, capture.Options{})
	if err != nil {
		return nil, err
	}
	rep := a.Report(capPath, st)

	res := &result{diffs: map[int][]string{}, diffRecords: map[int]int{}, counts: map[int][2]int{}}
	got := map[int][]diagnose.RecordRow{}
	for _, c := range rep.Connections {
		for _, r := range c.Records {
			if len(r.Frames) == 0 {
				res.diffs[c.Stream] = append(res.diffs[c.Stream], fmt.Sprintf("tlspcap record with no frames: %s", rowString(r)))
				res.diffRecords[c.Stream]++
				continue
			}
			if maxFrame > 0 && last(r.Frames) > maxFrame {
				continue
			}
			got[c.Stream] = append(got[c.Stream], r)
		}
	}
	wantBy := map[int][]tsharkRecord{}
	for _, r := range want {
		wantBy[r.stream] = append(wantBy[r.stream], r)
	}
	streams := map[int]bool{}
	for s := range got {
		streams[s] = true
	}
	for s := range wantBy {
		streams[s] = true
	}
	for s := range streams {
		res.counts[s] = [2]int{len(wantBy[s]), len(got[s])}
		compareStream(res, s, wantBy[s], got[s])
	}
	return res, nil
}

func last(f []int) int { return f[len(f)-1] }

func compareStream(res *result, stream int, want []tsharkRecord, got []diagnose.RecordRow) {
	// Within a direction tlspcap emits records in stream order; sorting by
	// completing frame interleaves the directions as tshark does.
	sort.SliceStable(got, func(i, j int) bool { return last(got[i].Frames) < last(got[j].Frames) })
	wantAt := map[int][]tsharkRecord{}
	gotAt := map[int][]diagnose.RecordRow{}
	var frames []int
	for _, r := range want {
		if wantAt[r.frame] == nil && gotAt[r.frame] == nil {
			frames = append(frames, r.frame)
		}
		wantAt[r.frame] = append(wantAt[r.frame], r)
	}
	for _, r := range got {
		f := last(r.Frames)
		if wantAt[f] == nil && gotAt[f] == nil {
			frames = append(frames, f)
		}
		gotAt[f] = append(gotAt[f], r)
	}
	slices.Sort(frames)
	frames = slices.Compact(frames)
	// A handshake message split over records: tshark 4.0 shows the record
	// where it starts without a type ("Encrypted Handshake Message" when it
	// cannot parse it) and lists the type in the record that completes it
	// (note "frag"); tlspcap lists it where it starts.
	fragAfter := map[int]bool{} // frame of an enc record followed by a frag one
	for i, r := range want {
		if r.enc {
			for _, later := range want[i+1:] {
				if later.frag {
					fragAfter[r.frame] = true
					break
				}
			}
		}
	}
	differ := func(format string, args ...any) {
		res.diffs[stream] = append(res.diffs[stream], fmt.Sprintf(format, args...))
		res.diffRecords[stream]++
	}
	for _, f := range frames {
		w, g := wantAt[f], gotAt[f]
		// tlspcap's truncated records have no tshark counterpart.
		var kept []diagnose.RecordRow
		for i, r := range g {
			if r.Truncated && i >= len(w) {
				res.truncatedOnly++
				continue
			}
			kept = append(kept, r)
		}
		g = kept
		n := max(len(w), len(g))
		for i := range n {
			res.compared++
			switch {
			case i >= len(g):
				differ("frame %d: tshark %s; tlspcap has no record ending in this frame", f, w[i])
			case i >= len(w):
				differ("frame %d: tlspcap %s; tshark shows no record here", f, rowString(g[i]))
			default:
				if why := recordDiff(w[i], g[i], fragAfter[f]); why != "" {
					differ("frame %d: %s: tshark %s; tlspcap %s", f, why, w[i], rowString(g[i]))
				} else {
					res.agree++
				}
			}
		}
	}
}

// recordDiff says how tlspcap's row differs from tshark's record, or "".
func recordDiff(w tsharkRecord, g diagnose.RecordRow, fragFollows bool) string {
	var why []string
	isSSLv2 := strings.Contains(g.Note, "SSLv2")
	switch {
	case w.ssl2 && !isSSLv2:
		why = append(why, "SSLv2 record")
	case !w.ssl2 && isSSLv2:
		why = append(why, "not an SSLv2 record")
	case !w.ssl2 && w.contentType != int(g.ContentType):
		why = append(why, "content type")
	}
	if w.length >= 0 && w.length != g.Length {
		why = append(why, "length")
	}
	if w.length < 0 && !w.ssl2 {
		why = append(why, "tshark shows no length")
	}
	// Handshake types: only where either side reads plaintext handshake
	// messages.
	hsRecord := w.contentType == 22 || (w.ssl2 && len(w.hs) > 0)
	switch {
	case !hsRecord:
	case w.enc && fragFollows:
		// The start of a message tshark reassembles later: any types.
	case w.frag:
		// The first type is the message completed here, which tlspcap
		// lists in the record where it started.
		if len(w.hs) > 0 && !slices.Equal(w.hs[1:], g.HandshakeTypes) {
			why = append(why, "handshake types")
		}
	case w.enc:
		if len(g.HandshakeTypes) > 0 && !g.Encrypted {
			why = append(why, "handshake types (tshark reads none)")
		}
	case g.Encrypted:
		if len(w.hs) > 0 {
			why = append(why, "encrypted in tlspcap, plaintext in tshark")
		}
	default:
		if !slices.Equal(w.hs, g.HandshakeTypes) {
			why = append(why, "handshake types")
		}
	}
	return strings.Join(why, ", ")
}

type summary struct {
	mu                            sync.Mutex
	captures, compared, agree     int
	truncatedOnly                 int
	knownStreams, knownRecords    int
	unexplainedStreams, unexplRec int
	usedKnown                     map[string]bool
}

func knownKey(capture string, stream int) string { return fmt.Sprintf("%s#%d", capture, stream) }

func runSet(t *testing.T, set, capDir string) {
	root := repoRoot(t)
	var entries []indexEntry
	for _, e := range readIndex(t, root) {
		if e.set == set {
			entries = append(entries, e)
		}
	}
	known := map[string]string{}
	for _, k := range knownDifferences {
		if strings.HasPrefix(k.capture, set+"/") {
			known[knownKey(k.capture, k.stream)] = k.why
		}
	}
	sum := &summary{usedKnown: map[string]bool{}}
	all := os.Getenv("TSHARKCHECK_ALL") != ""
	var noTLS int
	t.Run("captures", func(t *testing.T) {
		for _, e := range entries {
			if e.status != "tls" && e.status != "capped" {
				noTLS++
				continue
			}
			e := e
			name := set + "/" + e.path
			t.Run(e.path, func(t *testing.T) {
				t.Parallel()
				capPath := filepath.Join(capDir, filepath.FromSlash(e.path))
				if _, err := os.Stat(capPath); err != nil {
					t.Skipf("%s: capture absent: %v", name, err)
				}
				if sha, err := fileSHA256(capPath); err != nil {
					t.Fatal(err)
				} else if sha != e.sha {
					t.Fatalf("%s changed since testdata/tshark was made: run `make expect`", capPath)
				}
				want, err := readTshark(filepath.Join(root, "testdata", "tshark", set, filepath.FromSlash(e.path)+".tsv"))
				if err != nil {
					t.Fatal(err)
				}
				maxFrame := 0
				if e.status == "capped" && len(want) > 0 {
					maxFrame = want[len(want)-1].frame
				}
				res, err := compareCapture(capPath, want, maxFrame)
				if err != nil {
					t.Fatalf("tlspcap: %v", err)
				}
				sum.mu.Lock()
				sum.captures++
				sum.compared += res.compared
				sum.agree += res.agree
				sum.truncatedOnly += res.truncatedOnly
				var streams []int
				for s := range res.diffs {
					streams = append(streams, s)
				}
				slices.Sort(streams)
				var report []string
				for _, s := range streams {
					d := res.diffs[s]
					why, ok := known[knownKey(name, s)]
					if !ok {
						why, ok = known[knownKey(name, -1)]
						if ok {
							sum.usedKnown[knownKey(name, -1)] = true
						}
					} else {
						sum.usedKnown[knownKey(name, s)] = true
					}
					if ok {
						sum.knownStreams++
						sum.knownRecords += res.diffRecords[s]
						if testing.Verbose() {
							t.Logf("stream %d: %d records differ, known: %s", s, res.diffRecords[s], why)
						}
						continue
					}
					sum.unexplainedStreams++
					sum.unexplRec += res.diffRecords[s]
					shown := d
					if !all && len(shown) > 6 {
						shown = shown[:6]
					}
					report = append(report, fmt.Sprintf("stream %d (tcp.stream eq %d): %d records differ (tshark shows %d records, tlspcap %d):\n\t%s",
						s, s, res.diffRecords[s], res.counts[s][0], res.counts[s][1], strings.Join(shown, "\n\t")))
					if len(shown) < len(d) {
						report = append(report, fmt.Sprintf("\t... %d more (TSHARKCHECK_ALL=1 lists all)", len(d)-len(shown)))
					}
				}
				sum.mu.Unlock()
				if len(report) > 0 {
					t.Errorf("%s:\n%s", capPath, strings.Join(report, "\n"))
				}
			})
		}
	})
	for _, k := range knownDifferences {
		if !strings.HasPrefix(k.capture, set+"/") {
			continue
		}
		if !sum.usedKnown[knownKey(k.capture, k.stream)] {
			t.Errorf("known difference %s stream %d no longer seen (tlspcap now agrees with tshark, or the capture is gone): remove it from knownDifferences", k.capture, k.stream)
		}
	}
	pct := 0.0
	if sum.compared > 0 {
		pct = 100 * float64(sum.agree) / float64(sum.compared)
	}
	t.Logf("tshark cross-check (%s): %d captures with TLS (and %d where tshark sees none), %d records compared, %d agree (%.2f%%); "+
		"%d known differences (%d records in %d streams); %d unexplained differing records in %d streams; "+
		"%d truncated records only tlspcap lists (not compared)",
		set, sum.captures, noTLS, sum.compared, sum.agree, pct,
		len(sum.usedKnown), sum.knownRecords, sum.knownStreams, sum.unexplRec, sum.unexplainedStreams,
		sum.truncatedOnly)
}

func sharedPcaps(t *testing.T) string {
	dir := os.Getenv("TLSPCAP_SHARED")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "..", "shared")
	}
	return filepath.Join(dir, "pcaps")
}

// TestTsharkShared cross-checks the public captures of the shared directory.
func TestTsharkShared(t *testing.T) {
	dir := sharedPcaps(t)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Skip("../shared/pcaps not found: tshark cross-check of public captures skipped")
	}
	runSet(t, "shared", dir)
}

// TestTsharkLocal cross-checks the ground-truth captures in testdata/pcaps.
func TestTsharkLocal(t *testing.T) {
	root := repoRoot(t)
	n := 0
	for _, e := range readIndex(t, root) {
		if e.set == "local" {
			n++
		}
	}
	if n == 0 {
		t.Skip("testdata/tshark/INDEX.tsv lists no testdata/pcaps capture: run `make expect` after `make pcaps`")
	}
	runSet(t, "local", filepath.Join(root, "testdata", "pcaps"))
}
