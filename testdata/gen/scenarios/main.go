// Command scenarios rebuilds the ground-truth captures in testdata/pcaps: for
// each scenario it starts real TLS programs (mbedTLS ssl_client2/ssl_server2,
// openssl s_client/s_server, Go crypto/tls, small misbehaving servers), records
// the traffic with tcpdump, and writes NAME.pcapng plus NAME.expect.json with
// what the programs printed and what tlspcap must conclude.
//
// Run as root (tcpdump, veth for the no-SYN-ACK case):
//
//	testdata/gen/build-mbedtls.sh
//	go run ./testdata/gen/scenarios -out testdata/pcaps
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	flagOut   = flag.String("out", "testdata/pcaps", "directory for NAME.pcapng and NAME.expect.json")
	flagCache = flag.String("cache", envOr("TLSPCAP_GEN_CACHE", "/var/cache/tlspcap-gen"), "mbedTLS builds and certificates")
	flagRun   = flag.String("run", "", "only scenarios whose name matches this regexp")
	flagList  = flag.Bool("list", false, "list scenario names and exit")
	flagKeep  = flag.Bool("keep", false, "keep the raw .pcap next to the .pcapng")
)

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

// Program is what one real program did, as recorded in the sidecar.
type Program struct {
	Role    string `json:"role"`
	Cmd     string `json:"cmd"`
	Printed string `json:"printed"`
	Result  string `json:"result"`
}

// Expect is what tlspcap must conclude about the capture.
type Expect struct {
	Stream      int      `json:"stream"`
	Outcome     string   `json:"outcome,omitempty"`
	Findings    []string `json:"findings"`
	DeviceError string   `json:"device_error,omitempty"`
	Frames      []int    `json:"frames"`
	// ClientLabelNot: the connection's client_label must not contain this
	// (a browser must not be taken for mbedTLS).
	ClientLabelNot string `json:"client_label_not,omitempty"`
	// Certificates: how many server certificates tlspcap must list for the
	// stream (TLS 1.3: only when it used the capture's key log).
	Certificates int `json:"certificates,omitempty"`
}

// Sidecar is NAME.expect.json.
type Sidecar struct {
	Description   string    `json:"description"`
	Programs      []Program `json:"programs"`
	Args          []string  `json:"args"`
	Expect        Expect    `json:"expect"`
	Scope         string    `json:"scope,omitempty"` // "capture" for DNS: no TCP stream
	Notes         string    `json:"notes,omitempty"`
	CaptureFilter string    `json:"capture_filter,omitempty"`
	Generator     string    `json:"generator"`
}

// Scenario is one capture.
type Scenario struct {
	Name string
	Desc string
	Args []string
	// Base names an earlier scenario whose capture Derive post-processes
	// (capture-quality variants); Server and Client are then unused.
	Base   string
	Derive func(r *Run, basePcapng string) error
	// Iface is the capture interface ("lo" unless set); Net prepares it.
	Iface  string
	Net    func(r *Run) (cleanup func(), err error)
	Server func(r *Run) error
	// NoListener: do not wait for a TCP listener on the port before capturing.
	NoListener bool
	Client     func(r *Run) error
	Expect     func(r *Run) error
	Notes      string
}

