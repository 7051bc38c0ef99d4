package main

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

// TestUsageErrorExits: every usage error, wherever cobra or tlspcap makes
// it, exits 2 with the usage hint; an input that cannot be read exits 2
// without it, whatever its name says.
func TestUsageErrorExits(t *testing.T) {
	const hint = "Run 'tlspcap --help' for usage.\n"
	missing := filepath.Join(t.TempDir(), "unknown command accepts.pcap")
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"foo"}, "tlspcap: unknown command \"foo\" for \"tlspcap\"\n" + hint},
		{[]string{"anlyze", "x"}, "tlspcap: unknown command \"anlyze\" for \"tlspcap\"\n\nDid you mean this?\n\tanalyze\n\n" + hint},
		{[]string{"completion", "bash", "x"}, "tlspcap: unknown command \"x\" for \"tlspcap completion bash\"\n" + hint},
		{[]string{"analyze", "--bogus", "x"}, "tlspcap: unknown flag: --bogus\n" + hint},
		{[]string{"records", "a", "b"}, "tlspcap: records needs exactly one capture file (or - for stdin), got 2 arguments\n" + hint},
		{[]string{"analyze", missing}, "tlspcap: " + missing + ": no such file or directory\n"},
	} {
		code, _, stderr := tlspcap(t, c.args...)
		if code != exitUsage || stderr != c.stderr {
			t.Errorf("%q: exit %d, stderr\n%q\nwant exit %d, stderr\n%q", c.args, code, stderr, exitUsage, c.stderr)
		}
	}
}

// TestUsageErrorTypes: cobra's argument checks, its search for the command
// and tlspcap's own checks give usageError values; a command's failure
// does not.
func TestUsageErrorTypes(t *testing.T) {
	failed := errors.New("reading failed")
	tree := func() *cobra.Command {
		root := &cobra.Command{Use: "t", SilenceErrors: true, SilenceUsage: true}
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.AddCommand(
			&cobra.Command{Use: "one", Args: cobra.ExactArgs(1), RunE: func(*cobra.Command, []string) error { return nil }},
			&cobra.Command{Use: "file", Args: exactFile, RunE: func(*cobra.Command, []string) error { return nil }},
			&cobra.Command{Use: "fail", RunE: func(*cobra.Command, []string) error { return failed }})
		usageArgs(root)
		return root
	}
	for _, c := range []struct {
		args  []string
		usage bool
	}{
		{[]string{"nosuch"}, true},
		{[]string{"one"}, true},
		{[]string{"one", "a", "b"}, true},
		{[]string{"file", "a", "b"}, true},
		{[]string{"fail"}, false},
		{[]string{"one", "a"}, false},
	} {
		root := tree()
		root.SetArgs(c.args)
		err := execute(root)
		var ue usageError
		if errors.As(err, &ue) != c.usage {
			t.Errorf("%q: error %v (%T), want usage error %v", c.args, err, err, c.usage)
		}
		if c.args[0] == "fail" && !errors.Is(err, failed) {
			t.Errorf("fail: error %v, want the command's own", err)
		}
	}
}
