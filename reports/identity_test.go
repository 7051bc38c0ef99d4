package reports

import (
	"bytes"
	"strings"
	"testing"

	"tlspcap/diagnose"
)

// TestFingerprintsEveryFormat: the client's JA3/JA4, the server's
// JA3S/JA4S, the client label and the profile with its reason are in every
// format of analyze and of records, for a real mbedTLS 2.28 client.
// JA3 and JA3S are tshark 4.0.17's tls.handshake.ja3 / ja3s of this capture.
func TestFingerprintsEveryFormat(t *testing.T) {
	read := func(keepRecords bool) *diagnose.Report {
		_, r := renderCapture(t, "big-chain-4096-mbedtls228.pcapng", diagnose.Options{InContentLen: 4096, KeepRecords: keepRecords})
		return r
	}
	fps := []string{"t12d800700_ee0b5a6c69b8_cdbdbcd6f742", "14a4b22e64580299d355a3a5449ef7be", "t120400_cca8_12a20535f9be", "8d9cb13b8234edb41f8767322f753064"}
	profile := "esp32-idf4 (guessed from the ClientHello shape of mbedTLS 2.28; give --profile to override)"
	for _, f := range Formats {
		var out bytes.Buffer
		if err := Write(&out, read(false), f, Options{}); err != nil {
			t.Fatal(err)
		}
		want := append([]string{"mbedTLS 2.x"}, fps...)
		switch f {
		case JSON:
			want = append(want, `"profile": "esp32-idf4"`, `"profile_reason": "guessed from the ClientHello shape of mbedTLS 2.28; give --profile to override"`)
		case Markdown:
			want = append(want, "`esp32-idf4` (guessed from the ClientHello shape of mbedTLS 2.28; give --profile to override)")
		default:
			want = append(want, profile)
		}
		for _, s := range want {
			if !strings.Contains(out.String(), s) {
				t.Errorf("analyze --format %s: %q missing", f, s)
			}
		}
	}
	for _, f := range []Format{Text, Markdown, JSON} {
		var out bytes.Buffer
		if err := WriteRecords(&out, read(true), f, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, s := range fps {
			if !strings.Contains(out.String(), s) {
				t.Errorf("records --format %s: %s missing", f, s)
			}
		}
	}
}
