// Command vulndb builds a Go vulnerability database in the v1 layout that
// govulncheck reads with -db file:///DIR, from a directory of OSV entries
// (data/osv of the golang.org/x/vulndb module). make lint uses it when
// vuln.go.dev cannot be reached.
//
//	go run ./internal/vulndb -osv DIR/data/osv -modified TIME -out OUTDIR
//
// OUTDIR gets index/db.json, index/modules.json, index/vulns.json and
// ID/<id>.json (each OSV file as it is). OUTDIR must not exist: the database
// is written beside it and renamed into place, so an OUTDIR that exists is
// complete.
//
// The vulndb repository leaves every entry's "modified" at 0001-01-01: its
// deploy step sets it from git history, which the module has not. -modified
// (the snapshot's commit time) stands in for it in the index; no entry was
// modified later than that.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

func main() {
	osvDir := flag.String("osv", "", "directory of OSV entries, one <id>.json each")
	out := flag.String("out", "", "directory to create with the database")
	modified := flag.String("modified", "", "RFC 3339 time for entries whose modified time is unset (the snapshot's)")
	flag.Parse()
	if *osvDir == "" || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: vulndb -osv DIR [-modified TIME] -out OUTDIR")
		os.Exit(2)
	}
	var unset time.Time
	if *modified != "" {
		t, err := time.Parse(time.RFC3339, *modified)
		if err != nil {
			fmt.Fprintln(os.Stderr, "vulndb: -modified:", err)
			os.Exit(2)
		}
		unset = t.UTC()
	}
	sum, err := build(*osvDir, *out, unset)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
	fmt.Printf("vulndb: %d entries, %d modules, last modified %s, in %s\n",
		sum.entries, sum.modules, sum.modified.Format(time.RFC3339), *out)
}

// The parts of an OSV entry the index needs; the ID files keep the rest.
type entry struct {
	ID       string     `json:"id"`
	Modified time.Time  `json:"modified"`
	Aliases  []string   `json:"aliases"`
	Affected []affected `json:"affected"`
}

type affected struct {
	Package struct {
		Name      string `json:"name"`
		Ecosystem string `json:"ecosystem"`
	} `json:"package"`
	Ranges []osvRange `json:"ranges"`
}

type osvRange struct {
	Type   string  `json:"type"`
	Events []event `json:"events"`
}

// OSV also defines last_affected and limit events; the Go database uses
// neither and govulncheck ignores them, so they are rejected rather than
// misread as "no fix".
type event struct {
	Introduced   string `json:"introduced"`
	Fixed        string `json:"fixed"`
	LastAffected string `json:"last_affected"`
	Limit        string `json:"limit"`
}

