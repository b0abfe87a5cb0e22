package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
)

// archiveLease names the lease an archive run holds, so with several
// instances one archives at a time; leaseFor is how long it lasts unless
// renewed (each segment renews it).
const (
	archiveLease = "audit-archive"
	leaseFor     = 10 * time.Minute
)

// segmentMax is about the most events a segment holds: it ends at the last
// checkpoint within this many events (only a stretch longer than this
// between two checkpoints makes a longer one).
const segmentMax = 50_000

// deleteChunk bounds the archived rows deleted in one transaction, so
// archiving a large backlog never holds the writer for long.
const deleteChunk = 5_000

// Archiver moves sealed audit events older than a cutoff out of the
// database into signed, compressed segment files in the audit directory.
// It archives only whole stretches that end at a checkpoint and replay
// intact from the last segment's head, never the unsealed tail; it deletes
// the rows only after their file is synced, read back and verified.
type Archiver struct {
	DB     *store.DB
	Keys   *Keys
	Dir    string // the audit directory; segments go to Dir/segments
	Logger *slog.Logger
	Now    func() time.Time
	// Actor names the system actor of the audit.archive events
	// ("audit-archive" when empty).
	Actor string
	// SegmentEvents is about the most events a segment holds (segmentMax
	// when 0).
	SegmentEvents int64
}

// ArchiveReport says what an archive run did.
type ArchiveReport struct {
	Segments []store.AuditSegment `json:"segments"` // written by this run
	Events   int64                `json:"events"`   // events moved into them
	Deleted  int64                `json:"deleted"`  // rows removed, with those an interrupted run left
	Busy     bool                 `json:"busy,omitempty"`
}

func (a *Archiver) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// Archive moves the sealed events that happened before `before` into new
// segments. Running it again with the same cutoff does nothing; Busy
// reports that another instance holds the archive lease.
func (a *Archiver) Archive(ctx context.Context, before time.Time) (ArchiveReport, error) {
	var rep ArchiveReport
	if a.Dir == "" {
		return rep, errors.New("audit: archiving needs the audit directory (-audit-dir)")
	}
	holder := randomHex(8)
	ok, err := a.claim(ctx, holder)
	if err != nil || !ok {
		rep.Busy = err == nil
		return rep, err
	}
	defer func() {
		if err := a.DB.WriteTx(context.WithoutCancel(ctx), func(tx *store.Tx) error { return tx.ReleaseLease(ctx, archiveLease, holder) }); err != nil {
			a.Logger.Error("release the audit archive lease", "err", err)
		}
	}()
	if err := os.MkdirAll(filepath.Join(a.Dir, SegmentDir), 0o700); err != nil {
		return rep, fmt.Errorf("audit: segment directory: %w", err)
	}
	pl, err := a.plan(ctx, before)
	if err != nil {
		return rep, err
	}
	// Rows an interrupted run recorded in a segment but had not deleted yet.
	if rep.Deleted, err = a.deleteArchived(ctx, pl.firstInDB, pl.last.LastSeq); err != nil {
		return rep, err
	}
	if err := a.setAsideLeftovers(pl); err != nil {
		return rep, err
	}
	size := a.SegmentEvents
	if size <= 0 {
		size = segmentMax
	}
	prev, number := pl.last, pl.last.Number
	for prev.LastSeq < pl.end {
		number++
		to := pl.segmentEnd(prev.LastSeq+1, size)
		seg, err := a.writeSegment(ctx, pl, number, prev, to, holder)
		if err != nil {
			return rep, err
		}
		if err := a.record(ctx, seg, holder, before); err != nil {
			// The unrecorded files stay: in a shared directory they may be
			// another instance's; the next run sets them aside if nobody
			// recorded them.
			return rep, err
		}
		rep.Segments = append(rep.Segments, seg)
		rep.Events += seg.Events
		n, err := a.deleteArchived(ctx, seg.FirstSeq, seg.LastSeq)
		rep.Deleted += n
		if err != nil {
			return rep, err
		}
		prev = seg
	}
	return rep, nil
}

// archivePlan is what an archive run found in the database.
type archivePlan struct {
	last       store.AuditSegment // the newest segment (zero: none yet)
	recorded   map[string]bool    // files of the recorded segments
	firstInDB  int64              // the lowest sealed position still in the database (0: none)
	legacy     int64
	cps        checkpointSet
	boundaries []int64 // checkpoint sizes after the last segment, up to the cutoff, ascending
	end        int64   // the last position to archive (last.LastSeq: nothing to do)
}

// segmentEnd picks where a segment starting at `from` ends: the last
// checkpoint within size events, else the first one after.
func (pl archivePlan) segmentEnd(from, size int64) int64 {
	i, _ := slices.BinarySearch(pl.boundaries, from+size)
	if i > 0 && pl.boundaries[i-1] >= from {
		return pl.boundaries[i-1]
	}
	j, _ := slices.BinarySearch(pl.boundaries, from)
	return pl.boundaries[j]
}

