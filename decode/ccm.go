package decode

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// ccm is AES-CCM (NIST SP 800-38C, RFC 3610) with a 12-byte nonce as TLS
// uses it (RFC 6655, RFC 8446): CTR encryption and CBC-MAC, both from
// crypto/cipher over the AES block cipher. It only opens records.
type ccm struct {
	b      cipher.Block
	tagLen int // 16, or 8 for the _8 suites
}

var errCCMOpen = errors.New("ccm: message authentication failed")

func (c *ccm) NonceSize() int { return 12 }
func (c *ccm) Overhead() int  { return c.tagLen }

func (c *ccm) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	panic("decode: ccm is used to open records only")
}

func (c *ccm) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != 12 || len(ciphertext) < c.tagLen || len(ciphertext)-c.tagLen >= 1<<24 || len(additionalData) >= 0xff00 {
		return nil, errCCMOpen
	}
	tag := ciphertext[len(ciphertext)-c.tagLen:]
	ct := ciphertext[:len(ciphertext)-c.tagLen]
	// Counter blocks: flags L-1 = 2, nonce, 3-byte counter; block 0 masks the tag.
	var a [16]byte
	a[0] = 2
	copy(a[1:13], nonce)
	var s0 [16]byte
	c.b.Encrypt(s0[:], a[:])
	a[15] = 1
	ret, out := sliceForAppend(dst, len(ct))
	cipher.NewCTR(c.b, a[:]).XORKeyStream(out, ct)
	// CBC-MAC over B0, the encoded additional data and the plaintext.
	buf := make([]byte, 0, 16+roundUp16(2+len(additionalData))+roundUp16(len(out)))
	flags := byte(8*((c.tagLen-2)/2) + 2)
	if len(additionalData) > 0 {
		flags |= 0x40
	}
	buf = append(buf, flags)
	buf = append(buf, nonce...)
	buf = append(buf, byte(len(out)>>16), byte(len(out)>>8), byte(len(out)))
	if len(additionalData) > 0 {
		buf = binary.BigEndian.AppendUint16(buf, uint16(len(additionalData)))
		buf = append(buf, additionalData...)
		buf = append(buf, make([]byte, roundUp16(len(buf))-len(buf))...)
	}
	buf = append(buf, out...)
	buf = append(buf, make([]byte, roundUp16(len(buf))-len(buf))...)
	var zero [16]byte
	cipher.NewCBCEncrypter(c.b, zero[:]).CryptBlocks(buf, buf)
	mac := buf[len(buf)-16:]
	subtle.XORBytes(mac, mac, s0[:])
	if subtle.ConstantTimeCompare(mac[:c.tagLen], tag) != 1 {
		clear(out)
		return nil, errCCMOpen
	}
	return ret, nil
}

func roundUp16(n int) int { return (n + 15) &^ 15 }

// sliceForAppend extends in by n bytes, returning the whole slice and the
// new part.
func sliceForAppend(in []byte, n int) (head, tail []byte) {
	if total := len(in) + n; cap(in) >= total {
		head = in[:total]
	} else {
		head = make([]byte, total)
		copy(head, in)
	}
	tail = head[len(in):]
	return
}
