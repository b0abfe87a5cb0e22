package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// ErrIntegrity is returned when a ciphertext fails authentication: it was
// changed, truncated, moved to another record or field, or sealed under
// another key. Nothing of its content is returned.
var ErrIntegrity = errors.New("vault: stored value failed its integrity check")

// sealBytes encrypts plain under key with AES-256-GCM and a random 96-bit
// nonce, authenticating aad; the result is nonce || ciphertext || tag.
// Random nonces are safe here: each data key seals one person's handful of
// fields, far below GCM's 2^32-messages-per-key bound for random nonces.
func sealBytes(key, plain, aad []byte) ([]byte, error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	rand.Read(nonce)
	return g.Seal(nonce, nonce, plain, aad), nil
}

// openBytes reverses sealBytes; any change gives ErrIntegrity.
func openBytes(key, sealed, aad []byte) ([]byte, error) {
	g, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < g.NonceSize()+g.Overhead() {
		return nil, ErrIntegrity
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], aad)
	if err != nil {
		return nil, ErrIntegrity
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
