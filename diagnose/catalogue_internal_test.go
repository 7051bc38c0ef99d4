package diagnose

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tlspcap/diagnose/catalog"
)

// TestRulesFollowCatalogue: every rule is placed by a row of the table, in
// that row's phase; capture-level ids have no connection rule; and a
// finding that supersedes another is decided by an earlier rule (the runner
// drops a finding only for what earlier rules found).
func TestRulesFollowCatalogue(t *testing.T) {
	pos := map[catalog.ID]int{}
	for i, rl := range catalogue {
		e, ok := catalog.Lookup(rl.id)
		if !ok || e.Phase != rl.phase {
			t.Errorf("rule %s: table row %+v", rl.id, e)
		}
		if rl.phase == catalog.Capture {
			t.Errorf("rule %s runs for a capture-level id", rl.id)
		}
		pos[rl.id] = int(rl.phase)*1000 + i
	}
	if len(catalogue) != len(checks) {
		t.Errorf("%d rules in the catalogue, %d checks: a check has no row in findings.tsv", len(catalogue), len(checks))
	}
	for _, e := range catalog.Entries() {
		for _, s := range e.Supersedes {
			a, okA := pos[e.ID]
			b, okB := pos[s]
			if okA && okB && a >= b {
				t.Errorf("%s supersedes %s but its rule runs later", e.ID, s)
			}
		}
	}
}

// TestEveryIDEmitted: every id of the table is named by product code of
// this package (emitted by a rule, or by the capture-level findings), and no
// product code spells a finding id as a string literal instead of its
// constant.
func TestEveryIDEmitted(t *testing.T) {
	known := map[string]catalog.ID{}
	for _, e := range catalog.Entries() {
		known[string(e.ID)] = e.ID
	}
	// Strings that are not finding ids: the outcome and timeline event
	// "not-tls".
	notIDs := map[string]bool{"model.go not-tls": true, "decide.go not-tls": true}
	used := map[string]bool{}
	for _, dir := range []string{".", "chain"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if p, ok := n.X.(*ast.Ident); ok && p.Name == "catalog" {
						used[n.Sel.Name] = true
					}
				case *ast.BasicLit:
					s, _ := strconv.Unquote(n.Value)
					if _, ok := known[s]; ok && n.Kind == token.STRING && !notIDs[filepath.Base(path)+" "+s] {
						t.Errorf("%s: finding id %q as a literal: use its catalog constant", path, s)
					}
				}
				return true
			})
		}
	}
	names := constNames(t)
	for _, e := range catalog.Entries() {
		if !used[names[e.ID]] {
			t.Errorf("%s (catalog.%s) is in findings.tsv but nothing emits it", e.ID, names[e.ID])
		}
	}
}

// constNames maps each id to its constant's name in catalog/ids.go.
func constNames(t *testing.T) map[catalog.ID]string {
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("catalog", "ids.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[catalog.ID]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) == 1 && len(vs.Names) == 1 {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				s, _ := strconv.Unquote(lit.Value)
				out[catalog.ID(s)] = vs.Names[0].Name
			}
		}
		return true
	})
	return out
}

// TestSuperseded: the runner drops a finding an earlier rule's finding
// supersedes, and one an earlier rule already reported; not one the same
// rule reports twice, nor one only a later finding would supersede.
func TestSuperseded(t *testing.T) {
	x := &ruleRun{found: []Finding{{ID: catalog.RecordOverflow}, {ID: catalog.MissingSNI}, {ID: catalog.CaptureOneDirection}}}
	for _, tc := range []struct {
		id   catalog.ID
		n    int
		want bool
	}{
		{catalog.RecordExceedsDeviceBuffer, 3, true},
		{catalog.RecordTruncated, 3, true},
		{catalog.MissingSNI, 3, true},
		{catalog.ServerSilent, 3, true},
		{catalog.ServerSilent, 2, false}, // capture-one-direction came from this rule
		{catalog.MissingSNI, 1, false},
		{catalog.CaptureMissingBytes, 3, false},
		{catalog.RecordOverflow, 0, false},
	} {
		if got := x.superseded(tc.id, tc.n); got != tc.want {
			t.Errorf("superseded(%s, %d) = %v, want %v", tc.id, tc.n, got, tc.want)
		}
	}
}
