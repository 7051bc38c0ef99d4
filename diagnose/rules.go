package diagnose

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"tlspcap/capture"
	"tlspcap/decode"
	"tlspcap/diagnose/catalog"
	"tlspcap/diagnose/chain"
	"tlspcap/diagnose/device"
)

// A rule reads one connection's model and returns findings. Rules run in
// catalogue order (catalog/findings.tsv); the first error finding is the root
// cause, so rules that name a cause come before rules that only describe how
// the connection ended.
type rule struct {
	id    catalog.ID
	phase catalog.Phase
	check func(x *ruleRun) []Finding
}

// catalogue is every connection rule in the order and phase the table gives.
var catalogue = rulesInOrder()

func rulesInOrder() []rule {
	var out []rule
	for _, e := range catalog.Entries() {
		if c, ok := checks[e.ID]; ok {
			out = append(out, rule{e.ID, e.Phase, c})
		}
	}
	return out
}

// ruleRun is one connection under examination.
type ruleRun struct {
	*conn
	ctx       *ruleContext
	r         *Connection
	dev, peer capture.Dir // wire directions of the device and its peer
	found     []Finding
	// serverChain's answer, worked out on the first call.
	chainDone bool
	chainOK   bool
	chainRes  *chain.Result
	chainH    *decode.Handshake
}

// run applies the catalogue to one connection.
func (ctx *ruleContext) run(c *conn, r *Connection) []Finding {
	x := &ruleRun{conn: c, ctx: ctx, r: r, dev: c.fromClient(), peer: c.fromServer()}
	if r.Device == "server" {
		x.dev, x.peer = x.peer, x.dev
	}
	if !x.tlsRelevant() {
		return nil // plain TCP on a non-TLS port: not this tool's business
	}
	for _, phase := range []catalog.Phase{catalog.RootCause, catalog.Fallback, catalog.Observation} {
		for _, rl := range catalogue {
			if rl.phase != phase || (phase == catalog.Fallback && (x.hasError() || x.captureBlind())) {
				continue
			}
			before := len(x.found)
			for _, f := range rl.check(x) {
				if f.ID == "" || x.superseded(f.ID, before) {
					continue
				}
				if f.WiresharkFilter == "" {
					f.WiresharkFilter = x.filter(f.Frames)
				}
				if f.DeviceErrors == nil {
					f.DeviceErrors = []DeviceError{}
				}
				if f.Frames == nil {
					f.Frames = []int{}
				}
				x.found = append(x.found, f)
			}
		}
	}
	// Errors first, then warnings, then info; catalogue order within each.
	slices.SortStableFunc(x.found, func(a, b Finding) int { return sevRank(a.Severity) - sevRank(b.Severity) })
	return x.found
}

func sevRank(s Severity) int {
	switch s {
	case SeverityWarning:
		return 1
	case SeverityInfo:
		return 2
	}
	return 0
}

