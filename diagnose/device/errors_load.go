package device

import (
	"fmt"
	"strconv"
	"strings"
)

// Fix texts shared by several entries (data/fixes.tsv).
var (
	fixes         = must(parseFixes("data/fixes.tsv", mustRead("data/fixes.tsv")))
	fixReassembly = fixes["reassembly"]
	fixPortScheme = fixes["port-scheme"]
	fixTLS13      = fixes["tls13"]
)

// errorRows is the table of data/errors.tsv, in its order.
var errorRows = must(parseErrors("data/errors.tsv", mustRead("data/errors.tsv"), fixes))

var kinds = map[Kind]bool{KindSSL: true, KindX509: true, KindNet: true, KindPK: true, KindMPI: true, KindRSA: true,
	KindPlatform: true, KindASN1: true, KindMD: true, KindPSA: true, KindComposite: true, KindESPTLS: true}

func parseFixes(file string, data []byte) (map[string]string, error) {
	return parseKeyed(file, data, "id", "text", func(_, text string, _ map[string]string) (string, error) {
		return expand(text, nil)
	})
}

// parseErrors reads the error table: each code once, each name once per
// mbedTLS line.
func parseErrors(file string, data []byte, fixes map[string]string) ([]row, error) {
	rows, err := parseTSV(file, data, "code", "kind", "name_2_28", "name_3_6", "meaning", "wire", "fix", "source", "versions", "renamed")
	if err != nil {
		return nil, err
	}
	var out []row
	codes := map[int]bool{}
	names := [2]map[string]bool{{}, {}}
	for _, tr := range rows {
		r, err := errorRow(tr.fields, fixes)
		if err == nil && codes[r.c] {
			err = fmt.Errorf("code %s listed twice", FormatCode(r.c))
		}
		e := r.err()
		for i, n := range []string{e.Name228, e.Name36} {
			if err == nil && n != "" && names[i][n] {
				err = fmt.Errorf("name %s listed twice for mbedTLS %s", n, []string{"2.x", "3.x"}[i])
			}
			names[i][n] = true
		}
		if err != nil {
			return nil, &DataError{file, tr.line, err.Error()}
		}
		codes[r.c] = true
		out = append(out, r)
	}
	return out, nil
}

func errorRow(f []string, fixes map[string]string) (row, error) {
	r := row{k: Kind(f[1]), n2: optional(f[2]), n3: optional(f[3]), m: f[4], s: f[7], v: optional(f[8])}
	code, ok := parseHexCode(f[0])
	if !ok {
		return r, fmt.Errorf("code %q is not written like -0x7100 or 0x8017", f[0])
	}
	r.c = code
	if !kinds[r.k] {
		return r, fmt.Errorf("kind %q is not one of ssl, x509, net, pk, mpi, rsa, platform, asn1, md, psa, composite, esp-tls", f[1])
	}
	if (r.k == KindESPTLS) != (code > 0) {
		return r, fmt.Errorf("code %s: ESP-TLS codes are positive, mbedTLS codes negative", f[0])
	}
	if r.n2 == "" && r.n3 == "" || r.n2 == "" && r.n3 == same {
		return r, fmt.Errorf("code %s has no name", f[0])
	}
	var err error
	if r.w, err = expand(optional(f[5]), fixes); err != nil {
		return r, fmt.Errorf("wire: %w", err)
	}
	if r.f, err = expand(optional(f[6]), fixes); err != nil {
		return r, fmt.Errorf("fix: %w", err)
	}
	if r.renamed, err = strconv.ParseBool(f[9]); err != nil || (f[9] != "true" && f[9] != "false") {
		return r, fmt.Errorf("renamed %q is not true or false", f[9])
	}
	return r, nil
}

// parseHexCode reads a code exactly as FormatCode writes it.
func parseHexCode(s string) (int, bool) {
	body, neg := strings.CutPrefix(s, "-")
	hex, ok := strings.CutPrefix(body, "0x")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(hex, 16, 16)
	if err != nil || v == 0 {
		return 0, false
	}
	c := int(v)
	if neg {
		c = -c
	}
	return c, FormatCode(c) == s
}

// expand resolves the references in a text: {fix:ID} (only where fixes is
// given), {menuconfig:NAME=VALUE} and {milestone:ID:mbedtls|releases}.
func expand(s string, fixes map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			if strings.IndexByte(s, '}') >= 0 {
				return "", fmt.Errorf("unmatched } in %q", s)
			}
			return b.String() + s, nil
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 || strings.IndexByte(s[:i], '}') >= 0 {
			return "", fmt.Errorf("unmatched { or } in %q", s)
		}
		text, err := reference(s[i+1:i+j], fixes)
		if err != nil {
			return "", err
		}
		b.WriteString(s[:i] + text)
		s = s[i+j+1:]
	}
}

func reference(ref string, fixes map[string]string) (string, error) {
	kind, arg, _ := strings.Cut(ref, ":")
	switch kind {
	case "fix":
		if t, ok := fixes[arg]; ok {
			return t, nil
		}
	case "menuconfig":
		if name, value, ok := strings.Cut(arg, "="); ok && name != "" && value != "" {
			return Fix(name, value), nil
		}
	case "milestone":
		id, what, _ := strings.Cut(arg, ":")
		if m, ok := milestones[id]; ok && what == "mbedtls" {
			return m.MbedTLS.String(), nil
		} else if ok && what == "releases" {
			return m.Releases(), nil
		}
	}
	return "", fmt.Errorf("unknown reference {%s}", ref)
}

// parseNetValues reads the getaddrinfo and errno tables: each value once
// per table, in the order written.
func parseNetValues(file string, data []byte, fixes map[string]string) (map[string][]NetValue, error) {
	rows, err := parseTSV(file, data, "table", "value", "name", "meaning", "esp", "wire", "fix", "source")
	if err != nil {
		return nil, err
	}
	out := map[string][]NetValue{}
	seen := map[string]bool{}
	for _, r := range rows {
		f := r.fields
		v := NetValue{Name: f[2], Meaning: f[3], ESP: optional(f[4]), Wire: optional(f[5]), Source: f[7]}
		n, err := strconv.Atoi(f[1])
		switch {
		case f[0] != "getaddrinfo" && f[0] != "errno":
			err = fmt.Errorf("table %q is not getaddrinfo or errno", f[0])
		case err != nil || n <= 0 || strconv.Itoa(n) != f[1]:
			err = fmt.Errorf("value %q is not a positive decimal number", f[1])
		case seen[f[0]+" "+f[1]] || seen[f[0]+" "+f[2]]:
			err = fmt.Errorf("%s %s %s listed twice", f[0], f[1], f[2])
		}
		if err == nil {
			v.Fix, err = expand(optional(f[6]), fixes)
		}
		if err != nil {
			return nil, &DataError{file, r.line, err.Error()}
		}
		v.Value = n
		seen[f[0]+" "+f[1]], seen[f[0]+" "+f[2]] = true, true
		out[f[0]] = append(out[f[0]], v)
	}
	return out, nil
}

// optional reads "-" as an empty field.
func optional(s string) string {
	if s == "-" {
		return ""
	}
	return s
}
