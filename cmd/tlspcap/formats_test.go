package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"golang.org/x/net/html"

	"tlspcap/diagnose"
	"tlspcap/reports"
)

// counts is what a report's closing lines say.
type counts struct{ Connections, Failed, CaptureErrors int }

// countLine and errorsLine are the count every human format prints
// (diagnose.Summary.Lines).
var (
	countLine  = regexp.MustCompile(`(\d+) of (\d+) connections failed`)
	errorsLine = regexp.MustCompile(`and (\d+) capture-level errors?:`)
)

// countsIn reads the count lines of a text, Markdown or HTML report; ok
// is false when it has no count line (a report that says only why nothing
// was analysed) or more than one.
func countsIn(s string) (counts, bool) {
	m := countLine.FindAllStringSubmatch(s, -1)
	if len(m) != 1 {
		return counts{}, false
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	c := counts{Failed: atoi(m[0][1]), Connections: atoi(m[0][2])}
	if e := errorsLine.FindStringSubmatch(s); e != nil {
		c.CaptureErrors = atoi(e[1])
	}
	return c, true
}

// checkFormatsAgree renders the report analyze wrote as JSON (jsonOut,
// decoded as rep) in text, Markdown and HTML: all four give the same
// counts, which are those of the connections' own findings, and the exit
// code follows them. The Markdown renders to tables as GitHub's does.
func checkFormatsAgree(t *testing.T, name string, jsonOut []byte, rep *diagnose.Report, code int) {
	t.Helper()
	var doc struct {
		Summary *diagnose.Summary `json:"summary"`
	}
	if err := json.Unmarshal(jsonOut, &doc); err != nil || doc.Summary == nil {
		t.Errorf("%s: JSON has no summary (%v)", name, err)
		return
	}
	want := counts{Connections: len(rep.Connections)}
	for _, c := range rep.Connections {
		for _, f := range c.Findings {
			if f.Severity == diagnose.SeverityError {
				want.Failed++
				break
			}
		}
	}
	for _, f := range rep.Findings {
		if f.Severity == diagnose.SeverityError {
			want.CaptureErrors++
		}
	}
	if got := (counts{doc.Summary.Connections, doc.Summary.Failed, len(doc.Summary.CaptureErrors)}); got != want {
		t.Errorf("%s: JSON summary %+v, the connections' findings say %+v", name, got, want)
	}
	wantCode := map[diagnose.Verdict]int{diagnose.VerdictOK: exitOK, diagnose.VerdictFailed: exitFailed, diagnose.VerdictNothing: exitUsage}[doc.Summary.Verdict()]
	if want.Failed+want.CaptureErrors > 0 && wantCode != exitUsage {
		wantCode = exitFailed
	}
	if code != wantCode {
		t.Errorf("%s: exit %d for counts %+v", name, code, want)
	}
	// A report of nothing analysed, with no capture error, prints only why.
	rep.Nothing = doc.Summary.Nothing // JSON has it in the summary only
	noCount := doc.Summary.Nothing != nil && want.CaptureErrors == 0
	for _, f := range []reports.Format{reports.Text, reports.Markdown, reports.HTML} {
		var b bytes.Buffer
		if err := reports.Write(&b, rep, f, reports.Options{}); err != nil {
			t.Errorf("%s: %s: %v", name, f, err)
			continue
		}
		got, ok := countsIn(b.String())
		if ok == noCount || (ok && got != want) {
			t.Errorf("%s: %s report says %+v (found: %v), JSON %+v", name, f, got, ok, want)
		}
		if f == reports.Markdown {
			checkMarkdownTables(t, name, b.Bytes())
		}
	}
}

// checkMarkdownTables renders md with goldmark's GFM tables (and
// cmark-gfm, GitHub's renderer, when installed): every table of the
// Markdown is a table, each row with the header's number of cells.
func checkMarkdownTables(t *testing.T, name string, md []byte) {
	t.Helper()
	want := 0
	for _, l := range strings.Split(string(md), "\n") {
		if strings.HasPrefix(l, "| --- |") {
			want++
		}
	}
	var gm bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.Table)).Convert(md, &gm); err != nil {
		t.Fatal(err)
	}
	checkHTMLTables(t, name+" (goldmark)", gm.Bytes(), want)
	if cmarkGFM != "" {
		cmd := exec.Command(cmarkGFM, "-e", "table")
		cmd.Stdin = bytes.NewReader(md)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("cmark-gfm: %v", err)
		}
		checkHTMLTables(t, name+" (cmark-gfm)", out, want)
	}
}

var cmarkGFM, _ = exec.LookPath("cmark-gfm")

