package decode

import (
	"bytes"
	"encoding/hex"
	"sync"
)

// SessionKeys are the secrets an NSS key log holds for one TLS session,
// found by its ClientHello random.
type SessionKeys struct {
	MasterSecret    []byte // CLIENT_RANDOM (TLS 1.2 and older)
	ClientHandshake []byte // CLIENT_HANDSHAKE_TRAFFIC_SECRET
	ServerHandshake []byte // SERVER_HANDSHAKE_TRAFFIC_SECRET
	ClientTraffic0  []byte // CLIENT_TRAFFIC_SECRET_0
	ServerTraffic0  []byte // SERVER_TRAFFIC_SECRET_0
	Exporter        []byte // EXPORTER_SECRET
	ClientEarly     []byte // CLIENT_EARLY_TRAFFIC_SECRET (0-RTT early data)
}

// KeyLog holds the secrets of an NSS key log (the SSLKEYLOGFILE format),
// from any number of files and pcapng Decryption Secrets Blocks. It is safe
// for concurrent use: secrets may be added while connections are decoded.
type KeyLog struct {
	mu sync.RWMutex
	m  map[[32]byte]*SessionKeys
}

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog { return &KeyLog{m: map[[32]byte]*SessionKeys{}} }

// Add parses NSS key log text and adds its secrets; it returns the number
// of lines taken. Comments, blank lines, unknown labels and malformed lines
// are skipped (key logs are often concatenated or edited by hand). A later
// line for the same client random and label replaces an earlier one.
func (k *KeyLog) Add(data []byte) int {
	n := 0
	k.mu.Lock()
	defer k.mu.Unlock()
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		f := bytes.Fields(line)
		if len(f) != 3 || f[0][0] == '#' || len(f[1]) != 64 {
			continue
		}
		var cr [32]byte
		if _, err := hex.Decode(cr[:], f[1]); err != nil {
			continue
		}
		secret := make([]byte, hex.DecodedLen(len(f[2])))
		if _, err := hex.Decode(secret, f[2]); err != nil || len(secret) == 0 {
			continue
		}
		s := k.m[cr]
		if s == nil {
			s = &SessionKeys{}
		}
		switch string(f[0]) {
		case "CLIENT_RANDOM":
			if len(secret) != 48 {
				continue
			}
			s.MasterSecret = secret
		case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
			s.ClientHandshake = secret
		case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
			s.ServerHandshake = secret
		case "CLIENT_TRAFFIC_SECRET_0":
			s.ClientTraffic0 = secret
		case "SERVER_TRAFFIC_SECRET_0":
			s.ServerTraffic0 = secret
		case "EXPORTER_SECRET":
			s.Exporter = secret
		case "CLIENT_EARLY_TRAFFIC_SECRET":
			s.ClientEarly = secret
		default:
			continue
		}
		k.m[cr] = s
		n++
	}
	return n
}

// Len returns the number of sessions with at least one secret.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.m)
}

// Lookup returns a copy of the secrets for a ClientHello random, or nil.
func (k *KeyLog) Lookup(clientRandom []byte) *SessionKeys {
	if k == nil || len(clientRandom) != 32 {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	s := k.m[[32]byte(clientRandom)]
	if s == nil {
		return nil
	}
	c := *s
	return &c
}
