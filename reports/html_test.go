package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"tlspcap/capture"
	"tlspcap/diagnose"
)

// hostileHTMLReport is a failing connection with a full timeline, a
// certificate chain and a healthy second connection; every wire string
// tries to break out of HTML, attributes, SVG or the terminal.
func hostileHTMLReport() *diagnose.Report {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	evil := `"><script>alert(1)</script><img src=x onerror=alert(2)>'` + "\x1b[2J\x00"
	r := hostileReport()
	r.Capture.File = `lab"<script>.pcapng` + "\x1b]0;pwned\x07"
	r.Capture.Problems = []string{"<iframe src=\"https://evil.example/\">"}
	c := r.Connections[0]
	c.SNI = "evil.example" + evil
	c.Client = "192.168.4.23:51000"
	c.Findings[0].Title = "Record of 6338 bytes <b>exceeds</b> the buffer" + evil
	c.Findings[0].WiresharkFilter = `tcp.stream eq 0 && frame contains "<script>"`
	c.Findings = append(c.Findings, diagnose.Finding{
		ID: "client-aborted", Severity: diagnose.SeverityError, Frames: []int{9},
		Title: "Client ended the handshake", Explanation: "@import url(https://evil.example/x.css);",
	}, diagnose.Finding{
		ID: "memory-estimate", Severity: diagnose.SeverityInfo, Frames: []int{4},
		Title: "Device heap: about 28 KB",
	})
	c.Timeline = []diagnose.Step{
		{Frame: 1, Time: at(0), From: "client", What: "SYN", Kind: "tcp"},
		{Frame: 2, Time: at(1), From: "server", What: "SYN-ACK", Kind: "tcp"},
		{Frame: 4, Time: at(2), From: "client", What: "ClientHello (331 B) SNI " + evil, Kind: "handshake", Bytes: 331},
		{Frame: 6, Time: at(5), From: "server", What: "ServerHello (65 B)", Kind: "handshake", Bytes: 65},
		{Frame: 6, Time: at(5), From: "server", What: "Certificate (6338 B)", Kind: "handshake", Bytes: 6338},
		{Frame: 7, Time: at(6), From: "server", What: "1200 bytes missing from the capture", Kind: "gap", Bytes: 1200},
		{Frame: 8, Time: at(7), From: "client", What: "FIN", Kind: "tcp"},
		{Frame: 9, Time: at(8), From: "client", What: "RST", Kind: "tcp"},
	}
	c.Certificates = []diagnose.Certificate{{
		Subject: "CN=" + evil, Issuer: "CN=Evil CA</td></tr></table><script>x()</script>",
		SANs:      []string{"a.example", "<svg onload=alert(3)>"},
		NotBefore: t0.AddDate(-1, 0, 0), NotAfter: t0.AddDate(1, 0, 0),
		KeyType: "RSA", KeyBits: 4096, SignatureAlgorithm: "SHA256-RSA",
		SHA256: strings.Repeat("ab", 32), Size: 2210,
		AIA: []string{"http://evil.example/ca.crt"},
	}}
	r.Connections = append(r.Connections, &diagnose.Connection{
		Stream: 1, Client: "192.168.4.23:51001", Server: "203.0.113.10:443", SNI: "ok.example",
		Outcome: diagnose.OutcomeOK, Stage: diagnose.StageApplicationData, Start: t0,
		Timeline: []diagnose.Step{
			{Frame: 20, Time: t0, From: "client", What: "SYN", Kind: "tcp"},
			{Frame: 21, Time: t0, From: "server", What: "SYN-ACK", Kind: "tcp"},
		},
	})
	r.Findings = []diagnose.Finding{{
		ID: "dns-nxdomain", Severity: diagnose.SeverityError, Frames: []int{30},
		Title: "DNS says " + evil + " does not exist",
	}}
	return r
}

