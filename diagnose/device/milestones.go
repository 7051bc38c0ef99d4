package device

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an mbedTLS or ESP-IDF release number.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// parseVersion reads "3.6.3" (three numbers) or, with short, also "5.5".
func parseVersion(s string, short bool) (Version, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 && !(short && len(parts) == 2) {
		return Version{}, false
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 999 || strconv.Itoa(v) != p {
			return Version{}, false
		}
		n[i] = v
	}
	return Version{n[0], n[1], n[2]}, true
}

// IDFRelease is the first ESP-IDF release of one line (v5.4.2) that ships a
// milestone; Later marks a line whose later point releases ship it too.
type IDFRelease struct {
	Version
	Later bool
}

func (r IDFRelease) String() string {
	s := fmt.Sprintf("v%d.%d.%d", r.Major, r.Minor, r.Patch)
	if r.Patch == 0 {
		s = fmt.Sprintf("v%d.%d", r.Major, r.Minor)
	}
	if r.Later {
		s += "+"
	}
	return s
}

// Milestone is an mbedTLS change and the ESP-IDF releases that bring it.
type Milestone struct {
	ID       string
	MbedTLS  Version
	FirstIDF []IDFRelease
	Source   string
}

// Releases lists the first ESP-IDF release of each line with the change:
// "v5.0.9, v5.1.7, v5.4.2+, v5.5+".
func (m Milestone) Releases() string {
	parts := make([]string, len(m.FirstIDF))
	for i, r := range m.FirstIDF {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// Before lists, per ESP-IDF line, the releases without the change:
// "v5.0–v5.0.8, v5.1–v5.1.6" (a line whose first release has it is left out).
func (m Milestone) Before() string {
	var parts []string
	for _, r := range m.FirstIDF {
		if r.Patch > 0 {
			parts = append(parts, fmt.Sprintf("v%d.%d–v%d.%d.%d", r.Major, r.Minor, r.Major, r.Minor, r.Patch-1))
		}
	}
	return strings.Join(parts, ", ")
}

// LastWithout is the mbedTLS release before the change ("3.6.2").
func (m Milestone) LastWithout() Version {
	v := m.MbedTLS
	v.Patch--
	return v
}

var milestones = must(parseMilestones("data/milestones.tsv", mustRead("data/milestones.tsv")))

// reassembly is the release that brought handshake-message reassembly.
var reassembly = milestones["handshake-reassembly"]

// parseMilestones reads the milestone table, each id once.
func parseMilestones(file string, data []byte) (map[string]Milestone, error) {
	rows, err := parseTSV(file, data, "id", "mbedtls", "first_idf", "source")
	if err != nil {
		return nil, err
	}
	out := map[string]Milestone{}
	for _, r := range rows {
		m := Milestone{ID: r.fields[0], Source: r.fields[3]}
		if _, dup := out[m.ID]; dup {
			return nil, &DataError{file, r.line, fmt.Sprintf("id %q listed twice", m.ID)}
		}
		v, ok := parseVersion(r.fields[1], false)
		if !ok || v.Patch == 0 {
			return nil, &DataError{file, r.line, fmt.Sprintf("mbedtls %q is not a point release like 3.6.3", r.fields[1])}
		}
		m.MbedTLS = v
		for _, s := range strings.Split(r.fields[2], ", ") {
			rel, ok := parseIDFRelease(s)
			if !ok {
				return nil, &DataError{file, r.line, fmt.Sprintf("first_idf %q is not an ESP-IDF release like v5.4.2 or v5.5+", s)}
			}
			m.FirstIDF = append(m.FirstIDF, rel)
		}
		out[m.ID] = m
	}
	return out, nil
}

func parseIDFRelease(s string) (IDFRelease, bool) {
	body, later := strings.CutSuffix(s, "+")
	body, ok := strings.CutPrefix(body, "v")
	if !ok {
		return IDFRelease{}, false
	}
	v, ok := parseVersion(body, true)
	// "v5.5.0" would print as "v5.5": accept only the form it prints as.
	if !ok || (v.Patch == 0 && strings.Count(body, ".") == 2) {
		return IDFRelease{}, false
	}
	return IDFRelease{v, later}, true
}
