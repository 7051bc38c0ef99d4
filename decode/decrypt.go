package decode

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"slices"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"

	"tlspcap/capture"
)

// Record protection with keys from a key log: TLS 1.3 (RFC 8446 §5.2, §7.3,
// early data §4.2.10), TLS 1.2 (RFC 5246 §6.2.3, §6.3; RFC 5288 GCM;
// RFC 7905 ChaCha20; RFC 7366 encrypt-then-MAC), and the CBC suites of
// TLS 1.1 (RFC 4346: explicit IV per record) and TLS 1.0 (RFC 2246: the
// MD5 ⊕ SHA-1 PRF, the IV carried over from the previous record).

type aeadKind uint8

const (
	aeadNone aeadKind = iota
	aeadAESGCM
	aeadChaCha
	aeadAESCCM  // 16-byte tag
	aeadAESCCM8 // 8-byte tag
	cbcAES      // AES-CBC with HMAC (TLS 1.0 to 1.2)
	cbc3DES     // 3DES-EDE-CBC with HMAC-SHA1 (TLS 1.0 to 1.2)
)

// suiteInfo describes how a cipher suite protects records.
type suiteInfo struct {
	kind   aeadKind
	tls13  bool
	hash   func() hash.Hash // TLS 1.3 HKDF hash, TLS 1.2 PRF hash
	keyLen int
	ivLen  int              // TLS 1.2: implicit IV (GCM salt 4, ChaCha20 12, CBC 0)
	mac    func() hash.Hash // CBC suites: the HMAC hash
	macLen int
}

var suites = func() map[uint16]suiteInfo {
	m := map[uint16]suiteInfo{
		0x1301: {kind: aeadAESGCM, tls13: true, hash: sha256.New, keyLen: 16, ivLen: 12},
		0x1302: {kind: aeadAESGCM, tls13: true, hash: sha512.New384, keyLen: 32, ivLen: 12},
		0x1303: {kind: aeadChaCha, tls13: true, hash: sha256.New, keyLen: 32, ivLen: 12},
		0x1304: {kind: aeadAESCCM, tls13: true, hash: sha256.New, keyLen: 16, ivLen: 12},
		0x1305: {kind: aeadAESCCM8, tls13: true, hash: sha256.New, keyLen: 16, ivLen: 12},
	}
	for _, s := range []uint16{0x009C, 0x009E, 0x00A2, 0x00A4, 0x00A6, 0x00A8, 0x00AA, 0x00AC, 0xC02B, 0xC02D, 0xC02F, 0xC031} {
		m[s] = suiteInfo{kind: aeadAESGCM, hash: sha256.New, keyLen: 16, ivLen: 4}
	}
	for _, s := range []uint16{0x009D, 0x009F, 0x00A3, 0x00A5, 0x00A7, 0x00A9, 0x00AB, 0x00AD, 0xC02C, 0xC02E, 0xC030, 0xC032} {
		m[s] = suiteInfo{kind: aeadAESGCM, hash: sha512.New384, keyLen: 32, ivLen: 4}
	}
	for _, s := range []uint16{0xCCA8, 0xCCA9, 0xCCAA, 0xCCAB, 0xCCAC, 0xCCAD, 0xCCAE} {
		m[s] = suiteInfo{kind: aeadChaCha, hash: sha256.New, keyLen: 32, ivLen: 12}
	}
	for _, s := range []uint16{0xC09C, 0xC0A4, 0xC0AC, 0xC09E, 0xC0A6} { // *_AES_128_CCM (RSA, PSK, ECDHE_ECDSA, DHE_RSA, DHE_PSK)
		m[s] = suiteInfo{kind: aeadAESCCM, hash: sha256.New, keyLen: 16, ivLen: 4}
	}
	for _, s := range []uint16{0xC09D, 0xC0A5, 0xC0AD, 0xC09F, 0xC0A7} { // *_AES_256_CCM
		m[s] = suiteInfo{kind: aeadAESCCM, hash: sha256.New, keyLen: 32, ivLen: 4}
	}
	for _, s := range []uint16{0xC0A0, 0xC0A8, 0xC0AE, 0xC0A2, 0xC0AA} { // *_AES_128_CCM_8
		m[s] = suiteInfo{kind: aeadAESCCM8, hash: sha256.New, keyLen: 16, ivLen: 4}
	}
	for _, s := range []uint16{0xC0A1, 0xC0A9, 0xC0AF, 0xC0A3, 0xC0AB} { // *_AES_256_CCM_8
		m[s] = suiteInfo{kind: aeadAESCCM8, hash: sha256.New, keyLen: 32, ivLen: 4}
	}
	// AES-CBC with HMAC-SHA1 (TLS 1.2 PRF with SHA-256).
	for _, s := range []uint16{0x002F, 0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0xC004, 0xC009, 0xC00E, 0xC013, 0xC018, 0x008C, 0x0090, 0x0094, 0xC035} {
		m[s] = suiteInfo{kind: cbcAES, hash: sha256.New, keyLen: 16, mac: sha1.New, macLen: 20}
	}
	for _, s := range []uint16{0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003A, 0xC005, 0xC00A, 0xC00F, 0xC014, 0xC019, 0x008D, 0x0091, 0x0095, 0xC036} {
		m[s] = suiteInfo{kind: cbcAES, hash: sha256.New, keyLen: 32, mac: sha1.New, macLen: 20}
	}
	for _, s := range []uint16{0x003C, 0x003E, 0x003F, 0x0040, 0x0067, 0x006C, 0xC023, 0xC025, 0xC027, 0xC029, 0x00AE, 0x00B2, 0x00B6, 0xC037} {
		m[s] = suiteInfo{kind: cbcAES, hash: sha256.New, keyLen: 16, mac: sha256.New, macLen: 32}
	}
	for _, s := range []uint16{0x003D, 0x0068, 0x0069, 0x006A, 0x006B, 0x006D} {
		m[s] = suiteInfo{kind: cbcAES, hash: sha256.New, keyLen: 32, mac: sha256.New, macLen: 32}
	}
	for _, s := range []uint16{0xC024, 0xC026, 0xC028, 0xC02A, 0x00AF, 0x00B3, 0x00B7, 0xC038} {
		m[s] = suiteInfo{kind: cbcAES, hash: sha512.New384, keyLen: 32, mac: sha512.New384, macLen: 48}
	}
	// 3DES-EDE-CBC with HMAC-SHA1 (RSA, DH_DSS, DH_RSA, DHE_DSS, DHE_RSA,
	// DH_anon, ECDH_ECDSA, ECDHE_ECDSA, ECDH_RSA, ECDHE_RSA, ECDH_anon, PSK,
	// DHE_PSK, RSA_PSK, ECDHE_PSK).
	for _, s := range []uint16{0x000A, 0x000D, 0x0010, 0x0013, 0x0016, 0x001B, 0xC003, 0xC008, 0xC00D, 0xC012, 0xC017, 0x008B, 0x008F, 0x0093, 0xC034} {
		m[s] = suiteInfo{kind: cbc3DES, hash: sha256.New, keyLen: 24, mac: sha1.New, macLen: 20}
	}
	return m
}()