// Run is one scenario's execution state.
type Run struct {
	S        *Scenario
	Port     int
	Dir      string // scratch directory
	Certs    string
	Pcapng   string
	exp      Expect
	progs    []Program
	bg       []*bgProc
	stops    []func()
	mu       sync.Mutex
	notes    []string
	Filter   string
	ClientIP string
	// set by Derive for capture-missing-bytes
	dropped  int
	basePort string
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("scenarios: ")
	all := scenarios()
	if *flagList {
		for _, s := range all {
			fmt.Println(s.Name)
		}
		return
	}
	var re *regexp.Regexp
	if *flagRun != "" {
		re = regexp.MustCompile(*flagRun)
	}
	if os.Geteuid() != 0 {
		log.Fatal("run as root: tcpdump and the network setup need it")
	}
	for _, tool := range []string{"tcpdump", "tshark", "editcap", "openssl", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			log.Fatalf("%s not found: apt-get install tcpdump tshark openssl iproute2", tool)
		}
	}
	// Headless Chromium (the browser) and certutil (its NSS trust store).
	for _, tool := range []string{"chromium", "certutil", "getent"} {
		if _, err := exec.LookPath(tool); err != nil {
			log.Fatalf("%s not found: testdata/gen/build-mbedtls.sh installs it (apt-get install chromium libnss3-tools libc-bin)", tool)
		}
	}
	for _, b := range []string{"2.28-16384", "2.28-4096", "3.6-16384", "3.6-4096"} {
		if _, err := os.Stat(mbedBin(b, "ssl_client2")); err != nil {
			log.Fatalf("mbedTLS build %s missing: run testdata/gen/build-mbedtls.sh first", b)
		}
	}
	certDir := filepath.Join(*flagCache, "certs")
	if err := makeCerts(certDir); err != nil {
		log.Fatalf("certificates: %v", err)
	}
	if err := os.MkdirAll(*flagOut, 0o755); err != nil {
		log.Fatal(err)
	}
	failed := 0
	for i := range all {
		s := &all[i]
		if re != nil && !re.MatchString(s.Name) {
			continue
		}
		port := 14100 + i
		r := &Run{S: s, Port: port, Certs: certDir, Filter: fmt.Sprintf("port %d", port), ClientIP: "127.0.0.1"}
		start := time.Now()
		if err := r.run(); err != nil {
			failed++
			log.Printf("%-40s FAILED: %v", s.Name, err)
			continue
		}
		fi, _ := os.Stat(r.Pcapng)
		log.Printf("%-40s ok  %6d bytes  %.1fs  %v frames=%v %s", s.Name, fi.Size(), time.Since(start).Seconds(), r.exp.Findings, r.exp.Frames, r.exp.DeviceError)
	}
	if failed > 0 {
		log.Fatalf("%d scenarios failed", failed)
	}
}

func mbedBin(build, prog string) string {
	return filepath.Join(*flagCache, "mbedtls-"+build, "programs", "ssl", prog)
}

func (r *Run) run() error {
	s := r.S
	dir, err := os.MkdirTemp("", "tlspcap-gen-"+s.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r.Dir = dir
	r.Pcapng = filepath.Join(*flagOut, s.Name+".pcapng")
	r.exp.Stream = 0
	if s.Base != "" {
		base := filepath.Join(*flagOut, s.Base+".pcapng")
		if _, err := os.Stat(base); err != nil {
			return fmt.Errorf("base capture %s missing: run it first", base)
		}
		if err := s.Derive(r, base); err != nil {
			return err
		}
		var bs Sidecar
		if b, err := os.ReadFile(filepath.Join(*flagOut, s.Base+".expect.json")); err == nil {
			_ = json.Unmarshal(b, &bs)
		}
		r.progs = bs.Programs
		r.Filter = bs.CaptureFilter
	} else {
		if err := r.capture(); err != nil {
			return err
		}
	}
	if s.Expect == nil {
		r.note("NO EXPECTATION YET")
	} else if err := s.Expect(r); err != nil {
		return fmt.Errorf("expectation: %w", err)
	}
	if r.exp.Findings == nil {
		r.exp.Findings = []string{}
	}
	if r.exp.Frames == nil {
		r.exp.Frames = []int{}
	}
	args := s.Args
	if args == nil {
		args = []string{}
	}
	notes := s.Notes
	if len(r.notes) > 0 {
		notes = strings.TrimSpace(notes + " " + strings.Join(r.notes, " "))
	}
	sc := Sidecar{
		Description: s.Desc, Programs: r.progs, Args: args, Expect: r.exp, Notes: notes,
		CaptureFilter: r.Filter,
		Generator:     "go run ./testdata/gen/scenarios -run '^" + s.Name + "$'",
	}
	if r.exp.Stream < 0 {
		sc.Scope = "capture"
	}
	b, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*flagOut, s.Name+".expect.json"), append(b, '\n'), 0o644)
}