func checkHTMLTables(t *testing.T, name string, page []byte, want int) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	tables := 0
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "table" {
			continue
		}
		tables++
		header := -1
		for tr := range n.Descendants() {
			if tr.Type != html.ElementNode || tr.Data != "tr" {
				continue
			}
			cells := 0
			for c := tr.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode {
					cells++
				}
			}
			if header < 0 {
				header = cells
			} else if cells != header {
				t.Errorf("%s: table %d has a row of %d cells under a header of %d", name, tables, cells, header)
				return
			}
		}
	}
	if tables != want {
		t.Errorf("%s: %d tables rendered, the Markdown has %d", name, tables, want)
	}
}

// TestHostileMarkdownTables: wire strings (pipes, backticks, newlines,
// HTML, bidi) in every table cell never break a table.
func TestHostileMarkdownTables(t *testing.T) {
	path, _, _ := hostileCapture(t)
	for _, args := range [][]string{{"analyze", "--all"}, {"records"}} {
		code, out, errs := tlspcap(t, append(args, "--no-progress", "--format", "markdown", path)...)
		if code == exitUsage {
			t.Fatalf("%v: %s", args, errs)
		}
		checkMarkdownTables(t, args[0], []byte(out))
	}
}

// formatsInHelp are the formats a --format help line lists.
var formatsInHelp = regexp.MustCompile(`--format string\s+output format: ([a-z, ]+?) \(default text\)`)

// TestHelpListsWorkingFormats walks every subcommand's help: each one
// with --format lists formats, and each listed format works on a capture
// (live reads it on stdin), while one it does not list is refused.
func TestHelpListsWorkingFormats(t *testing.T) {
	pcap, err := os.ReadFile(bigChain)
	if err != nil {
		t.Fatal(err)
	}
	_, top, _ := tlspcap(t, "--help")
	var cmds []string
	inList := false
	for _, l := range strings.Split(top, "\n") {
		switch {
		case strings.HasPrefix(l, "Available Commands:"):
			inList = true
		case inList && strings.TrimSpace(l) == "":
			inList = false
		case inList:
			if f := strings.Fields(l); len(f) > 0 && f[0] != "help" && f[0] != "completion" {
				cmds = append(cmds, f[0])
			}
		}
	}
	if len(cmds) < 5 {
		t.Fatalf("subcommands %v in the help", cmds)
	}
	withFormat := 0
	for _, cmd := range cmds {
		code, help, _ := tlspcap(t, cmd, "--help")
		if code != exitOK {
			t.Errorf("%s --help: exit %d", cmd, code)
		}
		m := formatsInHelp.FindStringSubmatch(help)
		if m == nil {
			if strings.Contains(help, "--format") {
				t.Errorf("%s --help mentions --format without listing formats:\n%s", cmd, help)
			}
			continue
		}
		withFormat++
		listed := strings.FieldsFunc(strings.ReplaceAll(m[1], " or ", ","), func(r rune) bool { return r == ',' || r == ' ' })
		for _, f := range append(listed, "xml", "html") {
			args := []string{cmd, "--no-progress", "--format", f, bigChain}
			if cmd == "live" {
				args = []string{cmd, "-r", "-", "--no-progress", "--format", f}
			}
			var out, errb bytes.Buffer
			code := run(args, bytes.NewReader(pcap), &out, &errb)
			works := code != exitUsage && out.Len() > 0
			if isListed := strings.Contains(","+strings.Join(listed, ",")+",", ","+f+","); works != isListed {
				t.Errorf("%s --format %s: listed %v, exit %d, %d bytes out, %s", cmd, f, isListed, code, out.Len(), errb.String())
			}
		}
	}
	if withFormat != 4 {
		t.Errorf("%d subcommands with --format, want 4 (analyze, records, certs, live)", withFormat)
	}
}

// TestRecordsJSONAndMarkdown: handshake_types are numbers, and records
// --format markdown is Markdown, its tables rendered as tables.
func TestRecordsJSONAndMarkdown(t *testing.T) {
	_, out, _ := tlspcap(t, "records", "--format", "json", bigChain)
	var doc struct {
		Connections []struct {
			Records []struct {
				HandshakeTypes json.RawMessage `json:"handshake_types"`
			} `json:"records"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range doc.Connections[0].Records {
		var compact bytes.Buffer
		json.Compact(&compact, r.HandshakeTypes)
		got = append(got, compact.String())
	}
	if want := "[1] [2] [11]"; strings.Join(got, " ") != want {
		t.Errorf("handshake_types %v, want %s", got, want)
	}
	_, md, _ := tlspcap(t, "records", "--format", "markdown", bigChain)
	if !strings.HasPrefix(md, "### tcp.stream 0") || strings.Contains(md, "┌") {
		t.Errorf("records --format markdown is not Markdown:\n%s", md)
	}
	checkMarkdownTables(t, "records", []byte(md))
	if !strings.Contains(md, "| --- |") {
		t.Error("records --format markdown has no table")
	}
}
