package device

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// profileFile is data/profiles.json as written.
type profileFile struct {
	Comment     string              `json:"comment"`
	Notes       map[string]string   `json:"notes"`
	SuiteGroups map[string][]string `json:"suite_groups"`
	Profiles    []profileJSON       `json:"profiles"`
}

type profileJSON struct {
	Name                   string   `json:"name"`
	Description            string   `json:"description"`
	MbedTLS                string   `json:"mbedtls"`
	IDF                    string   `json:"idf"`
	InContentLen           int      `json:"in_content_len"`
	OutContentLen          int      `json:"out_content_len"`
	Versions               []string `json:"versions"`
	CipherSuites           []string `json:"cipher_suites"`
	TLS13Suites            []string `json:"tls13_suites"`
	SuitesNote             []string `json:"suites_note"`
	CertBundle             *bool    `json:"cert_bundle"`
	ChecksValidityDates    *bool    `json:"checks_validity_dates"`
	SendsMaxFragmentLength *bool    `json:"sends_max_fragment_length"`
	SendsCloseNotify       *bool    `json:"sends_close_notify"`
	HandshakeReassembly    string   `json:"handshake_reassembly"`
	Heap                   *struct {
		Min    int    `json:"min"`
		Max    int    `json:"max"`
		Note   string `json:"note"`
		Source string `json:"source"`
	} `json:"heap"`
	Source string `json:"source"`
}

var (
	tlsVersionNames = map[string]uint16{"TLS1.0": VersionTLS10, "TLS1.1": VersionTLS11, "TLS1.2": VersionTLS12, "TLS1.3": VersionTLS13}
	reassemblyNames = map[string]Reassembly{"never": ReassemblyNever, "by-release": ReassemblyByRelease, "always": ReassemblyAlways}
)

// parseProfiles reads the profile file. Errors name the file and the line
// of the JSON syntax or type error, or of the profile's "name" for a wrong
// value.
func parseProfiles(file string, data []byte) ([]Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f profileFile
	if err := dec.Decode(&f); err != nil {
		return nil, &DataError{file, jsonErrLine(data, err), err.Error()}
	}
	if dec.More() {
		return nil, &DataError{file, lineAt(data, dec.InputOffset()), "data after the top-level object"}
	}
	var out []Profile
	seen := map[string]bool{}
	for i, pj := range f.Profiles {
		line := lineOfName(data, i)
		p, err := pj.profile(f)
		if err == nil && seen[p.Name] {
			err = fmt.Errorf("profile %q listed twice", p.Name)
		}
		if err != nil {
			return nil, &DataError{file, line, err.Error()}
		}
		seen[p.Name] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, &DataError{file, 0, "no profiles"}
	}
	return out, nil
}

func (pj profileJSON) profile(f profileFile) (Profile, error) {
	p := Profile{Name: pj.Name, Description: pj.Description, MbedTLS: pj.MbedTLS, IDF: pj.IDF,
		InContentLen: pj.InContentLen, OutContentLen: pj.OutContentLen, Source: pj.Source}
	if p.Name == "" || p.Description == "" || p.MbedTLS == "" || p.IDF == "" || p.Source == "" {
		return p, errors.New("name, description, mbedtls, idf and source are required")
	}
	if p.InContentLen < 512 || p.InContentLen > 16384 || p.OutContentLen < 512 || p.OutContentLen > 16384 {
		return p, fmt.Errorf("%s: in_content_len and out_content_len must be 512 to 16384", p.Name)
	}
	for _, b := range []struct {
		v   *bool
		dst *bool
		key string
	}{{pj.CertBundle, &p.CertBundle, "cert_bundle"}, {pj.ChecksValidityDates, &p.ChecksValidityDates, "checks_validity_dates"},
		{pj.SendsMaxFragmentLength, &p.SendsMaxFragmentLength, "sends_max_fragment_length"}, {pj.SendsCloseNotify, &p.SendsCloseNotify, "sends_close_notify"}} {
		if b.v == nil {
			return p, fmt.Errorf("%s: %s is required (true or false)", p.Name, b.key)
		}
		*b.dst = *b.v
	}
	r, ok := reassemblyNames[pj.HandshakeReassembly]
	if !ok {
		return p, fmt.Errorf("%s: handshake_reassembly %q is not never, by-release or always", p.Name, pj.HandshakeReassembly)
	}
	p.HandshakeReassembly = r
	for _, v := range pj.Versions {
		w, ok := tlsVersionNames[v]
		if !ok {
			return p, fmt.Errorf("%s: version %q is not TLS1.0 to TLS1.3", p.Name, v)
		}
		p.Versions = append(p.Versions, w)
	}
	var err error
	if p.CipherSuites, err = suiteGroups(f, pj.CipherSuites); err != nil {
		return p, fmt.Errorf("%s: cipher_suites: %w", p.Name, err)
	}
	if p.TLS13Suites, err = suiteGroups(f, pj.TLS13Suites); err != nil {
		return p, fmt.Errorf("%s: tls13_suites: %w", p.Name, err)
	}
	if p.SuitesNote, err = notes(f, pj.SuitesNote...); err != nil {
		return p, fmt.Errorf("%s: suites_note: %w", p.Name, err)
	}
	if h := pj.Heap; h != nil {
		p.HeapBudget = HeapBudget{HandshakeMin: h.Min, HandshakeMax: h.Max, Source: h.Source}
		if p.HeapBudget.Note, err = notes(f, h.Note); err != nil {
			return p, fmt.Errorf("%s: heap note: %w", p.Name, err)
		}
	}
	return p, nil
}

// suiteGroups concatenates the named groups of IANA suite values.
func suiteGroups(f profileFile, names []string) ([]uint16, error) {
	var out []uint16
	for _, n := range names {
		g, ok := f.SuiteGroups[n]
		if !ok {
			return nil, fmt.Errorf("no suite group %q", n)
		}
		for _, s := range g {
			v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 16)
			if err != nil || !strings.HasPrefix(s, "0x") || len(s) != 6 {
				return nil, fmt.Errorf("group %s: %q is not a suite like 0xC02B", n, s)
			}
			out = append(out, uint16(v))
		}
	}
	return out, nil
}

// notes joins texts with "; ", resolving "@name" to a shared note.
func notes(f profileFile, parts ...string) (string, error) {
	out := make([]string, len(parts))
	for i, s := range parts {
		if name, ok := strings.CutPrefix(s, "@"); ok {
			if s, ok = f.Notes[name]; !ok {
				return "", fmt.Errorf("no note %q", name)
			}
		}
		out[i] = s
	}
	return strings.Join(out, "; "), nil
}

// jsonErrLine is the line of a decoding error's offset, 0 when it has none.
func jsonErrLine(data []byte, err error) int {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return lineAt(data, se.Offset)
	case errors.As(err, &te):
		return lineAt(data, te.Offset)
	}
	return 0
}

func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// lineOfName finds the line of the i-th profile's "name" (the line a
// reader looks at for a wrong value in that profile), 0 if there is none.
func lineOfName(data []byte, i int) int {
	key := []byte(`"name":`)
	off := 0
	for n := 0; ; n++ {
		j := bytes.Index(data[off:], key)
		if j < 0 {
			return 0
		}
		if n == i {
			return lineAt(data, int64(off+j))
		}
		off += j + len(key)
	}
}
