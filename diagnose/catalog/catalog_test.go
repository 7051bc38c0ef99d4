package catalog

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestTableMatchesConstants: every ID constant has a row and every row a
// constant, so code names only ids the table describes.
func TestTableMatchesConstants(t *testing.T) {
	fs := token.NewFileSet()
	f, err := parser.ParseFile(fs, "ids.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[ID]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) == 1 {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				consts[ID(s)] = true
			}
		}
		return true
	})
	for id := range consts {
		if _, ok := Lookup(id); !ok {
			t.Errorf("constant %q has no row in findings.tsv", id)
		}
	}
	for _, e := range Entries() {
		if !consts[e.ID] {
			t.Errorf("row %q has no constant in ids.go", e.ID)
		}
		if e.Description == "" {
			t.Errorf("row %q has no description", e.ID)
		}
	}
	if len(consts) != len(Entries()) {
		t.Errorf("%d constants, %d rows", len(consts), len(Entries()))
	}
}

// TestNoSupersessionCycle: a finding cannot, through a chain of others,
// make itself redundant (then which one is reported would depend on rule
// order alone).
func TestNoSupersessionCycle(t *testing.T) {
	const (
		unseen = iota
		open
		done
	)
	state := map[ID]int{}
	var visit func(id ID, path []ID)
	visit = func(id ID, path []ID) {
		switch state[id] {
		case open:
			t.Errorf("supersession cycle: %v", append(path, id))
			return
		case done:
			return
		}
		state[id] = open
		e, _ := Lookup(id)
		for _, s := range e.Supersedes {
			if s != id {
				visit(s, append(path, id))
			}
		}
		state[id] = done
	}
	for _, e := range Entries() {
		visit(e.ID, nil)
	}
}

func TestSupersedes(t *testing.T) {
	for _, tc := range []struct {
		a, b ID
		want bool
	}{
		{RecordOverflow, RecordExceedsDeviceBuffer, true},
		{RecordOverflow, RecordTruncated, true},
		{CaptureMissingBytes, RecordTruncated, true},
		{CaptureOneDirection, ServerSilent, true},
		{MissingSNI, MissingSNI, true}, // an id is not repeated by a later rule
		{RecordExceedsDeviceBuffer, RecordOverflow, false},
		{CaptureTruncatedPackets, RecordTruncated, false},
		{ServerSilent, CaptureOneDirection, false},
		{"no-such-id", RecordTruncated, false},
	} {
		if got := Supersedes(tc.a, tc.b); got != tc.want {
			t.Errorf("Supersedes(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	head := "id\tphase\tseverity\tsupersedes\tdescription\n"
	for name, body := range map[string]string{
		"columns":  "a\troot-cause\terror\t-\n",
		"phase":    "a\tlate\terror\t-\tx\n",
		"severity": "a\troot-cause\tfatal\t-\tx\n",
		"repeated": "a\troot-cause\terror\t-\tx\na\tfallback\terror\t-\ty\n",
		"unknown":  "a\troot-cause\terror\tb\tx\n",
	} {
		if _, err := parse(head + body); err == nil {
			t.Errorf("%s: parse accepted %q", name, body)
		}
	}
	es, err := parse("# comment\n" + head + "a\tfallback\twarning\tb,c\tx y\nb\tcapture\tinfo\t-\tz\nc\tobservation\terror\t-\tw\n")
	if err != nil || len(es) != 3 || es[0].Phase != Fallback || es[0].Severity != "warning" || len(es[0].Supersedes) != 2 || es[0].Supersedes[1] != "c" || es[1].Phase != Capture || es[0].Description != "x y" {
		t.Errorf("parse = %+v, %v", es, err)
	}
}

// TestREADMEFindingsTable: the README's findings table lists exactly the
// catalogue's ids, each with an example.
func TestREADMEFindingsTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skipf("README.md: %v", err)
	}
	sec := string(b)
	i := strings.Index(sec, "\n## Findings\n")
	if i < 0 {
		t.Fatal("README.md has no ## Findings section")
	}
	sec = sec[i+1:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\|(.*)\\|$")
	readme := map[ID]bool{}
	for _, m := range row.FindAllStringSubmatch(sec, -1) {
		id := ID(m[1])
		if readme[id] {
			t.Errorf("README lists %s twice", id)
		}
		readme[id] = true
		if strings.TrimSpace(m[2]) == "" {
			t.Errorf("README's row for %s has no example", id)
		}
		if _, ok := Lookup(id); !ok {
			t.Errorf("README documents %s, which is not in findings.tsv", id)
		}
	}
	for _, e := range Entries() {
		if !readme[e.ID] {
			t.Errorf("%s is not in README's findings table", e.ID)
		}
	}
}
