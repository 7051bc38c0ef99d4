// Command capfuzz is the red-team kit's mutation fuzzer: it damages real
// captures (bit flips, truncation, packet records reordered, duplicated
// or dropped, pcap/pcapng and TLS length fields set to edge values, gzip
// wrapping, whole or cut short, records spliced in from another capture)
// and runs the built tlspcap binary on each with every subcommand and
// format, checking what a user must be able to rely on:
//
//   - the exit code is 0, 1 or 2, with no panic or runtime fatal error;
//   - JSON output is valid JSON;
//   - a second run gives the same output and exit code;
//   - the peak RSS stays under -max-rss, and no run takes longer than
//     -timeout.
//
// An input that breaks one of these is saved under -out with a .txt
// naming the command, the check and stderr's end. It runs for -duration
// or -count inputs, whichever ends first, from -seed (printed, so a run
// can be repeated). make fuzz-captures runs it; CI does not.
//
//	go run ./internal/capfuzz -bin bin/tlspcap -duration 5m -out bin/fuzz-captures
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// commands are the subcommand and format combinations run on each input.
var commands = [][]string{
	{"analyze"},
	{"analyze", "--format", "markdown"},
	{"analyze", "--format", "json", "--all"},
	{"analyze", "--format", "html"},
	{"analyze", "--format", "json", "--redact"},
	{"records"},
	{"records", "--format", "markdown"},
	{"records", "--format", "json"},
	{"certs"},
	{"certs", "--format", "markdown"},
	{"certs", "--format", "json"},
	// The input on stdin: the streaming reader, and live's.
	{"analyze", "--format", "json", "-"},
	{"live", "-r", "-", "--format", "json"},
}

type config struct {
	bin      string
	corpus   []string
	out      string
	duration time.Duration
	count    int
	seed     uint64
	maxRSS   int64 // bytes
	maxSize  int64
	timeout  time.Duration
}

func main() {
	var c config
	var corpus string
	var maxRSS int64
	flag.StringVar(&c.bin, "bin", "bin/tlspcap", "the tlspcap binary to run")
	flag.StringVar(&corpus, "corpus", "testdata/pcaps,testdata/malformed,../shared/pcaps", "comma-separated directories of captures to mutate (searched recursively)")
	flag.StringVar(&c.out, "out", "bin/fuzz-captures", "directory for failing inputs and their reports")
	flag.DurationVar(&c.duration, "duration", 2*time.Minute, "stop after this long")
	flag.IntVar(&c.count, "count", 0, "stop after this many inputs (0: no limit)")
	flag.Uint64Var(&c.seed, "seed", 0, "random seed (0: from the clock; printed)")
	flag.Int64Var(&maxRSS, "max-rss", 512, "peak RSS bound per run, MiB")
	flag.Int64Var(&c.maxSize, "max-size", 4<<20, "skip corpus files larger than this many bytes")
	flag.DurationVar(&c.timeout, "timeout", 2*time.Minute, "a run taking longer is a failure")
	flag.Parse()
	c.maxRSS = maxRSS << 20
	c.corpus = strings.Split(corpus, ",")
	if c.seed == 0 {
		c.seed = uint64(time.Now().UnixNano())
	}
	sum, err := fuzz(c, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "capfuzz:", err)
		os.Exit(2)
	}
	if sum.failed > 0 {
		os.Exit(1)
	}
}

// summary is what a run found.
type summary struct {
	inputs, runs, failed int
	byCheck              map[string]int
	peakRSS              int64
	peakRSSCmd           string
	slowest              time.Duration
	slowestCmd           string
}

