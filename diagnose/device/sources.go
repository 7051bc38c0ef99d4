// Package device holds, as data, what an ESP32/ESP8266 (ESP-IDF, ESP-TLS,
// mbedTLS) does on the wire and what it reports: the mbedTLS and ESP-TLS error
// tables, the X.509 verify flags and the alert the mbedTLS client sends for
// them, device profiles, menuconfig options and config-struct fields, alert
// knowledge and Espressif MAC prefixes.
//
// Every fact carries a Source: keys of the sources table (data/sources.tsv:
// a file of mbedTLS, ESP-IDF or another repository at a tag or commit, a
// document of the project, a standard), optionally with line numbers
// ("MT228-msg:1842"), or GitHub issue references ("esp-idf#18674"). The
// tables live in data/ as text files, embedded and parsed once at load
// (load.go); each loader rejects a malformed row with its file and line.
// Facts marked DERIVED were worked out from the cited code; UNVERIFIED ones
// have no primary source.
package device

import (
	"fmt"
	"regexp"
	"strings"
)

// Sources maps every citation key used in this package to where it points
// (data/sources.tsv).
var Sources = must(parseSources("data/sources.tsv", mustRead("data/sources.tsv")))

// parseSources reads the sources table: one key per row, each key once.
func parseSources(file string, data []byte) (map[string]string, error) {
	return parseKeyed(file, data, "key", "description", func(key, text string, _ map[string]string) (string, error) {
		if strings.ContainsAny(key, ":;( ") {
			return "", fmt.Errorf("key %q holds a character that separates citations", key)
		}
		return text, nil
	})
}

// citeRE matches one citation: a key (optionally with :lines or a
// parenthesised note), a GitHub issue reference, or a section of the
// knowledge file the tables were first written from (accepted so old notes
// still parse; no table cites one: TestNoSectionCitations).
var (
	issueRE = regexp.MustCompile(`^([A-Za-z0-9_.-]+/)?[A-Za-z0-9_.-]+#[0-9]+$`)
	sectRE  = regexp.MustCompile(`^K§[0-9]+(\.[0-9]+)?( #[0-9]+)?$`)
)

// CitationKeys splits a Source string ("MT228-msg:1842; MT36-msg:2166") into
// its citations and reports the ones that name no known source.
func CitationKeys(source string) (keys, unknown []string) {
	for _, part := range strings.Split(source, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key := part
		if i := strings.IndexAny(key, ": ("); i > 0 && !strings.HasPrefix(key, "K§") {
			key = key[:i]
		}
		keys = append(keys, key)
		switch {
		case Sources[key] != "":
		case issueRE.MatchString(key):
		case sectRE.MatchString(part):
		default:
			unknown = append(unknown, part)
		}
	}
	return keys, unknown
}
