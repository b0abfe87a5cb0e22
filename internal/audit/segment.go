package audit

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"

	"custos/internal/crm"
)

// Archive segments (issue 5). Sealed events older than the retention are
// moved out of the database into files in the audit directory:
//
//	segments/000001-1-48211.jsonl.gz   the events, one JSON object a line, gzip
//	segments/000001-1-48211.note       a note signed with the checkpoint key
//
// The note (golang.org/x/mod/sumdb/note, like the checkpoints) says:
//
//	custos-audit segment v1
//	number 1
//	seqs 1 48211
//	events 48211
//	prev -                      (the chain link before the first event; "-" at the log's start)
//	head 9f2c…                  (the chain link of the last event)
//	sha256 41be…                (of the .jsonl.gz file's bytes)
//	file 000001-1-48211.jsonl.gz
//	at 1700000000000 1700003600000   (the first and last event's time, Unix ms)
//	legacy 0                    (the checkpoints' boundary of pre-stamping events)
//
// Each line holds every column the event's MAC and chain link cover, its
// log position and link, so verification replays the chain through the
// segments and on into the database as if nothing had moved.

// SegmentDir is the directory, inside the audit directory, of the archive
// segments.
const SegmentDir = "segments"

const segmentHeader = Origin + " segment v1"

// segmentName matches a segment's data file and captures its number and
// first and last log position.
var segmentName = regexp.MustCompile(`^(\d{6,})-(\d+)-(\d+)\.jsonl\.gz$`)

// segmentFileName names a segment's data file; its note is the same name
// with ".note" for ".jsonl.gz".
func segmentFileName(number, first, last int64) string {
	return fmt.Sprintf("%06d-%d-%d.jsonl.gz", number, first, last)
}

func noteName(file string) string { return strings.TrimSuffix(file, ".jsonl.gz") + ".note" }

// segmentInfo is what a segment's signed note states.
type segmentInfo struct {
	Number, First, Last, Events int64
	FirstAt, LastAt             int64 // Unix ms
	Prev, Head, SHA256, File    string
	Legacy                      int64
}

func (si segmentInfo) text() string {
	prev := si.Prev
	if prev == "" {
		prev = "-"
	}
	return fmt.Sprintf("%s\nnumber %d\nseqs %d %d\nevents %d\nprev %s\nhead %s\nsha256 %s\nfile %s\nat %d %d\nlegacy %d\n",
		segmentHeader, si.Number, si.First, si.Last, si.Events, prev, si.Head, si.SHA256, si.File, si.FirstAt, si.LastAt, si.Legacy)
}

// signSegment signs a segment's note with the checkpoint key.
func (k *Keys) signSegment(si segmentInfo) (string, error) {
	signed, err := note.Sign(&note.Note{Text: si.text()}, k.signer)
	if err != nil {
		return "", fmt.Errorf("audit: sign segment note: %w", err)
	}
	return string(signed), nil
}

// parseSegmentNote verifies a segment note's signature and reads it.
func (k *Keys) parseSegmentNote(signed []byte) (segmentInfo, error) {
	n, err := note.Open(signed, note.VerifierList(k.verifier))
	if err != nil {
		return segmentInfo{}, fmt.Errorf("its note's signature does not verify: %w", err)
	}
	var si segmentInfo
	var prev string
	_, err = fmt.Sscanf(n.Text, segmentHeader+"\nnumber %d\nseqs %d %d\nevents %d\nprev %s\nhead %s\nsha256 %s\nfile %s\nat %d %d\nlegacy %d\n",
		&si.Number, &si.First, &si.Last, &si.Events, &prev, &si.Head, &si.SHA256, &si.File, &si.FirstAt, &si.LastAt, &si.Legacy)
	if err != nil {
		return segmentInfo{}, fmt.Errorf("its note is not a %s note: %w", segmentHeader, err)
	}
	if prev != "-" {
		si.Prev = prev
	}
	if si.text() != n.Text {
		return segmentInfo{}, errors.New("its note has unexpected content")
	}
	return si, nil
}

// segmentLine is one event in a segment file. Text columns stay text
// (fields too: re-encoding its JSON could change the bytes the MAC covers).
type segmentLine struct {
	Seq       int64   `json:"seq"`
	ID        int64   `json:"id"`
	At        int64   `json:"at"` // Unix ms
	ActorKind rawText `json:"actor_kind"`
	ActorID   int64   `json:"actor_id"`
	ActorName rawText `json:"actor_name"`
	TokenID   int64   `json:"token_id,omitempty"` // 0 on events without a token, as before it existed
	Action    rawText `json:"action"`
	Object    rawText `json:"object,omitempty"`
	RecordID  int64   `json:"record_id,omitempty"`
	RecordIDs []int64 `json:"record_ids,omitempty"`
	Fields    rawText `json:"fields,omitempty"`
	Outcome   rawText `json:"outcome"`
	IP        rawText `json:"ip,omitempty"`
	UserAgent rawText `json:"user_agent,omitempty"`
	RequestID rawText `json:"request_id,omitempty"`
	Nonce     rawText `json:"nonce"`
	MAC       rawText `json:"mac"`
	Link      rawText `json:"link"`
}

// rawText is a text column in a segment line: a JSON string, or
// {"base64": …} for bytes that are not UTF-8 (a browser's user agent can
// carry any), which a JSON string cannot hold unchanged.
type rawText string

// MarshalJSON keeps every byte.
func (t rawText) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(t)) {
		return json.Marshal(string(t))
	}
	return json.Marshal(map[string]string{"base64": base64.StdEncoding.EncodeToString([]byte(t))})
}