// plan reads the newest segment, the signed checkpoints and the first
// event too young to archive; the run ends at the last checkpoint before it.
func (a *Archiver) plan(ctx context.Context, before time.Time) (archivePlan, error) {
	pl := archivePlan{cps: checkpointSet{}, recorded: map[string]bool{}}
	err := a.DB.ReadTx(ctx, func(tx *store.Tx) error {
		segs, err := tx.ListAuditSegments(ctx)
		if err != nil {
			return err
		}
		for _, s := range segs {
			pl.recorded[s.File] = true
			pl.last = s
		}
		if first, err := tx.SealedAuditEvents(ctx, 0, 1); err != nil {
			return err
		} else if len(first) > 0 {
			pl.firstInDB = first[0].Seq
		}
		stored, err := tx.ListCheckpoints(ctx)
		if err != nil {
			return err
		}
		limit := int64(-1)
		for _, c := range stored {
			size, head, legacy, err := a.Keys.parseCheckpoint(c.Note)
			if err != nil || size != c.Size || head != c.Head {
				return fmt.Errorf("audit: the checkpoint of size %d is not genuine; run custos audit verify — nothing was archived", c.Size)
			}
			pl.cps[size] = append(pl.cps[size], checked{head: head, source: "database"})
			pl.legacy = legacy
			limit = max(limit, size)
		}
		if young, ok, err := tx.FirstSealedAtOrAfter(ctx, pl.last.LastSeq, before); err != nil {
			return err
		} else if ok {
			limit = min(limit, young-1)
		}
		for size := range pl.cps {
			if size > pl.last.LastSeq && size <= limit {
				pl.boundaries = append(pl.boundaries, size)
			}
		}
		slices.Sort(pl.boundaries)
		pl.end = pl.last.LastSeq
		if len(pl.boundaries) > 0 {
			pl.end = pl.boundaries[len(pl.boundaries)-1]
		}
		return nil
	})
	return pl, err
}

// writeSegment writes the events from prev's end to `to` into a new
// segment: it replays them from prev's head as verification would
// (refusing to sign a log that does not verify), writes and syncs the file
// and its signed note, and reads both back and verifies them.
func (a *Archiver) writeSegment(ctx context.Context, pl archivePlan, number int64, prev store.AuditSegment, to int64, holder string) (store.AuditSegment, error) {
	from := prev.LastSeq + 1
	dir := filepath.Join(a.Dir, SegmentDir)
	file := segmentFileName(number, from, to)
	w, err := newSegmentWriter(filepath.Join(dir, ".tmp-"+holder+"-"+file))
	if err != nil {
		return store.AuditSegment{}, err
	}
	var problems []Problem
	p := &replay{keys: a.Keys, legacy: pl.legacy, cps: pl.cps, add: func(pr Problem) { problems = append(problems, pr) },
		seq: from - 1, head: prev.Head, checked: map[int64]bool{}}
	si := segmentInfo{Number: number, First: from, Last: to, Prev: prev.Head, File: file, Legacy: pl.legacy}
	err = a.DB.ReadTx(ctx, func(tx *store.Tx) error {
		for after := from - 1; after < to; {
			events, err := tx.SealedAuditEvents(ctx, after, 1000)
			if err != nil || len(events) == 0 {
				return err
			}
			for i := range events {
				e := &events[i]
				if e.Seq > to {
					return nil
				}
				p.event(e, "")
				if err := w.add(e); err != nil {
					return fmt.Errorf("audit: write segment: %w", err)
				}
				if si.Events == 0 {
					si.FirstAt = e.At.UnixMilli()
				}
				si.LastAt = e.At.UnixMilli()
				si.Events++
				after = e.Seq
			}
		}
		return nil
	})
	if err == nil && (len(problems) > 0 || p.seq != to || !p.checked[to]) {
		detail := fmt.Sprintf("the events end at log position %d, not at the checkpoint %d", p.seq, to)
		if len(problems) > 0 {
			detail = problems[0].String()
		}
		err = fmt.Errorf("audit: the trail does not verify (%s); run custos audit verify — nothing was archived", detail)
	}
	if err != nil {
		w.abort()
		return store.AuditSegment{}, err
	}
	if si.SHA256, err = w.finish(); err != nil {
		os.Remove(w.f.Name())
		return store.AuditSegment{}, err
	}
	si.Head = p.head
	signed, err := a.Keys.signSegment(si)
	if err == nil {
		err = a.place(w.f.Name(), file, []byte(signed))
	}
	if err == nil {
		err = a.readBack(si, prev.Head, pl)
	}
	if err != nil {
		os.Remove(w.f.Name())
		os.Remove(filepath.Join(dir, file))
		os.Remove(filepath.Join(dir, noteName(file)))
		return store.AuditSegment{}, err
	}
	return store.AuditSegment{Number: number, FirstSeq: from, LastSeq: to, Events: si.Events, FirstAt: time.UnixMilli(si.FirstAt).UTC(),
		LastAt: time.UnixMilli(si.LastAt).UTC(), Prev: si.Prev, Head: si.Head, SHA256: si.SHA256, File: file, Note: signed,
		CreatedAt: a.now()}, nil
}