func (x *ruleRun) hasError() bool {
	for _, f := range x.found {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// tlsPorts are the ports where TLS is expected even before any TLS byte:
// HTTPS, MQTT over TLS, secure mail, LDAPS, DNS over TLS, AMQPS, syslog-TLS,
// WinRM-HTTPS and the usual alternates.
var tlsPorts = map[uint16]bool{
	443: true, 8443: true, 4433: true, 4443: true, 9443: true, 10443: true,
	8883: true, 8884: true, 465: true, 993: true, 995: true, 636: true, 853: true,
	989: true, 990: true, 5061: true, 5671: true, 6514: true, 3269: true, 5986: true,
}

// tlsRelevant: a connection tlspcap judges: it carries TLS, or goes to a TLS
// port, or involves the device named with --device.
func (x *ruleRun) tlsRelevant() bool {
	if x.tls.clientHello != nil || x.tls.serverHello != nil || x.tls.recordCount[0]+x.tls.recordCount[1] > 0 {
		return true
	}
	if tlsPorts[x.serverPort()] || x.ctx.opts.DeviceRole != "" {
		return true
	}
	_, mine := x.deviceEnd(x.ctx.opts)
	return mine
}

// captureBlind: the capture lost bytes of an unfinished handshake, so how the
// connection ended says nothing reliable about why.
func (x *ruleRun) captureBlind() bool {
	return !x.handshakeDone() && (x.has(catalog.CaptureMissingBytes) || x.has(catalog.CaptureTruncatedPackets) || x.has(catalog.CaptureOneDirection))
}

func (x *ruleRun) has(id catalog.ID) bool {
	for _, f := range x.found {
		if f.ID == id {
			return true
		}
	}
	return false
}

// superseded: one of the first n findings (those of earlier rules) makes a
// finding id redundant, as the catalogue declares.
func (x *ruleRun) superseded(id catalog.ID, n int) bool {
	for _, f := range x.found[:n] {
		if catalog.Supersedes(f.ID, id) {
			return true
		}
	}
	return false
}

// filter is the Wireshark display filter that opens the evidence.
func (x *ruleRun) filter(frames []int) string {
	var buf [64]byte
	f := strconv.AppendInt(append(buf[:0], "tcp.stream eq "...), int64(x.info.Stream), 10)
	if len(frames) > 0 && frames[0] > 0 {
		f = strconv.AppendInt(append(f, " && frame.number >= "...), int64(frames[0]), 10)
	}
	return string(f)
}

// errs are the device's candidate errors for a wire symptom under the profile.
func (x *ruleRun) errs(s device.Symptom) []DeviceError {
	return toDeviceErrors(x.ctx.profile.ErrorsFor(s))
}

func toDeviceErrors(cs []device.Candidate) []DeviceError {
	out := make([]DeviceError, 0, len(cs))
	for _, c := range cs {
		out = append(out, DeviceError{Code: device.FormatCode(c.Code), Name: c.Name, Versions: c.Versions})
	}
	return out
}

// deviceIsClient reports whether the rules look at the device as TLS client.
func (x *ruleRun) deviceIsClient() bool { return x.r.Device != "server" }

// peerName is "server" or "client": the device's peer.
func (x *ruleRun) peerName() string { return x.who(x.peer) }

// ---- helpers over the model ----

// firstRecordFrom returns the first record from dir matching pred.
func (x *ruleRun) firstRecordFrom(d capture.Dir, pred func(*decode.Record) bool) *decode.Record {
	for _, r := range x.tls.records {
		if r.Dir == d && pred(r) {
			return r
		}
	}
	return nil
}

// lastReceivedBefore names the last record the side d received before frame n.
func (x *ruleRun) lastReceivedBefore(d capture.Dir, n int) string {
	last := x.lastRecordFrom(d.Reverse(), n)
	if last == nil {
		return "nothing"
	}
	return fmt.Sprintf("%s in frame %d", recordWhat(x.conn, last), last.Frames[0])
}

// lastRecordFrom is the last record side d started by frame n.
func (x *ruleRun) lastRecordFrom(d capture.Dir, n int) *decode.Record {
	var last *decode.Record
	for _, r := range x.tls.records {
		if r.Dir == d && len(r.Frames) > 0 && r.Frames[0] <= n {
			last = r
		}
	}
	return last
}

// closeOf returns the first FIN or RST of dir, or nil.
func (c *conn) closeOf(d capture.Dir) *capture.TCPEvent {
	f, r := c.tcp.fin[d], c.tcp.rst[d]
	switch {
	case f == nil:
		return r
	case r == nil:
		return f
	case r.Frame.Number < f.Frame.Number:
		return r
	}
	return f
}

// alertsFrom lists the readable alerts a side sent.
func (x *ruleRun) alertFrom(d capture.Dir) *decode.Alert {
	for _, al := range x.tls.alerts {
		if al.Dir == d && !al.Encrypted && al.Level == decode.AlertFatal {
			return al
		}
	}
	return nil
}

func (x *ruleRun) handshakeDone() bool { return x.established() }

func frames(ns ...int) []int {
	out := make([]int, 0, len(ns))
	for _, n := range ns {
		if n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func first(w decode.Where) int {
	if len(w.Frames) == 0 {
		return 0
	}
	return w.Frames[0]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func joinNames(xs []string) string {
	if len(xs) <= 2 {
		return strings.Join(xs, " and ")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}