// recordCipher removes the protection of one direction's records.
type recordCipher struct {
	aead     cipher.AEAD
	iv       []byte // TLS 1.3 and ChaCha20: the 12-byte IV; TLS 1.2 GCM: the 4-byte salt
	explicit int    // bytes of explicit nonce at the start of a TLS 1.2 GCM record
	tls13    bool
	seq      uint64
	// CBC suites
	block  cipher.Block
	mac    func() hash.Hash
	macKey []byte
	macLen int
	etm    bool   // encrypt-then-MAC (RFC 7366)
	cbcIV  []byte // TLS 1.0: the IV of the next record (the previous record's last ciphertext block); nil with explicit IVs
	// TLS 1.3: to derive the next secret at a KeyUpdate.
	suite  suiteInfo
	secret []byte
	nonce  [12]byte
}

var errDecrypt = errors.New("record does not decrypt")

// noKeys as a direction's next cipher stops decryption at its next
// ChangeCipherSpec (a renegotiated session whose keys are unknown).
var noKeys = &recordCipher{}

// orNil maps noKeys to nil.
func (rc *recordCipher) orNil() *recordCipher {
	if rc == noKeys {
		return nil
	}
	return rc
}

// hkdfExpandLabel is HKDF-Expand-Label of RFC 8446 §7.1.
func hkdfExpandLabel(h func() hash.Hash, secret []byte, label string, context []byte, n int) []byte {
	info := make([]byte, 0, 2+1+6+len(label)+1+len(context))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	out := make([]byte, n)
	if _, err := hkdf.Expand(h, secret, info).Read(out); err != nil {
		panic(err) // n is far below the HKDF limit
	}
	return out
}

