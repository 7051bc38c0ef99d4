package diagnose

import (
	"strings"
	"testing"
)

// Without a writable TMPDIR the verdicts stay in memory: the report is the
// same, the problem is said once, and no file is tried for every verdict.
func TestSpillWithoutTempDir(t *testing.T) {
	defer func(n int) { SpillAfter = n }(SpillAfter)
	SpillAfter = 2
	t.Setenv("TMPDIR", "/nonexistent/tlspcap-test")
	var v verdicts
	var errs []error
	for i := range 5 {
		if err := v.add(&Connection{Stream: i}); err != nil {
			errs = append(errs, err)
		}
	}
	if len(v.mem) != 5 || v.spill != nil || len(errs) != 1 || !strings.Contains(errs[0].Error(), "set TMPDIR to a writable directory") {
		t.Errorf("kept %d in memory, spill %v, errors %v", len(v.mem), v.spill != nil, errs)
	}
}
