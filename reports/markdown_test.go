package reports

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"

	"tlspcap/diagnose"
)

// hostileNames are certificate and server names a malicious server can
// send: HTML, Markdown syntax, backticks, pipes, newlines, terminal escape
// sequences (CSI, OSC, C1 CSI) and invalid UTF-8.
var hostileNames = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(2)>`,
	"**bold** _em_ [link](javascript:alert(3)) ![img](http://evil.example/x.png)",
	"`code` ``double`` ```fence",
	"a|b||c | d",
	"line1\nline2\r\n# heading\n| x | y |",
	"\x1b[2J\x1b]0;pwned\x07 \u009b31m",
	"bad\xff\xfeutf8\xc3",
	"<details><summary>fake</summary>",
	"</details></code>",
}

// hostileMarkdownReport puts every hostile name in the SNI, the
// certificates, the timeline and a finding.
func hostileMarkdownReport() *diagnose.Report {
	r := hostileHTMLReport()
	c := r.Connections[0]
	all := strings.Join(hostileNames, " ")
	c.SNI = all
	c.Timeline = append(c.Timeline, diagnose.Step{Frame: 10, From: "server", What: "Alert " + all, Kind: "alert"})
	c.Findings[0].Explanation += " " + all
	for _, n := range hostileNames {
		c.Certificates = append(c.Certificates, diagnose.Certificate{Subject: "CN=" + n, Issuer: "O=" + n, SANs: []string{n},
			KeyType: n, SHA256: "cd" + n})
	}
	return r
}

// markdownToHTML renders Markdown as GitHub does (GFM tables), letting raw
// HTML through so any the report leaks shows up as elements.
func markdownToHTML(t *testing.T, md string) *html.Node {
	t.Helper()
	gm := goldmark.New(goldmark.WithExtensions(extension.Table), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	var b bytes.Buffer
	if err := gm.Convert([]byte(md), &b); err != nil {
		t.Fatal(err)
	}
	return parseHTML(t, b.String())
}

// markdownElements are the elements a report may render to.
var markdownElements = map[string]bool{"html": true, "head": true, "body": true, "h2": true, "h3": true, "p": true, "ul": true, "ol": true,
	"li": true, "code": true, "strong": true, "em": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	"details": true, "summary": true}

// checkMarkdown renders md and checks its structure: the summary table and
// one timeline table per detailed connection with a timeline, one fold
// per connection with certificates, nothing else from raw HTML.
func checkMarkdown(t *testing.T, md string, r *diagnose.Report, o Options) *html.Node {
	t.Helper()
	doc := markdownToHTML(t, md)
	for _, n := range findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode }) {
		if !markdownElements[n.Data] {
			t.Errorf("element <%s> in the rendered Markdown", n.Data)
		}
		if len(n.Attr) > 0 && n.Data != "th" && n.Data != "td" {
			t.Errorf("<%s> has attributes %v", n.Data, n.Attr)
		}
	}
	wantTables, wantFolds := 0, 0
	if len(r.Connections) > 0 {
		wantTables++
	}
	for _, c := range r.Connections {
		if !(c.Failed() || c.Outcome == diagnose.OutcomeNotTLS || o.All) {
			continue
		}
		if len(c.Timeline) > 0 {
			wantTables++
		}
		if len(c.BrowserCertificates) > 0 {
			wantTables++
		}
		if len(c.Certificates) > 0 {
			wantFolds++
		}
	}
	tables := findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "table" })
	if len(tables) != wantTables {
		t.Errorf("%d tables, want %d", len(tables), wantTables)
	}
	// Every row has as many cells as the header: no '|' broke out.
	for i, tb := range tables {
		rows := findAll(tb, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "tr" })
		if len(rows) < 2 {
			t.Errorf("table %d has %d rows", i, len(rows))
			continue
		}
		cells := func(tr *html.Node) int {
			k := 0
			for c := tr.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					k++
				}
			}
			return k
		}
		for _, tr := range rows[1:] {
			if cells(tr) != cells(rows[0]) {
				t.Errorf("table %d: row with %d cells under a header of %d: %q", i, cells(tr), cells(rows[0]), textOf(tr))
			}
		}
	}
	details := findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "details" })
	if len(details) != wantFolds {
		t.Errorf("%d <details> folds, want %d", len(details), wantFolds)
	}
	for _, d := range details {
		s := findAll(d, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "summary" })
		if len(s) != 1 || !strings.HasPrefix(textOf(s[0]), "Server certificates (") {
			t.Errorf("fold without its summary: %q", textOf(d))
		}
	}
	return doc
}