// capture runs the scenario's programs under tcpdump.
func (r *Run) capture() error {
	s := r.S
	iface := s.Iface
	if iface == "" {
		iface = "lo"
	}
	if s.Net != nil {
		cleanup, err := s.Net(r)
		if cleanup != nil {
			defer cleanup()
		}
		if err != nil {
			return fmt.Errorf("network setup: %w", err)
		}
	}
	defer r.stopAll()
	if s.Server != nil {
		if err := s.Server(r); err != nil {
			return fmt.Errorf("server: %w", err)
		}
		if !s.NoListener {
			if err := waitListen(r.Port, 5*time.Second); err != nil {
				r.stopAll()
				return fmt.Errorf("%w; server output: %s", err, r.bgOutput())
			}
		}
	}
	raw := filepath.Join(r.Dir, "raw.pcap")
	td := exec.Command("tcpdump", "-i", iface, "-n", "-U", "--immediate-mode", "-Z", "root", "-w", raw, r.Filter)
	stderr := &syncBuf{}
	td.Stderr = stderr
	if err := td.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "listening on") {
		if time.Now().After(deadline) {
			td.Process.Kill()
			return fmt.Errorf("tcpdump did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cerr := s.Client(r)
	time.Sleep(300 * time.Millisecond)
	r.stopAll()
	time.Sleep(200 * time.Millisecond)
	td.Process.Signal(syscall.SIGINT)
	td.Wait()
	if os.Getenv("TLSPCAP_GEN_DEBUG") != "" {
		log.Printf("tcpdump: %s", stderr.String())
	}
	if cerr != nil {
		return fmt.Errorf("client: %w", cerr)
	}
	out, err := exec.Command("editcap", "-F", "pcapng", raw, r.Pcapng).CombinedOutput()
	if err != nil {
		return fmt.Errorf("editcap: %v: %s", err, out)
	}
	if *flagKeep {
		copyFile(raw, strings.TrimSuffix(r.Pcapng, ".pcapng")+".pcap")
	}
	return nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// waitListen polls /proc/net/tcp (no packets on the wire) for a listener.
func waitListen(port int, d time.Duration) error {
	want := fmt.Sprintf(":%04X ", port)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
			b, _ := os.ReadFile(f)
			for _, line := range strings.Split(string(b), "\n") {
				fs := strings.Fields(line)
				if len(fs) > 3 && strings.HasSuffix(fs[1]+" ", want) && fs[3] == "0A" {
					return nil
				}
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	return fmt.Errorf("nothing listening on port %d", port)
}

// ---- processes ----

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type bgProc struct {
	role, display string
	cmd           *exec.Cmd
	out           *syncBuf
	summarize     func(out string) (printed, result string)
	done          chan struct{}
}

// startProc starts a background program (a server). Its output is summarized
// into the sidecar when the scenario ends.
func (r *Run) startProc(role, display string, summarize func(string) (string, string), name string, args ...string) error {
	c := exec.Command(name, args...)
	out := &syncBuf{}
	c.Stdout, c.Stderr = out, out
	c.Dir = r.Dir
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		return err
	}
	p := &bgProc{role: role, display: display, cmd: c, out: out, summarize: summarize, done: make(chan struct{})}
	go func() { c.Wait(); close(p.done) }()
	r.bg = append(r.bg, p)
	return nil
}

func (r *Run) bgOutput() string {
	var b strings.Builder
	for _, p := range r.bg {
		b.WriteString(p.out.String())
	}
	return b.String()
}

// stopAll ends background programs (by their own process group) and Go
// servers, and records what the programs printed.
func (r *Run) stopAll() {
	for _, p := range r.bg {
		select {
		case <-p.done:
		case <-time.After(300 * time.Millisecond):
			syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(2 * time.Second):
				syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
				<-p.done
			}
		}
		printed, result := p.summarize(p.out.String())
		r.addProg(Program{Role: p.role, Cmd: p.display, Printed: printed, Result: result})
	}
	r.bg = nil
	for _, f := range r.stops {
		f()
	}
	r.stops = nil
}

func (r *Run) addProg(p Program) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progs = append(r.progs, p)
}

func (r *Run) note(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, s)
}

