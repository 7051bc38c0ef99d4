package reports

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"tlspcap/diagnose"
)

// The HTML report is one self-contained file: inline CSS, inline SVG, no
// scripts, no fonts, no images, nothing fetched from the network (the
// Content-Security-Policy says so to the browser too). Every string from the
// wire goes through termSafe (control characters become visible escapes) and
// then through html/template, which escapes it for its context.

// Ladder geometry, in SVG user units.
const (
	ladTimeX   = 8   // time offsets, left aligned
	ladFrameX  = 118 // frame numbers, right aligned
	ladClientX = 170 // client's vertical line
	ladServerX = 590 // server's vertical line
	ladNoteX   = 610 // root-cause note, right of the server line
	ladWidth   = 1000
	ladTop     = 78 // first arrow
	ladRow     = 40 // distance between arrows
	ladNoteCh  = 52 // characters per line of the note
	ladNoteLH  = 15 // note line height
	ladHead    = 9  // arrow head length
	ladWhatCh  = 60 // characters of an arrow's label (the full text is in its tooltip)
	ladPartyCh = 44 // characters of a party's address line
	ladNoteMax = 5  // lines of the note
)

type htmlDoc struct {
	Title      string
	File       string
	Frames     int
	Bytes      int64
	Start, End string
	Span       string
	Profile    string
	NConns     int
	// Failing and Summary are the report's one count (diagnose.Summary).
	Failing  bool
	Summary  []string
	Problems []string
	Rows     []htmlRow
	Conns    []htmlConn
	Findings []htmlFinding
	Healthy  int // connections not shown in detail
	// Past maxTableRows: the rows left out of the table (Unlisted says
	// them) and the connections not detailed (MoreDetails).
	unlisted    unlisted
	Unlisted    string
	MoreDetails int
	MaxRows     int
	ShowHealthy bool
}

type htmlRow struct {
	Stream                                                  int
	Client, Server, SNI, Version, Stage, Outcome, RootCause string
	Anchor                                                  bool
	OutcomeClass                                            string
}

type htmlConn struct {
	Stream                                       int
	Client, Server, SNI, Version, Cipher, ALPN   string
	Outcome, OutcomeClass, Stage, Ending, Device string
	Duration                                     string
	Ladder                                       *htmlLadder
	Findings                                     []htmlFinding
	Certs                                        []htmlCert

	// ClientLabel, Profile (when it differs from the report's) and the
	// JA3/JA4 fingerprints of the hellos.
	ClientLabel, Profile, JA4, JA3, JA4S, JA3S string
}

type htmlLadder struct {
	Stream          int
	Width, Height   int
	TimeX, FrameX   int
	ClientX         int
	ServerX         int
	NoteX           int
	HeadY, AddrY    int
	ColY            int
	LineTop         int
	LineBottom      int
	ClientLabelX    int
	ServerLabelX    int
	ClientRole      string
	ServerRole      string
	ClientAddr      string
	ServerAddr      string
	Arrows          []htmlArrow
	RootCauseID     string
	RootCauseFrames string
}

type htmlArrow struct {
	Frame     int
	From      string
	Kind      string
	What      string
	Label     string // What, clipped to fit between the lines
	Time      string
	Failing   bool
	Y         int
	TextY     int
	X1, X2    int
	MidX      int
	Head      string // polygon points
	BandY     int    // background band of the row
	BandH     int
	Note      []htmlNoteLine
	NoteClass string
}

type htmlNoteLine struct {
	Y    int
	Text string
}

type htmlFinding struct {
	ID, Severity, Title, Explanation, Fix, Wireshark, Frames string
	RootCause                                                bool
	DeviceErrors                                             []diagnose.DeviceError
}

type htmlCert struct {
	Index                                      int
	Subject, Issuer, SANs, NotBefore, NotAfter string
	Key, Signature, SHA256, ParseError         string
	Size                                       int
	Expired                                    bool
}

func writeHTML(w io.Writer, r *diagnose.Report, o Options) error {
	return htmlTemplate.Execute(w, buildHTMLDoc(r, o))
}