func fuzz(c config, log *os.File) (summary, error) {
	sum := summary{byCheck: map[string]int{}}
	files := corpusFiles(c.corpus, c.maxSize)
	if len(files) == 0 {
		return sum, fmt.Errorf("no captures under %s", strings.Join(c.corpus, ", "))
	}
	if _, err := os.Stat(c.bin); err != nil {
		return sum, fmt.Errorf("%s: %v (make build first)", c.bin, err)
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return sum, err
	}
	work, err := os.MkdirTemp("", "capfuzz-")
	if err != nil {
		return sum, err
	}
	defer os.RemoveAll(work)
	fmt.Fprintf(log, "capfuzz: seed %d, %d captures, %d commands per input, bound %d MiB, for %v", c.seed, len(files), len(commands), c.maxRSS>>20, c.duration)
	if c.count > 0 {
		fmt.Fprintf(log, " or %d inputs", c.count)
	}
	fmt.Fprintln(log)
	rng := rand.New(rand.NewPCG(c.seed, c.seed^0x9e3779b97f4a7c15))
	end := time.Now().Add(c.duration)
	for time.Now().Before(end) && (c.count == 0 || sum.inputs < c.count) {
		src := files[rng.IntN(len(files))]
		orig, err := os.ReadFile(src)
		if err != nil {
			continue
		}
		donor, _ := os.ReadFile(files[rng.IntN(len(files))])
		data, how := mutate(rng, orig, donor)
		sum.inputs++
		in := filepath.Join(work, "input")
		if err := os.WriteFile(in, data, 0o644); err != nil {
			return sum, err
		}
		var fails []string
		for _, args := range commands {
			full := append(append([]string{}, args...), "--no-progress")
			stdin := ""
			if fromStdin(args) {
				stdin = in
			} else {
				full = append(full, in)
			}
			r1 := runOnce(c, full, stdin)
			r2 := runOnce(c, full, stdin)
			sum.runs += 2
			cmdline := "tlspcap " + strings.Join(args, " ") + " --no-progress INPUT"
			if stdin != "" {
				cmdline = "tlspcap " + strings.Join(args, " ") + " --no-progress < INPUT"
			}
			for _, r := range []result{r1, r2} {
				if r.rss > sum.peakRSS {
					sum.peakRSS, sum.peakRSSCmd = r.rss, cmdline+" ("+filepath.Base(src)+")"
				}
				if r.took > sum.slowest {
					sum.slowest, sum.slowestCmd = r.took, cmdline+" ("+filepath.Base(src)+")"
				}
			}
			for _, f := range check(c, args, r1, r2) {
				sum.byCheck[f]++
				fails = append(fails, fmt.Sprintf("%s: %s\n  exit %d, %d MiB, %v\n  stderr: %s", cmdline, f, r1.code, r1.rss>>20, r1.took.Round(time.Millisecond), tail(r1.stderr, 600)))
			}
		}
		if len(fails) > 0 {
			sum.failed++
			name, err := save(c.out, data, src, how, fails)
			if err != nil {
				return sum, err
			}
			fmt.Fprintf(log, "FAIL %s (%s; %s): %d failing checks, saved as %s\n", filepath.Base(src), how, strings.SplitN(fails[0], "\n", 2)[0], len(fails), name)
		}
		if sum.inputs%50 == 0 {
			fmt.Fprintf(log, "capfuzz: %d inputs, %d runs, %d failing inputs\n", sum.inputs, sum.runs, sum.failed)
		}
	}
	fmt.Fprintf(log, "capfuzz: %d inputs, %d runs, %d failing inputs (seed %d)\n", sum.inputs, sum.runs, sum.failed, c.seed)
	checks := make([]string, 0, len(sum.byCheck))
	for k := range sum.byCheck {
		checks = append(checks, k)
	}
	sort.Strings(checks)
	for _, k := range checks {
		fmt.Fprintf(log, "  %d× %s\n", sum.byCheck[k], k)
	}
	fmt.Fprintf(log, "  peak RSS %d MiB: %s\n  slowest run %v: %s\n", sum.peakRSS>>20, sum.peakRSSCmd, sum.slowest.Round(time.Millisecond), sum.slowestCmd)
	if sum.failed > 0 {
		fmt.Fprintf(log, "  failing inputs in %s\n", c.out)
	}
	return sum, nil
}

