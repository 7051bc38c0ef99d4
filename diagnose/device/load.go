package device

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
)

// The device knowledge kept as text files, read once when the package loads.
//
//go:embed data
var dataFS embed.FS

// DataError is a malformed row in one of the embedded data files.
type DataError struct {
	File string // "data/sources.tsv"
	Line int    // 1-based; 0 when the error concerns the whole file
	Msg  string
}

func (e *DataError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// tsvRow is one data row of a TSV file, with the line it came from.
type tsvRow struct {
	line   int
	fields []string
}

// parseTSV splits a tab-separated file whose first non-comment line is the
// header cols. Lines starting with '#' and blank lines are skipped; every
// row must have exactly len(cols) fields, none of them empty.
func parseTSV(file string, data []byte, cols ...string) ([]tsvRow, error) {
	var rows []tsvRow
	header := false
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimSuffix(string(raw), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if !header {
			if strings.Join(fields, "\t") != strings.Join(cols, "\t") {
				return nil, &DataError{file, i + 1, fmt.Sprintf("header %q, want %q", line, strings.Join(cols, "\\t"))}
			}
			header = true
			continue
		}
		if len(fields) != len(cols) {
			return nil, &DataError{file, i + 1, fmt.Sprintf("%d fields, want %d (%s)", len(fields), len(cols), strings.Join(cols, ", "))}
		}
		for j, f := range fields {
			if strings.TrimSpace(f) != f || f == "" {
				return nil, &DataError{file, i + 1, fmt.Sprintf("field %s is empty or has surrounding spaces", cols[j])}
			}
		}
		rows = append(rows, tsvRow{i + 1, fields})
	}
	if !header {
		return nil, &DataError{file, 0, "no header line"}
	}
	return rows, nil
}

// mustRead returns an embedded file; a missing one is a build mistake.
func mustRead(name string) []byte {
	b, err := dataFS.ReadFile(name)
	if err != nil {
		panic(err)
	}
	return b
}

// must panics on a data error at package load: the embedded files are
// checked by the tests, so this only fires on a broken build.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// parseKeyed reads a two-column table of unique keys; value checks a row
// and returns the text to keep, seeing the rows before it.
func parseKeyed(file string, data []byte, keyCol, textCol string, value func(key, text string, earlier map[string]string) (string, error)) (map[string]string, error) {
	rows, err := parseTSV(file, data, keyCol, textCol)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		key := r.fields[0]
		if _, dup := out[key]; dup {
			return nil, &DataError{file, r.line, fmt.Sprintf("%s %q listed twice", keyCol, key)}
		}
		text, err := value(key, r.fields[1], out)
		if err != nil {
			return nil, &DataError{file, r.line, err.Error()}
		}
		out[key] = text
	}
	return out, nil
}
