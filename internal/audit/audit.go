// Package audit makes the audit trail tamper-evident (issue 5, DESIGN.md
// §2). The service stamps every event with a random nonce and a MAC under a
// key kept outside the database; one sealer gives stamped events their log
// positions, links them into a SHA-256 hash chain and signs checkpoints of
// the chain (golang.org/x/mod/sumdb/note), which it also writes outside the
// database. Verify replays the chain against the events and every
// checkpoint and names the first event that was modified, deleted, inserted
// or reordered.
package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/mod/sumdb/note"

	"custos/internal/crm"
)

// Origin names the log in its checkpoints and keys.
const Origin = "custos-audit"

// Keys are the audit log's secrets: the MAC key stamping events and the
// checkpoint signing key. They live in a file outside the data directory,
// so a copy of the database (or its backup) can neither forge events nor
// re-sign a rewritten log.
type Keys struct {
	mac      []byte
	signer   note.Signer
	verifier note.Verifier
	// VerifierKey is the public key ("custos-audit+hash+keydata") that
	// verifies checkpoints; it may be published.
	VerifierKey string
}

type keyFile struct {
	MAC      string `json:"mac"`
	Signer   string `json:"signer"`
	Verifier string `json:"verifier"`
}

// LoadOrCreateKeys reads the key file, or creates it (mode 0600, its
// directory 0700) when it does not exist; created reports the latter, so
// the caller can say loudly what must be backed up.
func LoadOrCreateKeys(path string) (k *Keys, created bool, err error) {
	return loadKeys(path, true)
}

// LoadKeys reads the key file and never creates one: for a database that
// already holds events, a missing key file must be restored, not replaced
// (a new key would make every existing event fail verification). The
// error for a missing file wraps os.ErrNotExist.
func LoadKeys(path string) (*Keys, error) {
	k, _, err := loadKeys(path, false)
	return k, err
}

func loadKeys(path string, create bool) (k *Keys, created bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !create {
		return nil, false, fmt.Errorf("audit: key file %s: %w", path, os.ErrNotExist)
	}
	if errors.Is(err, os.ErrNotExist) {
		if b, err = newKeyFile(path); err != nil {
			return nil, false, err
		}
		created = true
	} else if err != nil {
		return nil, false, fmt.Errorf("audit: read key file: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return nil, false, fmt.Errorf("audit: key file %s is not valid: %w", path, err)
	}
	k = &Keys{VerifierKey: kf.Verifier}
	if k.mac, err = base64.StdEncoding.DecodeString(kf.MAC); err != nil || len(k.mac) < 32 {
		return nil, false, fmt.Errorf("audit: key file %s has no valid MAC key", path)
	}
	if k.signer, err = note.NewSigner(kf.Signer); err != nil {
		return nil, false, fmt.Errorf("audit: key file %s: signer: %w", path, err)
	}
	if k.verifier, err = note.NewVerifier(kf.Verifier); err != nil {
		return nil, false, fmt.Errorf("audit: key file %s: verifier: %w", path, err)
	}
	return k, created, nil
}

func newKeyFile(path string) ([]byte, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, Origin)
	if err != nil {
		return nil, err
	}
	mac := make([]byte, 32)
	rand.Read(mac)
	b, err := json.MarshalIndent(keyFile{MAC: base64.StdEncoding.EncodeToString(mac), Signer: skey, Verifier: vkey}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: create key directory: %w", err)
	}
	// O_EXCL: two instances starting together must not both create one.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: create key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return b, f.Close()
}

// Stamp gives an event its nonce and MAC before it is stored.
func (k *Keys) Stamp(e *crm.AuditEvent) {
	n := make([]byte, 16)
	rand.Read(n)
	e.Nonce = hex.EncodeToString(n)
	e.MAC = k.sum(e)
}

// validMAC reports whether the event carries the MAC of its content.
func (k *Keys) validMAC(e *crm.AuditEvent) bool {
	return e.MAC != "" && hmac.Equal([]byte(e.MAC), []byte(k.sum(e)))
}

func (k *Keys) sum(e *crm.AuditEvent) string {
	m := hmac.New(sha256.New, k.mac)
	m.Write(canonical(e))
	return hex.EncodeToString(m.Sum(nil))
}

// canonical is the byte form of an event that MACs and links cover: every
// column a change could falsify, in a fixed order (not the id or the log
// position, which the chain covers).
func canonical(e *crm.AuditEvent) []byte {
	ids := ""
	if len(e.RecordIDs) > 0 {
		b, _ := json.Marshal(e.RecordIDs)
		ids = string(b)
	}
	cols := []string{e.Nonce, strconv.FormatInt(e.At.UnixMilli(), 10), e.ActorKind, strconv.FormatInt(e.ActorID, 10),
		e.ActorName, e.Action, e.Object, strconv.FormatInt(e.RecordID, 10), ids, string(e.Fields), e.Outcome, e.IP,
		e.UserAgent, e.RequestID}
	// The token column came later: covered when set, so events written
	// before it (and every event without a token) keep their MACs and links.
	if e.TokenID != 0 {
		cols = append(cols, "token:"+strconv.FormatInt(e.TokenID, 10))
	}
	b, _ := json.Marshal(cols)
	return b
}

// link extends the chain by one event at a log position.
func link(prev string, seq int64, e *crm.AuditEvent) string {
	h := sha256.New()
	h.Write([]byte(Origin + " link v1\n"))
	h.Write([]byte(prev))
	var pos [8]byte
	binary.BigEndian.PutUint64(pos[:], uint64(seq))
	h.Write(pos[:])
	h.Write([]byte(e.MAC))
	h.Write(canonical(e))
	return hex.EncodeToString(h.Sum(nil))
}

// SignNote signs text (lines ending in a newline) with the checkpoint key,
// for documents that must prove they were made by this installation and
// not changed since: a backup's manifest.
func (k *Keys) SignNote(text string) ([]byte, error) {
	b, err := note.Sign(&note.Note{Text: text}, k.signer)
	if err != nil {
		return nil, fmt.Errorf("audit: sign: %w", err)
	}
	return b, nil
}

// OpenNote verifies a note SignNote made and returns its text.
func (k *Keys) OpenNote(signed []byte) (string, error) {
	n, err := note.Open(signed, note.VerifierList(k.verifier))
	if err != nil {
		return "", fmt.Errorf("audit: the signature does not verify with audit key %s: %w", k.VerifierKey, err)
	}
	return n.Text, nil
}
