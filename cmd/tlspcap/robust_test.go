package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The damaged captures of testdata/malformed (written by
// go run ./internal/malformed): each either fails with a clear error (exit
// 2) or is analysed with a warning, the connections before the damage still
// reported.

const malformedDir = "../../testdata/malformed"

// Connections of the generated captures (internal/malformed).
var (
	connA = malformedConn{"192.168.4.20:50001", "203.0.113.10:443", "first.example"}
	connB = malformedConn{"192.168.4.20:50002", "203.0.113.11:443", "second.example"}
)

type malformedConn struct{ client, server, sni string }

type malformedCase struct {
	file string
	code int
	// exit 2: the whole of stderr after "tlspcap: <path>: ".
	err string
	// otherwise: capture problems (substrings, each of one problem line),
	// report-level finding IDs, and the connections reported, in order.
	problems []string
	findings []string
	conns    []malformedConn
	frames   int
}

var malformedCases = []malformedCase{
	{file: "truncated-file-header.pcap", code: exitUsage,
		err: "capture ends inside a pcap file header at byte 0"},
	{file: "wrong-magic.pcap", code: exitUsage,
		err: "not a pcap or pcapng file (starts with 50 43 41 50)"},
	{file: "truncated-packet.pcap", code: exitFailed, frames: 16,
		problems: []string{"the capture ends inside a packet at byte 6406: packets up to there were analysed"},
		findings: []string{"capture-file-truncated"},
		conns:    []malformedConn{connA, connB}},
	{file: "garbage-after-valid-packets.pcap", code: exitFailed, frames: 12,
		problems: []string{"packet record claims 1073741824 bytes at byte 6031: reading stopped there, packets before it were analysed"},
		conns:    []malformedConn{connA}},
	{file: "pcapng-impossible-length.pcapng", code: exitFailed, frames: 12,
		problems: []string{"pcapng block of type 0x00000006 claims length 4294967280 at byte 6260: reading stopped there, packets before it were analysed"},
		conns:    []malformedConn{connA}},
	{file: "snaplen-cut-mid-record.pcap", code: exitFailed, frames: 24,
		problems: []string{
			"frame 18: captured 200 of 1502 bytes (snaplen): the IP payload is incomplete",
			"frame 19: captured 200 of 1502 bytes (snaplen): the IP payload is incomplete",
			"frame 20: captured 200 of 1502 bytes (snaplen): the IP payload is incomplete",
		},
		findings: []string{"capture-truncated-packets"},
		conns:    []malformedConn{connA, connB}},
	{file: "zero-and-huge-packets.pcap", code: exitFailed, frames: 26,
		problems: []string{
			"frame 4: Ethernet header cut short (0 bytes)",
			"frame 7: TCP: Invalid TCP data offset 2 < 5", // the 256 KiB frame's filler
		},
		conns: []malformedConn{connA, connB}},
	{file: "mixed-byte-order.pcapng", code: exitFailed, frames: 24, conns: []malformedConn{connA, connB}},
	{file: "timestamps-backwards.pcap", code: exitFailed, frames: 24, conns: []malformedConn{connA, connB}},
	{file: "duplicated-packets.pcap", code: exitFailed, frames: 48, conns: []malformedConn{connA, connB}},
	{file: "ipv4-options.pcap", code: exitFailed, frames: 24, conns: []malformedConn{connA, connB}},
	{file: "ipv4-overlapping-fragments.pcap", code: exitFailed, frames: 26, conns: []malformedConn{connA, connB}},
	{file: "tcp-bogus-data-offset.pcap", code: exitFailed, frames: 26,
		problems: []string{
			"frame 15: TCP: Invalid TCP data offset 2 < 5",
			"frame 16: TCP: TCP data offset greater than packet length",
		},
		conns: []malformedConn{connA, connB}},
}

// runSafe runs the command, turning a panic into a test failure.
func runSafe(t *testing.T, args []string, stdin []byte) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("tlspcap %s panicked: %v\n%s", strings.Join(args, " "), r, debug.Stack())
			}
		}()
		code = run(args, bytes.NewReader(stdin), &out, &errb)
	}()
	return code, out.String(), errb.String()
}

func TestMalformedCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(malformedDir, "*"))
	if len(files) != len(malformedCases) {
		t.Errorf("%d files in %s, %d cases: every generated capture needs a case", len(files), malformedDir, len(malformedCases))
	}
	for _, tc := range malformedCases {
		path := filepath.Join(malformedDir, tc.file)
		for _, format := range []string{"text", "markdown", "json", "html"} {
			t.Run(tc.file+"/"+format, func(t *testing.T) {
				code, out, errs := runSafe(t, []string{"analyze", "--format", format, path}, nil)
				if code != tc.code {
					t.Fatalf("exit %d, want %d\nstderr: %s\n%s", code, tc.code, errs, out)
				}
				if tc.err != "" {
					if want := "tlspcap: " + path + ": " + tc.err + "\n"; errs != want {
						t.Errorf("stderr %q, want %q", errs, want)
					}
					if out != "" {
						t.Errorf("report written for an unreadable file:\n%s", out)
					}
					return
				}
				if errs != "" {
					t.Errorf("stderr: %s", errs)
				}
				if format == "json" {
					checkMalformedJSON(t, tc, out)
					return
				}
				for _, p := range tc.problems {
					if format != "text" { // Markdown and HTML escape <, > and &
						p = html.EscapeString(p)
					}
					if !strings.Contains(out, p) {
						t.Errorf("problem %q not reported", p)
					}
				}
				for _, id := range tc.findings {
					if !strings.Contains(out, id) {
						t.Errorf("finding %s not reported", id)
					}
				}
				for _, c := range tc.conns {
					for _, s := range []string{c.client, c.server, c.sni} {
						if !strings.Contains(out, s) {
							t.Errorf("connection %s → %s: %q not in the report", c.client, c.server, s)
						}
					}
				}
				if want := fmt.Sprintf("%d TCP connection", len(tc.conns)); format == "text" && !strings.Contains(out, want) {
					t.Errorf("summary does not say %q:\n%s", want, out)
				}
			})
		}
	}
}

