package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// Cutting a capture into records and joining them gives the same bytes,
// and a pcap and a pcapng are cut into as many records as they have
// packets (tshark's counts, MANIFEST-free: the committed ground truth).
func TestSplitJoin(t *testing.T) {
	files := corpusFiles([]string{"../../testdata/pcaps", "../../testdata/malformed"}, 4<<20)
	if len(files) < 50 {
		t.Fatalf("%d captures found", len(files))
	}
	split2 := 0
	for _, p := range files {
		b := mustRead(t, p)
		f, ok := split(b)
		if !ok {
			continue
		}
		split2++
		if got := f.join(); !bytes.Equal(got, b) {
			t.Errorf("%s: join(split) differs", p)
		}
	}
	if split2 < len(files)-5 {
		t.Errorf("only %d of %d captures could be cut into records", split2, len(files))
	}
	// big-chain-4096-mbedtls36.pcapng: 9 frames (README), after the
	// section header an interface description and 9 packet blocks.
	f, ok := split(mustRead(t, "../../testdata/pcaps/big-chain-4096-mbedtls36.pcapng"))
	if !ok || !f.ng {
		t.Fatal("not cut as pcapng")
	}
	epb := 0
	for _, r := range f.recs {
		if f.order.Uint32(r) == 6 {
			epb++
		}
	}
	if epb != 9 || len(f.rest) != 0 {
		t.Errorf("%d enhanced packet blocks, %d bytes left; want 9 and 0", epb, len(f.rest))
	}
}

// The same seed gives the same mutations (a failing run can be repeated).
func TestMutateDeterministic(t *testing.T) {
	b := mustRead(t, "../../testdata/pcaps/big-chain-4096-mbedtls36.pcapng")
	donor := mustRead(t, "../../testdata/pcaps/chain-incomplete.pcapng")
	var first [][]byte
	var hows []string
	for round := 0; round < 2; round++ {
		rng := rand.New(rand.NewPCG(7, 8))
		for i := 0; i < 200; i++ {
			d, how := mutate(rng, b, donor)
			if round == 0 {
				first, hows = append(first, d), append(hows, how)
			} else if !bytes.Equal(d, first[i]) || how != hows[i] {
				t.Fatalf("mutation %d differs on the second round: %s vs %s", i, how, hows[i])
			}
		}
	}
	if !bytes.Equal(b, mustRead(t, "../../testdata/pcaps/big-chain-4096-mbedtls36.pcapng")) {
		t.Fatal("mutate changed its input")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each check names its failure, and a good pair of runs has none.
func TestCheck(t *testing.T) {
	c := config{maxRSS: 100 << 20, timeout: time.Minute}
	good := result{code: 1, stdout: []byte(`{"schema":1}`), rss: 30 << 20}
	if f := check(c, []string{"analyze", "--format", "json"}, good, good); len(f) != 0 {
		t.Errorf("good runs: %q", f)
	}
	for _, tc := range []struct {
		name   string
		r1, r2 result
		want   string
	}{
		{"exit 3", result{code: 3, stdout: []byte("{}")}, result{code: 3, stdout: []byte("{}")}, "exit code 3"},
		{"panic", result{code: 2, stderr: []byte("panic: runtime error: index out of range\n\ngoroutine 1 [running]:")}, result{code: 2}, "stderr has panic"},
		{"fatal", result{code: 2, stderr: []byte("fatal error: out of memory")}, result{code: 2}, "stderr has fatal error"},
		{"json", result{code: 1, stdout: []byte(`{"schema":1`)}, result{code: 1, stdout: []byte(`{"schema":1`)}, "invalid JSON"},
		{"differs", good, result{code: 1, stdout: []byte(`{"schema":2}`)}, "second run differs"},
		{"rss", result{code: 0, stdout: []byte("{}"), rss: 200 << 20}, result{code: 0, stdout: []byte("{}")}, "peak RSS over 100 MiB"},
		{"killed", result{code: -1, killed: true}, result{code: -1, killed: true}, "took longer than 1m0s"},
		{"silent", result{code: 0}, result{code: 0}, "analyze printed nothing although it did not fail"},
	} {
		f := check(c, []string{"analyze", "--format", "json"}, tc.r1, tc.r2)
		found := false
		for _, x := range f {
			found = found || x == tc.want
		}
		if !found {
			t.Errorf("%s: %q, want %q among them", tc.name, f, tc.want)
		}
	}
}

func TestValidJSONLines(t *testing.T) {
	live := []string{"live", "-r", "-", "--format", "json"}
	if !validJSON(live, []byte("{\"connection\":{}}\n{\"summary\":{}}\n")) || validJSON(live, []byte("{\"connection\":{}}\n{\"summ\n")) {
		t.Error("live's JSON Lines misjudged")
	}
	if validJSON([]string{"analyze"}, []byte("{}\n{}\n")) {
		t.Error("two documents taken for one")
	}
}

func TestSplice(t *testing.T) {
	b := mustRead(t, "../../testdata/pcaps/big-chain-4096-mbedtls36.pcapng")
	donor := mustRead(t, "../../testdata/pcaps/chain-incomplete.pcapng")
	f, _ := split(b)
	rng := rand.New(rand.NewPCG(1, 2))
	got, how := splice(rng, b, donor)
	g, ok := split(got)
	if !ok || how == "" || len(g.recs) <= len(f.recs) || !bytes.Equal(g.head, f.head) {
		t.Errorf("splice: %q, %d records (was %d)", how, len(g.recs), len(f.recs))
	}
	// A pcap donor does not go into a pcapng.
	if _, how := splice(rng, b, mustRead(t, "../../testdata/malformed/ipv4-options.pcap")); how != "" {
		t.Errorf("pcap spliced into pcapng: %q", how)
	}
}
