package diagnose

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"time"

	"tlspcap/capture"
	"tlspcap/decode"
	"tlspcap/diagnose/device"
	"tlspcap/diagnose/values"
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
	// DeviceMAC is the device's MAC address. With Device or DeviceMAC the
	// report keeps only the connections of that device.
	DeviceMAC net.HardwareAddr
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
	// BrowserChain is the chain a browser got (--browser-chain): PEM, or a
	// capture of the browser.
	BrowserChain []byte
	// BrowserKeyLog is the key log (NSS format) of the browser's capture
	// (--browser-keylog), for a TLS 1.3 browser capture.
	BrowserKeyLog []byte
	// OnConnection, when set, is called as each connection is decided (live).
	OnConnection func(*Connection)
	// Concurrent decides finished connections on a second goroutine, in
	// the order they finish, while the capture is read on: the verdicts
	// and the report are the same. They are handed over in batches, so
	// OnConnection is called late, from that goroutine, which Report
	// stops. Not for live sources: their kernel drop readings are read by
	// the rules.
	Concurrent bool
	// KeyLog is NSS key log text (SSLKEYLOGFILE format; several files may
	// be concatenated): TLS 1.3 and 1.2 sessions whose secrets it holds are
	// decrypted. Keys in the capture's pcapng Decryption Secrets Blocks are
	// added to it as they are read.
	KeyLog []byte
	// Values writes the addresses, host names, certificate names and
	// fingerprints the report names (values.Pseudonyms for --redact);
	// nil: as they are. The verdicts' Client, Server and SNI fields stay
	// as they are: a redacted report passes them through the same
	// Values when it is rendered.
	Values values.Formatter
	// SilenceAfter is how long a peer may stay silent before it counts as
	// "silent" rather than "still working" when the capture ends.
	SilenceAfter time.Duration
}

// Analyzer implements capture.Handler: it drives decode per connection,
// builds the connection model and runs the rules when a connection ends.
type Analyzer struct {
	opts     Options
	profile  device.Profile
	verdicts verdicts
	// spillErr: the verdicts could not go to a temporary file (said in
	// the report's capture problems).
	spillErr error
	open     map[int]*conn
	dns      dnsState
	problems []problemLine
	// snaplenFrames are the frames the capture cut short, to tell a
	// snap-length gap from lost packets.
	snaplenFrames map[int]bool
	probeCount    map[capture.ProblemKind]int
	firstProblem  map[capture.ProblemKind]capture.Problem
	// problemsLeft: problems past the 100 listed in the report.
	problemsLeft int
	// drops: kernel drops seen while each open connection was open (live).
	drops map[int]dropsSeen
	ctx   ruleContext
	keys  *decode.KeyLog
	// What the report says when it holds no connection: the clients of
	// the connections --device left out, the DNS messages and the other
	// UDP payloads seen.
	unselected  seenClients
	dnsMessages int
	datagrams   datagrams
	// inputs: what the key log and the browser chain matched.
	inputs inputUse
	// captureEnd is what ctx.captureEnd is for connections finishing now:
	// unknown until Report.
	captureEnd time.Time
	// With concurrent (Options.Concurrent, until drain), finished
	// connections go to decideLoop in batches (one wake-up per batch, not
	// per connection) through jobs; done is closed when it has decided the
	// last. Bounded, so memory stays that of the open connections plus a
	// few batches.
	concurrent bool
	batch      []decideJob
	jobs       chan []decideJob
	done       chan struct{}
}

// decideBatch connections per hand-over; decideQueue batches waiting.
const (
	decideBatch = 32
	decideQueue = 4
)

// decideJob is one finished connection: from here on only decideLoop
// touches it (the capture hands nothing more to an ended connection).
type decideJob struct {
	c          *conn
	captureEnd time.Time
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
	if o.Values == nil {
		o.Values = values.Plain
	}
	a := &Analyzer{opts: o, profile: p, open: map[int]*conn{}, probeCount: map[capture.ProblemKind]int{}, firstProblem: map[capture.ProblemKind]capture.Problem{}, snaplenFrames: map[int]bool{},
		concurrent: o.Concurrent}
	a.dns.init()
	a.dns.device = o.Device
	a.dns.v = o.Values
	a.keys = decode.NewKeyLog()
	a.inputs.keyLines = a.keys.Add(o.KeyLog)
	a.inputs.keyLinesRead = countKeyLogLines(o.KeyLog)
	var err error
	if a.ctx, err = newRuleContext(o, p); err != nil {
		return nil, err
	}
	return a, nil
}