func buildHTMLDoc(r *diagnose.Report, o Options) *htmlDoc {
	d := &htmlDoc{
		Title:   "tlspcap report: " + termSafe(r.Capture.File),
		File:    termSafe(r.Capture.File),
		Frames:  r.Capture.Frames,
		Bytes:   r.Capture.Bytes,
		Profile: termSafe(profileText(r.Profile, r.ProfileReason)),
		NConns:  r.Len(),
	}
	if !r.Capture.Start.IsZero() {
		d.Start = r.Capture.Start.UTC().Format("2006-01-02 15:04:05.000000Z")
		d.End = r.Capture.End.UTC().Format("2006-01-02 15:04:05.000000Z")
		d.Span = fmt.Sprintf("%.6f s", r.Capture.End.Sub(r.Capture.Start).Seconds())
	}
	for _, p := range r.Capture.Problems {
		d.Problems = append(d.Problems, termSafe(p))
	}
	for c := range r.All() {
		show := detailed(c, o)
		row := htmlRow{
			Stream: c.Stream, Client: termSafe(c.Client), Server: termSafe(c.Server), SNI: cellSafe(c.SNI),
			Version: termSafe(c.Version), Stage: string(c.Stage), Outcome: string(c.Outcome),
			OutcomeClass: outcomeClass(c.Outcome), Anchor: show,
		}
		if rc := rootCause(c); rc != nil {
			row.RootCause = string(rc.ID)
		}
		if len(d.Rows) < maxTableRows {
			d.Rows = append(d.Rows, row)
		} else {
			d.unlisted.add(c)
		}
		if !show {
			d.Healthy++
			continue
		}
		if len(d.Conns) == maxTableRows {
			d.MoreDetails++
			continue
		}
		hc := buildHTMLConn(c, o)
		hc.Profile = termSafe(connProfileText(r, c))
		d.Conns = append(d.Conns, hc)
	}
	for _, f := range r.Findings {
		d.Findings = append(d.Findings, htmlFindingOf(f, false))
	}
	d.Unlisted, d.MaxRows = d.unlisted.String(), maxTableRows
	sum := r.Summary()
	d.Failing = sum.Verdict() != diagnose.VerdictOK
	for _, l := range sum.Lines() {
		d.Summary = append(d.Summary, termSafe(l))
	}
	return d
}

// rootCause is the connection's first error finding, as in the summary table.
func rootCause(c *diagnose.Connection) *diagnose.Finding {
	for i := range c.Findings {
		if c.Findings[i].Severity == diagnose.SeverityError {
			return &c.Findings[i]
		}
	}
	return nil
}

func outcomeClass(o diagnose.Outcome) string {
	switch o {
	case diagnose.OutcomeOK:
		return "ok"
	case diagnose.OutcomeFailed, diagnose.OutcomeNotTLS:
		return "bad"
	}
	return "warn"
}

func buildHTMLConn(c *diagnose.Connection, o Options) htmlConn {
	hc := htmlConn{
		Stream: c.Stream, Client: termSafe(c.Client), Server: termSafe(c.Server), SNI: nameSafe(c.SNI),
		Version: termSafe(c.Version), Cipher: termSafe(c.CipherSuite), ALPN: termSafe(c.ALPN),
		Outcome: string(c.Outcome), OutcomeClass: outcomeClass(c.Outcome), Stage: string(c.Stage),
		Ending: termSafe(endingText(c.Ending)), Device: termSafe(c.Device),
		Duration: fmt.Sprintf("%.6f s", c.Duration),
		JA4:      c.JA4, JA3: c.JA3, JA4S: c.JA4S, JA3S: c.JA3S,
	}
	if c.ClientLabel != "unknown" {
		hc.ClientLabel = termSafe(c.ClientLabel)
	}
	rc := rootCause(c)
	if len(c.Timeline) > 0 {
		hc.Ladder = buildLadder(c, rc)
	}
	for i := range c.Findings {
		f := &c.Findings[i]
		if f.Severity == diagnose.SeverityInfo && !o.All {
			continue
		}
		hc.Findings = append(hc.Findings, htmlFindingOf(*f, f == rc))
	}
	for i, ct := range c.Certificates {
		hc.Certs = append(hc.Certs, htmlCertOf(i, ct))
	}
	return hc
}

