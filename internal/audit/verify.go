package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"custos/internal/crm"
	"custos/internal/store"
)

// Problem is one thing verification found wrong.
type Problem struct {
	Kind    string `json:"kind"` // modified, deleted, inserted, reordered, truncated, checkpoint
	Seq     int64  `json:"seq,omitempty"`
	EventID int64  `json:"event_id,omitempty"`
	Detail  string `json:"detail"`
}

func (p Problem) String() string {
	s := p.Kind
	if p.Seq != 0 {
		s += fmt.Sprintf(" at log position %d", p.Seq)
	}
	if p.EventID != 0 {
		s += fmt.Sprintf(" (event %d)", p.EventID)
	}
	return s + ": " + p.Detail
}

// Report is the outcome of a verification.
type Report struct {
	Events      int64     `json:"events"`      // sealed events checked in the database
	Archived    int64     `json:"archived"`    // sealed events checked in archive segments
	Segments    int       `json:"segments"`    // archive segments checked
	Checkpoints int       `json:"checkpoints"` // checkpoints checked (database and external)
	External    int       `json:"external"`    // of which from the external directory
	Unsealed    int       `json:"unsealed"`    // events not sealed yet
	Problems    []Problem `json:"problems"`
}

// OK reports whether nothing was found wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds a report: after the first tampering, later positions
// mostly repeat it.
const maxProblems = 50

func (r *Report) add(p Problem) {
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, p)
	}
}

// checkpointSet holds the checkpoints to check the log against, by size.
type checkpointSet map[int64][]checked

type checked struct {
	head, source string
}

// Verify replays the log against its events and every checkpoint (those in
// the database and those written to dir): first through the archive
// segments in dir, then on through the events in the database, as one chain
// from log position 1. It reads only; it can run while Custos serves.
func Verify(ctx context.Context, db *store.DB, keys *Keys, dir string) (Report, error) {
	var r Report
	cps, legacy, err := loadCheckpoints(ctx, db, keys, dir, &r)
	if err != nil {
		return r, err
	}
	p := &replay{keys: keys, legacy: legacy, cps: cps, add: r.add, checked: map[int64]bool{}}
	if err := verifySegments(ctx, db, keys, dir, p, &r); err != nil {
		return r, err
	}
	archived := p.seq
	last := archived
	err = db.ReadTx(ctx, func(tx *store.Tx) error {
		for {
			events, err := tx.SealedAuditEvents(ctx, last, 1000)
			if err != nil || len(events) == 0 {
				return err
			}
			for i := range events {
				p.event(&events[i], "")
			}
			last = events[len(events)-1].Seq
		}
	})
	if err != nil {
		return r, err
	}
	r.Events = p.events - r.Archived
	for size := range cps {
		if size > p.seq {
			r.add(Problem{Kind: "truncated", Seq: size, Detail: fmt.Sprintf("a checkpoint covers %d events but the log ends at %d", size, p.seq)})
		} else if !p.checked[size] {
			r.add(Problem{Kind: "checkpoint", Seq: size, Detail: fmt.Sprintf("a checkpoint covers log position %d, which is missing (deleted from the database, or in an archive segment that is gone)", size)})
		}
	}
	sortProblems(r.Problems)
	return r, checkUnsealed(ctx, db, keys, legacy, &r)
}

// replay walks the chain one event at a time — through segments and the
// database alike — checking positions, MACs, links and checkpoints.
type replay struct {
	keys    *Keys
	legacy  int64
	cps     checkpointSet
	add     func(Problem)
	seq     int64 // the last position replayed
	head    string
	events  int64
	checked map[int64]bool // checkpoint sizes reached
}

