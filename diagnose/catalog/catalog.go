package catalog

import (
	_ "embed"
	"fmt"
	"strings"
)

// Phase is when the rule that decides a finding runs.
type Phase int

const (
	// RootCause rules run first: the first error they find is the cause.
	RootCause Phase = iota
	// Fallback rules describe how the connection ended; they run only when
	// no root cause was found.
	Fallback
	// Observation rules report warnings and info on any connection.
	Observation
	// Capture findings come from outside the connection rules (the
	// capture file, DNS, the key log and browser chain given).
	Capture
)

var phaseNames = map[string]Phase{"root-cause": RootCause, "fallback": Fallback, "observation": Observation, "capture": Capture}

// Entry is one finding's row.
type Entry struct {
	ID          ID
	Phase       Phase
	Severity    string // "error", "warning" or "info": the usual one
	Supersedes  []ID
	Description string
}

//go:embed findings.tsv
var tsv string

var entries, byID = mustLoad(tsv)

// Entries is the catalogue in rule order.
func Entries() []Entry { return entries }

// Lookup is id's entry.
func Lookup(id ID) (Entry, bool) {
	i, ok := byID[id]
	if !ok {
		return Entry{}, false
	}
	return entries[i], true
}

// Supersedes reports whether a finding a, once reported on a connection,
// makes b redundant there.
func Supersedes(a, b ID) bool {
	if a == b {
		return true
	}
	i, ok := byID[a]
	if !ok {
		return false
	}
	for _, s := range entries[i].Supersedes {
		if s == b {
			return true
		}
	}
	return false
}

func mustLoad(s string) ([]Entry, map[ID]int) {
	es, err := parse(s)
	if err != nil {
		panic("diagnose/catalog: findings.tsv: " + err.Error()) // embedded: the tests catch it
	}
	idx := make(map[ID]int, len(es))
	for i, e := range es {
		idx[e.ID] = i
	}
	return es, idx
}

// parse reads the table: comment lines (#), one header, then rows of five
// tab-separated columns.
func parse(s string) ([]Entry, error) {
	var out []Entry
	seen := map[ID]bool{}
	header := true
	for n, line := range strings.Split(s, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if header {
			header = false
			continue
		}
		col := strings.Split(line, "\t")
		if len(col) != 5 {
			return nil, fmt.Errorf("line %d: %d columns, want 5", n+1, len(col))
		}
		e := Entry{ID: ID(col[0]), Severity: col[2], Description: col[4]}
		ph, ok := phaseNames[col[1]]
		if !ok {
			return nil, fmt.Errorf("line %d: phase %q", n+1, col[1])
		}
		e.Phase = ph
		switch e.Severity {
		case "error", "warning", "info":
		default:
			return nil, fmt.Errorf("line %d: severity %q", n+1, e.Severity)
		}
		if col[3] != "-" {
			for _, s := range strings.Split(col[3], ",") {
				e.Supersedes = append(e.Supersedes, ID(s))
			}
		}
		if e.ID == "" || seen[e.ID] {
			return nil, fmt.Errorf("line %d: id %q empty or repeated", n+1, e.ID)
		}
		seen[e.ID] = true
		out = append(out, e)
	}
	for _, e := range out {
		for _, s := range e.Supersedes {
			if !seen[s] {
				return nil, fmt.Errorf("%s supersedes %q, which is not in the table", e.ID, s)
			}
		}
	}
	return out, nil
}