func TestMarkdownRendersOnGitHub(t *testing.T) {
	for _, tc := range reportCaptures {
		t.Run(tc.name, func(t *testing.T) {
			_, r := renderCapture(t, tc.name, tc.o)
			for _, o := range []Options{{}, {All: true}} {
				var b bytes.Buffer
				if err := Write(&b, r, Markdown, o); err != nil {
					t.Fatal(err)
				}
				doc := checkMarkdown(t, b.String(), r, o)
				txt := textOf(doc)
				for _, c := range r.Connections {
					for _, f := range c.Findings {
						if f.Severity == diagnose.SeverityError && !strings.Contains(txt, string(f.ID)) {
							t.Errorf("rendered Markdown lacks finding %s", f.ID)
						}
					}
				}
			}
		})
	}
}

func TestMarkdownHostileNames(t *testing.T) {
	r := hostileMarkdownReport()
	var b bytes.Buffer
	if err := Write(&b, r, Markdown, Options{}); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	if !utf8.ValidString(md) {
		t.Error("markdown is not valid UTF-8")
	}
	for i, c := range md {
		if c < 0x20 && c != '\n' || c == 0x7f || c >= 0x80 && c <= 0x9f {
			t.Fatalf("control character %#x at %d", c, i)
		}
	}
	doc := checkMarkdown(t, md, r, Options{})
	// The names are shown, as text: the link and image syntax stays text.
	txt := textOf(doc)
	for _, want := range []string{"<script>alert(1)</script>", "[link](javascript:alert(3))", "a|b||c | d", `\x1b[2J`, `bad\xff\xfeutf8\xc3`} {
		if !strings.Contains(txt, want) {
			t.Errorf("rendered Markdown does not show %q as text", want)
		}
	}
	if strings.Contains(txt, "line1\nline2") {
		t.Error("a newline from the wire broke a line")
	}
	// Each certificate's line in the fold holds its own hostile subject.
	items := findAll(doc, func(n *html.Node) bool {
		return n.Type == html.ElementNode && n.Data == "li" && strings.Contains(textOf(n), "SHA-256")
	})
	if len(items) != len(r.Connections[0].Certificates) {
		t.Errorf("%d certificate lines, want %d", len(items), len(r.Connections[0].Certificates))
	}
}

// TestHostileNamesEveryFormat: no format lets a hostile name act on a
// terminal, and JSON keeps them as data.
func TestHostileNamesEveryFormat(t *testing.T) {
	r := hostileMarkdownReport()
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Write(&b, r, f, Options{All: true}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !utf8.ValidString(out) {
			t.Errorf("%s: not valid UTF-8", f)
		}
		for i, c := range out {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c >= 0x80 && c <= 0x9f {
				t.Errorf("%s: control character %#x at %d: %q", f, c, i, out[max(0, i-30):min(len(out), i+30)])
				break
			}
		}
		if f == JSON {
			var back diagnose.Report
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatalf("JSON: %v", err)
			}
			sni := back.Connections[0].SNI
			for _, n := range []string{"<script>alert(1)</script>", "a|b||c | d", "line1\nline2\r\n", "\x1b[2J\x1b]0;pwned\x07 \u009b31m"} {
				if !strings.Contains(sni, n) {
					t.Errorf("JSON lost %q from the SNI", n)
				}
			}
			var subjects []string
			for _, c := range back.Connections[0].Certificates {
				subjects = append(subjects, c.Subject)
			}
			if !slices.Contains(subjects, "CN=`code` ``double`` ```fence") {
				t.Errorf("JSON subjects %q", subjects)
			}
		}
	}
}