// runFg runs a foreground program (a client) with a time limit and returns
// its combined output.
func (r *Run) runFg(limit time.Duration, stdin io.Reader, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = r.Dir
	c.Stdin = stdin
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGINT) }
	c.WaitDelay = time.Second
	err := c.Run()
	if ctx.Err() != nil {
		return out.String() + fmt.Sprintf("\n[stopped after %s]\n", limit), nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = nil // a failing client is the point of most scenarios
	}
	return out.String(), err
}

// ---- tshark ----

// frames returns the frame numbers matching a display filter.
func (r *Run) frames(filter string, opts ...string) ([]int, error) {
	args := append([]string{"-r", r.Pcapng}, opts...)
	args = append(args, "-Y", filter, "-T", "fields", "-e", "frame.number")
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("tshark %q: %v", filter, err)
	}
	var fs []int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if n, err := strconv.Atoi(strings.TrimSpace(sc.Text())); err == nil {
			fs = append(fs, n)
		}
	}
	return fs, nil
}

// first returns the first frame matching filter, or an error.
func (r *Run) first(filter string, opts ...string) (int, error) {
	fs, err := r.frames(filter, opts...)
	if err != nil {
		return 0, err
	}
	if len(fs) == 0 {
		return 0, fmt.Errorf("no frame matches %q", filter)
	}
	return fs[0], nil
}

// last returns the last frame matching filter.
func (r *Run) last(filter string, opts ...string) (int, error) {
	fs, err := r.frames(filter, opts...)
	if err != nil {
		return 0, err
	}
	if len(fs) == 0 {
		return 0, fmt.Errorf("no frame matches %q", filter)
	}
	return fs[len(fs)-1], nil
}

// recordHeader is a TLS record header found in one direction's byte stream.
type recordHeader struct {
	Frame    int // frame carrying the 5-byte header's first byte
	Type     byte
	Length   int
	HSType   int  // first handshake message type, -1 if none/unknown
	HSLen    int  // that message's declared length
	Complete bool // the whole record is in the capture
}

// records walks the TCP payload sent by the server (fromServer) or the
// client, in sequence order, and returns each TLS record header with the
// frame that carries it. Stops at the first byte that is not a TLS header.
func (r *Run) records(fromServer bool) ([]recordHeader, error) {
	out, err := exec.Command("tshark", "-r", r.Pcapng, "-Y", "tcp.len > 0", "-T", "fields",
		"-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.seq", "-e", "tcp.payload").Output()
	if err != nil {
		return nil, err
	}
	var stream []byte
	var frameAt []int // frame of each stream byte
	next := -1
	port := strconv.Itoa(r.Port)
	for _, line := range strings.Split(string(out), "\n") {
		fs := strings.Split(line, "\t")
		if len(fs) < 4 || (fs[1] == port) != fromServer {
			continue
		}
		fr, _ := strconv.Atoi(fs[0])
		seq, _ := strconv.Atoi(fs[2])
		b, err := hex.DecodeString(strings.ReplaceAll(fs[3], ":", ""))
		if err != nil {
			continue
		}
		if next >= 0 && seq < next { // retransmission / overlap
			if seq+len(b) <= next {
				continue
			}
			b = b[next-seq:]
			seq = next
		}
		next = seq + len(b)
		stream = append(stream, b...)
		for range b {
			frameAt = append(frameAt, fr)
		}
	}
	var recs []recordHeader
	for off := 0; off+5 <= len(stream); {
		t := stream[off]
		if t < 20 || t > 24 || stream[off+1] != 3 {
			break
		}
		n := int(binary.BigEndian.Uint16(stream[off+3 : off+5]))
		h := recordHeader{Frame: frameAt[off], Type: t, Length: n, HSType: -1, Complete: off+5+n <= len(stream)}
		if t == 22 && off+9 <= len(stream) {
			h.HSType = int(stream[off+5])
			h.HSLen = int(stream[off+6])<<16 | int(stream[off+7])<<8 | int(stream[off+8])
		}
		recs = append(recs, h)
		off += 5 + n
	}
	return recs, nil
}
