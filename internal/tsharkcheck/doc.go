// Package tsharkcheck holds no code: its test cross-checks tlspcap's
// record-level view of every test capture against tshark's, stored under
// testdata/tshark by `make expect` (testdata/tshark/expect.sh).
//
// For each capture that tshark sees TLS in, the test runs the capture →
// decode → diagnose pipeline and compares, per TCP stream, every TLS record:
// the frame tshark shows it in, its content type, its length and the
// handshake message types of plaintext handshake records. Where tlspcap
// differs from tshark on purpose, the test's table of known differences says
// why.
package tsharkcheck