// place writes the note and moves the synced data file to its name, then
// syncs the directory, so both survive a crash once recorded.
func (a *Archiver) place(tmp, file string, note []byte) error {
	dir := filepath.Join(a.Dir, SegmentDir)
	noteTmp := tmp + ".note"
	if err := writeFileSynced(noteTmp, note); err != nil {
		return fmt.Errorf("audit: write segment note: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, file)); err != nil {
		return fmt.Errorf("audit: place segment: %w", err)
	}
	if err := os.Rename(noteTmp, filepath.Join(dir, noteName(file))); err != nil {
		return fmt.Errorf("audit: place segment note: %w", err)
	}
	return syncDir(dir)
}

// readBack verifies the placed segment as `custos audit verify` will: the
// note from disk, the file's hash, every event and the chain's two ends.
func (a *Archiver) readBack(want segmentInfo, prev string, pl archivePlan) error {
	b, err := os.ReadFile(filepath.Join(a.Dir, SegmentDir, noteName(want.File)))
	if err != nil {
		return fmt.Errorf("audit: read back segment note: %w", err)
	}
	si, err := a.Keys.parseSegmentNote(b)
	if err != nil || si != want {
		return fmt.Errorf("audit: segment %s: the note read back differs (%v)", want.File, err)
	}
	var problems []Problem
	p := &replay{keys: a.Keys, legacy: pl.legacy, cps: pl.cps, add: func(pr Problem) { problems = append(problems, pr) },
		seq: si.First - 1, head: prev, checked: map[int64]bool{}}
	p.segment(a.Dir, si)
	if len(problems) > 0 {
		return fmt.Errorf("audit: the segment read back does not verify: %s", problems[0])
	}
	return nil
}

// record stores the segment and its audit event in one transaction, if
// this run still holds the lease and nobody archived the range meanwhile.
func (a *Archiver) record(ctx context.Context, seg store.AuditSegment, holder string, before time.Time) error {
	return a.DB.WriteTx(ctx, func(tx *store.Tx) error {
		now := a.now()
		ok, err := tx.ClaimLease(ctx, archiveLease, holder, now.Add(leaseFor), now)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("audit: the archive lease ran out; another instance archives now")
		}
		last, _, err := tx.LastAuditSegment(ctx)
		if err != nil {
			return err
		}
		if last.LastSeq != seg.FirstSeq-1 {
			return fmt.Errorf("audit: the archive moved on to log position %d meanwhile", last.LastSeq)
		}
		if err := tx.InsertAuditSegment(ctx, seg); err != nil {
			return err
		}
		actor := a.Actor
		if actor == "" {
			actor = "audit-archive"
		}
		e := &crm.AuditEvent{At: now, ActorKind: "system", ActorName: actor, Action: "audit.archive", Outcome: "ok",
			Fields: mustJSON(map[string]any{"segment": seg.Number, "file": seg.File, "first_seq": seg.FirstSeq, "last_seq": seg.LastSeq,
				"events": seg.Events, "first_at": seg.FirstAt, "last_at": seg.LastAt, "sha256": seg.SHA256, "before": before.UTC()})}
		a.Keys.Stamp(e)
		return tx.InsertAuditEvent(ctx, e)
	})
}

// deleteArchived removes the rows of archived positions from..to in
// chunks; from 0 means there are none.
func (a *Archiver) deleteArchived(ctx context.Context, from, to int64) (int64, error) {
	var total int64
	for lo := from; from > 0 && lo <= to; lo += deleteChunk {
		hi := min(lo+deleteChunk-1, to)
		err := a.DB.WriteTx(ctx, func(tx *store.Tx) error {
			n, err := tx.DeleteArchivedEvents(ctx, lo, hi)
			total += n
			return err
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// setAsideLeftovers clears what an interrupted run left in the segment
// directory: it deletes temporary files, and moves segments written but
// never recorded (their events are still in the database) aside with the
// suffix ".unrecorded" — never deleting a segment, in case the database
// was restored from a backup older than the file.
func (a *Archiver) setAsideLeftovers(pl archivePlan) error {
	dir := filepath.Join(a.Dir, SegmentDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("audit: read segment directory: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".tmp-") {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		m := segmentName.FindStringSubmatch(name)
		if m == nil || pl.recorded[name] {
			continue
		}
		var number int64
		fmt.Sscan(m[1], &number)
		if number > pl.last.Number {
			aside := "." + a.now().Format("20060102T150405") + ".unrecorded"
			a.Logger.Warn("moving aside an audit segment that is not recorded in the database", "file", name, "to", name+aside)
			for _, f := range []string{name, noteName(name)} {
				if err := os.Rename(filepath.Join(dir, f), filepath.Join(dir, f+aside)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("audit: move an unrecorded segment aside: %w", err)
				}
			}
		}
	}
	return nil
}

func (a *Archiver) claim(ctx context.Context, holder string) (ok bool, err error) {
	err = a.DB.WriteTx(ctx, func(tx *store.Tx) error {
		now := a.now()
		ok, err = tx.ClaimLease(ctx, archiveLease, holder, now.Add(leaseFor), now)
		return err
	})
	return ok, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }
