package device

import (
	"errors"
	"strings"
	"testing"
)

// The reassembly fact is written once (data/milestones.tsv); the phrases
// built from it must read as they did when they were written by hand.
func TestReassemblyPhrases(t *testing.T) {
	for got, want := range map[string]string{
		v3le362:       "mbedTLS ≤ 3.6.2 (ESP-IDF v5.0–v5.0.8, v5.1–v5.1.6, v5.2–v5.2.5, v5.3–v5.3.3, v5.4–v5.4.1); mbedTLS ≥ 3.6.3 (v5.0.9, v5.1.7, v5.2.6, v5.3.4, v5.4.2+, v5.5+) reassembles and succeeds",
		fixReassembly: "use an ESP-IDF whose mbedTLS is ≥ 3.6.3 (v5.0.9, v5.1.7, v5.2.6, v5.3.4, v5.4.2+, v5.5+), which reassembles handshake messages split over records, or make the server send each handshake message in one record",
	} {
		if got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
	}
	if _, unknown := CitationKeys(reassembly.Source); len(unknown) > 0 {
		t.Errorf("milestone source unknown: %q", unknown)
	}
}

// Every data file's loader names the file and line of a bad row.
func TestLoadersRejectMalformedRows(t *testing.T) {
	for _, c := range []struct {
		name, data, want string
		parse            func(string, []byte) error
	}{
		{"no header", "# only a comment\n", "x.tsv: no header line", sources},
		{"wrong header", "key\tdesc\n", "x.tsv:1: header", sources},
		{"short row", "key\tdescription\nA\tone\nB\n", "x.tsv:3: 1 fields, want 2", sources},
		{"empty field", "key\tdescription\n\nA\t\n", "x.tsv:3: field description is empty", sources},
		{"padded field", "key\tdescription\nA \tone\n", "x.tsv:2: field key is empty or has surrounding spaces", sources},
		{"duplicate key", "key\tdescription\nA\tone\n# c\nA\ttwo\n", "x.tsv:4: key \"A\" listed twice", sources},
		{"separator in key", "key\tdescription\nA:1\tone\n", "x.tsv:2: key \"A:1\" holds", sources},
		{"bad mbedtls", "id\tmbedtls\tfirst_idf\tsource\nr\t3.6\tv5.0.9\tFAQ\n", "x.tsv:2: mbedtls \"3.6\"", milestones_},
		{"bad release", "id\tmbedtls\tfirst_idf\tsource\nr\t3.6.3\tv5.0.9,v5.1.7\tFAQ\n", "x.tsv:2: first_idf \"v5.0.9,v5.1.7\"", milestones_},
		{"release .0", "id\tmbedtls\tfirst_idf\tsource\nr\t3.6.3\tv5.5.0\tFAQ\n", "x.tsv:2: first_idf \"v5.5.0\"", milestones_},
		{"duplicate id", "id\tmbedtls\tfirst_idf\tsource\nr\t3.6.3\tv5.5+\tFAQ\nr\t3.6.4\tv5.5+\tFAQ\n", "x.tsv:3: id \"r\" listed twice", milestones_},
	} {
		err := c.parse("x.tsv", []byte(c.data))
		var de *DataError
		if !errors.As(err, &de) || de.File != "x.tsv" || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want prefix %q", c.name, err, c.want)
		}
	}
}

func sources(f string, b []byte) error     { _, err := parseSources(f, b); return err }
func milestones_(f string, b []byte) error { _, err := parseMilestones(f, b); return err }

// Every symptom says what every profile does: a row (perhaps with no
// candidates, "no error expected") applies to each.
func TestSymptomsCoverEveryProfile(t *testing.T) {
	for _, s := range Symptoms() {
		for _, p := range Profiles() {
			if p.symptomRow(s) < 0 {
				t.Errorf("symptom %s has no row for profile %s", s, p.Name)
			}
		}
	}
}

func TestProfilesLoaderRejectsMalformed(t *testing.T) {
	good := string(mustRead("data/profiles.json"))
	for _, c := range []struct{ name, data, want string }{
		{"syntax", "{\n\"profiles\": [,]}", "x.json:2: invalid character ','"},
		{"type", "{\n\n\"profiles\": 3}", "x.json:3: json: cannot unmarshal number"},
		{"unknown field", "{\"profile\": []}", "x.json: json: unknown field \"profile\""},
		{"no profiles", "{\"profiles\": []}", "x.json: no profiles"},
		{"trailing", "{\"profiles\": []} {}", "x.json:1: data after the top-level object"},
		{"reassembly", strings.Replace(good, `"by-release"`, `"yes"`, 1), "x.json:20: esp32-idf5: handshake_reassembly \"yes\""},
		{"boolean missing", strings.Replace(good, `"cert_bundle": true,`, ``, 1), "x.json:20: esp32-idf5: cert_bundle is required"},
		{"version", strings.Replace(good, `["TLS1.2"]`, `["1.2"]`, 1), "x.json:20: esp32-idf5: version \"1.2\""},
		{"suite", strings.Replace(good, `"0xC02B"`, `"C02B"`, 1), "x.json:20: esp32-idf5: cipher_suites: group ecdhe-ecdsa: \"C02B\""},
		{"group", strings.Replace(good, `"tls13-all"]`, `"tls13"]`, 1), "x.json:77: mbedtls-default: tls13_suites: no suite group \"tls13\""},
		{"note", strings.Replace(good, `"@heap-faq"`, `"@heap"`, 1), "x.json:20: esp32-idf5: heap note: no note \"heap\""},
		{"duplicate", strings.Replace(good, `"name": "esp32-idf4"`, `"name": "esp32-idf5"`, 1), "x.json:39: profile \"esp32-idf5\" listed twice"},
	} {
		_, err := parseProfiles("x.json", []byte(c.data))
		var de *DataError
		if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want prefix %q", c.name, err, c.want)
		}
	}
}

