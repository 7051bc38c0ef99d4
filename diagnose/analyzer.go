package diagnose

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"tlspcap/capture"
	"tlspcap/decode"
	"tlspcap/diagnose/device"
)

// Options steer the analysis.
type Options struct {
	// Profile names the device profile (esp32-idf5, ...); "" picks the default.
	Profile string
	// InContentLen overrides the profile's CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN.
	InContentLen int
	// Device is the device's address: when it is the server's, the device is
	// taken to be the TLS server of that connection.
	Device netip.Addr
	// DeviceRole forces the device's side: "client" (default) or "server".
	DeviceRole string
	// KeepRecords keeps every record per connection (for `tlspcap records`).
	KeepRecords bool
	// KeepTimeline keeps the timeline of connections that did not end well
	// (reports); AllTimelines keeps it for every connection (--all).
	KeepTimeline bool
	AllTimelines bool
	// CA is the device's CA certificates (--ca); nil means the certificate bundle.
	CA []byte
	// BrowserChain is the chain a browser got (--browser-chain), PEM.
	BrowserChain []byte
	// OnConnection, when set, is called as each connection is decided (live).
	OnConnection func(*Connection)
	// KeyLog is NSS key log text (SSLKEYLOGFILE format; several files may
	// be concatenated): TLS 1.3 and 1.2 sessions whose secrets it holds are
	// decrypted. Keys in the capture's pcapng Decryption Secrets Blocks are
	// added to it as they are read.
	KeyLog []byte
	// SilenceAfter is how long a peer may stay silent before it counts as
	// "silent" rather than "still working" when the capture ends.
	SilenceAfter time.Duration
}

// Analyzer implements capture.Handler: it drives decode per connection,
// builds the connection model and runs the rules when a connection ends.
type Analyzer struct {
	opts     Options
	profile  device.Profile
	conns    []*Connection
	open     map[int]*conn
	dns      dnsState
	problems []capture.Problem
	// snaplenFrames are the frames the capture cut short, to tell a
	// snap-length gap from lost packets.
	snaplenFrames map[int]bool
	probeCount    map[capture.ProblemKind]int
	ctx           ruleContext
	keys          *decode.KeyLog
}

// NewAnalyzer returns a handler for capture.Read.
func NewAnalyzer(o Options) (*Analyzer, error) {
	p := device.DefaultProfile
	if o.Profile != "" {
		var ok bool
		if p, ok = device.ProfileByName(o.Profile); !ok {
			return nil, fmt.Errorf("unknown profile %q (known: %s)", o.Profile, profileNames())
		}
	}
	if o.InContentLen > 0 {
		p.InContentLen = o.InContentLen
	}
	if o.SilenceAfter == 0 {
		o.SilenceAfter = 2 * time.Second
	}
	a := &Analyzer{opts: o, profile: p, open: map[int]*conn{}, probeCount: map[capture.ProblemKind]int{}, snaplenFrames: map[int]bool{}}
	a.dns.init()
	a.keys = decode.NewKeyLog()
	a.keys.Add(o.KeyLog)
	var err error
	if a.ctx, err = newRuleContext(o, p); err != nil {
		return nil, err
	}
	return a, nil
}

func profileNames() string {
	s := ""
	for i, p := range device.Profiles() {
		if i > 0 {
			s += ", "
		}
		s += p.Name
	}
	return s
}

// Conn implements capture.Handler.
func (a *Analyzer) Conn(info *capture.Conn) capture.ConnHandler {
	c := &conn{info: *info, an: a}
	c.dec = decode.NewConn(c.event)
	c.dec.SetKeyLog(a.keys)
	a.open[info.Stream] = c
	return c
}

// Secrets implements capture.SecretsHandler: a TLS key log embedded in the
// capture (pcapng Decryption Secrets Block) is used like Options.KeyLog for
// the connections that follow it.
func (a *Analyzer) Secrets(secretsType uint32, data []byte) {
	if secretsType == capture.SecretsTLSKeyLog {
		a.keys.Add(data)
	}
}

// DNS implements capture.Handler.
func (a *Analyzer) DNS(m *capture.DNSMessage) { a.dns.add(m) }

// Problem implements capture.Handler.
func (a *Analyzer) Problem(p capture.Problem) {
	a.probeCount[p.Kind]++
	if p.Kind == capture.ProblemSnaplenCut && p.Frame > 0 && len(a.snaplenFrames) < 100000 {
		a.snaplenFrames[p.Frame] = true
	}
	if len(a.problems) < 100 {
		a.problems = append(a.problems, p)
	}
}

// finish decides one connection.
func (a *Analyzer) finish(c *conn) {
	delete(a.open, c.info.Stream)
	r := a.decide(c)
	a.conns = append(a.conns, r)
	if a.opts.OnConnection != nil {
		a.opts.OnConnection(r)
	}
	// Free the decoder and records: only the verdict stays.
	c.dec = nil
	c.tls = tlsFacts{}
}

// Report closes what is still open and returns the report.
func (a *Analyzer) Report(file string, st capture.Stats) *Report {
	a.ctx.captureEnd = st.End
	for _, c := range a.open {
		c.End(capture.EndCaptureDone)
	}
	sort.Slice(a.conns, func(i, j int) bool { return a.conns[i].Stream < a.conns[j].Stream })
	r := &Report{
		Schema:  Schema,
		Tool:    "tlspcap",
		Profile: a.profile.Name,
		Capture: CaptureInfo{
			File: file, Frames: st.Frames, Bytes: st.Bytes, Start: jsonTime(st.Start), End: jsonTime(st.End),
			Undecodable: st.Undecodable,
			Connections: len(a.conns),
		},
		Connections: a.conns,
	}
	for _, p := range a.problems {
		r.Capture.Problems = append(r.Capture.Problems, describeProblem(p))
	}
	r.Findings = append(r.Findings, a.dns.findings(st.End)...)
	r.Findings = append(r.Findings, a.captureFindings()...)
	if r.Connections == nil {
		r.Connections = []*Connection{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}

func describeProblem(p capture.Problem) string {
	s := p.Detail
	// The capture layer often names the place itself.
	if strings.HasPrefix(s, "frame ") || strings.Contains(s, " at byte ") {
		return s
	}
	if p.Frame > 0 {
		s = fmt.Sprintf("frame %d: %s", p.Frame, s)
	} else if p.Offset >= 0 {
		s = fmt.Sprintf("offset %d: %s", p.Offset, s)
	}
	return s
}
