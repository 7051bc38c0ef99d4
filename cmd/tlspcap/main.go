// Command tlspcap reads a capture of TLS connections and says why they
// failed, in the terms of the device that made them (ESP32/ESP8266, mbedTLS).
package main

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/diagnose/device"
	"tlspcap/diagnose/values"
	"tlspcap/reports"
)

// Exit codes: 0 nothing failed, 1 failures found, 2 usage, unreadable
// input, or nothing to analyse (diagnose.VerdictNothing).
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	programName = "tlspcap"
)

var version = "0.1.0-dev"

// usageError marks errors that exit with code 2 and a usage hint.
type usageError struct{ error }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	defer withMemoryBudget()()
	code := exitOK
	root := &cobra.Command{
		Use:           programName,
		Short:         "Diagnose failing TLS connections of ESP32/ESP8266 (mbedTLS) devices from packet captures",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(analyzeCmd(&code), recordsCmd(), certsCmd(), explainCmd(), liveCmd(&code))
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	// cobra's own completion command checks its arguments with cobra's
	// validators: added now, so that their errors are usage errors too.
	root.InitDefaultCompletionCmd(args...)
	usageArgs(root)
	root.SetArgs(args)
	if err := execute(root); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", programName, err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", programName)
		}
		return exitUsage
	}
	return code
}

// execute runs root. The root command runs nothing itself, so an error
// that comes back from it is cobra's search for the command named (an
// unknown command), a usage error.
func execute(root *cobra.Command) error {
	c, err := root.ExecuteC()
	if err != nil && c == root {
		return usageError{err}
	}
	return err
}

// usageArgs makes the argument checks of c and its subcommands return
// usage errors.
func usageArgs(c *cobra.Command) {
	if check := c.Args; check != nil {
		c.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		usageArgs(sub)
	}
}

// common flags of the commands that read a capture.
type readFlags struct {
	format       string
	output       string
	profile      string
	device       string
	inContentLen int
	ca           string
	browserChain string
	browserKeys  []string
	keylogs      []string
	all          bool
	client       string
	noProgress   bool
	formats      []reports.Format // what --format accepts (register)
	// Resource bounds (capture.Options): --max-connections, --max-buffered,
	// --max-memory.
	maxConns    int
	maxBuffered string
	maxMemory   string
	// --redact (analyze, records, certs).
	redact bool
	// analyze only: --export-failing, and the connections before --client
	// narrowed them (the export's port-reuse bounds).
	exportFailing string
	unselected    map[connEnds][]int
	// input is the capture being read ("" for live), so that no output
	// flag can name it.
	input string
}

// register adds the flags of a command that reads a capture; formats are
// those it writes, the only ones its help lists and --format accepts.
func (f *readFlags) register(c *cobra.Command, analysis bool, formats []reports.Format) {
	f.formats = formats
	c.Flags().StringVar(&f.format, "format", "", "output format: "+reports.FormatList(formats)+" (default text)")
	c.Flags().StringVarP(&f.output, "output", "o", "", "write the report to this file instead of stdout")
	c.Flags().BoolVar(&f.noProgress, "no-progress", false, "no progress bar on stderr")
	c.Flags().StringArrayVar(&f.keylogs, "keylog", nil, "NSS key log file (SSLKEYLOGFILE) to decrypt TLS 1.3/1.2 sessions; repeat for several files (keys embedded in a pcapng are used too)")
	registerLimits(c, &f.maxConns, &f.maxBuffered, &f.maxMemory)
	if c.Name() != "live" {
		c.Flags().BoolVar(&f.redact, "redact", false, "replace IP addresses, MAC addresses, host names, certificate names and fingerprints, URLs and the file name in the output by pseudonyms (192.0.2.1, host-1.example, name-1)")
	}
	if !analysis {
		return
	}
	var names []string
	for _, p := range device.Profiles() {
		names = append(names, p.Name)
	}
	c.Flags().StringVar(&f.profile, "profile", "", "device profile: "+strings.Join(names, ", ")+" (default "+device.DefaultProfile.Name+")")
	c.Flags().StringVar(&f.device, "device", "", "the device: its IP or MAC address (the report keeps only its connections), or client|server for the side it plays (default client)")
	c.Flags().Var(&boundedInt{p: &f.inContentLen, min: 512, max: 16384, what: "CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN's range in menuconfig"},
		"in-content-len", "the device's CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN, 512 to 16384 (default: the profile's)")
	c.Flags().StringVar(&f.ca, "ca", "", "PEM file with the CA certificates the device trusts (cacert_pem); default: the ESP certificate bundle (Mozilla roots)")
	c.Flags().StringVar(&f.browserChain, "browser-chain", "", "the chain a browser got from the same server, to compare: a PEM file, or a capture of the browser")
	c.Flags().StringArrayVar(&f.browserKeys, "browser-keylog", nil, "key log (SSLKEYLOGFILE) of the browser's capture given as --browser-chain, to read its TLS 1.3 certificates; repeatable")
	c.Flags().BoolVar(&f.all, "all", false, "show healthy connections' findings and info findings too")
	c.Flags().StringVar(&f.client, "client", "", "only connections whose client (or server) fingerprint matches: ja4=t13d1516h2_8daaf6152771_e5627efa2ab1, ja3=HASH, ja3s=, ja4s=")
}