func TestErrorLoaderRejectsMalformed(t *testing.T) {
	const hdr = "code\tkind\tname_2_28\tname_3_6\tmeaning\twire\tfix\tsource\tversions\trenamed\n"
	row := func(code, kind, n2, n3, fix, renamed string) string {
		return code + "\t" + kind + "\t" + n2 + "\t" + n3 + "\tm\t-\t" + fix + "\tFAQ\t-\t" + renamed + "\n"
	}
	ok := row("-0x7100", "ssl", "BAD_INPUT_DATA", "=", "-", "false")
	for _, c := range []struct{ name, data, want string }{
		{"code form", hdr + row("-0x71", "ssl", "A", "=", "-", "false"), "x.tsv:2: code \"-0x71\""},
		{"code decimal", hdr + row("-29184", "ssl", "A", "=", "-", "false"), "x.tsv:2: code \"-29184\""},
		{"kind", hdr + row("-0x7100", "tls", "A", "=", "-", "false"), "x.tsv:2: kind \"tls\""},
		{"sign", hdr + row("-0x8017", "esp-tls", "A", "=", "-", "false"), "x.tsv:2: code -0x8017: ESP-TLS codes are positive"},
		{"no name", hdr + row("-0x7100", "ssl", "-", "=", "-", "false"), "x.tsv:2: code -0x7100 has no name"},
		{"renamed", hdr + row("-0x7100", "ssl", "A", "=", "-", "yes"), "x.tsv:2: renamed \"yes\""},
		{"reference", hdr + row("-0x7100", "ssl", "A", "=", "{fix:nope}", "false"), "x.tsv:2: fix: unknown reference {fix:nope}"},
		{"brace", hdr + row("-0x7100", "ssl", "A", "=", "a } b", "false"), "x.tsv:2: fix: unmatched } in"},
		{"milestone", hdr + row("-0x7100", "ssl", "A", "=", "{milestone:handshake-reassembly:tag}", "false"), "x.tsv:2: fix: unknown reference"},
		{"duplicate code", hdr + ok + "# c\n" + row("-0x7100", "ssl", "OTHER", "=", "-", "false"), "x.tsv:4: code -0x7100 listed twice"},
		{"duplicate 3.x name", hdr + ok + row("-0x7200", "ssl", "-", "BAD_INPUT_DATA", "-", "false"), "x.tsv:3: name MBEDTLS_ERR_SSL_BAD_INPUT_DATA listed twice for mbedTLS 3.x"},
	} {
		_, err := parseErrors("x.tsv", []byte(c.data), fixes)
		var de *DataError
		if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want prefix %q", c.name, err, c.want)
		}
	}
	if _, err := parseFixes("x.tsv", []byte("id\ttext\na\tone\na\ttwo\n")); err == nil || err.Error() != `x.tsv:3: id "a" listed twice` {
		t.Errorf("duplicate fix id: %v", err)
	}
	if _, err := parseFixes("x.tsv", []byte("id\ttext\na\t{fix:b}\n")); err == nil || err.Error() != `x.tsv:2: unknown reference {fix:b}` {
		t.Errorf("fix referring to a fix: %v", err)
	}
	// The same name in different modules is no clash: the prefix differs.
	if _, err := parseErrors("x.tsv", []byte(hdr+row("-0x7080", "ssl", "FEATURE_UNAVAILABLE", "=", "-", "false")+row("-0x3980", "pk", "FEATURE_UNAVAILABLE", "=", "-", "false")), fixes); err != nil {
		t.Errorf("per-module names: %v", err)
	}
}

// Every fact in the data files cites sources that resolve.
func TestDataCitationsResolve(t *testing.T) {
	for _, e := range Errors() {
		if keys, unknown := CitationKeys(e.Source); len(unknown) > 0 || len(keys) == 0 {
			t.Errorf("%s cites %q, unknown %q", FormatCode(e.Code), e.Source, unknown)
		}
	}
	for _, m := range milestones {
		if keys, unknown := CitationKeys(m.Source); len(unknown) > 0 || len(keys) == 0 {
			t.Errorf("milestone %s cites unknown %q", m.ID, unknown)
		}
	}
}

