package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func writeOSV(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

var testEntries = map[string]string{
	// The standard library and the toolchain, two release branches fixed.
	"GO-2024-0001.json": `{"id":"GO-2024-0001","modified":"2024-05-01T10:00:00Z","aliases":["CVE-2024-1"],
	  "affected":[
	    {"package":{"name":"stdlib","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[
	      {"introduced":"0"},{"fixed":"1.21.5"},{"introduced":"1.22.0-0"},{"fixed":"1.22.1"}]}],
	     "ecosystem_specific":{"imports":[{"path":"net/http","symbols":["Get"]}]}},
	    {"package":{"name":"toolchain","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[
	      {"introduced":"0"},{"fixed":"1.22.1"}]}]}]}`,
	// Fixed, then introduced again with no fix: no version is safe by index.
	"GO-2024-0002.json": `{"id":"GO-2024-0002","modified":"2024-06-02T00:00:00+02:00",
	  "affected":[{"package":{"name":"example.com/a","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[
	    {"introduced":"0"},{"fixed":"1.0.0"},{"introduced":"2.0.0"}]}]}]}`,
	// One module in two affected items (events out of order) and a module
	// with no ranges at all, which means every version.
	"GO-2024-0003.json": `{"id":"GO-2024-0003","modified":"2024-03-01T00:00:00Z",
	  "affected":[
	    {"package":{"name":"example.com/a","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"fixed":"1.2.0"},{"introduced":"0"}]}]},
	    {"package":{"name":"example.com/a","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"1.5.0"},{"fixed":"1.6.0"}]}]},
	    {"package":{"name":"example.com/b","ecosystem":"Go"}}]}`,
	// Not a Go module: in ID/, not in the modules index.
	"OTHER-1.json": `{"id":"OTHER-1","modified":"2024-01-01T00:00:00Z",
	  "affected":[{"package":{"name":"left-pad","ecosystem":"npm"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`,
}

func TestBuild(t *testing.T) {
	osvDir := t.TempDir()
	for name, body := range testEntries {
		writeOSV(t, osvDir, name, body)
	}
	writeOSV(t, osvDir, "README.md", "not an entry")
	out := filepath.Join(t.TempDir(), "db")
	sum, err := build(osvDir, out, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.entries != 4 || sum.modules != 4 {
		t.Errorf("summary %+v, want 4 entries and 4 modules", sum)
	}

	var db map[string]string
	readJSON(t, filepath.Join(out, "index", "db.json"), &db)
	if want := map[string]string{"modified": "2024-06-01T22:00:00Z"}; !cmp.Equal(db, want) {
		t.Errorf("db.json: %v, want %v", db, want)
	}

	type vuln struct{ ID, Modified, Fixed string }
	type module struct {
		Path  string
		Vulns []vuln
	}
	var mods []module
	readJSON(t, filepath.Join(out, "index", "modules.json"), &mods)
	want := []module{
		{"example.com/a", []vuln{{"GO-2024-0002", "2024-06-01T22:00:00Z", ""}, {"GO-2024-0003", "2024-03-01T00:00:00Z", "1.6.0"}}},
		{"example.com/b", []vuln{{"GO-2024-0003", "2024-03-01T00:00:00Z", ""}}},
		{"stdlib", []vuln{{"GO-2024-0001", "2024-05-01T10:00:00Z", "1.22.1"}}},
		{"toolchain", []vuln{{"GO-2024-0001", "2024-05-01T10:00:00Z", "1.22.1"}}},
	}
	if d := cmp.Diff(want, mods); d != "" {
		t.Errorf("modules.json (-want +got):\n%s", d)
	}

	var vulns []struct {
		ID      string
		Aliases []string
	}
	readJSON(t, filepath.Join(out, "index", "vulns.json"), &vulns)
	if len(vulns) != 4 || vulns[0].ID != "GO-2024-0001" || !cmp.Equal(vulns[0].Aliases, []string{"CVE-2024-1"}) || vulns[3].ID != "OTHER-1" {
		t.Errorf("vulns.json: %+v", vulns)
	}

	for name, body := range testEntries {
		got, err := os.ReadFile(filepath.Join(out, "ID", name))
		if err != nil || string(got) != body {
			t.Errorf("ID/%s is not the OSV file as it was (err %v)", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "ID", "README.md")); err == nil {
		t.Error("README.md copied into ID/")
	}
	if _, err := build(osvDir, out, time.Time{}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second build into %s: err %v, want already exists", out, err)
	}
}

func TestLatestFixed(t *testing.T) {
	semver := func(evs ...event) osvRange { return osvRange{Type: "SEMVER", Events: evs} }
	in := func(v string) event { return event{Introduced: v} }
	fx := func(v string) event { return event{Fixed: v} }
	for _, c := range []struct {
		name   string
		ranges []osvRange
		want   string
	}{
		{"no ranges", nil, ""},
		{"only a git range", []osvRange{{Type: "GIT", Events: []event{in("0"), fx("abc")}}}, ""},
		{"empty semver range", []osvRange{semver()}, ""},
		{"never fixed", []osvRange{semver(in("0"))}, ""},
		{"fixed", []osvRange{semver(in("0"), fx("1.2.3"))}, "1.2.3"},
		{"branches", []osvRange{semver(in("0"), fx("1.20.9"), in("1.21.0-0"), fx("1.21.4"))}, "1.21.4"},
		{"unsorted", []osvRange{semver(fx("1.21.4"), in("1.21.0-0"), fx("1.20.9"), in("0"))}, "1.21.4"},
		{"introduced again", []osvRange{semver(in("0"), fx("1.0.0"), in("2.0.0"))}, ""},
		{"prerelease fix", []osvRange{semver(in("0"), fx("0.0.0-20200124225646-8b5121be2f68"))}, "0.0.0-20200124225646-8b5121be2f68"},
		{"two ranges", []osvRange{semver(in("0"), fx("1.0.0")), semver(in("1.5.0"), fx("1.6.0"))}, "1.6.0"},
		// An open range before a fixed one must not hide versions past the fix.
		{"open range first", []osvRange{semver(in("3.0.0")), semver(in("0"), fx("1.0.0"))}, ""},
	} {
		got, err := latestFixed(c.ranges)
		if err != nil || got != c.want {
			t.Errorf("%s: latestFixed = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

func TestErrorsNameTheFile(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"GO-1.json", `{"id":`, "not an OSV entry"},
		{"GO-1.json", `{"id":"GO-2","modified":"2024-01-01T00:00:00Z"}`, `id "GO-2" does not match`},
		{"GO-1.json", `{"id":"GO-1"}`, "no modified time"},
		{"GO-1.json", `{"id":"GO-1","modified":"yesterday"}`, "not an OSV entry"},
		{"GO-1.json", `{"id":"GO-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go"}}]}`, "without a name"},
		{"GO-1.json", `{"id":"GO-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"name":"m","ecosystem":"Go"},
		  "ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]}]}`, "exactly one of introduced and fixed"},
		{"GO-1.json", `{"id":"GO-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"name":"m","ecosystem":"Go"},
		  "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"last_affected":"1.0.0"}]}]}]}`, "unsupported SEMVER event"},
		{"GO-1.json", `{"id":"GO-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"name":"m","ecosystem":"Go"},
		  "ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"v1.0.0"}]}]}]}`, `"v1.0.0" is not semver`},
		{"GO-1.json", `{"id":"GO-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"name":"m","ecosystem":"Go"},
		  "ranges":[{"type":"SEMVER","events":[{"introduced":"1.x"}]}]}]}`, `"1.x" is not semver`},
	} {
		osvDir := t.TempDir()
		writeOSV(t, osvDir, c.name, c.body)
		parent := t.TempDir()
		_, err := build(osvDir, filepath.Join(parent, "db"), time.Time{})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(osvDir, c.name)) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want the file and %q", c.body, err, c.want)
		}
		if left, _ := os.ReadDir(parent); len(left) != 0 {
			t.Errorf("%s: a failed build left %d files in %s", c.body, len(left), parent)
		}
	}
	if _, err := build(t.TempDir(), filepath.Join(t.TempDir(), "db"), time.Time{}); err == nil || !strings.Contains(err.Error(), "no OSV entries") {
		t.Errorf("empty directory: err %v, want no OSV entries", err)
	}
}

// The vulndb repository's entries all say 0001-01-01; -modified stands in.
func TestUnsetModified(t *testing.T) {
	osvDir := t.TempDir()
	writeOSV(t, osvDir, "GO-1.json", `{"id":"GO-1","modified":"0001-01-01T00:00:00Z",
	  "affected":[{"package":{"name":"m","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`)
	snapshot := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	out := filepath.Join(t.TempDir(), "db")
	if _, err := build(osvDir, out, snapshot); err != nil {
		t.Fatal(err)
	}
	var db dbMeta
	readJSON(t, filepath.Join(out, "index", "db.json"), &db)
	var mods []moduleMeta
	readJSON(t, filepath.Join(out, "index", "modules.json"), &mods)
	if !db.Modified.Equal(snapshot) || len(mods) != 1 || !mods[0].Vulns[0].Modified.Equal(snapshot) {
		t.Errorf("db.json %v, modules.json %+v: want modified %v", db, mods, snapshot)
	}
}

// TestRealVulnDB builds the database from the golang.org/x/vulndb snapshot
// in the module cache (make lint downloads it) and checks what govulncheck
// relies on: an ID file per entry with its id, and a modules index that is
// sorted and lists exactly the Go modules each entry affects.
func TestRealVulnDB(t *testing.T) {
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	dirs, _ := filepath.Glob(filepath.Join(strings.TrimSpace(string(modcache)), "golang.org", "x", "vulndb@*", "data", "osv"))
	if len(dirs) == 0 {
		t.Skip("no golang.org/x/vulndb in the module cache (make lint downloads it)")
	}
	sort.Strings(dirs)
	osvDir := dirs[len(dirs)-1]
	out := filepath.Join(t.TempDir(), "db")
	snapshot := time.Date(2026, 11, 5, 23, 49, 57, 0, time.UTC)
	sum, err := build(osvDir, out, snapshot)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d entries, %d modules", osvDir, sum.entries, sum.modules)

	// What the index must list, from the OSV files read independently.
	want := map[string]map[string]bool{}
	var latest time.Time
	files, _ := filepath.Glob(filepath.Join(osvDir, "*.json"))
	for _, f := range files {
		var e struct {
			ID       string
			Modified time.Time
			Affected []struct {
				Package struct{ Name, Ecosystem string }
			}
		}
		b, err := os.ReadFile(filepath.Join(out, "ID", filepath.Base(f)))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &e); err != nil || e.ID+".json" != filepath.Base(f) {
			t.Fatalf("ID/%s: id %q, err %v", filepath.Base(f), e.ID, err)
		}
		if e.Modified.IsZero() {
			e.Modified = snapshot
		}
		if e.Modified.After(latest) {
			latest = e.Modified
		}
		for _, a := range e.Affected {
			if a.Package.Ecosystem == "Go" {
				if want[a.Package.Name] == nil {
					want[a.Package.Name] = map[string]bool{}
				}
				want[a.Package.Name][e.ID] = true
			}
		}
	}
	if ids, _ := os.ReadDir(filepath.Join(out, "ID")); len(ids) != len(files) {
		t.Errorf("ID/ has %d files for %d OSV entries", len(ids), len(files))
	}
	if want["stdlib"] == nil || want["toolchain"] == nil {
		t.Error("no stdlib or toolchain entries in the snapshot")
	}

	var db dbMeta
	readJSON(t, filepath.Join(out, "index", "db.json"), &db)
	if !db.Modified.Equal(latest) {
		t.Errorf("db.json modified %v, want %v", db.Modified, latest)
	}

	b, err := os.ReadFile(filepath.Join(out, "index", "modules.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var mods []moduleMeta
	if err := dec.Decode(&mods); err != nil {
		t.Fatalf("modules.json: %v", err)
	}
	got := map[string]map[string]bool{}
	for i, m := range mods {
		if i > 0 && mods[i-1].Path >= m.Path {
			t.Errorf("modules.json: %q after %q", m.Path, mods[i-1].Path)
		}
		got[m.Path] = map[string]bool{}
		for j, v := range m.Vulns {
			if j > 0 && m.Vulns[j-1].ID >= v.ID {
				t.Errorf("modules.json %s: %s after %s", m.Path, v.ID, m.Vulns[j-1].ID)
			}
			if v.Fixed != "" && checkEvent(event{Fixed: v.Fixed}) != nil {
				t.Errorf("modules.json %s %s: fixed %q", m.Path, v.ID, v.Fixed)
			}
			got[m.Path][v.ID] = true
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("modules.json lists other modules or entries than the OSV files (-want +got):\n%s", d)
	}
}