func newAEAD(kind aeadKind, key []byte) (cipher.AEAD, error) {
	switch kind {
	case aeadAESGCM:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	case aeadChaCha:
		return chacha20poly1305.New(key)
	case aeadAESCCM, aeadAESCCM8:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		tag := 16
		if kind == aeadAESCCM8 {
			tag = 8
		}
		return &ccm{b: b, tagLen: tag}, nil
	}
	return nil, errors.New("unsupported cipher")
}

// newTLS13Cipher derives the record key and IV from a traffic secret.
func newTLS13Cipher(s suiteInfo, secret []byte) (*recordCipher, error) {
	if len(secret) != s.hash().Size() {
		return nil, errors.New("traffic secret has the wrong length for the cipher suite")
	}
	key := hkdfExpandLabel(s.hash, secret, "key", nil, s.keyLen)
	iv := hkdfExpandLabel(s.hash, secret, "iv", nil, s.ivLen)
	a, err := newAEAD(s.kind, key)
	if err != nil {
		return nil, err
	}
	return &recordCipher{aead: a, iv: iv, tls13: true, suite: s, secret: secret}, nil
}

// keyUpdate returns the cipher for the next generation of traffic secret
// (RFC 8446 §7.2).
func (rc *recordCipher) keyUpdate() (*recordCipher, error) {
	next := hkdfExpandLabel(rc.suite.hash, rc.secret, "traffic upd", nil, rc.suite.hash().Size())
	return newTLS13Cipher(rc.suite, next)
}

// prf12 is the TLS 1.2 PRF (RFC 5246 §5).
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
	return pHash(h, secret, append([]byte(label), seed...), n)
}

// prf10 is the PRF of TLS 1.0 and 1.1 (RFC 2246 §5): P_MD5 over the first
// half of the secret XOR P_SHA-1 over the second half (the halves share the
// middle byte when the length is odd).
func prf10(secret []byte, label string, seed []byte, n int) []byte {
	ls := append([]byte(label), seed...)
	half := (len(secret) + 1) / 2
	out := pHash(md5.New, secret[:half], ls, n)
	subtle.XORBytes(out, out, pHash(sha1.New, secret[len(secret)-half:], ls, n))
	return out
}

// pHash is P_hash of RFC 5246 §5 (RFC 2246 §5): HMAC expansion of secret
// over label+seed (ls) to n bytes.
func pHash(h func() hash.Hash, secret, ls []byte, n int) []byte {
	mac := hmac.New(h, secret)
	mac.Write(ls)
	a := mac.Sum(nil)
	out := make([]byte, 0, n+mac.Size())
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = mac.Sum(out)
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
	return out[:n]
}

// cbc says whether the suite is a block cipher in CBC mode with HMAC.
func (s suiteInfo) cbc() bool { return s.kind == cbcAES || s.kind == cbc3DES }

// newTLS12Ciphers expands the master secret into the client's and the
// server's record ciphers for TLS 1.2, or, with the TLS 1.0 PRF, for the
// CBC suites of TLS 1.0 (IVs from the key block, then chained from record
// to record) and TLS 1.1 (an explicit IV in each record).
func newTLS12Ciphers(s suiteInfo, version uint16, master, clientRandom, serverRandom []byte, etm bool) (client, server *recordCipher, err error) {
	seed := append(append([]byte(nil), serverRandom...), clientRandom...)
	ivLen := s.ivLen
	if version == VersionTLS10 {
		ivLen = aes.BlockSize
		if s.kind == cbc3DES {
			ivLen = des.BlockSize
		}
	}
	n := 2*s.macLen + 2*s.keyLen + 2*ivLen
	var kb []byte
	if version < VersionTLS12 {
		kb = prf10(master, "key expansion", seed, n)
	} else {
		kb = prf12(s.hash, master, "key expansion", seed, n)
	}
	take := func(k int) []byte { b := kb[:k:k]; kb = kb[k:]; return b }
	cmac, smac := take(s.macLen), take(s.macLen)
	ckey, skey := take(s.keyLen), take(s.keyLen)
	civ, siv := take(ivLen), take(ivLen)
	mk := func(key, iv, mac []byte) (*recordCipher, error) {
		rc := &recordCipher{iv: iv}
		if s.cbc() {
			var b cipher.Block
			var err error
			if s.kind == cbc3DES {
				b, err = des.NewTripleDESCipher(key)
			} else {
				b, err = aes.NewCipher(key)
			}
			if err != nil {
				return nil, err
			}
			rc.block, rc.mac, rc.macKey, rc.macLen, rc.etm = b, s.mac, mac, s.macLen, etm
			if version == VersionTLS10 {
				rc.cbcIV = slices.Clone(iv)
			}
			return rc, nil
		}
		a, err := newAEAD(s.kind, key)
		if err != nil {
			return nil, err
		}
		rc.aead = a
		if s.kind != aeadChaCha {
			rc.explicit = 8 // GCM and CCM: salt from the key block, explicit nonce in the record
		}
		return rc, nil
	}
	if client, err = mk(ckey, civ, cmac); err != nil {
		return nil, nil, err
	}
	server, err = mk(skey, siv, smac)
	return client, server, err
}