func buildLadder(c *diagnose.Connection, rc *diagnose.Finding) *htmlLadder {
	l := &htmlLadder{
		Stream: c.Stream, Width: ladWidth,
		TimeX: ladTimeX, FrameX: ladFrameX, ClientX: ladClientX, ServerX: ladServerX, NoteX: ladNoteX,
		HeadY: 16, AddrY: 32, ColY: 56, LineTop: 42,
		ClientLabelX: ladClientX, ServerLabelX: ladServerX,
		ClientRole: "client", ServerRole: "server",
		ClientAddr: clip(termSafe(c.Client), ladPartyCh), ServerAddr: termSafe(c.Server),
	}
	if c.SNI != "" {
		l.ServerAddr += " (" + nameSafe(c.SNI) + ")"
	}
	l.ServerAddr = clip(l.ServerAddr, ladPartyCh)
	switch c.Device {
	case "client":
		l.ClientRole += " (device)"
	case "server":
		l.ServerRole += " (device)"
	}
	failing := map[int]bool{}
	if rc != nil {
		l.RootCauseID = string(rc.ID)
		l.RootCauseFrames = framesList(rc.Frames)
		for _, f := range rc.Frames {
			failing[f] = true
		}
	}
	// The note goes next to the last step of the decisive (first) frame:
	// in a frame carrying ServerHello and Certificate, that is the record
	// that did the damage more often than not.
	noteAt := -1
	if rc != nil && len(rc.Frames) > 0 {
		for i, s := range c.Timeline {
			if s.Frame == rc.Frames[0] {
				noteAt = i
			}
		}
		if noteAt < 0 {
			for i, s := range c.Timeline {
				if failing[s.Frame] {
					noteAt = i
				}
			}
		}
	}
	start := c.Start
	if start.IsZero() {
		start = c.Timeline[0].Time
	}
	y := ladTop
	for i, s := range c.Timeline {
		a := htmlArrow{
			Frame: s.Frame, From: termSafe(s.From), Kind: termSafe(s.Kind), What: termSafe(s.What), Label: clip(termSafe(s.What), ladWhatCh),
			Time: offset(s.Time, start), Failing: failing[s.Frame], Y: y, TextY: y - 6,
		}
		if s.From == "server" {
			a.X1, a.X2 = ladServerX, ladClientX
			a.Head = fmt.Sprintf("%d,%d %d,%d %d,%d", ladClientX, y, ladClientX+ladHead, y-4, ladClientX+ladHead, y+4)
		} else {
			a.X1, a.X2 = ladClientX, ladServerX
			a.Head = fmt.Sprintf("%d,%d %d,%d %d,%d", ladServerX, y, ladServerX-ladHead, y-4, ladServerX-ladHead, y+4)
		}
		a.MidX = (ladClientX + ladServerX) / 2
		if a.Kind == "" {
			a.Kind = "other"
		}
		extra := 0
		if i == noteAt {
			lines := wrapLines(string(rc.ID)+": "+termSafe(rc.Title), ladNoteCh)
			if len(lines) > ladNoteMax {
				lines = lines[:ladNoteMax]
				lines[ladNoteMax-1] = clip(lines[ladNoteMax-1]+" …", ladNoteCh)
			}
			for j, t := range lines {
				a.Note = append(a.Note, htmlNoteLine{Y: y - 6 + j*ladNoteLH, Text: t})
			}
			if h := (len(lines)-1)*ladNoteLH + 6; h > ladRow/2 {
				extra = h - ladRow/2
			}
		}
		a.BandY, a.BandH = y-ladRow/2-4, ladRow+extra
		l.Arrows = append(l.Arrows, a)
		y += ladRow + extra
	}
	l.LineBottom = y - ladRow + 16
	l.Height = l.LineBottom + 12
	return l
}

// offset formats a step's time relative to the connection start, as
// Wireshark's "seconds since beginning of conversation".
func offset(t, start time.Time) string {
	if t.IsZero() || start.IsZero() {
		return ""
	}
	return fmt.Sprintf("+%.6f s", t.Sub(start).Seconds())
}