func TestKconfigLoaderRejectsMalformed(t *testing.T) {
	const hdr = "name\tmenu\tprompt\tdefault\tv4.4\tv5.x\tv6.0\tnotes\tsource\n"
	for _, c := range []struct{ name, data, want string }{
		{"menu", hdr + "A\tnowhere\tp\tn\t-\t-\t-\t-\tFAQ\n", "x.tsv:2: menu \"nowhere\" does not start"},
		{"prefix", hdr + "CONFIG_A\tmbedtls\tp\tn\t-\t-\t-\t-\tFAQ\n", "x.tsv:2: option \"CONFIG_A\""},
		{"lower", hdr + "mbedtls_a\tmbedtls\tp\tn\t-\t-\t-\t-\tFAQ\n", "x.tsv:2: option \"mbedtls_a\""},
		{"twice", hdr + "A\tmbedtls\tp\tn\t-\t-\t-\t-\tFAQ\nA\tbundle\tq\tn\t-\t-\t-\t-\tFAQ\n", "x.tsv:3: option A listed twice"},
		{"columns", hdr + "A\tmbedtls\tp\tn\t-\t-\t-\tFAQ\n", "x.tsv:2: 8 fields, want 9"},
	} {
		_, err := parseKconfig("x.tsv", []byte(c.data), menus)
		var de *DataError
		if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want prefix %q", c.name, err, c.want)
		}
	}
	if _, err := parseMenus("x.tsv", []byte("id\tpath\na\tA\na\tB\n")); err == nil || !strings.HasPrefix(err.Error(), `x.tsv:3: id "a" listed twice`) {
		t.Errorf("duplicate menu: %v", err)
	}
	if m, err := parseMenus("x.tsv", []byte("id\tpath\na\tTop\nb\ta → Sub\n")); err != nil || m["b"] != "Top → Sub" {
		t.Errorf("nested menu: %v %v", m, err)
	}
	for _, o := range Options() {
		if keys, unknown := CitationKeys(o.Source); len(unknown) > 0 || len(keys) == 0 {
			t.Errorf("%s cites unknown %q", o.Name, unknown)
		}
	}
}

// The tables cite primary sources, not sections of a document outside the
// repository.
func TestNoSectionCitations(t *testing.T) {
	var cites []string
	for _, e := range Errors() {
		cites = append(cites, e.Source)
	}
	for _, o := range Options() {
		cites = append(cites, o.Source)
	}
	for _, p := range Profiles() {
		cites = append(cites, p.Source, p.HeapBudget.Source)
		for _, s := range Symptoms() {
			for _, c := range p.ErrorsFor(s) {
				cites = append(cites, c.Source)
			}
		}
	}
	srv, dev := KnownAlerts()
	for _, a := range srv {
		cites = append(cites, AlertFromServer(a).Source)
	}
	for _, a := range dev {
		cites = append(cites, AlertFromDevice(a).Source)
	}
	for _, a := range []uint8{0, 1, 200} {
		cites = append(cites, AlertFromServer(a).Source, AlertFromDevice(a).Source)
	}
	for _, c := range cites {
		if keys, _ := CitationKeys(c); strings.Contains(c, "K§") || len(keys) == 0 && c != "" {
			t.Errorf("citation %q", c)
		}
	}
}

func TestNetValueLoaderRejectsMalformed(t *testing.T) {
	const hdr = "table\tvalue\tname\tmeaning\tesp\twire\tfix\tsource\n"
	for _, c := range []struct{ name, data, want string }{
		{"table", hdr + "dns\t202\tEAI_FAIL\tm\t-\t-\t-\tFAQ\n", "x.tsv:2: table \"dns\""},
		{"value", hdr + "errno\t0x68\tECONNRESET\tm\t-\t-\t-\tFAQ\n", "x.tsv:2: value \"0x68\""},
		{"twice", hdr + "errno\t104\tECONNRESET\tm\t-\t-\t-\tFAQ\nerrno\t104\tOTHER\tm\t-\t-\t-\tFAQ\n", "x.tsv:3: errno 104 OTHER listed twice"},
		{"fix", hdr + "errno\t12\tENOMEM\tm\t-\t-\t{fix:ram}\tFAQ\n", "x.tsv:2: unknown reference {fix:ram}"},
	} {
		_, err := parseNetValues("x.tsv", []byte(c.data), fixes)
		var de *DataError
		if !errors.As(err, &de) || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want prefix %q", c.name, err, c.want)
		}
	}
	if m, err := parseNetValues("x.tsv", []byte(hdr+"errno\t104\tECONNRESET\tm\t-\t-\t-\tFAQ\ngetaddrinfo\t104\tX\tm\t-\t-\t-\tFAQ\n"), fixes); err != nil || len(m["errno"]) != 1 || len(m["getaddrinfo"]) != 1 {
		t.Errorf("the same value in two tables: %v %v", m, err)
	}
	for _, v := range append(append([]NetValue(nil), GaiErrors...), Errnos...) {
		if keys, unknown := CitationKeys(v.Source); len(unknown) > 0 || len(keys) == 0 {
			t.Errorf("%s cites unknown %q", v.Name, unknown)
		}
	}
}
