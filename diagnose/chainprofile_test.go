package diagnose_test

import (
	"crypto/tls"
	"encoding/pem"
	"slices"
	"testing"

	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// The chain checks follow the device profile's mbedTLS line: an MQTT broker
// dialled by IP whose certificate names that IP in an IP SAN verifies on
// mbedTLS 3.5+ (ESP-IDF v5) and fails the name check on 2.28 (ESP-IDF
// v4.4), which matches only DNS names and the CN.
func TestChainFollowsProfile(t *testing.T) {
	ch := pcapbuild.NewChain("203.0.113.10", 0)
	ws := exchangeFor(t, ch, "203.0.113.10", tls.VersionTLS12, true)
	c := pcapbuild.New()
	c.Replay(client, server, ws)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ch.Root.Raw})

	for _, tc := range []struct {
		profile  string
		mismatch bool
	}{
		{"esp32-idf5", false},
		{"esp32-idf4", true},
	} {
		rep := analyse(t, c.Bytes(), diagnose.Options{Profile: tc.profile, CA: ca})
		if len(rep.Connections) != 1 {
			t.Fatalf("%s: %d connections", tc.profile, len(rep.Connections))
		}
		var ids []string
		for _, f := range rep.Connections[0].Findings {
			ids = append(ids, string(f.ID))
		}
		if got := slices.Contains(ids, "hostname-mismatch"); got != tc.mismatch {
			t.Errorf("profile %s: hostname-mismatch %v, want %v (findings %v)", tc.profile, got, tc.mismatch, ids)
		}
	}
}