func (f *readFlags) options(keepRecords bool) (diagnose.Options, error) {
	o := diagnose.Options{Profile: f.profile, InContentLen: f.inContentLen, KeepRecords: keepRecords, KeepTimeline: true, AllTimelines: f.all}
	if err := f.checkOutputs(); err != nil {
		return o, err
	}
	switch f.device {
	case "":
	case "client", "server":
		o.DeviceRole = f.device
	default:
		a, err := netip.ParseAddr(f.device)
		if err != nil {
			mac, merr := net.ParseMAC(f.device)
			if merr != nil {
				return o, usageError{fmt.Errorf("--device %q: give the device's IP or MAC address, or client or server", f.device)}
			}
			o.DeviceMAC = mac
		}
		o.Device = a
	}
	var err error
	if f.ca != "" {
		if o.CA, err = os.ReadFile(f.ca); err != nil {
			return o, usageError{fmt.Errorf("--ca: %v", err)}
		}
	}
	if f.browserChain != "" {
		if o.BrowserChain, err = os.ReadFile(f.browserChain); err != nil {
			return o, usageError{fmt.Errorf("--browser-chain: %v", err)}
		}
	}
	if o.KeyLog, err = readKeyLogs("--keylog", f.keylogs); err != nil {
		return o, err
	}
	if o.BrowserKeyLog, err = readKeyLogs("--browser-keylog", f.browserKeys); err != nil {
		return o, err
	}
	return o, nil
}

// readKeyLogs concatenates NSS key log files.
func readKeyLogs(flag string, files []string) ([]byte, error) {
	var out []byte
	for _, k := range files {
		b, err := os.ReadFile(k)
		if err != nil {
			return nil, usageError{fmt.Errorf("%s: %v", flag, err)}
		}
		out = append(append(out, b...), '\n')
	}
	return out, nil
}

// format picks the output format: text by default.
func (f *readFlags) outFormat() (reports.Format, error) {
	if f.format == "" {
		return reports.Text, nil
	}
	rf, err := reports.ParseFormat(f.format, f.formats...)
	if err != nil {
		return "", usageError{fmt.Errorf("--format: %v", err)}
	}
	return rf, nil
}