func renderHTML(t *testing.T, r *diagnose.Report, o Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, r, HTML, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestParseFormatHTML(t *testing.T) {
	f, err := ParseFormat("html")
	if err != nil || f != HTML {
		t.Fatalf("ParseFormat(html) = %q, %v", f, err)
	}
}

func TestHTMLEscapesWireStrings(t *testing.T) {
	out := renderHTML(t, hostileHTMLReport(), Options{})
	if i := strings.Index(strings.ToLower(out), "<script"); i >= 0 {
		t.Errorf("unescaped <script at %d: %s", i, out[max(0, i-80):min(len(out), i+80)])
	}
	for _, bad := range []string{"<img", "<iframe", "<svg onload", "<b>exceeds", "</td></tr></table>"} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains unescaped %q", bad)
		}
	}
	for i, r := range out {
		if r < 0x20 && r != '\n' && r != '\t' {
			t.Fatalf("control character %#x at %d", r, i)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", `\x1b[2J`, "&lt;b&gt;exceeds&lt;/b&gt;"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks escaped %q", want)
		}
	}
	doc := parseHTML(t, out)
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		switch n.Data {
		case "script", "img", "iframe", "object", "embed", "link", "base", "form", "foreignObject":
			t.Errorf("element <%s> in output", n.Data)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				t.Errorf("event handler attribute %s=%q on <%s>", a.Key, a.Val, n.Data)
			}
		}
	}
	// The hostile SNI survives as text, in the summary table and the ladder.
	if got := strings.Count(textOf(doc), "evil.example\">"); got < 2 {
		t.Errorf("hostile SNI shown %d times as text, want at least 2", got)
	}
}

var networkLoad = regexp.MustCompile(`(?i)(\b(src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(https?:|//|data:|javascript:))`)

func TestHTMLLoadsNothingFromTheNetwork(t *testing.T) {
	out := renderHTML(t, hostileHTMLReport(), Options{All: true})
	if m := networkLoad.FindAllString(out, -1); m != nil {
		t.Errorf("output loads resources: %q", m)
	}
	doc := parseHTML(t, out)
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		for _, a := range n.Attr {
			switch strings.ToLower(a.Key) {
			case "src", "srcset", "xlink:href", "action", "poster":
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			case "href":
				if !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s href=%q> is not an in-page link", n.Data, a.Val)
				}
			}
		}
		css := attr(n, "style")
		if n.Data == "style" {
			css = textOf(n)
		}
		if strings.Contains(css, "@import") || strings.Contains(css, "url(") {
			t.Errorf("CSS of <%s> imports or loads: %q", n.Data, css)
		}
	}
	metas := findAll(doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "http-equiv") == "Content-Security-Policy" })
	if len(metas) != 1 || !strings.Contains(attr(metas[0], "content"), "default-src 'none'") {
		t.Errorf("no Content-Security-Policy default-src 'none'")
	}
}

func TestHTMLWellFormed(t *testing.T) {
	for _, o := range []Options{{}, {All: true}} {
		out := renderHTML(t, hostileHTMLReport(), o)
		checkBalanced(t, out)
		parseHTML(t, out)
		if !strings.HasPrefix(out, "<!DOCTYPE html>") {
			t.Errorf("no doctype")
		}
	}
	// An empty report renders too.
	checkBalanced(t, renderHTML(t, &diagnose.Report{Capture: diagnose.CaptureInfo{File: "empty.pcap"}}, Options{}))
}