// open decrypts one record body (hdr is its 5-byte header) into dst and
// returns the plaintext, its content type (the inner type in TLS 1.3), and
// the number of body bytes before the ciphertext proper (TLS 1.2 explicit
// nonce or IV). The sequence number advances only on success.
func (rc *recordCipher) open(dst []byte, hdr []byte, body []byte) ([]byte, uint8, int, error) {
	if rc.block != nil {
		p, err := rc.openCBC(dst, hdr, body)
		if err != nil {
			return nil, 0, 0, err
		}
		rc.seq++
		if rc.cbcIV != nil {
			return p, hdr[0], 0, nil
		}
		return p, hdr[0], rc.block.BlockSize(), nil
	}
	ns := rc.aead.NonceSize()
	if len(body) < rc.explicit+rc.aead.Overhead() {
		return nil, 0, 0, errDecrypt
	}
	nonce := rc.nonce[:ns]
	var aad [13]byte
	if rc.explicit > 0 {
		copy(nonce, rc.iv)
		copy(nonce[len(rc.iv):], body[:rc.explicit])
	} else {
		copy(nonce, rc.iv)
		var sq [8]byte
		binary.BigEndian.PutUint64(sq[:], rc.seq)
		subtle.XORBytes(nonce[ns-8:], nonce[ns-8:], sq[:])
	}
	var ad []byte
	if rc.tls13 {
		ad = hdr[:5]
	} else {
		binary.BigEndian.PutUint64(aad[:8], rc.seq)
		aad[8], aad[9], aad[10] = hdr[0], hdr[1], hdr[2]
		binary.BigEndian.PutUint16(aad[11:], uint16(len(body)-rc.explicit-rc.aead.Overhead()))
		ad = aad[:]
	}
	p, err := rc.aead.Open(dst, nonce, body[rc.explicit:], ad)
	if err != nil {
		return nil, 0, 0, errDecrypt
	}
	rc.seq++
	typ := hdr[0]
	if rc.tls13 {
		// TLSInnerPlaintext: content, content type, zero padding.
		i := len(p) - 1
		for i >= 0 && p[i] == 0 {
			i--
		}
		if i < 0 {
			return nil, 0, 0, errors.New("decrypted record has no content type")
		}
		typ, p = p[i], p[:i]
	}
	return p, typ, rc.explicit, nil
}