// analyse reads one capture through the pipeline. When its compressed
// data is damaged, the report covers what was read before, and damaged
// says what happened.
func analyse(c *cobra.Command, path string, o diagnose.Options, f *readFlags) (rep *diagnose.Report, damaged, err error) {
	a, err := diagnose.NewAnalyzer(o)
	if err != nil {
		return nil, nil, usageError{err}
	}
	co, err := captureLimits(f.maxConns, f.maxBuffered, f.maxMemory)
	if err != nil {
		return nil, nil, err
	}
	noProgress := f.noProgress
	var st capture.Stats
	if path == "-" {
		st, err = capture.Read(c.InOrStdin(), "stdin", a, co)
	} else {
		fh, oerr := os.Open(path)
		if oerr != nil {
			return nil, nil, fmt.Errorf("%s: %v", path, unwrapPathError(oerr))
		}
		defer fh.Close()
		var r io.Reader = fh
		if bar := progress(c, fh, noProgress); bar != nil {
			pr := progressbar.NewReader(fh, bar)
			r = &pr
			defer bar.Finish()
		}
		st, err = capture.Read(r, path, a, co)
	}
	if de := (*capture.DecompressError)(nil); errors.As(err, &de) {
		damaged, err = err, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return a.Report(path, st), damaged, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// progress returns a bar on stderr when stderr is a terminal and the file is
// big enough to wait for.
func progress(c *cobra.Command, fh *os.File, off bool) *progressbar.ProgressBar {
	if off {
		return nil
	}
	errf, ok := c.ErrOrStderr().(*os.File)
	if !ok || !term.IsTerminal(int(errf.Fd())) {
		return nil
	}
	fi, err := fh.Stat()
	if err != nil || fi.Size() < 64<<20 {
		return nil
	}
	return progressbar.NewOptions64(fi.Size(), progressbar.OptionSetWriter(errf), progressbar.OptionShowBytes(true),
		progressbar.OptionSetDescription("reading"), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(200e6))
}

// output opens -o or stdout, and tells whether it is a colour terminal.
// live writes -o as verdicts come; a report is written with
// atomicOutput.
func output(c *cobra.Command, path string) (io.Writer, func() error, reports.Options, error) {
	if path != "" {
		fh, err := os.Create(path)
		if err != nil {
			return nil, nil, reports.Options{}, usageError{fmt.Errorf("-o: %v", err)}
		}
		return fh, fh.Close, reports.Options{}, nil
	}
	w, o := stdout(c)
	return w, func() error { return nil }, o, nil
}

// atomicOutput opens -o through a temporary file (see atomicFile), or
// stdout; the report is in place once Commit returns.
func atomicOutput(c *cobra.Command, path string) (io.Writer, *atomicFile, reports.Options, error) {
	if path != "" {
		a, err := createAtomic(path)
		if err != nil {
			return nil, nil, reports.Options{}, usageError{fmt.Errorf("-o %s: %v", path, err)}
		}
		return a, a, reports.Options{}, nil
	}
	w, o := stdout(c)
	return w, nil, o, nil
}

// stdout is the command's standard output, with colour and width when it
// is a terminal.
func stdout(c *cobra.Command) (io.Writer, reports.Options) {
	o := reports.Options{}
	w := c.OutOrStdout()
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.Color = os.Getenv("NO_COLOR") == ""
		if wd, _, err := term.GetSize(int(f.Fd())); err == nil {
			o.Width = wd
		}
	}
	return w, o
}

// renderer writes one command's view of the report.
type renderer func(w io.Writer, rep *diagnose.Report, f reports.Format, o reports.Options) error

// readAndRender is what every capture-reading command does: check the flags,
// run the pipeline over the file, render to stdout or -o.
func readAndRender(c *cobra.Command, path string, f *readFlags, keepRecords bool, render renderer) (_ *diagnose.Report, err error) {
	fmtOut, err := f.outFormat()
	if err != nil {
		return nil, err
	}
	f.input = path
	o, err := f.options(keepRecords)
	if err != nil {
		return nil, err
	}
	// Decide finished connections on the second core while reading goes on.
	o.Concurrent = true
	if f.redact {
		// The analysis writes every value through p as it names it; the
		// report's own address and SNI fields go through it too.
		p := values.NewPseudonyms()
		o.Values = p
		plain := render
		render = func(w io.Writer, rep *diagnose.Report, fm reports.Format, ro reports.Options) error {
			return plain(w, reports.Redact(rep, p), fm, ro)
		}
	}
	rep, damaged, err := analyse(c, path, o, f)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err == nil {
			// Damaged compressed data: the report on what came before it,
			// then the error (exit 2).
			err = damaged
		}
		if err != nil { // the caller gets no report to close
			rep.Close()
		}
	}()
	if f.exportFailing != "" {
		f.unselected = connStarts(rep.All())
	}
	if f.client != "" {
		if err := rep.SelectClients(f.client); err != nil {
			return nil, usageError{err}
		}
	}
	w, out, ro, err := atomicOutput(c, f.output)
	if err != nil {
		return nil, err
	}
	defer out.Abort() // a report that failed midway leaves an older one as it was
	ro.All = f.all
	if err = render(w, rep, fmtOut, ro); err != nil {
		return nil, err
	}
	if out != nil {
		if err = out.Commit(); err != nil {
			return nil, fmt.Errorf("-o %s: %v", f.output, unwrapPathError(err))
		}
	}
	return rep, nil
}

