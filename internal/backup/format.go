// Package backup writes, checks and restores Custos backups (issue 15):
// a transaction-consistent snapshot of every table as portable rows — the
// same format from SQLite and PostgreSQL, loadable into either — with the
// audit directory's segments and checkpoints, compressed, encrypted to an
// age recipient kept apart from the data, described by a manifest signed
// with the audit key. A backup never holds a key: data keys live in the
// key store (custos keys snapshot), so erasing a person after a backup
// still leaves their data unreadable in it.
//
// A backup is a directory:
//
//	custos-20261207T150405Z/
//	  manifest.note   the manifest (JSON) as a note signed with the audit key
//	  data.age        a tar stream, encrypted with age, of:
//	    tables/<table>/000001.jsonl.gz      rows as JSON arrays, at most partRows each
//	    audit/checkpoints.jsonl             the checkpoint file, up to the snapshot's checkpoints
//	    audit/segments/<segment files>      the archive segments the snapshot records
//
// The manifest names every entry with its size and SHA-256, every table
// with its row count and an order-independent checksum of its rows, and
// data.age with its size and SHA-256, so a changed or cut file is found
// before anything is decrypted. The directory is written under a hidden
// temporary name and renamed when complete: a backup killed half-way never
// looks like one.
package backup

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Format names the backup format in its manifest.
const Format = "custos-backup v1"

// The files of a backup directory.
const (
	ManifestFile = "manifest.note"
	DataFile     = "data.age"
)

// Prefix starts the name of every backup directory; tmpPrefix the name of
// one being written.
const (
	Prefix    = "custos-"
	tmpPrefix = ".partial-"
)

// partRows bounds the rows of one table entry, so an entry (held in memory
// while it is compressed: tar needs its size first) stays a few megabytes.
const partRows = 20000

// Manifest describes a backup. It is signed with the audit key.
type Manifest struct {
	Format        string    `json:"format"`
	CreatedAt     time.Time `json:"created_at"`
	CustosVersion string    `json:"custos_version"`
	Dialect       string    `json:"dialect"`
	Schema        int       `json:"schema"`
	Migrations    []int     `json:"migrations"`
	// DatabaseID is the database's own id (key_identities), which its key
	// store records: the key store a restore needs.
	DatabaseID string       `json:"database_id"`
	Recipients []string     `json:"recipients"`
	Tables     []TableSum   `json:"tables"`
	Audit      AuditState   `json:"audit"`
	Files      []FileSum    `json:"files"`
	Data       FileSum      `json:"data"`
	Duration   JSONDuration `json:"duration"`
}

// TableSum is one table of a backup: its columns, rows and checksum.
type TableSum struct {
	Name     string   `json:"name"`
	Columns  []string `json:"columns"`
	Rows     int64    `json:"rows"`
	Checksum string   `json:"checksum"`
	Parts    int      `json:"parts"`
}

// AuditState is the audit trail as the snapshot saw it.
type AuditState struct {
	Sealed         int64    `json:"sealed"` // the last log position sealed
	Head           string   `json:"head"`   // its chain link
	Checkpoint     int64    `json:"checkpoint"`
	CheckpointHead string   `json:"checkpoint_head"`
	Segments       []string `json:"segments"`
}

// FileSum is one file: its name, size and SHA-256.
type FileSum struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// JSONDuration is a duration written as text ("1.5s").
type JSONDuration time.Duration

func (d JSONDuration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *JSONDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = JSONDuration(v)
	return err
}

// Rows counts the rows of every table.
func (m *Manifest) Rows() int64 {
	var n int64
	for _, t := range m.Tables {
		n += t.Rows
	}
	return n
}

// Table returns the table named n.
func (m *Manifest) Table(n string) (TableSum, bool) {
	for _, t := range m.Tables {
		if t.Name == n {
			return t, true
		}
	}
	return TableSum{}, false
}

// encodeManifest is the text that is signed: a header line and the JSON.
func encodeManifest(m *Manifest) (string, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return Format + "\n" + string(b) + "\n", nil
}

