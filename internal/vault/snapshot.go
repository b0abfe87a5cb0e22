package vault

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Key-store snapshots are the key store's backups: JSON lines of wrapped
// keys (useless without the master key), tombstones, the key store's
// identity and the database it belongs to, kept in one directory apart
// from data backups. They are small, and erasure rewrites every one of
// them, so a destroyed key survives in no copy Custos made. LoadSnapshot
// (custos keys load) makes a new key store from one.
//
// The first line is a header naming the format; the last, an end line
// counting the lines before it, so a cut file is refused. Snapshots made
// before the format had a name (v1: no header, identity or end line) load
// too, with the identities the data database records.

// SnapshotFormat names the snapshot format in its header line.
const SnapshotFormat = "custos-keystore-snapshot v2"

// snapshotLine is one line of a snapshot.
type snapshotLine struct {
	Kind          string `json:"kind"` // header, identity, data_key, tombstone, superseded, blind_key, end
	ID            string `json:"id,omitempty"`
	Version       uint32 `json:"version,omitempty"` // blind-index key version
	MasterVersion uint32 `json:"master_version,omitempty"`
	Wrapped       string `json:"wrapped,omitempty"`
	State         string `json:"state,omitempty"`
	At            int64  `json:"at,omitempty"`
	Name          string `json:"name,omitempty"`  // identity: keystore or database
	Value         string `json:"value,omitempty"` // identity's value
	Format        string `json:"format,omitempty"`
	Lines         int    `json:"lines,omitempty"` // end: the lines before it
}

// Snapshot writes a snapshot of the key store into the snapshot directory
// and returns its path.
func (v *Vault) Snapshot(ctx context.Context) (string, error) {
	if v.snapDir == "" {
		return "", fmt.Errorf("vault: no snapshot directory configured")
	}
	var b bytes.Buffer
	lines := 0
	enc := json.NewEncoder(&b)
	put := func(l snapshotLine) {
		enc.Encode(l)
		lines++
	}
	put(snapshotLine{Kind: "header", Format: SnapshotFormat, At: v.now().UnixMilli()})
	for _, name := range []string{"keystore", "database"} {
		val, err := v.ks.identityValue(ctx, name)
		if err != nil {
			return "", err
		}
		if val != "" {
			put(snapshotLine{Kind: "identity", Name: name, Value: val})
		}
	}
	after := ""
	for {
		keys, err := v.ks.dataKeysAfter(ctx, after, 1000)
		if err != nil {
			return "", err
		}
		if len(keys) == 0 {
			break
		}
		for _, k := range keys {
			put(snapshotLine{Kind: "data_key", ID: k.id, MasterVersion: k.version, Wrapped: base64.StdEncoding.EncodeToString(k.wrapped), At: k.at})
			after = k.id
		}
	}
	for _, kind := range []string{"tombstone", "superseded"} {
		rows, err := v.ks.marks(ctx, kind)
		if err != nil {
			return "", err
		}
		for _, r := range rows {
			put(snapshotLine{Kind: kind, ID: r.id, At: r.at})
		}
	}
	blind, err := v.ks.blindKeys(ctx)
	if err != nil {
		return "", err
	}
	for _, s := range blind {
		put(snapshotLine{Kind: "blind_key", Version: s.version, MasterVersion: s.wrapped.version,
			Wrapped: base64.StdEncoding.EncodeToString(s.wrapped.wrapped), State: s.state})
	}
	enc.Encode(snapshotLine{Kind: "end", Lines: lines})
	path := filepath.Join(v.snapDir, "keystore-"+v.now().UTC().Format("20060102T150405.000Z")+".jsonl")
	if err := os.MkdirAll(v.snapDir, 0o700); err != nil {
		return "", fmt.Errorf("vault: snapshot directory: %w", err)
	}
	return path, writeSecretFile(path, b.Bytes(), true)
}

// eraseFromSnapshots removes destroyed keys from every snapshot and adds
// their tombstones there, rewriting each file atomically.
func (v *Vault) eraseFromSnapshots(keyIDs []string) error {
	if v.snapDir == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(v.snapDir, "keystore-*.jsonl"))
	if err != nil {
		return err
	}
	gone := map[string]bool{}
	var tombs bytes.Buffer
	for _, id := range keyIDs {
		gone[id] = true
		tomb, _ := json.Marshal(snapshotLine{Kind: "tombstone", ID: id, At: time.Now().UnixMilli()})
		tombs.Write(tomb)
		tombs.WriteByte('\n')
	}
	for _, f := range files {
		if err := rewriteSnapshot(f, gone, tombs.Bytes()); err != nil {
			return fmt.Errorf("vault: erase key from snapshot %s: %w", f, err)
		}
	}
	return nil
}

// rewriteSnapshot drops the lines of the keys in gone and appends their
// tombstone lines (before the end line, whose count it renews).
func rewriteSnapshot(path string, gone map[string]bool, tombs []byte) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	lines, ended := 0, false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var l snapshotLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && (gone[l.ID] || l.Kind == "end") {
			ended = ended || l.Kind == "end"
			continue
		}
		out.Write(sc.Bytes())
		out.WriteByte('\n')
		lines++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	out.Write(tombs)
	if ended {
		lines += bytes.Count(tombs, []byte{'\n'})
		end, _ := json.Marshal(snapshotLine{Kind: "end", Lines: lines})
		out.Write(append(end, '\n'))
	}
	return writeSecretFile(path, out.Bytes(), false)
}

// SnapshotHolds reports whether any snapshot still holds the key of id, for
// tests and for custos keys status.
func (v *Vault) SnapshotHolds(id string) (bool, error) {
	files, err := filepath.Glob(filepath.Join(v.snapDir, "keystore-*.jsonl"))
	if err != nil {
		return false, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return false, err
		}
		if strings.Contains(string(b), `"kind":"data_key","id":"`+id+`"`) {
			return true, nil
		}
	}
	return false, nil
}