func analyzeCmd(code *int) *cobra.Command {
	var f readFlags
	c := &cobra.Command{
		Use:   "analyze FILE|-",
		Short: "Diagnose every TCP/TLS connection in a capture (pcap, pcapng, gzip; - for stdin)",
		Args:  exactFile,
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkExport(args[0], f.exportFailing); err != nil {
				return err
			}
			if f.redact && f.exportFailing != "" {
				fmt.Fprintf(c.ErrOrStderr(), "%s: --redact applies to the report only: %s holds the original packets (addresses, names, certificates)\n", programName, f.exportFailing)
			}
			rep, err := readAndRender(c, args[0], &f, false, reports.Write)
			if err != nil {
				return err
			}
			defer rep.Close()
			if f.exportFailing != "" {
				if err := exportFailing(c.ErrOrStderr(), args[0], f.exportFailing, f.unselected, rep); err != nil {
					return err
				}
			}
			switch sum := rep.Summary(); sum.Verdict() {
			case diagnose.VerdictFailed:
				*code = exitFailed
			case diagnose.VerdictNothing:
				// The report says it too; a script reads the exit code.
				msg := sum.Nothing.String()
				if f.redact { // the names are in the redacted report only
					msg = "nothing was analysed: the report says why"
				}
				fmt.Fprintf(c.ErrOrStderr(), "%s: %s: %s\n", programName, args[0], msg)
				*code = exitUsage
			}
			return nil
		},
	}
	f.register(c, true, reports.Formats)
	c.Flags().StringVar(&f.exportFailing, "export-failing", "", "write the packets of the failing connections and their DNS to this pcapng file (needs a capture file, not stdin)")
	return c
}

func recordsCmd() *cobra.Command {
	var f readFlags
	c := &cobra.Command{
		Use:   "records FILE|-",
		Short: "List every TLS record of every connection, with frames (like ssldump)",
		Args:  exactFile,
		RunE: func(c *cobra.Command, args []string) error {
			rep, err := readAndRender(c, args[0], &f, true, reports.WriteRecords)
			if err == nil {
				rep.Close()
			}
			return err
		},
	}
	f.register(c, false, []reports.Format{reports.Text, reports.Markdown, reports.JSON})
	return c
}

func certsCmd() *cobra.Command {
	var f readFlags
	var outDir string
	c := &cobra.Command{
		Use:   "certs FILE|-",
		Short: "List the server certificate chains in a capture; --out DIR writes them as PEM files",
		Args:  exactFile,
		RunE: func(c *cobra.Command, args []string) error {
			if f.format == string(reports.HTML) {
				return usageError{fmt.Errorf("certs: --format html is for analyze; use text, markdown or json")}
			}
			if f.redact && outDir != "" {
				fmt.Fprintf(c.ErrOrStderr(), "%s: --redact applies to the listing only: the PEM files in %s hold the original certificates\n", programName, outDir)
			}
			rep, err := readAndRender(c, args[0], &f, false, func(w io.Writer, rep *diagnose.Report, fm reports.Format, _ reports.Options) error {
				if outDir != "" {
					if err := writeChains(outDir, rep, f.inputs()); err != nil {
						return err
					}
				}
				return reports.WriteCerts(w, rep, fm)
			})
			if err == nil {
				rep.Close()
			}
			return err
		},
	}
	f.register(c, false, []reports.Format{reports.Text, reports.Markdown, reports.JSON})
	c.Flags().StringVar(&outDir, "out", "", "write each chain to DIR/stream-N-SERVER.pem")
	return c
}

// writeChains writes one PEM file per connection that showed a chain;
// none replaces an input.
func writeChains(dir string, rep *diagnose.Report, inputs []namedInput) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %v", err)
	}
	for c := range rep.All() {
		if len(c.Certificates) == 0 {
			continue
		}
		var b strings.Builder
		for _, ct := range c.Certificates {
			b.WriteString(pemBlock(ct.DER))
		}
		name := fmt.Sprintf("stream-%d-%s.pem", c.Stream, strings.NewReplacer(":", "_", "[", "", "]", "", "/", "_").Replace(c.Server))
		path := filepath.Join(dir, name)
		if err := refuseInput("--out", path, inputs); err != nil {
			return err
		}
		if err := writeFileAtomic(path, []byte(b.String())); err != nil {
			return fmt.Errorf("--out %s: %v", path, unwrapPathError(err))
		}
	}
	return nil
}