func (rc *recordCipher) macOf(hdr []byte, n int, parts ...[]byte) []byte {
	m := hmac.New(rc.mac, rc.macKey)
	var h [13]byte
	binary.BigEndian.PutUint64(h[:8], rc.seq)
	h[8], h[9], h[10] = hdr[0], hdr[1], hdr[2]
	binary.BigEndian.PutUint16(h[11:], uint16(n))
	m.Write(h[:])
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// openCBC handles CBC records: TLS 1.1/1.2 with the explicit IV first,
// TLS 1.0 with the IV chained from the previous record.
func (rc *recordCipher) openCBC(dst []byte, hdr []byte, body []byte) ([]byte, error) {
	bs := rc.block.BlockSize()
	ivLen := bs
	if rc.cbcIV != nil {
		ivLen = 0
	}
	if rc.etm {
		if len(body) < ivLen+bs+rc.macLen {
			return nil, errDecrypt
		}
		ct, tag := body[:len(body)-rc.macLen], body[len(body)-rc.macLen:]
		if !hmac.Equal(rc.macOf(hdr, len(ct), ct), tag) {
			return nil, errDecrypt
		}
		body = ct
	}
	if len(body) < ivLen+bs || len(body)%bs != 0 {
		return nil, errDecrypt
	}
	iv, ct := rc.cbcIV, body
	if iv == nil {
		iv, ct = body[:bs], body[bs:]
	}
	p := append(dst, make([]byte, len(ct))...)[len(dst):]
	cipher.NewCBCDecrypter(rc.block, iv).CryptBlocks(p, ct)
	if rc.cbcIV != nil {
		// The next record's IV, whether or not this one turns out valid
		// (a failure drops the keys anyway).
		copy(rc.cbcIV, ct[len(ct)-bs:])
	}
	pad := int(p[len(p)-1])
	if pad+1 > len(p) {
		return nil, errDecrypt
	}
	for _, b := range p[len(p)-pad-1:] {
		if int(b) != pad {
			return nil, errDecrypt
		}
	}
	p = p[:len(p)-pad-1]
	if rc.etm {
		return p, nil
	}
	if len(p) < rc.macLen {
		return nil, errDecrypt
	}
	content, tag := p[:len(p)-rc.macLen], p[len(p)-rc.macLen:]
	if !hmac.Equal(rc.macOf(hdr, len(content), content), tag) {
		return nil, errDecrypt
	}
	return content, nil
}

// keyState is a Conn's decryption state.
type keyState struct {
	log          *KeyLog
	clientRandom []byte
	clientDir    capture.Dir
	reported     bool // a key problem was reported for this connection
	// TLS 1.3 early data (0-RTT, RFC 8446 §4.2.10). inEarly: the
	// ClientHello offered early_data and the client's records may still be
	// 0-RTT ones; early are the ciphers that may protect them (one per
	// TLS 1.3 suite the ClientHello offers, until one decrypts), from
	// CLIENT_EARLY_TRAFFIC_SECRET; skippedEarly counts the client's
	// records that neither they nor the handshake keys open: 0-RTT data
	// whose keys are unknown, skipped as the server skips rejected early
	// data.
	inEarly      bool
	early        []*recordCipher
	skippedEarly int
	// plaintext, when set, receives each decrypted application data
	// record's content (tests compare it with what the programs sent).
	plaintext func(dir capture.Dir, p []byte)
}

// SetKeyLog makes c decrypt the records of sessions whose secrets k holds
// (k may gain secrets later: it is consulted at each ServerHello). Call it
// before the first Payload. Without a key log nothing is decrypted.
func (c *Conn) SetKeyLog(k *KeyLog) {
	if k == nil {
		c.kd = nil
		return
	}
	c.kd = &keyState{log: k}
}

// keyProblem reports, once per connection, secrets that do not serve.
func (c *Conn) keyProblem(d *dirState, w Where, detail string) {
	if c.kd.reported {
		return
	}
	c.kd.reported = true
	w.Frames = c.cloneFrames(w.Frames)
	c.put(d, &DecodeError{Where: w, Kind: DecodeKeyLog, Detail: detail})
}

// clientHelloKeys notes the ClientHello ch (sent in direction d): its
// random finds the session's secrets; when it offers early data and the key
// log has the client's early traffic secret, the client's 0-RTT records are
// decrypted from the next record on.
func (c *Conn) clientHelloKeys(d *dirState, ch *ClientHello) {
	kd := c.kd
	kd.clientRandom, kd.clientDir = ch.Random, d.dir
	kd.inEarly, kd.early = false, nil
	if c.hrr || !slices.Contains(ch.Extensions, ExtEarlyData) {
		return // no early data after a HelloRetryRequest (RFC 8446 §4.2.10)
	}
	kd.inEarly = true
	sk := kd.log.Lookup(ch.Random)
	if sk == nil || sk.ClientEarly == nil {
		return
	}
	// The 0-RTT suite is the PSK's, which the ClientHello does not name:
	// try each TLS 1.3 suite it offers whose hash fits the secret.
	for _, id := range ch.CipherSuites {
		si, ok := suites[id]
		if !ok || !si.tls13 {
			continue
		}
		if rc, err := newTLS13Cipher(si, sk.ClientEarly); err == nil {
			kd.early = append(kd.early, rc)
		}
	}
	if len(kd.early) > 0 && d.cipher == nil {
		d.cipher = kd.early[0] // the client's next records go to decryptEarly
	}
}

// endEarly: after a HelloRetryRequest, or a ServerHello choosing TLS 1.2,
// the client sends no (more) early data; its next records are plaintext.
func (c *Conn) endEarly() {
	kd := c.kd
	cd := c.dirOf(kd.clientDir)
	if slices.Contains(kd.early, cd.cipher) {
		cd.cipher = nil
	}
	kd.inEarly, kd.early = false, nil
}

// setupKeys looks up the session's secrets when the ServerHello m (sent
// in direction d) has chosen the version and cipher suite.
func (c *Conn) setupKeys(d *dirState, m *Handshake, sh *ServerHello) {
	kd := c.kd
	if kd.clientRandom == nil {
		return
	}
	sd := d
	cd := c.dirOf(d.dir.Reverse())
	if !c.tls13 && kd.inEarly {
		c.endEarly()
	}
	if !c.tls13 && (sd.cipher != nil || cd.cipher != nil) {
		// A renegotiation under keys: unless the new session's keys are
		// found below, stop decrypting at each side's next ChangeCipherSpec.
		sd.next, cd.next = noKeys, noKeys
	}
	sk := kd.log.Lookup(kd.clientRandom)
	if sk == nil {
		if sd.next == noKeys {
			c.keyProblem(d, m.Where, "the key log has no secrets for the renegotiated session: records after its ChangeCipherSpec stay encrypted")
		}
		return
	}
	if cd.dir != kd.clientDir {
		return // ClientHello and ServerHello from the same side: no idea
	}
	si, ok := suites[sh.CipherSuite]
	switch {
	case c.tls13:
		if !ok || !si.tls13 {
			c.keyProblem(d, m.Where, fmt.Sprintf("the key log has secrets for this connection, but decrypting %s is not supported", CipherSuiteName(sh.CipherSuite)))
			return
		}
		if sk.ClientHandshake == nil || sk.ServerHandshake == nil {
			if sk.MasterSecret != nil {
				c.keyProblem(d, m.Where, "the key log has a TLS 1.2 master secret (CLIENT_RANDOM) for this TLS 1.3 connection: it needs the *_HANDSHAKE_TRAFFIC_SECRET lines")
			}
			return
		}
		var err error
		if sd.cipher, err = newTLS13Cipher(si, sk.ServerHandshake); err == nil {
			cd.cipher, err = newTLS13Cipher(si, sk.ClientHandshake)
		}
		// Each side's application secret on its own: a server that
		// rejects the client's certificate has logged its own
		// (SERVER_TRAFFIC_SECRET_0, which protects its alert) but never
		// derives the client's.
		if err == nil && sk.ServerTraffic0 != nil {
			sd.next, err = newTLS13Cipher(si, sk.ServerTraffic0)
		}
		if err == nil && sk.ClientTraffic0 != nil {
			cd.next, err = newTLS13Cipher(si, sk.ClientTraffic0)
		}
		if err != nil {
			sd.cipher, cd.cipher, sd.next, cd.next = nil, nil, nil, nil
			c.keyProblem(d, m.Where, "the key log's secrets for this connection do not fit its cipher suite: "+err.Error())
		}
	default:
		if sk.MasterSecret == nil || c.nullSuite {
			return // NULL encryption: the records are read as they are
		}
		if !ok || si.tls13 || c.version != VersionTLS12 && !(si.cbc() && (c.version == VersionTLS10 || c.version == VersionTLS11)) {
			c.keyProblem(d, m.Where, fmt.Sprintf("the key log has the master secret of this connection, but decrypting %s %s is not supported",
				VersionName(c.version), CipherSuiteName(sh.CipherSuite)))
			return
		}
		cc, sc, err := newTLS12Ciphers(si, c.version, sk.MasterSecret, kd.clientRandom, sh.Random, sh.EncryptThenMAC)
		if err != nil {
			c.keyProblem(d, m.Where, "cannot use the key log's master secret: "+err.Error())
			return
		}
		sd.next, cd.next = sc, cc
	}
}

// decryptRecord decrypts rec, whose body is in d.body, and runs the
// plaintext through the handshake reassembler (messages go to d.held) or
// reads its alerts (returned). When the record does not decrypt, it is
// left as it was (Encrypted), the keys of the direction are dropped and the
// problem reported.
func (c *Conn) decryptRecord(d *dirState, rec *Record) []Event {
	hdr := [5]byte{rec.ContentType, byte(rec.Version >> 8), byte(rec.Version), byte(rec.Length >> 8), byte(rec.Length)}
	if c.kd.inEarly && d.dir == c.kd.clientDir {
		return c.decryptEarly(d, rec, hdr[:])
	}
	p, typ, skip, err := d.cipher.open(nil, hdr[:], d.body.buf)
	if err != nil {
		d.cipher, d.next = nil, nil
		c.keyProblem(d, rec.Where, fmt.Sprintf("the key log has secrets for this connection, but they do not match: the %s's record at stream offset %d does not decrypt with them (a key log of another capture, or a record the decoder cannot place)",
			d.dir, rec.Offset))
		return nil
	}
	return c.decrypted(d, rec, p, typ, skip)
}

// decryptEarly decrypts a client record while it may be 0-RTT data: with
// the early traffic keys, else with the handshake keys (which end the early
// phase). A record neither opens is skipped without a key problem, as a
// server that rejected early data skips it (RFC 8446 §4.2.10): it is early
// data whose keys the key log lacks.
func (c *Conn) decryptEarly(d *dirState, rec *Record, hdr []byte) []Event {
	kd := c.kd
	for _, rc := range kd.early {
		if p, typ, skip, err := rc.open(nil, hdr, d.body.buf); err == nil {
			kd.early = []*recordCipher{rc} // the suite is known now
			return c.decrypted(d, rec, p, typ, skip)
		}
	}
	if d.cipher != nil && !slices.Contains(kd.early, d.cipher) {
		if p, typ, skip, err := d.cipher.open(nil, hdr, d.body.buf); err == nil {
			kd.inEarly, kd.early = false, nil
			return c.decrypted(d, rec, p, typ, skip)
		}
	}
	kd.skippedEarly++
	return nil
}

// decrypted records what the plaintext p of rec (content type typ, skip
// body bytes before the ciphertext proper) holds: handshake messages go
// through the reassembler (to d.held), alerts are returned.
func (c *Conn) decrypted(d *dirState, rec *Record, p []byte, typ uint8, skip int) []Event {
	rec.Decrypted, rec.InnerType, rec.PlaintextLen = true, typ, uint16(len(p))
	switch typ {
	case ContentApplicationData:
		if c.kd.plaintext != nil {
			c.kd.plaintext(d.dir, p)
		}
	case ContentHandshake:
		d.finSeen = true
		spans := make([]capture.Span, 0, len(d.body.spans))
		for _, s := range d.body.spans {
			lo, hi := max(s.Off-skip, 0), min(s.Off+s.Len-skip, len(p))
			if hi > lo {
				spans = append(spans, capture.Span{Frame: s.Frame, Off: lo, Len: hi - lo})
			}
		}
		f := feeder{spans: spans}
		d.hsFeed, d.plain = true, true
		c.hsData(d, p, &f, 0, d.body.base+int64(skip))
		d.hsFeed, d.plain = false, false
		if d.hs.broken {
			d.hs.broken = false
			d.hs.msg, d.hs.hdrN = nil, 0
		}
	case ContentAlert:
		if !alertRun(p, len(p)) {
			return []Event{&DecodeError{Where: rec.Where, Kind: DecodeMalformed, Detail: fmt.Sprintf("decrypted alert record holds %d bytes that are not alerts", len(p))}}
		}
		var out []Event
		for j := 0; j+2 <= len(p); j += 2 {
			out = append(out, &Alert{Where: rec.Where, Level: p[j], Description: p[j+1], Decrypted: true})
		}
		return out
	}
	return nil
}

// decryptedMessage applies what a decrypted handshake message does to the
// keys of its direction: after a TLS 1.3 Finished the application traffic
// keys take over; a KeyUpdate moves them to the next generation.
func (c *Conn) decryptedMessage(d *dirState, m *Handshake) {
	if !c.tls13 || m.Truncated {
		return
	}
	switch m.Type {
	case TypeEndOfEarlyData:
		// The client's records are protected by the handshake keys from
		// the next one (set at the ServerHello).
		if kd := c.kd; d.dir == kd.clientDir {
			kd.inEarly, kd.early = false, nil
		}
	case TypeFinished:
		if d.cipher != nil && d.cipher.secret != nil {
			d.cipher, d.next = d.next, nil
		}
	case TypeKeyUpdate:
		if d.cipher != nil {
			next, err := d.cipher.keyUpdate()
			if err != nil {
				next = nil
			}
			d.cipher = next
		}
	}
}
