// Command tlspcap reads a capture of TLS connections and says why they
// failed, in the terms of the device that made them (ESP32/ESP8266, mbedTLS).
package main

import (
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/diagnose/device"
	"tlspcap/reports"
)

// Exit codes: 0 nothing failed, 1 failures found, 2 usage or unreadable input.
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
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", programName, err)
		var ue usageError
		if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") || strings.Contains(err.Error(), "accepts") {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", programName)
		}
		return exitUsage
	}
	return code
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
	// Resource bounds (capture.Options): --max-connections, --max-buffered,
	// --max-memory.
	maxConns    int
	maxBuffered string
	maxMemory   string
	// analyze only: --export-failing, --redact, and the connections
	// before --client narrowed them (the export's port-reuse bounds).
	exportFailing string
	redact        bool
	unselected    map[connEnds][]int
}

func (f *readFlags) register(c *cobra.Command, analysis bool) {
	c.Flags().StringVar(&f.format, "format", "", "output format: text, markdown, json or html (default text)")
	c.Flags().StringVarP(&f.output, "output", "o", "", "write the report to this file instead of stdout")
	c.Flags().BoolVar(&f.noProgress, "no-progress", false, "no progress bar on stderr")
	c.Flags().StringArrayVar(&f.keylogs, "keylog", nil, "NSS key log file (SSLKEYLOGFILE) to decrypt TLS 1.3/1.2 sessions; repeat for several files (keys embedded in a pcapng are used too)")
	registerLimits(c, &f.maxConns, &f.maxBuffered, &f.maxMemory)
	if !analysis {
		return
	}
	var names []string
	for _, p := range device.Profiles() {
		names = append(names, p.Name)
	}
	c.Flags().StringVar(&f.profile, "profile", "", "device profile: "+strings.Join(names, ", ")+" (default "+device.DefaultProfile.Name+")")
	c.Flags().StringVar(&f.device, "device", "", "the device: its IP or MAC address (the report keeps only its connections), or client|server for the side it plays (default client)")
	c.Flags().IntVar(&f.inContentLen, "in-content-len", 0, "the device's CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN (default: the profile's)")
	c.Flags().StringVar(&f.ca, "ca", "", "PEM file with the CA certificates the device trusts (cacert_pem); default: the ESP certificate bundle (Mozilla roots)")
	c.Flags().StringVar(&f.browserChain, "browser-chain", "", "the chain a browser got from the same server, to compare: a PEM file, or a capture of the browser")
	c.Flags().StringArrayVar(&f.browserKeys, "browser-keylog", nil, "key log (SSLKEYLOGFILE) of the browser's capture given as --browser-chain, to read its TLS 1.3 certificates; repeatable")
	c.Flags().BoolVar(&f.all, "all", false, "show healthy connections' findings and info findings too")
	c.Flags().StringVar(&f.client, "client", "", "only connections whose client (or server) fingerprint matches: ja4=t13d1516h2_8daaf6152771_e5627efa2ab1, ja3=HASH, ja3s=, ja4s=")
}

