package decode

import "bytes"

var httpPrefixes = [][]byte{
	[]byte("GET "), []byte("POST "), []byte("HEAD "), []byte("PUT "), []byte("DELETE "),
	[]byte("OPTIONS "), []byte("PATCH "), []byte("TRACE "), []byte("CONNECT "), []byte("HTTP/"),
}

// detectProtocol names the plaintext protocol a direction's first bytes
// look like, or "unknown".
func detectProtocol(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("PRI * HTTP/2.0")):
		return "HTTP/2"
	case hasAnyPrefix(b, httpPrefixes):
		return "HTTP"
	case bytes.HasPrefix(b, []byte("SSH-")):
		return "SSH"
	case bytes.HasPrefix(b, []byte("220 ")) || bytes.HasPrefix(b, []byte("220-")):
		switch {
		case bytes.Contains(b, []byte("FTP")):
			return "FTP"
		case bytes.Contains(b, []byte("SMTP")):
			return "SMTP"
		}
		return "SMTP/FTP"
	case bytes.HasPrefix(b, []byte("+OK")):
		return "POP3"
	case bytes.HasPrefix(b, []byte("* OK")) || bytes.HasPrefix(b, []byte("* PREAUTH")):
		return "IMAP"
	case looksMQTT(b):
		return "MQTT"
	}
	return "unknown"
}

func hasAnyPrefix(b []byte, prefixes [][]byte) bool {
	for _, p := range prefixes {
		if bytes.HasPrefix(b, p) {
			return true
		}
	}
	return false
}

// mqttRemaining reads the MQTT fixed header's remaining length (1 to 4
// bytes, 7 bits each) after the first byte; it returns the length and the
// position after it, or ok false.
func mqttRemaining(b []byte) (n, pos int, ok bool) {
	mult := 1
	for i := 1; i < len(b) && i <= 4; i++ {
		n += int(b[i]&0x7f) * mult
		if b[i]&0x80 == 0 {
			return n, i + 1, true
		}
		mult *= 128
	}
	return 0, 0, false
}

// looksMQTT recognises an MQTT CONNECT (0x10, protocol name "MQTT" or
// "MQIsdp") or CONNACK (0x20, acknowledge flags 0 or 1 and a known return
// code).
func looksMQTT(b []byte) bool {
	if len(b) < 4 || (b[0] != 0x10 && b[0] != 0x20) {
		return false
	}
	rl, pos, ok := mqttRemaining(b)
	if !ok {
		return false
	}
	rest := b[pos:]
	if b[0] == 0x10 {
		return rl >= 10 && (bytes.HasPrefix(rest, []byte("\x00\x04MQTT")) || bytes.HasPrefix(rest, []byte("\x00\x06MQIsdp")))
	}
	if len(rest) < 2 || rest[0] > 1 {
		return false
	}
	if rl == 2 {
		return rest[1] <= 5 // MQTT 3.1 / 3.1.1 return codes
	}
	return rl >= 3 && rl < 1<<16 && (rest[1] == 0 || rest[1] >= 0x80) // MQTT 5 reason code
}