// corpusFiles lists the captures under the directories, in a fixed order.
func corpusFiles(dirs []string, maxSize int64) []string {
	var out []string
	for _, d := range dirs {
		filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			n := strings.ToLower(e.Name())
			if !(strings.HasSuffix(n, ".pcap") || strings.HasSuffix(n, ".pcapng") || strings.HasSuffix(n, ".cap") ||
				strings.HasSuffix(n, ".pcap.gz") || strings.HasSuffix(n, ".pcapng.gz")) {
				return nil
			}
			if fi, err := e.Info(); err == nil && fi.Size() <= maxSize && fi.Size() > 0 {
				out = append(out, p)
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

type result struct {
	code   int
	stdout []byte
	stderr []byte
	rss    int64
	took   time.Duration
	killed bool // the timeout ended it
}

// fromStdin tells whether a command reads the input on stdin.
func fromStdin(args []string) bool {
	for _, a := range args {
		if a == "-" {
			return true
		}
	}
	return false
}

func runOnce(c config, args []string, stdin string) result {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	if stdin != "" {
		f, err := os.Open(stdin)
		if err != nil {
			return result{code: -1, stderr: []byte("capfuzz: " + err.Error())}
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	// The same environment every run: no colour, no terminal width.
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errb.Bytes(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		r.code = -1
		r.stderr = append(r.stderr, []byte("\ncapfuzz: "+err.Error())...)
	}
	r.killed = ctx.Err() != nil
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.rss = ru.Maxrss << 10 // KiB on Linux
		}
	}
	return r
}

// check names what went wrong in a pair of runs of one command.
func check(c config, args []string, r1, r2 result) []string {
	var f []string
	switch {
	case r1.killed:
		f = append(f, fmt.Sprintf("took longer than %v", c.timeout))
	case r1.code < 0 || r1.code > 2:
		f = append(f, fmt.Sprintf("exit code %d", r1.code))
	}
	for _, bad := range []string{"panic:", "fatal error:", "goroutine "} {
		if bytes.Contains(r1.stderr, []byte(bad)) {
			f = append(f, "stderr has "+strings.TrimSuffix(bad, ":"))
			break
		}
	}
	if r1.code == 2 && bytes.Contains(r1.stderr, []byte("fatal error:")) {
		// the Go runtime's fatal errors also exit 2: counted above
	} else if r1.code != 2 && isJSON(args) && !validJSON(args, r1.stdout) {
		f = append(f, "invalid JSON")
	}
	// analyze always prints a summary (records and certs print nothing
	// for a capture without TLS records or certificates).
	if (args[0] == "analyze" || args[0] == "live") && r1.code != 2 && len(r1.stdout) == 0 {
		f = append(f, "analyze printed nothing although it did not fail")
	}
	if r1.code != r2.code || !bytes.Equal(r1.stdout, r2.stdout) {
		f = append(f, "second run differs")
	}
	if r1.rss > c.maxRSS {
		f = append(f, fmt.Sprintf("peak RSS over %d MiB", c.maxRSS>>20))
	}
	return f
}

// validJSON: one JSON document, or for live one per line (JSON Lines:
// a verdict per connection as it ends, then the summary).
func validJSON(args []string, out []byte) bool {
	if args[0] != "live" {
		return json.Valid(out)
	}
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	for _, l := range lines {
		if !json.Valid(l) {
			return false
		}
	}
	return len(out) > 0
}

func isJSON(args []string) bool {
	for i, a := range args {
		if a == "--format" && i+1 < len(args) && args[i+1] == "json" {
			return true
		}
	}
	return false
}

func tail(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return strings.ReplaceAll(s, "\n", "\n          ")
}

// save writes a failing input as NAME (its hash) and NAME.txt.
func save(dir string, data []byte, src, how string, fails []string) (string, error) {
	h := sha256.Sum256(data)
	name := filepath.Join(dir, hex.EncodeToString(h[:8]))
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return "", err
	}
	rep := fmt.Sprintf("input: %s\nmutated from: %s\nmutations: %s\n\n%s\n", name, src, how, strings.Join(fails, "\n\n"))
	return name, os.WriteFile(name+".txt", []byte(rep), 0o644)
}

// ---- mutations ----

// capFile is a capture cut into its file header and its records (pcap
// packet records, or pcapng blocks after the first section header), with
// whatever follows the last whole record.
type capFile struct {
	head  []byte
	recs  [][]byte
	rest  []byte
	ng    bool
	order binary.ByteOrder
}

// split cuts a pcap or pcapng file into records; ok is false for anything
// else (a gzip file, a damaged header), which is mutated as bytes.
func split(b []byte) (capFile, bool) {
	var f capFile
	if len(b) < 24 {
		return f, false
	}
	switch m := binary.LittleEndian.Uint32(b); m {
	case 0xa1b2c3d4, 0xa1b23c4d:
		f.order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		f.order = binary.BigEndian
	case 0x0a0d0d0a:
		f.ng = true
		switch binary.LittleEndian.Uint32(b[8:]) {
		case 0x1a2b3c4d:
			f.order = binary.LittleEndian
		case 0x4d3c2b1a:
			f.order = binary.BigEndian
		default:
			return f, false
		}
	default:
		return f, false
	}
	off := 24
	if f.ng {
		n := int(f.order.Uint32(b[4:]))
		if n < 28 || n > len(b) {
			return f, false
		}
		off = n
	}
	f.head = b[:off]
	for off < len(b) {
		var n int
		if f.ng {
			if off+12 > len(b) {
				break
			}
			n = int(f.order.Uint32(b[off+4:]))
			if n < 12 || n%4 != 0 {
				break
			}
		} else {
			if off+16 > len(b) {
				break
			}
			n = 16 + int(f.order.Uint32(b[off+8:]))
		}
		if n > len(b)-off {
			break
		}
		f.recs = append(f.recs, b[off:off+n])
		off += n
	}
	f.rest = b[off:]
	return f, true
}

func (f capFile) join() []byte {
	var b bytes.Buffer
	b.Write(f.head)
	for _, r := range f.recs {
		b.Write(r)
	}
	b.Write(f.rest)
	return b.Bytes()
}

// lengthEdges are the values a length field is set to.
var lengthEdges = []uint32{0, 1, 2, 11, 12, 15, 16, 0x3fff, 0x4000, 0x4001, 0xffff, 0x10000, 0x7fffffff, 0xffffffff}

// mutate applies one to three mutations, sometimes splices in records of
// another capture (donor), and sometimes wraps the result in gzip; it
// says what it did.
func mutate(rng *rand.Rand, orig, donor []byte) ([]byte, string) {
	data := append([]byte(nil), orig...)
	var how []string
	if rng.IntN(6) == 0 {
		var what string
		if data, what = splice(rng, data, donor); what != "" {
			how = append(how, what)
		}
	}
	for n := 1 + rng.IntN(3); n > 0; n-- {
		var what string
		data, what = mutateOnce(rng, data)
		how = append(how, what)
	}
	if rng.IntN(7) == 0 {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(data)
		w.Close()
		data = z.Bytes()
		if rng.IntN(3) == 0 && len(data) > 20 {
			data = data[:10+rng.IntN(len(data)-10)]
			how = append(how, "gzip, cut short")
		} else {
			how = append(how, "gzip")
		}
	}
	return data, strings.Join(how, ", ")
}

// splice inserts one to three records of donor, a capture of the same
// format and byte order (another link type, other connections, other
// interfaces), at random places.
func splice(rng *rand.Rand, data, donor []byte) ([]byte, string) {
	f, ok := split(data)
	d, dok := split(donor)
	if !ok || !dok || f.ng != d.ng || f.order != d.order || len(d.recs) == 0 {
		return data, ""
	}
	n := 1 + rng.IntN(3)
	for i := 0; i < n; i++ {
		r := d.recs[rng.IntN(len(d.recs))]
		j := rng.IntN(len(f.recs) + 1)
		f.recs = append(f.recs[:j], append([][]byte{r}, f.recs[j:]...)...)
	}
	return f.join(), fmt.Sprintf("%d records of another capture spliced in", n)
}

func mutateOnce(rng *rand.Rand, data []byte) ([]byte, string) {
	if len(data) == 0 {
		return data, "empty"
	}
	f, ok := split(data)
	recs := len(f.recs)
	switch k := rng.IntN(8); {
	case k == 0:
		n := 1 + rng.IntN(8)
		for i := 0; i < n; i++ {
			p := rng.IntN(len(data))
			data[p] ^= 1 << rng.IntN(8)
		}
		return data, fmt.Sprintf("%d bit flips", n)
	case k == 1:
		p := rng.IntN(len(data))
		return data[:p], fmt.Sprintf("cut at byte %d of %d", p, len(data))
	case k == 2 && ok && recs >= 2:
		i, j := rng.IntN(recs), rng.IntN(recs)
		f.recs[i], f.recs[j] = f.recs[j], f.recs[i]
		return f.join(), fmt.Sprintf("records %d and %d swapped", i+1, j+1)
	case k == 3 && ok && recs >= 1:
		i, j := rng.IntN(recs), rng.IntN(recs+1)
		r := f.recs[i]
		f.recs = append(f.recs[:j], append([][]byte{r}, f.recs[j:]...)...)
		return f.join(), fmt.Sprintf("record %d repeated at %d", i+1, j+1)
	case k == 4 && ok && recs >= 1:
		i := rng.IntN(recs)
		f.recs = append(f.recs[:i], f.recs[i+1:]...)
		return f.join(), fmt.Sprintf("record %d dropped", i+1)
	case k == 5 && ok && recs >= 1:
		i := rng.IntN(recs)
		r := append([]byte(nil), f.recs[i]...)
		v := lengthEdges[rng.IntN(len(lengthEdges))]
		if rng.IntN(3) == 0 {
			v = uint32(len(r)) + uint32(rng.IntN(5)) - 2
		}
		field := 8 // pcap incl_len
		if f.ng {
			field = 4 // block total length
			if rng.IntN(2) == 0 {
				field = len(r) - 4 // the trailing copy
			}
		}
		f.order.PutUint32(r[field:], v)
		f.recs[i] = r
		return f.join(), fmt.Sprintf("record %d length field = %d", i+1, v)
	case k >= 6:
		// A TLS record header (type 20-23, version 3.x) or handshake
		// header: set its length to an edge value.
		var at []int
		for p := 0; p+5 <= len(data); p++ {
			if data[p] >= 20 && data[p] <= 23 && data[p+1] == 3 && data[p+2] <= 4 {
				at = append(at, p)
			}
		}
		if len(at) == 0 {
			break
		}
		p := at[rng.IntN(len(at))]
		if data[p] == 22 && p+9 <= len(data) && rng.IntN(2) == 0 {
			v := lengthEdges[rng.IntN(len(lengthEdges))] & 0xffffff
			data[p+6], data[p+7], data[p+8] = byte(v>>16), byte(v>>8), byte(v)
			return data, fmt.Sprintf("handshake length at byte %d = %d", p+6, v)
		}
		v := uint16(lengthEdges[rng.IntN(len(lengthEdges))])
		if rng.IntN(3) == 0 {
			v = binary.BigEndian.Uint16(data[p+3:]) + uint16(rng.IntN(5)) - 2
		}
		binary.BigEndian.PutUint16(data[p+3:], v)
		return data, fmt.Sprintf("TLS record length at byte %d = %d", p+3, v)
	}
	p := rng.IntN(len(data))
	data[p] = byte(rng.IntN(256))
	return data, fmt.Sprintf("byte %d = random", p)
}
