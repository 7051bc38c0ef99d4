package device

import (
	"errors"
	"testing"
)

// FuzzDataLoaders: no input makes a loader panic, and every rejection is a
// DataError naming the file.
func FuzzDataLoaders(f *testing.F) {
	for _, name := range []string{"data/sources.tsv", "data/milestones.tsv", "data/profiles.json", "data/errors.tsv", "data/fixes.tsv", "data/kconfig.tsv", "data/menus.tsv", "data/netvalues.tsv"} {
		f.Add(mustRead(name))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func() error{
			func() error { _, err := parseSources("f", data); return err },
			func() error { _, err := parseMilestones("f", data); return err },
			func() error { _, err := parseProfiles("f", data); return err },
			func() error { _, err := parseErrors("f", data, fixes); return err },
			func() error { _, err := parseFixes("f", data); return err },
			func() error { _, err := parseKconfig("f", data, menus); return err },
			func() error { _, err := parseMenus("f", data); return err },
			func() error { _, err := parseNetValues("f", data, fixes); return err },
		} {
			var de *DataError
			if err := parse(); err != nil && (!errors.As(err, &de) || de.File != "f" || de.Line < 0) {
				t.Fatalf("error %v is not a DataError for the file", err)
			}
		}
	})
}