func decodeManifest(text string) (*Manifest, error) {
	head, body, ok := strings.Cut(text, "\n")
	if !ok || head != Format {
		return nil, fmt.Errorf("not a %s manifest", Format)
	}
	var m Manifest
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("manifest format %q, want %q", m.Format, Format)
	}
	return &m, nil
}

// appendRow writes a row as a JSON array of portable values: null, an
// integer, a string; a float as {"f":"…"}, bytes as {"b64":"…"} and a text
// that is not UTF-8 as {"t64":"…"} (JSON would replace its bytes). Integers
// and floats stay apart, so a row reads back exactly as it was.
func appendRow(b []byte, row []any) ([]byte, error) {
	b = append(b, '[')
	for i, v := range row {
		if i > 0 {
			b = append(b, ',')
		}
		switch x := v.(type) {
		case nil:
			b = append(b, "null"...)
		case int64:
			b = strconv.AppendInt(b, x, 10)
		case float64:
			b = append(b, `{"f":"`...)
			b = strconv.AppendFloat(b, x, 'g', -1, 64)
			b = append(b, `"}`...)
		case string:
			if !utf8.ValidString(x) {
				b = append(b, `{"t64":"`...)
				b = base64.StdEncoding.AppendEncode(b, []byte(x))
				b = append(b, `"}`...)
				continue
			}
			s, _ := json.Marshal(x)
			b = append(b, s...)
		case []byte:
			b = append(b, `{"b64":"`...)
			b = base64.StdEncoding.AppendEncode(b, x)
			b = append(b, `"}`...)
		default:
			return nil, fmt.Errorf("backup: unsupported value %T", v)
		}
	}
	return append(b, ']'), nil
}

// decodeRow reads a row appendRow wrote.
func decodeRow(line []byte, width int) ([]any, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, err
	}
	if len(raw) != width {
		return nil, fmt.Errorf("a row has %d values, the table %d columns", len(raw), width)
	}
	row := make([]any, width)
	for i, r := range raw {
		switch {
		case string(r) == "null":
		case r[0] == '"':
			var s string
			if err := json.Unmarshal(r, &s); err != nil {
				return nil, err
			}
			row[i] = s
		case r[0] == '{':
			var tagged struct{ F, B64, T64 *string }
			if err := json.Unmarshal(r, &tagged); err != nil {
				return nil, err
			}
			switch {
			case tagged.F != nil:
				f, err := strconv.ParseFloat(*tagged.F, 64)
				if err != nil {
					return nil, err
				}
				row[i] = f
			case tagged.B64 != nil:
				b, err := base64.StdEncoding.DecodeString(*tagged.B64)
				if err != nil {
					return nil, err
				}
				row[i] = b
			case tagged.T64 != nil:
				b, err := base64.StdEncoding.DecodeString(*tagged.T64)
				if err != nil {
					return nil, err
				}
				row[i] = string(b)
			default:
				return nil, errors.New("an unknown tagged value")
			}
		default:
			n, err := strconv.ParseInt(string(r), 10, 64)
			if err != nil {
				return nil, err
			}
			row[i] = n
		}
	}
	return row, nil
}

// checksum is an order-independent checksum of a table's rows: the sum,
// modulo 2^256, of each encoded row's SHA-256. Rows read back in another
// order (another database's collation) give the same sum; a changed,
// missing or extra row does not.
type checksum [4]uint64

func (c *checksum) add(line []byte) {
	h := sha256.Sum256(line)
	var carry uint64
	for i := 3; i >= 0; i-- {
		w := uint64(h[i*8])<<56 | uint64(h[i*8+1])<<48 | uint64(h[i*8+2])<<40 | uint64(h[i*8+3])<<32 |
			uint64(h[i*8+4])<<24 | uint64(h[i*8+5])<<16 | uint64(h[i*8+6])<<8 | uint64(h[i*8+7])
		c[i], carry = bits.Add64(c[i], w, carry)
	}
}

func (c checksum) String() string {
	var b [32]byte
	for i, w := range c {
		for j := 0; j < 8; j++ {
			b[i*8+j] = byte(w >> (56 - 8*j))
		}
	}
	return "sum256:" + hex.EncodeToString(b[:])
}