func TestHTMLLadder(t *testing.T) {
	r := hostileHTMLReport()
	doc := parseHTML(t, renderHTML(t, r, Options{}))
	c := r.Connections[0]
	svgs := findAll(doc, hasClass("svg", "ladder"))
	if len(svgs) != 1 || attr(svgs[0], "data-stream") != "0" {
		t.Fatalf("want one ladder for the failing stream 0 (healthy stream 1 hidden without --all), got %d", len(svgs))
	}
	arrows := findAll(svgs[0], hasClass("g", "arrow"))
	if len(arrows) != len(c.Timeline) {
		t.Fatalf("%d arrows, want one per timeline step (%d)", len(arrows), len(c.Timeline))
	}
	var failing []int
	for i, a := range arrows {
		s := c.Timeline[i]
		if attr(a, "data-frame") != strconv.Itoa(s.Frame) || attr(a, "data-from") != s.From {
			t.Errorf("arrow %d: data-frame=%q data-from=%q, want %d %s", i, attr(a, "data-frame"), attr(a, "data-from"), s.Frame, s.From)
		}
		if !strings.Contains(textOf(a), termSafe(s.What)) {
			t.Errorf("arrow %d lacks its label %q: %q", i, s.What, textOf(a))
		}
		if hasClass("g", "failing")(a) {
			failing = append(failing, s.Frame)
		}
	}
	// The root cause is the first error finding (frame 6), not client-aborted (frame 9).
	if want := []int{6, 6}; !slices.Equal(failing, want) {
		t.Errorf("failing arrows at frames %v, want %v", failing, want)
	}
	notes := findAll(svgs[0], hasClass("text", "note"))
	if len(notes) != 1 || !strings.Contains(textOf(notes[0]), "record-exceeds-device-buffer") || !strings.Contains(textOf(notes[0]), "Record of 6338 bytes") {
		t.Errorf("root-cause note next to the failing arrow: %d notes", len(notes))
	}
	// The note sits on the Certificate arrow, the last step of frame 6.
	if len(notes) == 1 && !strings.Contains(textOf(notes[0].Parent), "Certificate (6338 B)") {
		t.Errorf("note is on the wrong arrow: %q", textOf(notes[0].Parent))
	}

	// Findings: error and warning only, the info one with --all.
	ids := func(doc *html.Node) []string {
		var s []string
		for _, n := range findAll(doc, hasClass("section", "finding")) {
			s = append(s, attr(n, "data-id"))
		}
		return s
	}
	if got, want := ids(doc), []string{"record-exceeds-device-buffer", "client-aborted", "dns-nxdomain"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	root := findAll(doc, hasClass("section", "root-cause"))
	if len(root) != 1 || attr(root[0], "data-id") != "record-exceeds-device-buffer" {
		t.Errorf("root-cause finding not marked")
	}
	txt := textOf(doc)
	for _, want := range []string{"-0x7100", "MBEDTLS_ERR_SSL_BAD_INPUT_DATA", "CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN", `tcp.stream eq 0 && frame contains "<script>"`,
		"RSA 4096 bits", strings.Repeat("ab", 32), "2210", "2025-11-01", "2027-11-01", "CN=Evil CA</td>"} {
		if !strings.Contains(txt, want) {
			t.Errorf("page text lacks %q", want)
		}
	}

	all := parseHTML(t, renderHTML(t, r, Options{All: true}))
	if n := len(findAll(all, hasClass("svg", "ladder"))); n != 2 {
		t.Errorf("--all: %d ladders, want 2", n)
	}
	if got := ids(all); !slices.Contains(got, "memory-estimate") {
		t.Errorf("--all: findings %v lack the info finding", got)
	}
	for _, a := range findAll(all, hasClass("g", "failing")) {
		if attr(a.Parent, "data-stream") != "0" {
			t.Errorf("healthy stream has a failing arrow")
		}
	}
}

// renderCapture runs the whole pipeline on a committed capture.
func renderCapture(t *testing.T, name string, o diagnose.Options) (string, *diagnose.Report) {
	t.Helper()
	path := filepath.Join("..", "testdata", "pcaps", name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("capture not available: %v", err)
	}
	o.KeepTimeline = true
	a, err := diagnose.NewAnalyzer(o)
	if err != nil {
		t.Fatal(err)
	}
	st, err := capture.ReadFile(path, a, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Report(path, st)
	return renderHTML(t, r, Options{}), r
}

func TestHTMLRealCapture(t *testing.T) {
	out, r := renderCapture(t, "big-chain-4096-mbedtls36.pcapng", diagnose.Options{InContentLen: 4096})
	checkBalanced(t, out)
	checkRealLadder(t, parseHTML(t, out), r)
}

// checkRealLadder asserts the big-chain capture's ladder: every step drawn,
// the record that does not fit the 4096-byte buffer (frame 6) failing.
func checkRealLadder(t *testing.T, doc *html.Node, r *diagnose.Report) {
	t.Helper()
	if len(r.Connections) != 1 {
		t.Fatalf("%d connections", len(r.Connections))
	}
	c := r.Connections[0]
	svgs := findAll(doc, hasClass("svg", "ladder"))
	if len(svgs) != 1 {
		t.Fatalf("%d ladders, want 1", len(svgs))
	}
	arrows := findAll(svgs[0], hasClass("g", "arrow"))
	if len(arrows) != len(c.Timeline) || len(arrows) == 0 {
		t.Fatalf("%d arrows for %d steps", len(arrows), len(c.Timeline))
	}
	for i, a := range arrows {
		if attr(a, "data-frame") != strconv.Itoa(c.Timeline[i].Frame) {
			t.Errorf("arrow %d data-frame %q, want %d", i, attr(a, "data-frame"), c.Timeline[i].Frame)
		}
	}
	failing := findAll(svgs[0], hasClass("g", "failing"))
	if len(failing) == 0 {
		t.Fatal("no failing arrow")
	}
	for _, a := range failing {
		if attr(a, "data-frame") != "6" {
			t.Errorf("failing arrow at frame %s, want 6", attr(a, "data-frame"))
		}
	}
	if !strings.Contains(textOf(failing[len(failing)-1]), "Certificate") {
		t.Errorf("last failing arrow is not the Certificate: %q", textOf(failing[len(failing)-1]))
	}
	fs := findAll(doc, hasClass("section", "finding"))
	if len(fs) == 0 || attr(fs[0], "data-id") != "record-exceeds-device-buffer" {
		t.Errorf("first finding is not record-exceeds-device-buffer")
	}
}

// chromium returns a function that runs headless Chromium (Debian package
// "chromium") on a page and returns its stdout; it skips the test when
// there is none, or in -short mode.
func chromium(t *testing.T) func(page string, extra ...string) []byte {
	t.Helper()
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			browser = p
			break
		}
	}
	if browser == "" {
		t.Skip("chromium not installed (Debian: apt-get install chromium); browser check skipped")
	}
	if testing.Short() {
		t.Skip("browser check skipped in -short mode")
	}
	dir := t.TempDir()
	return func(page string, extra ...string) []byte {
		t.Helper()
		profile, err := os.MkdirTemp(dir, "profile")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + profile}, extra...)
		args = append(args, "file://"+page)
		cmd := exec.CommandContext(ctx, browser, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", browser, err, lastLines(stderr.String(), 20))
		}
		return stdout.Bytes()
	}
}