func pemBlock(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func explainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "explain CODE|LOG LINE|-",
		Short: "Explain an mbedTLS or ESP-TLS error code (e.g. -0x7200), or every code in a pasted log line",
		Long: `Explain an mbedTLS, PSA or ESP-TLS error code, or each error value in a line
pasted from the device's log (quote it for the shell), or in a log on stdin (-):

  tlspcap explain -0x7200
  tlspcap explain 'E (12345) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700'
  tlspcap explain "esp-tls: couldn't get hostname for broker: getaddrinfo() returns 202"
  tlspcap explain -0x21E2          # X.509 high part + ASN.1 low part
  idf.py monitor | tee log.txt; tlspcap explain - < log.txt

Values read in a line: mbedTLS codes (-0x7200, -29184, (-12288), 0x7200 as
"Last mbedtls failure" prints it, FFFF8100 as %X prints a negative int),
ESP-TLS esp_err_t (0x8017), macro names, lwIP getaddrinfo() return values
and socket errno values.`,
		// Codes start with '-': they are not flags.
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
				return c.Help()
			}
			if len(args) > 0 && args[0] == "--" {
				args = args[1:]
			}
			if len(args) == 0 {
				return usageError{fmt.Errorf("explain needs an error code or a log line, e.g. tlspcap explain -0x7200")}
			}
			line := strings.Join(args, " ")
			if line == "-" {
				b, err := io.ReadAll(io.LimitReader(c.InOrStdin(), 16<<20))
				if err != nil {
					return fmt.Errorf("explain -: %v", err)
				}
				line = string(b)
			} else if code, err := device.ParseCode(line); err == nil {
				if _, ok := device.Lookup(code); !ok {
					return usageError{fmt.Errorf("%s: not an error code tlspcap knows (for a getaddrinfo() or errno value, paste the whole log line)", line)}
				}
				fmt.Fprint(c.OutOrStdout(), device.Explain(code))
				return nil
			}
			text, err := explainLine(line)
			fmt.Fprint(c.OutOrStdout(), text)
			return err
		},
	}
}

// explainLine explains every error value in a pasted log line (or log);
// it is a usage error when it holds none tlspcap knows.
func explainLine(line string) (string, error) {
	ms := device.FindCodes(line)
	if len(ms) == 0 {
		return "", usageError{fmt.Errorf("no error code in %q: give a code (-0x7200, 0x8017, -29184, MBEDTLS_ERR_SSL_INVALID_RECORD) or the device's log line that has one", clip(line, 200))}
	}
	var b strings.Builder
	known := false
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.String()
		known = known || m.Known
	}
	if len(ms) > 1 {
		fmt.Fprintf(&b, "found: %s\n\n", strings.Join(names, ", "))
	}
	for i, m := range ms {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(device.ExplainMention(m))
	}
	if !known {
		return b.String(), usageError{fmt.Errorf("%s: not an error value tlspcap knows", strings.Join(names, ", "))}
	}
	return b.String(), nil
}

// clip shortens s to n bytes for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func exactFile(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("%s needs exactly one capture file (or - for stdin), got %d arguments", c.Name(), len(args))}
	}
	return nil
}

// registerLimits adds the resource bound flags of analyze and live.
func registerLimits(c *cobra.Command, maxConns *int, maxBuffered, maxMemory *string) {
	c.Flags().Var(&boundedInt{p: maxConns, min: 1, max: math.MaxInt32, what: "connections tracked at once"},
		"max-connections", "TCP connections tracked at once, instead of the --max-memory bound on them; beyond it the least recently active is decided early, with a warning")
	c.Flags().StringVar(maxMemory, "max-memory", "", "memory the analysis aims to stay within, e.g. 64MiB; open TCP connections may hold 3/8 of it, beyond which the least recently active is decided early, with a warning (default: 1/8 of the machine's memory or cgroup limit, from 16MiB to 256MiB)")
	c.Flags().StringVar(maxBuffered, "max-buffered", "", "out-of-order bytes kept per connection direction while waiting for a missing segment; beyond it the missing bytes are reported as a gap, with a warning (default 4MiB)")
}

// captureLimits turns the bound flags into capture options (0: the
// default).
func captureLimits(maxConns int, maxBuffered, maxMemory string) (capture.Options, error) {
	var o capture.Options
	o.MaxConns = maxConns
	if maxBuffered != "" {
		n, err := parseSize(maxBuffered)
		if err != nil || n < 4096 || n > 1<<30 {
			return o, usageError{fmt.Errorf("--max-buffered %q: give a size from 4KiB to 1GiB, e.g. 16MiB", maxBuffered)}
		}
		o.MaxBufferedPerDir = int(n)
	}
	return o, memoryLimits(&o, maxMemory)
}

// boundedInt is an integer flag checked as it is parsed: a value outside
// min..max is a usage error (exit 2) that gives the range. Not given, it
// stays 0, which the code reads as "the default".
type boundedInt struct {
	p        *int
	min, max int
	what     string // what the range is, for the message
}

func (b *boundedInt) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return fmt.Errorf("give a whole number from %d to %d (%s)", b.min, b.max, b.what)
	}
	if n < int64(b.min) || n > int64(b.max) {
		return fmt.Errorf("%d is outside %d to %d (%s)", n, b.min, b.max, b.what)
	}
	*b.p = int(n)
	return nil
}

func (b *boundedInt) String() string { return strconv.Itoa(*b.p) }
func (b *boundedInt) Type() string   { return "int" }
