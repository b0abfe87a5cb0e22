package testorg

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// PublicURL is the public URL of the services tests build: passkeys are
// made for its host and signed for its origin.
const PublicURL = "https://custos.test"

// Authenticator is a software WebAuthn authenticator and the browser
// around it, built from Go's crypto as the WebAuthn specification lays it
// out: one ECDSA P-256 key per credential, attestation "none", and
// assertions signed over authenticatorData || SHA-256(clientDataJSON). It
// answers the JSON options the service hands to navigator.credentials with
// the JSON the page's script posts back. Origin is what the "browser"
// reports in clientDataJSON; change it to test a phishing site.
type Authenticator struct {
	Origin string
	AAGUID [16]byte
	creds  map[string]*softCredential // by base64url credential id
}

type softCredential struct {
	id     []byte
	key    *ecdsa.PrivateKey
	rpID   string
	handle []byte
	count  uint32
}

// NewAuthenticator returns an authenticator with no credentials whose
// browser is at PublicURL.
func NewAuthenticator() *Authenticator {
	au := &Authenticator{Origin: PublicURL, creds: map[string]*softCredential{}}
	copy(au.AAGUID[:], []byte("custos-test-auth"))
	return au
}

// Clone returns a copy holding the same keys and counters: a cloned
// authenticator, whose counter lags behind once the original is used.
func (au *Authenticator) Clone() *Authenticator {
	c := &Authenticator{Origin: au.Origin, AAGUID: au.AAGUID, creds: map[string]*softCredential{}}
	for k, v := range au.creds {
		cp := *v
		c.creds[k] = &cp
	}
	return c
}

var b64 = base64.RawURLEncoding

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

// Create answers the options of navigator.credentials.create: it makes a
// key pair and returns the attestation response JSON.
func (au *Authenticator) Create(t *testing.T, options []byte) []byte {
	t.Helper()
	var o struct {
		PublicKey struct {
			RP        struct{ ID string }
			User      struct{ ID string }
			Challenge string
			Exclude   []struct{ ID string } `json:"excludeCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("creation options: %v\n%s", err, options)
	}
	pk := o.PublicKey
	for _, ex := range pk.Exclude {
		if au.creds[ex.ID] != nil {
			t.Fatalf("authenticator already registered: %s", ex.ID)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c := &softCredential{id: make([]byte, 32), key: key, rpID: pk.RP.ID, handle: mustB64(t, pk.User.ID)}
	rand.Read(c.id)
	au.creds[b64.EncodeToString(c.id)] = c

	// authenticatorData with attested credential data (WebAuthn §6.1):
	// rpIdHash, flags UP|UV|AT, signCount 0, AAGUID, credential id length
	// and id, and the COSE_Key of the public key.
	rpHash := sha256.Sum256([]byte(pk.RP.ID))
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, 0x01|0x04|0x40, 0, 0, 0, 0)
	auth = append(auth, au.AAGUID[:]...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(c.id)))
	auth = append(auth, c.id...)
	x, y := make([]byte, 32), make([]byte, 32)
	key.PublicKey.X.FillBytes(x)
	key.PublicKey.Y.FillBytes(y)
	// {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}, in CTAP2 canonical key order.
	auth = cborMap(auth, 5)
	auth = cborInt(cborInt(auth, 1), 2)
	auth = cborInt(cborInt(auth, 3), -7)
	auth = cborInt(cborInt(auth, -1), 1)
	auth = cborBytes(cborInt(auth, -2), x)
	auth = cborBytes(cborInt(auth, -3), y)

	att := cborMap(nil, 3)
	att = cborText(cborText(att, "fmt"), "none")
	att = cborMap(cborText(att, "attStmt"), 0)
	att = cborBytes(cborText(att, "authData"), auth)

	resp := map[string]any{
		"clientDataJSON":    b64.EncodeToString(au.clientData("webauthn.create", pk.Challenge)),
		"attestationObject": b64.EncodeToString(att),
		"transports":        []string{"internal"},
	}
	return au.credentialJSON(c.id, resp)
}

// Get answers the options of navigator.credentials.get with the first
// allowed credential it holds: the counter goes up by one and the
// assertion is signed.
func (au *Authenticator) Get(t *testing.T, options []byte) []byte {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string
			RPID      string                `json:"rpId"`
			Allow     []struct{ ID string } `json:"allowCredentials"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatalf("request options: %v\n%s", err, options)
	}
	pk := o.PublicKey
	var c *softCredential
	for _, al := range pk.Allow {
		if c = au.creds[al.ID]; c != nil {
			break
		}
	}
	if c == nil || c.rpID != pk.RPID {
		t.Fatalf("no credential of this authenticator is allowed for %q", pk.RPID)
	}
	c.count++
	rpHash := sha256.Sum256([]byte(c.rpID))
	auth := append([]byte{}, rpHash[:]...)
	auth = append(auth, 0x01|0x04)
	auth = binary.BigEndian.AppendUint32(auth, c.count)
	clientData := au.clientData("webauthn.get", pk.Challenge)
	sum := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, auth...), sum[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	resp := map[string]any{
		"clientDataJSON":    b64.EncodeToString(clientData),
		"authenticatorData": b64.EncodeToString(auth),
		"signature":         b64.EncodeToString(sig),
		"userHandle":        b64.EncodeToString(c.handle),
	}
	return au.credentialJSON(c.id, resp)
}

func (au *Authenticator) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": au.Origin, "crossOrigin": false})
	return b
}

// credentialJSON is a PublicKeyCredential as the page's script serialises it.
func (au *Authenticator) credentialJSON(id []byte, response map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"response": response, "clientExtensionResults": map[string]any{}, "authenticatorAttachment": "platform"})
	return b
}

// A minimal CBOR encoder (RFC 8949), just what attestation "none" needs.

func cborHead(b []byte, major byte, n uint64) []byte {
	switch {
	case n < 24:
		return append(b, major<<5|byte(n))
	case n < 1<<8:
		return append(b, major<<5|24, byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, major<<5|25), uint16(n))
	default:
		return binary.BigEndian.AppendUint32(append(b, major<<5|26), uint32(n))
	}
}

func cborInt(b []byte, v int) []byte {
	if v < 0 {
		return cborHead(b, 1, uint64(-1-v))
	}
	return cborHead(b, 0, uint64(v))
}

func cborBytes(b, v []byte) []byte { return append(cborHead(b, 2, uint64(len(v))), v...) }
func cborText(b []byte, v string) []byte {
	return append(cborHead(b, 3, uint64(len(v))), v...)
}
func cborMap(b []byte, n int) []byte { return cborHead(b, 5, uint64(n)) }