func checkMalformedJSON(t *testing.T, tc malformedCase, out string) {
	t.Helper()
	var doc struct {
		Capture struct {
			Frames   int      `json:"frames"`
			TCPConns int      `json:"tcp_connections"`
			Problems []string `json:"problems"`
		} `json:"capture"`
		Connections []struct {
			Client   string `json:"client"`
			Server   string `json:"server"`
			SNI      string `json:"sni"`
			Findings []struct {
				ID string `json:"id"`
			} `json:"findings"`
		} `json:"connections"`
		Findings []struct {
			ID     string `json:"id"`
			Frames []int  `json:"frames"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Capture.Frames != tc.frames {
		t.Errorf("frames %d, want %d", doc.Capture.Frames, tc.frames)
	}
	if len(doc.Capture.Problems) != len(tc.problems) {
		t.Errorf("problems %q, want %d", doc.Capture.Problems, len(tc.problems))
	} else {
		for i, p := range tc.problems {
			if !strings.Contains(doc.Capture.Problems[i], p) {
				t.Errorf("problem %d: %q, want it to contain %q", i, doc.Capture.Problems[i], p)
			}
		}
	}
	var ids []string
	for _, f := range doc.Findings {
		ids = append(ids, f.ID)
	}
	if strings.Join(ids, ",") != strings.Join(tc.findings, ",") {
		t.Errorf("report findings %q, want %q", ids, tc.findings)
	}
	if doc.Capture.TCPConns != len(tc.conns) || len(doc.Connections) != len(tc.conns) {
		t.Fatalf("%d/%d connections, want %d", doc.Capture.TCPConns, len(doc.Connections), len(tc.conns))
	}
	for i, c := range tc.conns {
		got := doc.Connections[i]
		if got.Client != c.client || got.Server != c.server || got.SNI != c.sni {
			t.Errorf("connection %d: %s → %s (%s), want %s → %s (%s)", i, got.Client, got.Server, got.SNI, c.client, c.server, c.sni)
		}
	}
}

// The same captures through standard input give the same results.
func TestMalformedCapturesStdin(t *testing.T) {
	for _, tc := range malformedCases {
		b, err := os.ReadFile(filepath.Join(malformedDir, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		code, out, errs := runSafe(t, []string{"analyze", "--format", "json", "-"}, b)
		if code != tc.code {
			t.Errorf("%s on stdin: exit %d, want %d: %s", tc.file, code, tc.code, errs)
			continue
		}
		if tc.err != "" {
			if !strings.HasSuffix(errs, ": "+tc.err+"\n") {
				t.Errorf("%s on stdin: stderr %q", tc.file, errs)
			}
			continue
		}
		checkMalformedJSON(t, tc, out)
	}
}

// Resource bound: a flood of half-open connections (SYNs from different
// ports, never answered) is analysed in bounded memory. The analysis runs
// in a child process (this test binary again) so its peak RSS (VmHWM) is
// its own.
//
// The bound is a tripwire, not the goal: issue 9 asks for 1,000,000 SYNs
// under 300 MiB, while 200,000 SYNs currently peak near 1.3 GiB (about
// 6.7 KB per half-open connection across capture, decode and diagnose).
// TLSPCAP_SYN_FLOOD_MAX_RSS_MIB sets a tighter bound.
const (
	floodSYNs      = 200_000
	floodMaxRSSMiB = 2048
	floodChildEnv  = "TLSPCAP_SYN_FLOOD_CHILD"
)

func TestSYNFloodMemory(t *testing.T) {
	if path := os.Getenv(floodChildEnv); path != "" {
		synFloodChild(path)
		return
	}
	if testing.Short() {
		t.Skip("writes and analyses a 200,000-SYN capture")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc/self/status for the peak RSS")
	}
	path := filepath.Join(t.TempDir(), "syn-flood.pcap")
	if err := writeSYNFlood(path, floodSYNs); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSYNFloodMemory$", "-test.count=1")
	cmd.Env = append(os.Environ(), floodChildEnv+"="+path)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s\n%s", err, out.String(), errb.String())
	}
	var exit, conns, hwmKB, sysKB int
	line := out.String()
	if i := strings.Index(line, "flood:"); i >= 0 {
		line = line[i:]
	}
	if _, err := fmt.Sscanf(line, "flood: exit=%d conns=%d vmhwm_kb=%d sys_kb=%d", &exit, &conns, &hwmKB, &sysKB); err != nil {
		t.Fatalf("child output %q: %v\n%s", out.String(), err, errb.String())
	}
	t.Logf("%d SYNs (%d MiB pcap) in %v: exit %d, %d connections reported, peak RSS %d MiB, Go runtime Sys %d MiB",
		floodSYNs, fi.Size()>>20, time.Since(start).Round(time.Millisecond), exit, conns, hwmKB>>10, sysKB>>10)
	if exit != exitOK && exit != exitFailed {
		t.Errorf("exit %d", exit)
	}
	if conns != floodSYNs {
		t.Errorf("%d connections reported, want %d", conns, floodSYNs)
	}
	bound := floodMaxRSSMiB
	if v, err := strconv.Atoi(os.Getenv("TLSPCAP_SYN_FLOOD_MAX_RSS_MIB")); err == nil && v > 0 {
		bound = v
	}
	if hwmKB>>10 > bound {
		t.Errorf("peak RSS %d MiB, bound %d MiB", hwmKB>>10, bound)
	}
}

// synFloodChild analyses the flood and prints its exit code, the number
// of connections in the JSON report and its peak memory.
func synFloodChild(path string) {
	var doc struct {
		Capture struct {
			TCPConns int `json:"tcp_connections"`
		} `json:"capture"`
	}
	var out bytes.Buffer
	code := run([]string{"analyze", "--no-progress", "--format", "json", path}, strings.NewReader(""), &out, os.Stderr)
	json.Unmarshal(out.Bytes(), &doc)
	out.Reset()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("flood: exit=%d conns=%d vmhwm_kb=%d sys_kb=%d\n", code, doc.Capture.TCPConns, vmHWM(), ms.Sys>>10)
}

// vmHWM is the peak resident set size of this process in KiB.
func vmHWM() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return -1
}

// writeSYNFlood streams n SYNs, each from its own address and port to one
// server, 1 µs apart, to a pcap file.
func writeSYNFlood(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriter(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return err
	}
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	buf := gopacket.NewSerializeBuffer()
	for i := range n {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
			SrcIP: net.IPv4(10, byte(i/50000), 0, 1), DstIP: net.IPv4(203, 0, 113, 10)}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(10000 + i%50000), DstPort: 443, Seq: uint32(i) * 7919, SYN: true, Window: 64240}
		tcp.SetNetworkLayerForChecksum(ip)
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
			return err
		}
		data := buf.Bytes()
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Microsecond), CaptureLength: len(data), Length: len(data)}
		if err := w.WritePacket(ci, data); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}