// The v1 index records, as govulncheck's client reads them.
type dbMeta struct {
	Modified time.Time `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	// The version from which on no version is affected, without "v";
	// empty when there is none. govulncheck skips the entry for a module
	// at or past it without reading the entry.
	Fixed string `json:"fixed,omitempty"`
}

type vulnMeta struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

type summary struct {
	entries, modules int
	modified         time.Time
}

// build reads every *.json in osvDir and writes the database to out;
// unset, when not zero, is the modified time of entries that have none.
func build(osvDir, out string, unset time.Time) (summary, error) {
	if _, err := os.Lstat(out); err == nil {
		return summary{}, fmt.Errorf("%s already exists; remove it or choose another -out", out)
	}
	names, err := osvFiles(osvDir)
	if err != nil {
		return summary{}, err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return summary{}, err
	}
	sum, err := write(osvDir, names, tmp, unset)
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return summary{}, err
	}
	return sum, nil
}

func osvFiles(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range des {
		if de.Type().IsRegular() && strings.HasSuffix(de.Name(), ".json") {
			names = append(names, de.Name())
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no OSV entries (*.json)", dir)
	}
	return names, nil
}

func write(osvDir string, names []string, dir string, unset time.Time) (summary, error) {
	for _, d := range []string{"index", "ID"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return summary{}, err
		}
	}
	var db dbMeta
	modules := map[string]*moduleMeta{}
	vulns := make([]vulnMeta, 0, len(names))
	for _, name := range names {
		path := filepath.Join(osvDir, name)
		raw, e, err := readEntry(path, unset)
		if err != nil {
			return summary{}, err
		}
		fixed, err := fixedByModule(e)
		if err != nil {
			return summary{}, fmt.Errorf("%s: %v", path, err)
		}
		for mod, f := range fixed {
			m := modules[mod]
			if m == nil {
				m = &moduleMeta{Path: mod}
				modules[mod] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: f})
		}
		if e.Modified.After(db.Modified) {
			db.Modified = e.Modified
		}
		vulns = append(vulns, vulnMeta{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		if err := os.WriteFile(filepath.Join(dir, "ID", name), raw, 0o644); err != nil {
			return summary{}, err
		}
	}

	// govulncheck streams modules.json and matches paths one by one; the
	// sorted order is what vuln.go.dev serves.
	list := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	sort.Slice(vulns, func(i, j int) bool { return vulns[i].ID < vulns[j].ID })
	for name, v := range map[string]any{"db.json": db, "modules.json": list, "vulns.json": vulns} {
		b, err := json.Marshal(v)
		if err != nil {
			return summary{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, "index", name), b, 0o644); err != nil {
			return summary{}, err
		}
	}
	return summary{entries: len(names), modules: len(list), modified: db.Modified}, nil
}

func readEntry(path string, unset time.Time) ([]byte, *entry, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, nil, fmt.Errorf("%s: not an OSV entry: %v", path, err)
	}
	// govulncheck fetches ID/<id>.json, so the name is the ID.
	if e.ID == "" || filepath.Base(path) != e.ID+".json" {
		return nil, nil, fmt.Errorf("%s: id %q does not match the file name", path, e.ID)
	}
	if e.Modified.IsZero() {
		if unset.IsZero() {
			return nil, nil, fmt.Errorf("%s: no modified time; give the snapshot's time with -modified", path)
		}
		e.Modified = unset
	}
	e.Modified = e.Modified.UTC()
	return raw, &e, nil
}

// fixedByModule gives each Go module the entry affects its index "fixed"
// version ("" when some affected version has no fix). A module named in
// several affected items gets one index row that covers them all.
// Other ecosystems are not Go modules and stay out of the index.
func fixedByModule(e *entry) (map[string]string, error) {
	fixed := map[string]string{}
	open := map[string]bool{}
	for _, a := range e.Affected {
		if a.Package.Ecosystem != "Go" {
			continue
		}
		mod := a.Package.Name
		if mod == "" {
			return nil, errors.New("affected package without a name")
		}
		f, err := latestFixed(a.Ranges)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", mod, err)
		}
		if f == "" {
			open[mod] = true
		} else if old, ok := fixed[mod]; !ok || less(old, f) {
			fixed[mod] = f
		}
	}
	for mod := range open {
		fixed[mod] = ""
	}
	return fixed, nil
}

// latestFixed returns the version from which on no version is affected
// according to the SEMVER ranges, the way govulncheck reads them: no SEMVER
// range, or one without events, affects every version, and so does a range
// whose last event (in version order) introduces the vulnerability again.
// It is "" then. Other range types are ignored, as govulncheck does.
func latestFixed(ranges []osvRange) (string, error) {
	latest := ""
	semverRanges := 0
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		semverRanges++
		if len(r.Events) == 0 {
			return "", nil
		}
		for _, ev := range r.Events {
			if err := checkEvent(ev); err != nil {
				return "", err
			}
		}
		evs := append([]event(nil), r.Events...)
		sort.SliceStable(evs, func(i, j int) bool {
			if evs[j].Introduced == "0" {
				return false
			}
			return evs[i].Introduced == "0" || less(evs[i].version(), evs[j].version())
		})
		affected := false
		for _, ev := range evs {
			if !affected && ev.Introduced != "" {
				affected = true
			} else if affected && ev.Fixed != "" {
				affected = false
				if latest == "" || less(latest, ev.Fixed) {
					latest = ev.Fixed
				}
			}
		}
		if affected {
			return "", nil
		}
	}
	if semverRanges == 0 {
		return "", nil
	}
	return latest, nil
}

func checkEvent(ev event) error {
	switch {
	case ev.LastAffected != "" || ev.Limit != "":
		return fmt.Errorf("unsupported SEMVER event %+v (only introduced and fixed)", ev)
	case (ev.Introduced == "") == (ev.Fixed == ""):
		return fmt.Errorf("SEMVER event %+v needs exactly one of introduced and fixed", ev)
	case ev.Introduced == "0":
		return nil
	}
	v := ev.version()
	if strings.HasPrefix(v, "v") || !semver.IsValid("v"+v) {
		return fmt.Errorf("version %q is not semver without a leading v", v)
	}
	return nil
}

func (ev event) version() string {
	if ev.Introduced != "" {
		return ev.Introduced
	}
	return ev.Fixed
}

// less compares OSV versions, which have no leading "v".
func less(a, b string) bool { return semver.Compare("v"+a, "v"+b) < 0 }