// event replays one event; where names its segment file ("" for the
// database) in the problems found.
func (p *replay) event(e *crm.AuditEvent, where string) {
	in := ""
	if where != "" {
		in = "in " + where + ": "
	}
	p.seq++
	switch {
	case e.Seq > p.seq:
		p.add(Problem{Kind: "deleted", Seq: p.seq, Detail: fmt.Sprintf("%slog positions %d to %d are missing", in, p.seq, e.Seq-1)})
	case e.Seq < p.seq:
		p.add(Problem{Kind: "reordered", Seq: e.Seq, EventID: e.ID, Detail: fmt.Sprintf("%slog position %d comes after %d", in, e.Seq, p.seq-1)})
	}
	p.seq = e.Seq
	if !p.keys.genuine(e, p.legacy) {
		p.add(Problem{Kind: "modified", Seq: e.Seq, EventID: e.ID, Detail: in + "the event does not match its MAC"})
	}
	p.head = link(p.head, e.Seq, e)
	if p.head != e.Link {
		p.add(Problem{Kind: "reordered", Seq: e.Seq, EventID: e.ID, Detail: in + "the chain link does not follow from the events before"})
		p.head = e.Link // go on from the stored chain to find more
	}
	for _, c := range p.cps[e.Seq] {
		if c.head != p.head {
			p.add(Problem{Kind: "checkpoint", Seq: e.Seq, Detail: in + "the log does not match the " + c.source + " checkpoint of this size: it was rewritten up to here"})
		}
	}
	p.checked[e.Seq] = true
	p.events++
}

// segment replays one archive segment file after checking it against its
// signed note: the file's hash, where it starts in the chain, its events,
// and where it ends.
func (p *replay) segment(dir string, si segmentInfo) (events int64) {
	name := si.File
	problem := func(kind string, seq int64, detail string) {
		p.add(Problem{Kind: kind, Seq: seq, Detail: "archive segment " + name + ": " + detail})
	}
	if si.First != p.seq+1 {
		if si.First > p.seq+1 {
			p.add(Problem{Kind: "deleted", Seq: p.seq + 1, Detail: fmt.Sprintf("log positions %d to %d are missing: no archive segment holds them", p.seq+1, si.First-1)})
		} else {
			problem("reordered", si.First, fmt.Sprintf("it starts at log position %d, inside what was replayed up to %d", si.First, p.seq))
		}
	} else if si.Prev != p.head {
		problem("reordered", si.First, "it does not continue the chain of the events before it")
	}
	if si.Legacy != p.legacy {
		problem("checkpoint", si.First, "it disagrees with the checkpoints on the legacy boundary")
	}
	p.seq, p.head = si.First-1, si.Prev
	before := p.events
	sum, err := readSegment(filepath.Join(dir, SegmentDir, name), func(e *crm.AuditEvent) { p.event(e, name) })
	if sum != si.SHA256 {
		problem("modified", si.First, "its content does not match the SHA-256 in its signed note: the file was changed")
	}
	if err != nil {
		problem("modified", si.First, "it cannot be read: "+err.Error())
	}
	events = p.events - before
	if events != si.Events || p.seq != si.Last {
		problem("deleted", si.First, fmt.Sprintf("it holds %d events up to log position %d; its signed note says %d up to %d", events, p.seq, si.Events, si.Last))
	}
	if p.head != si.Head {
		problem("reordered", si.Last, "its last chain link differs from its signed note")
	}
	// Go on from what the note signs, so one bad file does not hide the rest.
	p.seq, p.head = si.Last, si.Head
	return events
}

// verifySegments replays the archive segments in dir in log order, and
// reports segments the database records whose files are missing.
func verifySegments(ctx context.Context, db *store.DB, keys *Keys, dir string, p *replay, r *Report) error {
	files, err := keys.listSegments(dir)
	if err != nil {
		return err
	}
	var recorded []store.AuditSegment
	if err := db.ReadTx(ctx, func(tx *store.Tx) (err error) { recorded, err = tx.ListAuditSegments(ctx); return err }); err != nil {
		return err
	}
	present := map[string]bool{}
	for _, f := range files {
		present[f.file] = true
		if f.err != nil {
			r.add(Problem{Kind: "modified", Seq: f.info.First, Detail: "archive segment " + f.file + ": " + f.err.Error()})
			continue
		}
		r.Archived += p.segment(dir, f.info)
		r.Segments++
	}
	for _, s := range recorded {
		if !present[s.File] {
			r.add(Problem{Kind: "deleted", Seq: s.FirstSeq, Detail: fmt.Sprintf("archive segment %s (log positions %d to %d) is recorded in the database but its file is missing from %s",
				s.File, s.FirstSeq, s.LastSeq, filepath.Join(dir, SegmentDir))})
		}
	}
	return nil
}