// clip shortens s to n characters, marking the cut with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// wrapLines breaks s at spaces into lines of at most n characters (longer
// words stay whole).
func wrapLines(s string, n int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		if cur != "" && len([]rune(cur))+1+len([]rune(word)) > n {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += word
	}
	if cur != "" || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

func htmlFindingOf(f diagnose.Finding, root bool) htmlFinding {
	hf := htmlFinding{
		ID: termSafe(string(f.ID)), Severity: string(f.Severity), Title: termSafe(f.Title),
		Explanation: termSafe(f.Explanation), Fix: termSafe(f.Fix), Wireshark: termSafe(f.WiresharkFilter),
		Frames: framesList(f.Frames), RootCause: root,
	}
	for _, e := range f.DeviceErrors {
		hf.DeviceErrors = append(hf.DeviceErrors, diagnose.DeviceError{Code: termSafe(e.Code), Name: termSafe(e.Name), Versions: termSafe(e.Versions)})
	}
	return hf
}

func htmlCertOf(i int, ct diagnose.Certificate) htmlCert {
	hc := htmlCert{
		Index: i, Subject: nameSafe(ct.Subject), Issuer: nameSafe(ct.Issuer),
		SANs: namesSafe(ct.SANs), Signature: termSafe(ct.SignatureAlgorithm),
		SHA256: termSafe(ct.SHA256), Size: ct.Size, ParseError: termSafe(ct.ParseError),
	}
	if !ct.NotBefore.IsZero() {
		hc.NotBefore = ct.NotBefore.UTC().Format("2006-01-02 15:04:05Z")
	}
	if !ct.NotAfter.IsZero() {
		hc.NotAfter = ct.NotAfter.UTC().Format("2006-01-02 15:04:05Z")
	}
	if ct.KeyType != "" {
		hc.Key = fmt.Sprintf("%s %d bits", termSafe(ct.KeyType), ct.KeyBits)
	}
	return hc
}

var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="tlspcap">
<title>{{.Title}}</title>
<style>
:root { --fg:#1b1f24; --muted:#5a6370; --line:#d0d7de; --bg:#fff; --panel:#f6f8fa;
  --bad:#c62828; --badbg:#fdecea; --warn:#9a6700; --warnbg:#fff8c5; --ok:#1a7f37; --okbg:#dafbe1;
  --hs:#0b57d0; --tcp:#57606a; --alert:#c62828; --ccs:#8250df; --data:#1a7f37; --nottls:#9a3412; --gap:#9a6700; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: var(--bg); margin: 0 auto; padding: 16px 24px 48px; max-width: 1100px; overflow-wrap: break-word; }
h1 { font-size: 22px; margin: 8px 0 4px; word-break: break-all; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); word-break: break-all; }
h3 { font-size: 15px; margin: 18px 0 6px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
code { background: var(--panel); padding: 1px 4px; border-radius: 4px; word-break: break-all; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; white-space: nowrap; }
td.mono, span.mono, table.certs td { overflow-wrap: anywhere; }
table.summary td:nth-child(1), table.summary td:nth-child(2), table.summary td:nth-child(3), table.summary td:nth-child(5), table.summary td:nth-child(6), table.summary td:nth-child(7) { white-space: nowrap; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0; }
dl.kv dt { color: var(--muted); }
dl.kv dd { margin: 0; word-break: break-word; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.badge.bad, .sev-error { background: var(--badbg); color: var(--bad); }
.badge.warn, .sev-warning { background: var(--warnbg); color: var(--warn); }
.badge.ok { background: var(--okbg); color: var(--ok); }
.sev-info { background: var(--panel); color: var(--muted); }
.verdict { font-size: 15px; font-weight: 600; }
.problems li { color: var(--warn); }
section.finding { border: 1px solid var(--line); border-left: 5px solid var(--muted); border-radius: 6px; padding: 8px 12px; margin: 10px 0; background: #fff; }
section.finding.error { border-left-color: var(--bad); }
section.finding.warning { border-left-color: var(--warn); }
section.finding.root-cause { box-shadow: 0 0 0 2px var(--badbg); }
section.finding h4 { margin: 0 0 4px; font-size: 14px; }
section.finding p { margin: 4px 0; }
.ladder-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff; margin: 8px 0; }
svg.ladder { display: block; width: 100%; min-width: 760px; height: auto; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg.ladder .party { font-size: 13px; font-weight: 600; fill: var(--fg); }
svg.ladder .lifeline { stroke: #8c959f; stroke-width: 2; }
svg.ladder .addr { font-size: 11.5px; fill: var(--muted); font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
svg.ladder .colhead { font-size: 11px; fill: var(--muted); }
svg.ladder .t { font-size: 11.5px; fill: var(--muted); font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
svg.ladder .fr { font-size: 11.5px; fill: var(--muted); font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
svg.ladder .what { font-size: 12.5px; fill: var(--fg); }
svg.ladder .arrow line { stroke-width: 2; }
svg.ladder .arrow.tcp line { stroke: var(--tcp); } svg.ladder .arrow.tcp polygon { fill: var(--tcp); }
svg.ladder .arrow.handshake line { stroke: var(--hs); } svg.ladder .arrow.handshake polygon { fill: var(--hs); }
svg.ladder .arrow.alert line { stroke: var(--alert); } svg.ladder .arrow.alert polygon { fill: var(--alert); }
svg.ladder .arrow.ccs line { stroke: var(--ccs); } svg.ladder .arrow.ccs polygon { fill: var(--ccs); }
svg.ladder .arrow.data line { stroke: var(--data); } svg.ladder .arrow.data polygon { fill: var(--data); }
svg.ladder .arrow.not-tls line { stroke: var(--nottls); } svg.ladder .arrow.not-tls polygon { fill: var(--nottls); }
svg.ladder .arrow.gap line { stroke: var(--gap); stroke-dasharray: 6 4; } svg.ladder .arrow.gap polygon { fill: var(--gap); }
svg.ladder .arrow.other line { stroke: var(--tcp); } svg.ladder .arrow.other polygon { fill: var(--tcp); }
svg.ladder .arrow.failing line { stroke: var(--bad); stroke-width: 3.5; }
svg.ladder .arrow.failing polygon { fill: var(--bad); }
svg.ladder .arrow.failing .what { fill: var(--bad); font-weight: 700; }
svg.ladder .arrow.failing .fr, svg.ladder .arrow.failing .t { fill: var(--bad); font-weight: 700; }
svg.ladder .arrow.failing .band { fill: var(--badbg); }
svg.ladder .band { fill: transparent; }
svg.ladder .note { font-size: 12px; fill: var(--bad); font-weight: 600; }
.legend { color: var(--muted); font-size: 12px; margin: 4px 0 0; }
.legend span { margin-right: 12px; white-space: nowrap; }
.sw { display: inline-block; width: 18px; height: 3px; vertical-align: middle; margin-right: 4px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media print { .ladder-wrap { overflow: visible; } h2 { break-before: auto; } section.finding, svg.ladder { break-inside: avoid; } }
</style>
</head>
<body>
<header>
<h1>tlspcap report: <code>{{.File}}</code></h1>
<p class="verdict"><span class="badge {{if .Failing}}bad{{else}}ok{{end}}">{{range $i, $l := .Summary}}{{if $i}}<br>{{end}}{{$l}}{{end}}</span></p>
</header>
<section id="capture" class="capture">
<h2>Capture</h2>
<dl class="kv">
<dt>file</dt><dd><code>{{.File}}</code></dd>
<dt>frames</dt><dd>{{.Frames}}</dd>
<dt>bytes</dt><dd>{{.Bytes}}</dd>
{{- if .Start}}
<dt>first packet</dt><dd>{{.Start}}</dd>
<dt>last packet</dt><dd>{{.End}} ({{.Span}})</dd>
{{- end}}
<dt>TCP connections</dt><dd>{{.NConns}}</dd>
<dt>device profile</dt><dd><code>{{.Profile}}</code></dd>
</dl>
{{- if .Problems}}
<ul class="problems">
{{- range .Problems}}
<li>capture: {{.}}</li>
{{- end}}
</ul>
{{- end}}
</section>
{{- if .Rows}}
<section id="connections" class="connections">
<h2>Connections</h2>
<table class="summary">
<thead><tr><th>stream</th><th>client</th><th>server</th><th>SNI</th><th>version</th><th>stage</th><th>outcome</th><th>root cause</th></tr></thead>
<tbody>
{{- range .Rows}}
<tr data-stream="{{.Stream}}"><td>{{if .Anchor}}<a href="#stream-{{.Stream}}">{{.Stream}}</a>{{else}}{{.Stream}}{{end}}</td><td class="mono">{{.Client}}</td><td class="mono">{{.Server}}</td><td class="mono">{{.SNI}}</td><td>{{.Version}}</td><td>{{.Stage}}</td><td><span class="badge {{.OutcomeClass}}">{{.Outcome}}</span></td><td>{{if .RootCause}}<code>{{.RootCause}}</code>{{end}}</td></tr>
{{- end}}
</tbody>
</table>
{{- if .Unlisted}}
<p class="legend">{{.Unlisted}}</p>
{{- end}}
{{- if .Healthy}}
<p class="legend">{{.Healthy}} connection(s) without errors or warnings are not detailed; use --all to show them.</p>
{{- end}}
</section>
{{- end}}
{{- range .Conns}}
<section id="stream-{{.Stream}}" class="connection" data-stream="{{.Stream}}">
<h2>tcp.stream {{.Stream}}: <span class="mono">{{.Client}} → {{.Server}}</span>{{if .SNI}} <span class="mono">(SNI {{.SNI}})</span>{{end}} <span class="badge {{.OutcomeClass}}">{{.Outcome}}</span></h2>
<dl class="kv">
<dt>reached</dt><dd>{{.Stage}}</dd>
<dt>ended</dt><dd>{{.Ending}}</dd>
<dt>duration</dt><dd>{{.Duration}}</dd>
{{- if .Version}}<dt>version</dt><dd>{{.Version}}</dd>{{end}}
{{- if .Cipher}}<dt>cipher suite</dt><dd><code>{{.Cipher}}</code></dd>{{end}}
{{- if .ALPN}}<dt>ALPN</dt><dd><code>{{.ALPN}}</code></dd>{{end}}
{{- if .Device}}<dt>device side</dt><dd>{{.Device}}</dd>{{end}}
{{- if .ClientLabel}}<dt>client</dt><dd>{{.ClientLabel}}</dd>{{end}}
{{- if .Profile}}<dt>profile</dt><dd>{{.Profile}}</dd>{{end}}
{{- if .JA4}}<dt>JA4</dt><dd><code>{{.JA4}}</code></dd>{{end}}
{{- if .JA3}}<dt>JA3</dt><dd><code>{{.JA3}}</code></dd>{{end}}
{{- if .JA4S}}<dt>JA4S</dt><dd><code>{{.JA4S}}</code></dd>{{end}}
{{- if .JA3S}}<dt>JA3S</dt><dd><code>{{.JA3S}}</code></dd>{{end}}
</dl>
{{- with .Ladder}}
<h3>Ladder</h3>
<div class="ladder-wrap">
<svg class="ladder" data-stream="{{.Stream}}" viewBox="0 0 {{.Width}} {{.Height}}" width="{{.Width}}" height="{{.Height}}" role="img" aria-label="ladder diagram of tcp.stream {{.Stream}}">
<text class="colhead" x="{{.TimeX}}" y="{{.ColY}}">time</text>
<text class="colhead" x="{{.FrameX}}" y="{{.ColY}}" text-anchor="end">frame</text>
<text class="party" x="{{.ClientLabelX}}" y="{{.HeadY}}" text-anchor="middle">{{.ClientRole}}</text>
<text class="party" x="{{.ServerLabelX}}" y="{{.HeadY}}" text-anchor="middle">{{.ServerRole}}</text>
<text class="addr" x="{{.ClientLabelX}}" y="{{.AddrY}}" text-anchor="middle">{{.ClientAddr}}</text>
<text class="addr" x="{{.ServerLabelX}}" y="{{.AddrY}}" text-anchor="middle">{{.ServerAddr}}</text>
<line class="lifeline" x1="{{.ClientX}}" y1="{{.LineTop}}" x2="{{.ClientX}}" y2="{{.LineBottom}}"/>
<line class="lifeline" x1="{{.ServerX}}" y1="{{.LineTop}}" x2="{{.ServerX}}" y2="{{.LineBottom}}"/>
{{- $l := .}}
{{- range .Arrows}}
<g class="arrow {{.Kind}}{{if .Failing}} failing{{end}}" data-frame="{{.Frame}}" data-from="{{.From}}" data-kind="{{.Kind}}">
<title>frame {{.Frame}}, {{.From}}: {{.What}}</title>
<rect class="band" x="0" y="{{.BandY}}" width="{{$l.Width}}" height="{{.BandH}}"/>
<text class="t" x="{{$l.TimeX}}" y="{{.Y}}" dy="4">{{.Time}}</text>
<text class="fr" x="{{$l.FrameX}}" y="{{.Y}}" dy="4" text-anchor="end">{{.Frame}}</text>
<line x1="{{.X1}}" y1="{{.Y}}" x2="{{.X2}}" y2="{{.Y}}"/>
<polygon points="{{.Head}}"/>
<text class="what" x="{{.MidX}}" y="{{.TextY}}" text-anchor="middle">{{.Label}}</text>
{{- if .Note}}
<text class="note" x="{{$l.NoteX}}">{{range .Note}}<tspan x="{{$l.NoteX}}" y="{{.Y}}">{{.Text}}</tspan>{{end}}</text>
{{- end}}
</g>
{{- end}}
</svg>
</div>
<p class="legend"><span><i class="sw" style="background:#57606a"></i>TCP</span><span><i class="sw" style="background:#0b57d0"></i>handshake</span><span><i class="sw" style="background:#8250df"></i>ChangeCipherSpec</span><span><i class="sw" style="background:#1a7f37"></i>data</span><span><i class="sw" style="background:#9a6700"></i>gap (bytes missing)</span><span><i class="sw" style="background:#c62828"></i>alert / root cause{{if .RootCauseID}} (<code>{{.RootCauseID}}</code>, frame {{.RootCauseFrames}}){{end}}</span></p>
{{- end}}
{{- if .Findings}}
<h3>Findings</h3>
{{- range .Findings}}{{template "finding" .}}{{end}}
{{- end}}
{{- if .Certs}}
<h3>Certificate chain ({{len .Certs}})</h3>
<table class="certs">
<thead><tr><th>#</th><th>subject / issuer</th><th>validity</th><th>key</th><th>size</th><th>SHA-256</th></tr></thead>
<tbody>
{{- range .Certs}}
<tr data-index="{{.Index}}">
<td>{{.Index}}</td>
{{- if .ParseError}}
<td colspan="3">parse error: {{.ParseError}}</td><td>{{.Size}}&nbsp;B</td><td class="mono">{{.SHA256}}</td>
{{- else}}
<td><div><b>subject</b> <span class="mono">{{.Subject}}</span></div><div><b>issuer</b> <span class="mono">{{.Issuer}}</span></div>{{if .SANs}}<div><b>SANs</b> <span class="mono">{{.SANs}}</span></div>{{end}}</td>
<td>{{.NotBefore}}<br>to {{.NotAfter}}</td>
<td>{{.Key}}{{if .Signature}}<br><span class="legend">{{.Signature}}</span>{{end}}</td>
<td>{{.Size}}&nbsp;B</td>
<td class="mono" style="word-break:break-all">{{.SHA256}}</td>
{{- end}}
</tr>
{{- end}}
</tbody>
</table>
{{- end}}
</section>
{{- end}}
{{- if .MoreDetails}}
<p class="legend">{{.MoreDetails}} more connection(s) with errors or warnings are not detailed here (the first {{.MaxRows}} are); the text and JSON reports detail every one.</p>
{{- end}}
{{- if .Findings}}
<section id="capture-findings" class="capture-findings">
<h2>Capture findings</h2>
{{- range .Findings}}{{template "finding" .}}{{end}}
</section>
{{- end}}
<footer>Generated by tlspcap. Frame numbers are Wireshark's; paste a filter into Wireshark's display filter bar to open the same packets.</footer>
</body>
</html>
{{define "finding"}}
<section class="finding {{.Severity}}{{if .RootCause}} root-cause{{end}}" data-id="{{.ID}}" data-severity="{{.Severity}}">
<h4><span class="badge sev-{{.Severity}}">{{.Severity}}</span> <code>{{.ID}}</code> {{.Title}}{{if .Frames}} <span class="legend">(frames {{.Frames}})</span>{{end}}{{if .RootCause}} <span class="badge bad">root cause</span>{{end}}</h4>
<p>{{.Explanation}}</p>
{{- if .DeviceErrors}}
<p><b>Device error:</b></p>
<ul>
{{- range .DeviceErrors}}
<li><code>{{.Code}}</code> <code>{{.Name}}</code> ({{.Versions}})</li>
{{- end}}
</ul>
{{- end}}
{{- if .Fix}}
<p><b>Fix:</b> {{.Fix}}</p>
{{- end}}
{{- if .Wireshark}}
<p><b>Wireshark:</b> <code>{{.Wireshark}}</code></p>
{{- end}}
</section>
{{- end}}
`
