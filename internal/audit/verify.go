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
	Events      int64     `json:"events"`      // sealed events checked
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
// the database and those written to dir). It reads only; it can run while
// Custos serves.
func Verify(ctx context.Context, db *store.DB, keys *Keys, dir string) (Report, error) {
	var r Report
	cps, legacy, err := loadCheckpoints(ctx, db, keys, dir, &r)
	if err != nil {
		return r, err
	}
	var seq, last int64
	var head string
	err = db.ReadTx(ctx, func(tx *store.Tx) error {
		for {
			events, err := tx.SealedAuditEvents(ctx, last, 1000)
			if err != nil || len(events) == 0 {
				return err
			}
			for i := range events {
				e := &events[i]
				seq++
				if e.Seq != seq {
					r.add(Problem{Kind: "deleted", Seq: seq, Detail: fmt.Sprintf("log positions %d to %d are missing", seq, e.Seq-1)})
					seq = e.Seq
				}
				if !keys.genuine(e, legacy) {
					r.add(Problem{Kind: "modified", Seq: e.Seq, EventID: e.ID, Detail: "the event does not match its MAC"})
				}
				head = link(head, e.Seq, e)
				if head != e.Link {
					r.add(Problem{Kind: "reordered", Seq: e.Seq, EventID: e.ID, Detail: "the chain link does not follow from the events before"})
					head = e.Link // go on from the stored chain to find more
				}
				for _, c := range cps[e.Seq] {
					if c.head != head {
						r.add(Problem{Kind: "checkpoint", Seq: e.Seq, Detail: "the log does not match the " + c.source + " checkpoint of this size: it was rewritten up to here"})
					}
				}
				r.Events++
			}
			last = events[len(events)-1].Seq
		}
	})
	if err != nil {
		return r, err
	}
	for size := range cps {
		if size > seq {
			r.add(Problem{Kind: "truncated", Seq: size, Detail: fmt.Sprintf("a checkpoint covers %d events but the log ends at %d", size, seq)})
		}
	}
	sortProblems(r.Problems)
	return r, checkUnsealed(ctx, db, keys, legacy, &r)
}

// loadCheckpoints verifies the signatures of the stored and external
// checkpoints and returns them by size, with the legacy boundary they sign.
func loadCheckpoints(ctx context.Context, db *store.DB, keys *Keys, dir string, r *Report) (checkpointSet, int64, error) {
	var stored []store.Checkpoint
	if err := db.ReadTx(ctx, func(tx *store.Tx) (err error) { stored, err = tx.ListCheckpoints(ctx); return err }); err != nil {
		return nil, 0, err
	}
	external, err := readExternal(dir)
	if err != nil {
		return nil, 0, err
	}
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

// readExternal reads the checkpoint file; a missing directory or file means
// none were written there.
func readExternal(dir string) ([]store.Checkpoint, error) {
	if dir == "" {
		return nil, nil
	}
	f, err := os.Open(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read checkpoints: %w", err)
	}
	defer f.Close()
	var out []store.Checkpoint
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var c store.Checkpoint
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			return nil, fmt.Errorf("audit: checkpoint file line %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	return out, sc.Err()
}

// checkUnsealed reports events the sealer refused (inserted behind
// Custos's back) and counts those still waiting.
func checkUnsealed(ctx context.Context, db *store.DB, keys *Keys, legacy int64, r *Report) error {
	return db.ReadTx(ctx, func(tx *store.Tx) error {
		events, err := tx.RefusedAuditEvents(ctx, 10_000)
		for _, e := range events {
			if e.Link == "refused" || !keys.genuine(&e, legacy) {
				r.add(Problem{Kind: "inserted", EventID: e.ID, Detail: "an event without a valid MAC was written to the database"})
			} else {
				r.Unsealed++
			}
		}
		return err
	})
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Seq < ps[j].Seq })
}