// loadCheckpoints verifies the signatures of the stored and external
// checkpoints and returns them by size, with the legacy boundary they sign.
func loadCheckpoints(ctx context.Context, db *store.DB, keys *Keys, dir string, r *Report) (checkpointSet, int64, error) {
	var stored []store.Checkpoint
	if err := db.ReadTx(ctx, func(tx *store.Tx) (err error) { stored, err = tx.ListCheckpoints(ctx); return err }); err != nil {
		return nil, 0, err
	}
	external, found, err := readExternal(dir)
	if err != nil {
		return nil, 0, err
	}
	checkExternalCovers(dir, found, external, stored, r)
	cps := checkpointSet{}
	legacy := int64(-1)
	add := func(c store.Checkpoint, source string) {
		size, head, leg, err := keys.parseCheckpoint(c.Note)
		if err != nil || size != c.Size || head != c.Head {
			r.add(Problem{Kind: "checkpoint", Seq: c.Size, Detail: "the " + source + " checkpoint is not genuine: " + fmt.Sprint(err)})
			return
		}
		if legacy >= 0 && leg != legacy {
			r.add(Problem{Kind: "checkpoint", Seq: size, Detail: "checkpoints disagree on the legacy boundary"})
		}
		legacy = leg
		cps[size] = append(cps[size], checked{head: head, source: source})
		r.Checkpoints++
	}
	for _, c := range external {
		add(c, "external")
		r.External++
	}
	inDB := map[int64]bool{}
	for _, c := range stored {
		add(c, "database")
		inDB[c.Size] = true
	}
	for _, c := range external {
		if !inDB[c.Size] {
			r.add(Problem{Kind: "checkpoint", Seq: c.Size, Detail: "an external checkpoint is missing from the database"})
		}
	}
	return cps, max(legacy, 0), nil
}

// checkExternalCovers reports a checkpoint file that is missing or ends
// before the database's checkpoints: the file outside the database is what
// shows a database rolled back or cut short, so a file deleted, truncated or
// restored from an older backup is itself a finding, not "nothing to
// compare". (The sealer writes the file right after it commits a
// checkpoint, and the next seal catches up a write that failed.)
func checkExternalCovers(dir string, found bool, external, stored []store.Checkpoint, r *Report) {
	if dir == "" || len(stored) == 0 {
		return
	}
	path := filepath.Join(dir, CheckpointFile)
	last := stored[len(stored)-1].Size
	if !found {
		r.add(Problem{Kind: "checkpoint", Seq: last, Detail: fmt.Sprintf("the checkpoint file %s is missing, but the database holds %d checkpoints up to log position %d: restore the file from its backup (or point -audit-dir at it)", path, len(stored), last)})
		return
	}
	var end int64
	for _, c := range external {
		end = max(end, c.Size)
	}
	if end < last {
		r.add(Problem{Kind: "checkpoint", Seq: last, Detail: fmt.Sprintf("the checkpoint file %s ends at log position %d, but the sealed trail in the database reaches %d: the file was truncated, replaced or restored from an older backup", path, end, last)})
	}
}

// readExternal reads the checkpoint file; found is false when there is no
// such file.
func readExternal(dir string) (cps []store.Checkpoint, found bool, err error) {
	if dir == "" {
		return nil, false, nil
	}
	f, err := os.Open(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	defer f.Close()
	var out []store.Checkpoint
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var c store.Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, true, fmt.Errorf("audit: checkpoint file line %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	return out, true, sc.Err()
}

// checkUnsealed reports events the sealer refused or never saw (inserted
// behind Custos's back) and genuine events taken off its queue, and counts
// those still waiting.
func checkUnsealed(ctx context.Context, db *store.DB, keys *Keys, legacy int64, r *Report) error {
	return db.ReadTx(ctx, func(tx *store.Tx) error {
		events, err := tx.UnsealedForVerify(ctx, 10_000)
		for _, e := range events {
			switch {
			case e.Link == "refused" || !keys.genuine(&e, legacy):
				r.add(Problem{Kind: "inserted", EventID: e.ID, Detail: "an event without a valid MAC was written to the database"})
			case e.Link == "unqueued":
				// Custos writes every event with its place on the queue, in
				// one transaction: only a hand in the database removes it.
				r.add(Problem{Kind: "modified", EventID: e.ID, Detail: "the event was taken off the sealer's queue, so it would never be sealed"})
			default:
				r.Unsealed++
			}
		}
		return err
	})
}

func sortSegments(fs []segmentFile) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].info.First != fs[j].info.First {
			return fs[i].info.First < fs[j].info.First
		}
		return fs[i].info.Number < fs[j].info.Number
	})
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Seq < ps[j].Seq })
}