func (f *readFlags) options(keepRecords bool) (diagnose.Options, error) {
	o := diagnose.Options{Profile: f.profile, InContentLen: f.inContentLen, KeepRecords: keepRecords, KeepTimeline: true, AllTimelines: f.all}
	if f.inContentLen < 0 || f.inContentLen > 16384 {
		return o, usageError{fmt.Errorf("--in-content-len %d: must be between 512 and 16384 (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN range)", f.inContentLen)}
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
	rf, err := reports.ParseFormat(f.format)
	if err != nil {
		return "", usageError{err}
	}
	return rf, nil
}

// analyse reads one capture through the pipeline.
func analyse(c *cobra.Command, path string, o diagnose.Options, f *readFlags) (*diagnose.Report, error) {
	a, err := diagnose.NewAnalyzer(o)
	if err != nil {
		return nil, usageError{err}
	}
	co, err := captureLimits(f.maxConns, f.maxBuffered, f.maxMemory)
	if err != nil {
		return nil, err
	}
	noProgress := f.noProgress
	var st capture.Stats
	if path == "-" {
		st, err = capture.Read(c.InOrStdin(), "stdin", a, co)
	} else {
		fh, oerr := os.Open(path)
		if oerr != nil {
			return nil, fmt.Errorf("%s: %v", path, unwrapPathError(oerr))
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
	if err != nil {
		return nil, err
	}
	return a.Report(path, st), nil
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
func output(c *cobra.Command, path string) (io.Writer, func() error, reports.Options, error) {
	o := reports.Options{}
	if path != "" {
		fh, err := os.Create(path)
		if err != nil {
			return nil, nil, o, usageError{fmt.Errorf("-o: %v", err)}
		}
		return fh, fh.Close, o, nil
	}
	w := c.OutOrStdout()
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.Color = os.Getenv("NO_COLOR") == ""
		if wd, _, err := term.GetSize(int(f.Fd())); err == nil {
			o.Width = wd
		}
	}
	return w, func() error { return nil }, o, nil
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
	o, err := f.options(keepRecords)
	if err != nil {
		return nil, err
	}
	// Decide finished connections on the second core while reading goes on.
	o.Concurrent = true
	rep, err := analyse(c, path, o, f)
	if err != nil {
		return nil, err
	}
	defer func() {
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
	w, closeOut, ro, err := output(c, f.output)
	if err != nil {
		return nil, err
	}
	ro.All = f.all
	if err = render(w, rep, fmtOut, ro); err != nil {
		return nil, err
	}
	if err = closeOut(); err != nil {
		return nil, err
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
			render := reports.Write
			if f.redact {
				render = func(w io.Writer, rep *diagnose.Report, fm reports.Format, o reports.Options) error {
					return reports.Write(w, reports.Redact(rep), fm, o)
				}
			}
			rep, err := readAndRender(c, args[0], &f, false, render)
			if err != nil {
				return err
			}
			defer rep.Close()
			if f.exportFailing != "" {
				if err := exportFailing(c.ErrOrStderr(), args[0], f.exportFailing, f.unselected, rep); err != nil {
					return err
				}
			}
			if rep.Failed() {
				*code = exitFailed
			}
			return nil
		},
	}
	f.register(c, true)
	c.Flags().StringVar(&f.exportFailing, "export-failing", "", "write the packets of the failing connections and their DNS to this pcapng file (needs a capture file, not stdin)")
	c.Flags().BoolVar(&f.redact, "redact", false, "replace IP addresses, host names and certificate names and fingerprints in the report by pseudonyms (192.0.2.1, host-1.example)")
	return c
}

func recordsCmd() *cobra.Command {
	var f readFlags
	c := &cobra.Command{
		Use:   "records FILE|-",
		Short: "List every TLS record of every connection, with frames (like ssldump)",
		Args:  exactFile,
		RunE: func(c *cobra.Command, args []string) error {
			if f.format == string(reports.HTML) {
				return usageError{fmt.Errorf("records: --format html is for analyze; use text, markdown or json")}
			}
			rep, err := readAndRender(c, args[0], &f, true, reports.WriteRecords)
			if err == nil {
				rep.Close()
			}
			return err
		},
	}
	f.register(c, false)
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
			rep, err := readAndRender(c, args[0], &f, false, func(w io.Writer, rep *diagnose.Report, fm reports.Format, _ reports.Options) error {
				if outDir != "" {
					if err := writeChains(outDir, rep); err != nil {
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
	f.register(c, false)
	c.Flags().StringVar(&outDir, "out", "", "write each chain to DIR/stream-N-SERVER.pem")
	return c
}

// writeChains writes one PEM file per connection that showed a chain.
func writeChains(dir string, rep *diagnose.Report) error {
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
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("--out: %v", err)
		}
	}
	return nil
}

func pemBlock(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func explainCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "explain CODE",
		Short: "Explain an mbedTLS or ESP-TLS error code (e.g. -0x7200)",
		// Codes start with '-': they are not flags.
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
				return c.Help()
			}
			if len(args) != 1 {
				return usageError{fmt.Errorf("explain needs exactly one error code, e.g. tlspcap explain -0x7200")}
			}
			code, err := device.ParseCode(args[0])
			if err != nil {
				return usageError{err}
			}
			if _, ok := device.Lookup(code); !ok {
				return usageError{fmt.Errorf("%s: not an error code tlspcap knows", args[0])}
			}
			fmt.Fprint(c.OutOrStdout(), device.Explain(code))
			return nil
		},
	}
}

func exactFile(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("%s needs exactly one capture file (or - for stdin), got %d arguments", c.Name(), len(args))}
	}
	return nil
}

// registerLimits adds the resource bound flags of analyze and live.
func registerLimits(c *cobra.Command, maxConns *int, maxBuffered, maxMemory *string) {
	c.Flags().IntVar(maxConns, "max-connections", 0, "TCP connections tracked at once, instead of the --max-memory bound on them; beyond it the least recently active is decided early, with a warning")
	c.Flags().StringVar(maxMemory, "max-memory", "", "memory the analysis aims to stay within, e.g. 64MiB; open TCP connections may hold 3/8 of it, beyond which the least recently active is decided early, with a warning (default: 1/8 of the machine's memory or cgroup limit, from 16MiB to 256MiB)")
	c.Flags().StringVar(maxBuffered, "max-buffered", "", "out-of-order bytes kept per connection direction while waiting for a missing segment; beyond it the missing bytes are reported as a gap, with a warning (default 4MiB)")
}

// captureLimits turns the bound flags into capture options.
func captureLimits(maxConns int, maxBuffered, maxMemory string) (capture.Options, error) {
	var o capture.Options
	if maxConns < 0 {
		return o, usageError{fmt.Errorf("--max-connections %d: give a positive number", maxConns)}
	}
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