// UnmarshalJSON reads either form.
func (t *rawText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var v struct {
			Base64 string `json:"base64"`
		}
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		raw, err := base64.StdEncoding.DecodeString(v.Base64)
		*t = rawText(raw)
		return err
	}
	var s string
	err := json.Unmarshal(b, &s)
	*t = rawText(s)
	return err
}

func lineOf(e *crm.AuditEvent) segmentLine {
	return segmentLine{Seq: e.Seq, ID: e.ID, At: e.At.UnixMilli(), ActorKind: rawText(e.ActorKind), ActorID: e.ActorID,
		ActorName: rawText(e.ActorName), TokenID: e.TokenID, Action: rawText(e.Action), Object: rawText(e.Object), RecordID: e.RecordID,
		RecordIDs: e.RecordIDs, Fields: rawText(e.Fields), Outcome: rawText(e.Outcome), IP: rawText(e.IP),
		UserAgent: rawText(e.UserAgent), RequestID: rawText(e.RequestID), Nonce: rawText(e.Nonce), MAC: rawText(e.MAC), Link: rawText(e.Link)}
}

func (l segmentLine) event() crm.AuditEvent {
	e := crm.AuditEvent{Seq: l.Seq, ID: l.ID, At: time.UnixMilli(l.At).UTC(), ActorKind: string(l.ActorKind), ActorID: l.ActorID,
		ActorName: string(l.ActorName), TokenID: l.TokenID, Action: string(l.Action), Object: string(l.Object), RecordID: l.RecordID,
		RecordIDs: l.RecordIDs, Outcome: string(l.Outcome), IP: string(l.IP), UserAgent: string(l.UserAgent),
		RequestID: string(l.RequestID), Nonce: string(l.Nonce), MAC: string(l.MAC), Link: string(l.Link)}
	if l.Fields != "" {
		e.Fields = json.RawMessage(l.Fields)
	}
	return e
}

// segmentWriter writes a segment file: events through gzip into the file,
// the file's bytes through SHA-256.
type segmentWriter struct {
	f   *os.File
	sum hashWriter
	gz  *gzip.Writer
	enc *json.Encoder
}

type hashWriter struct {
	w io.Writer
	h interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func (hw hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	return n, err
}

func newSegmentWriter(path string) (*segmentWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: create segment: %w", err)
	}
	w := &segmentWriter{f: f, sum: hashWriter{w: f, h: sha256.New()}}
	w.gz, _ = gzip.NewWriterLevel(w.sum, gzip.BestCompression)
	w.enc = json.NewEncoder(w.gz)
	w.enc.SetEscapeHTML(false)
	return w, nil
}

func (w *segmentWriter) add(e *crm.AuditEvent) error { return w.enc.Encode(lineOf(e)) }

// finish flushes, syncs and closes the file and returns its SHA-256.
func (w *segmentWriter) finish() (string, error) {
	err := w.gz.Close()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("audit: write segment: %w", err)
	}
	return hex.EncodeToString(w.sum.h.Sum(nil)), nil
}

// abort removes a segment file that will not be used.
func (w *segmentWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// readSegment hands each event of a segment file to fn, in file order, and
// returns the SHA-256 of the file's bytes (read whole, even when decoding
// failed, so a changed file is named as such).
func readSegment(path string, fn func(e *crm.AuditEvent)) (sum string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	tee := io.TeeReader(f, h)
	err = decodeSegment(tee, fn)
	io.Copy(io.Discard, tee) // the rest of the file counts for the hash
	return hex.EncodeToString(h.Sum(nil)), err
}

func decodeSegment(r io.Reader, fn func(e *crm.AuditEvent)) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not gzip: %w", err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		var l segmentLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		e := l.event()
		fn(&e)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return gz.Close()
}

// WriteFileSynced writes a small file completely and syncs it (a backup's
// files use it too).
func WriteFileSynced(path string, b []byte) error { return writeFileSynced(path, b) }

// writeFileSynced writes a small file completely and syncs it.
func writeFileSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// SyncDir makes renames in a directory durable.
func SyncDir(dir string) error { return syncDir(dir) }

// syncDir makes renames in a directory durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// segmentFile is a segment found in the directory: its note's statement,
// or why the note could not be read.
type segmentFile struct {
	info segmentInfo
	file string // the data file's name
	err  error
}

// listSegments reads the notes of the segment files in dir/segments, in
// log order; a missing directory holds none.
func (k *Keys) listSegments(dir string) ([]segmentFile, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(filepath.Join(dir, SegmentDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read segment directory: %w", err)
	}
	var out []segmentFile
	for _, e := range entries {
		m := segmentName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		sf := segmentFile{file: e.Name()}
		sf.info.Number, _ = strconv.ParseInt(m[1], 10, 64)
		sf.info.First, _ = strconv.ParseInt(m[2], 10, 64)
		sf.info.Last, _ = strconv.ParseInt(m[3], 10, 64)
		b, err := os.ReadFile(filepath.Join(dir, SegmentDir, noteName(e.Name())))
		if err != nil {
			sf.err = fmt.Errorf("its note cannot be read: %w", err)
		} else if si, err := k.parseSegmentNote(b); err != nil {
			sf.err = err
		} else if si.File != e.Name() {
			sf.err = fmt.Errorf("its note is for %s", si.File)
		} else {
			sf.info = si
		}
		out = append(out, sf)
	}
	sortSegments(out)
	return out, nil
}

// SegmentNoteName names the signed note of a segment's data file.
func SegmentNoteName(file string) string { return noteName(file) }
