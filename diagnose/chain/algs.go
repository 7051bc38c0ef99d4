package chain

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Version is an mbedTLS release (major.minor).
type Version struct{ Major, Minor int }

func (v Version) atLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// ParseVersion reads an mbedTLS line as the device profiles write it
// ("3.6", "2.28", "2.x"); an unknown minor ("x") counts as the line's
// oldest, so no feature of a later release is assumed.
func ParseVersion(s string) Version {
	maj, min, _ := strings.Cut(s, ".")
	v := Version{Major: atoi(maj), Minor: atoi(min)}
	if v.Major <= 0 {
		return Version{}
	}
	return v
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1000 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func (v Version) orDefault() Version {
	if v.Major == 0 {
		return Version{3, 6}
	}
	return v
}

func (v Version) String() string {
	return itoa(v.Major) + "." + itoa(v.Minor)
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// sigHash returns the digest of a certificate's signature ("SHA-256",
// "SHA-1", "MD5", "SHA-224", ...), read from the signatureAlgorithm OID so
// that algorithms Go does not name (SHA-224) are still recognised.
func sigHash(c *x509.Certificate) string {
	switch c.SignatureAlgorithm {
	case x509.MD2WithRSA:
		return "MD2"
	case x509.MD5WithRSA:
		return "MD5"
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1:
		return "SHA-1"
	case x509.SHA256WithRSA, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS, x509.DSAWithSHA256:
		return "SHA-256"
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		return "SHA-384"
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		return "SHA-512"
	case x509.PureEd25519:
		return "Ed25519"
	}
	switch sigOID(c).String() {
	case "1.2.840.113549.1.1.14", "1.2.840.10045.4.3.1":
		return "SHA-224"
	case "1.2.840.113549.1.1.3":
		return "MD4"
	}
	return "unknown"
}

// sigOID reads the outer signatureAlgorithm OID of a certificate.
func sigOID(c *x509.Certificate) asn1.ObjectIdentifier {
	in := cryptobyte.String(c.Raw)
	var cert, tbs, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!cert.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil
	}
	return oid
}

// sigName is the signature algorithm for humans.
func sigName(c *x509.Certificate) string {
	if c.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		return c.SignatureAlgorithm.String()
	}
	switch sigOID(c).String() {
	case "1.2.840.113549.1.1.14":
		return "SHA224-RSA"
	case "1.2.840.10045.4.3.1":
		return "ECDSA-SHA224"
	}
	return "unknown (" + sigOID(c).String() + ")"
}

// mdAllowed models the default X.509 profile's hash list: SHA-224 and up in
// mbedTLS 2.28, SHA-256 and up in 3.x.
func mdAllowed(hash string, v Version) bool {
	switch hash {
	case "SHA-256", "SHA-384", "SHA-512":
		return true
	case "SHA-224":
		return v.Major < 3
	}
	return false
}

// keyInfo returns the key type and size in bits, and the curve name for EC.
func keyInfo(pub any) (typ string, bits int, curve string) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen(), ""
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize, k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519", 256, ""
	case nil:
		return "unknown", 0, ""
	}
	return "unknown", 0, ""
}

// keyAllowed models x509_profile_check_key of the default profile: RSA at
// least 2048 bits; EC curves: any in 2.28, P-256/384/521 (and brainpool,
// which Go cannot parse) in 3.x. Keys mbedTLS cannot use at all (Ed25519)
// are reported as not allowed with a reason.
func keyAllowed(pub any, v Version) (ok bool, why string) {
	typ, bits, curve := keyInfo(pub)
	switch typ {
	case "RSA":
		if bits < 2048 {
			return false, "RSA key of " + itoa(bits) + " bits (the default mbedTLS profile needs at least 2048)"
		}
		return true, ""
	case "ECDSA":
		if v.Major >= 3 && curve != "P-256" && curve != "P-384" && curve != "P-521" {
			return false, "EC key on curve " + curve + " (mbedTLS " + v.String() + "'s default profile allows P-256, P-384, P-521 and brainpool)"
		}
		return true, ""
	case "Ed25519":
		return false, "Ed25519 key (mbedTLS cannot use Ed25519 certificates)"
	}
	return false, "key type mbedTLS does not support"
}

// signedBy reports whether child's signature verifies with parent's key, as
// mbedTLS checks it: any digest it knows, SHA-1 and MD5 included (the
// profile's hash policy is a separate flag).
func signedBy(child, parent *x509.Certificate) bool {
	return signatureOK(child, parent.PublicKey)
}

// sigMemo remembers signedBy within one analysis: its device settings and
// variants verify the same few child/parent pairs many times over, and a
// check is a public-key operation. A nil memo remembers nothing.
type sigMemo map[[2]*x509.Certificate]bool

func (m sigMemo) signedBy(child, parent *x509.Certificate) bool {
	if m == nil {
		return signedBy(child, parent)
	}
	k := [2]*x509.Certificate{child, parent}
	ok, seen := m[k]
	if !seen {
		ok = signedBy(child, parent)
		m[k] = ok
	}
	return ok
}

func signatureOK(child *x509.Certificate, pub any) bool {
	if pub == nil {
		return false
	}
	if child.SignatureAlgorithm == x509.MD5WithRSA {
		k, ok := pub.(*rsa.PublicKey)
		if !ok {
			return false
		}
		h := md5.Sum(child.RawTBSCertificate)
		return rsa.VerifyPKCS1v15(k, crypto.MD5, h[:], child.Signature) == nil
	}
	if child.SignatureAlgorithm == x509.UnknownSignatureAlgorithm {
		return false
	}
	tmp := &x509.Certificate{PublicKey: pub, PublicKeyAlgorithm: pubAlg(pub)}
	return tmp.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature) == nil
}

func pubAlg(pub any) x509.PublicKeyAlgorithm {
	switch pub.(type) {
	case *rsa.PublicKey:
		return x509.RSA
	case *ecdsa.PublicKey:
		return x509.ECDSA
	case ed25519.PublicKey:
		return x509.Ed25519
	}
	return x509.UnknownPublicKeyAlgorithm
}