// TestHTMLInBrowser opens the real-capture report in headless Chromium,
// checks the DOM the browser built and takes a screenshot.
func TestHTMLInBrowser(t *testing.T) {
	run := chromium(t)
	out, r := renderCapture(t, "big-chain-4096-mbedtls36.pcapng", diagnose.Options{InContentLen: 4096})
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := run(page, "--dump-dom")
	doc, err := html.Parse(bytes.NewReader(dom))
	if err != nil {
		t.Fatal(err)
	}
	checkRealLadder(t, doc, r)

	png := filepath.Join(dir, "report.png")
	run(page, "--screenshot="+png, "--window-size=1200,1600", "--hide-scrollbars")
	b, err := os.ReadFile(png)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG")
	}
	t.Logf("screenshot: %s (%d bytes)", png, len(b))
}

// TestHTMLLongNamesInBrowser lays out, in Chromium, a report whose SNI,
// certificate names, SANs and AIA URL are 64 KB long and full of bidi and
// zero-width characters: the page does not grow wider than the window,
// no element is taller than a screen (the names are cut, with their
// length), and the text the browser shows holds no raw bidi character.
// The probe script runs in a copy of the page without its
// Content-Security-Policy (the report itself has no script).
func TestHTMLLongNamesInBrowser(t *testing.T) {
	run := chromium(t)
	long := strings.Repeat("a", 65536)
	spaced := strings.Repeat("word ", 13108)
	r := hostileHTMLReport()
	c := r.Connections[0]
	c.SNI = "evil\u202Emoc.elgoog" + long
	c.Certificates[0].Subject = "CN=" + long + "\u200B"
	c.Certificates[0].Issuer = "CN=" + spaced
	c.Certificates[0].SANs = []string{long, spaced}
	c.Certificates[0].AIA = []string{"http://" + long}
	c.Findings[0].Explanation += " The server sent \"" + long + "\" and \"" + spaced + "\"."
	out := renderHTML(t, r, Options{All: true})
	if strings.Contains(out, long[:1000]) || strings.Contains(out, "\u202E") || strings.Contains(out, "\u200B") {
		t.Fatal("the HTML holds the 64 KB name whole or a raw bidi or zero-width character")
	}
	if !strings.Contains(out, "… (65536 characters)") || !strings.Contains(out, `evil\u202Emoc.elgoog`) {
		t.Error("the HTML does not cut the name with its length or does not show the escape")
	}
	probe := `<script>addEventListener("load", () => {
  let tallest = 0;
  for (const e of document.querySelectorAll("td, dd, h1, h2, p, code, span")) tallest = Math.max(tallest, e.getBoundingClientRect().height);
  let wide = []; for (const e of document.querySelectorAll("body *")) { const r = e.getBoundingClientRect(); if (r.right > innerWidth + 1 || e.scrollWidth > innerWidth + 1) wide.push(e.tagName + "." + e.className + ":" + Math.round(r.right) + "/" + e.scrollWidth); }
  document.body.setAttribute("data-wide", wide.slice(0, 12).join(" "));
  document.body.setAttribute("data-probe", JSON.stringify({scroll: document.documentElement.scrollWidth, window: innerWidth, tallest: Math.round(tallest)}));
});</script></body>`
	page := filepath.Join(t.TempDir(), "long.html")
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy"[^>]*>`)
	if err := os.WriteFile(page, []byte(strings.Replace(csp.ReplaceAllString(out, ""), "</body>", probe, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(run(page, "--dump-dom", "--window-size=1200,1600")))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Scroll, Window, Tallest int }
	bodies := findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "body" })
	if len(bodies) != 1 || json.Unmarshal([]byte(attr(bodies[0], "data-probe")), &got) != nil || got.Window == 0 {
		t.Fatalf("the probe did not run: %v", bodies)
	}
	t.Logf("layout: %+v; past the window: %s", got, attr(bodies[0], "data-wide"))
	if got.Scroll > got.Window {
		t.Errorf("the page is %d px wide in a %d px window: a long name does not wrap", got.Scroll, got.Window)
	}
	if got.Tallest > 1600 {
		t.Errorf("an element is %d px tall: a long name is not cut", got.Tallest)
	}
	for _, bad := range []string{"\u202E", "\u200B"} {
		if strings.Contains(textOf(doc), bad) {
			t.Errorf("the browser shows a raw %U", []rune(bad)[0])
		}
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func parseHTML(t *testing.T, s string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("html.Parse: %v", err)
	}
	return doc
}

// voidElements never have an end tag.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// checkBalanced tokenizes the output and requires every start tag to be
// closed in order: stricter than html.Parse, which repairs anything.
func checkBalanced(t *testing.T, s string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(s))
	var stack []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("tokenizer: %v", z.Err())
			}
			if len(stack) > 0 {
				t.Fatalf("unclosed elements at end: %v", stack)
			}
			return
		case html.StartTagToken:
			name, _ := z.TagName()
			if !voidElements[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				t.Fatalf("</%s> closes %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if match(d) {
			out = append(out, d)
		}
	}
	return out
}

func hasClass(tag, class string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		return n.Type == html.ElementNode && n.Data == tag && slices.Contains(strings.Fields(attr(n, "class")), class)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return b.String()
}