// startPipeline starts decideLoop, on the first finished connection: a
// capture that cannot be opened leaves no goroutine behind.
func (a *Analyzer) startPipeline() {
	a.jobs = make(chan []decideJob, decideQueue)
	a.done = make(chan struct{})
	go a.decideLoop()
}

// decideLoop owns a.ctx (its caches, the profile in use), a.conns and the
// decided connections while the pipeline runs.
func (a *Analyzer) decideLoop() {
	for b := range a.jobs {
		for _, j := range b {
			a.settle(j.c, j.captureEnd)
		}
	}
	close(a.done)
}

// drain waits until every finished connection is decided and stops the
// second goroutine for good: what follows runs on the caller's.
func (a *Analyzer) drain() {
	a.concurrent = false
	if a.jobs == nil {
		return
	}
	if len(a.batch) > 0 {
		a.jobs <- a.batch
		a.batch = nil
	}
	close(a.jobs)
	<-a.done
	a.jobs = nil
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

// useProfile picks the profile one connection is judged with (--profile,
// else the one its ClientHello shape points to, else the default: see
// chooseProfile), records it and why on r, and hands it to the rules.
func (a *Analyzer) useProfile(r *Connection, g clientGuess) {
	var given *device.Profile
	if a.opts.Profile != "" {
		given = &a.profile
	}
	pc := chooseProfile(given, a.profile, g, r.Device == "client")
	if a.opts.InContentLen > 0 {
		pc.profile.InContentLen = a.opts.InContentLen
	}
	a.ctx.profile = pc.profile
	r.Profile, r.ProfileReason = pc.profile.Name, pc.reason
}

// Conn implements capture.Handler.
func (a *Analyzer) Conn(info *capture.Conn) capture.ConnHandler {
	// The decoder comes with the first payload byte (conn.decoder): a
	// connection that never carries any (a SYN flood) stays light.
	if r, ok := a.opts.Values.(values.Reserver); ok {
		r.Reserve(info.Client.Addr())
		r.Reserve(info.Server.Addr())
	}
	c := &conn{info: *info, an: a}
	a.open[info.Stream] = c
	return c
}

// Secrets implements capture.SecretsHandler: a TLS key log embedded in the
// capture (pcapng Decryption Secrets Block) is used like Options.KeyLog for
// the connections that follow it.
func (a *Analyzer) Secrets(secretsType uint32, data []byte) {
	if secretsType == capture.SecretsTLSKeyLog {
		a.inputs.dsbLines += a.keys.Add(data)
	}
}

// DNS implements capture.Handler.
func (a *Analyzer) DNS(m *capture.DNSMessage) {
	a.dnsMessages++
	if r, ok := a.opts.Values.(values.Reserver); ok {
		r.Reserve(m.Client.Addr())
		r.Reserve(m.Server.Addr())
	}
	a.dns.add(m)
}

// Problem implements capture.Handler.
func (a *Analyzer) Problem(p capture.Problem) {
	a.probeCount[p.Kind]++
	if _, seen := a.firstProblem[p.Kind]; !seen {
		a.firstProblem[p.Kind] = p
	}
	if p.Kind == capture.ProblemSnaplenCut && p.Frame > 0 && len(a.snaplenFrames) < 100000 {
		// The rules read snaplenFrames: a capture cut by its snap length
		// is decided on this goroutine from here on.
		a.drain()
		a.snaplenFrames[p.Frame] = true
	}
	a.listProblem(captureProblem(p))
}

// listProblem keeps p for the report's list of capture problems, which
// shows the first 100 and counts the rest.
func (a *Analyzer) listProblem(p problemLine) {
	if len(a.problems) < 100 {
		a.problems = append(a.problems, p)
	} else {
		a.problemsLeft++
	}
}

// finish decides one connection.
func (a *Analyzer) finish(c *conn) {
	delete(a.open, c.info.Stream)
	if c.tlsState == nil { // no payload came: the rules read empty TLS facts
		c.tlsState = new(tlsState)
	}
	c.tcp.stream() // the rules read the stream facts, empty or not
	if _, mine := c.deviceEnd(a.opts); a.opts.deviceNamed() && !mine {
		a.noteUnselected(c)
		c.dec = nil // another host's connection: not in the report
		c.tlsState = nil
		return
	}
	for _, e := range c.tls.decodeErrors {
		if p, ok := listedDecodeProblem(c.info.Stream, e); ok {
			a.listProblem(p)
		}
	}
	if a.concurrent {
		if a.jobs == nil {
			a.startPipeline()
		}
		a.batch = append(a.batch, decideJob{c, a.captureEnd})
		if len(a.batch) == decideBatch {
			a.jobs <- a.batch
			a.batch = make([]decideJob, 0, decideBatch)
		}
		return
	}
	a.settle(c, a.captureEnd)
}

// settle decides one finished connection and keeps its verdict.
func (a *Analyzer) settle(c *conn, captureEnd time.Time) {
	a.ctx.captureEnd = captureEnd
	r := a.decide(c)
	if err := a.verdicts.add(r); err != nil && a.spillErr == nil {
		a.spillErr = err
	}
	if a.opts.OnConnection != nil {
		a.opts.OnConnection(r)
	}
	// Free the decoder and records: only the verdict stays.
	c.dec = nil
	c.tlsState = nil
}

// Report closes what is still open and returns the report.
func (a *Analyzer) Report(file string, st capture.Stats) *Report {
	a.captureEnd = st.End
	// In stream order: pseudonyms are numbered as verdicts name values.
	open := make([]*conn, 0, len(a.open))
	for _, c := range a.open {
		open = append(open, c)
	}
	sort.Slice(open, func(i, j int) bool { return open[i].info.Stream < open[j].info.Stream })
	for _, c := range open {
		c.End(capture.EndCaptureDone)
	}
	a.drain()
	conns, spill := a.verdicts.mem, a.verdicts.spill
	a.verdicts = verdicts{}
	espFirst := !a.opts.deviceNamed()
	sort.Slice(conns, func(i, j int) bool { return keyOf(conns[i]).before(keyOf(conns[j]), espFirst) })
	if spill != nil {
		spill.sortReport(espFirst)
	}
	r := &Report{
		Schema:  Schema,
		Tool:    "tlspcap",
		Profile: a.profile.Name,
		// Replaced by the connections' common profile below.
		ProfileReason: reasonDefault,
		Capture: CaptureInfo{
			File: a.opts.Values.File(file), Frames: st.Frames, Bytes: st.Bytes, Start: jsonTime(st.Start), End: jsonTime(st.End),
			Undecodable: st.Undecodable,
			TCPPackets:  st.TCPPackets, OtherPackets: st.Frames - st.TCPPackets - st.Undecodable - st.Duplicates,
			Duplicates: st.Duplicates, TimeBackwards: st.TimeBackwards, FragmentConflicts: st.FragmentConflicts,
		},
		Connections: conns,
		spill:       spill,
	}
	r.Capture.Connections = r.Len()
	switch {
	case r.Len() > 0:
	case st.TCPConns == 0:
		r.Nothing = a.noTCP(st)
	case a.opts.Device.IsValid():
		r.Nothing = a.unselected.nothing("--device", a.opts.Device.String())
	case a.opts.deviceNamed():
		r.Nothing = a.unselected.nothing("--device", a.opts.DeviceMAC.String())
	}
	if a.opts.Profile != "" {
		r.ProfileReason = reasonGiven
	}
	r.Profile, r.ProfileReason = commonProfile(r.profiles(), r.Profile, r.ProfileReason)
	for _, p := range a.problems {
		r.Capture.Problems = append(r.Capture.Problems, p.line())
	}
	if a.problemsLeft > 0 {
		r.Capture.Problems = append(r.Capture.Problems, fmt.Sprintf("%d more capture problems are not listed (the first %d are)", a.problemsLeft, len(a.problems)))
	}
	if a.spillErr != nil {
		r.Capture.Problems = append(r.Capture.Problems, a.spillErr.Error())
	}
	r.Findings = append(r.Findings, a.dns.findings(st.End)...)
	r.Findings = append(r.Findings, a.captureFindings()...)
	r.Findings = append(r.Findings, a.boundFindings(st)...)
	r.Findings = append(r.Findings, a.inputFindings()...)
	if r.Connections == nil && spill == nil {
		r.Connections = []*Connection{}
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}
