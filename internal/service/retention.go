package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Retention (issue 4): per object, archive the records of people with no
// activity for N months (read-only until a privacy officer unarchives
// them), and destroy — erase — people with no activity for M years. A
// person's activity is the latest change of any of their contacts and
// leads and of any follow-up about them. People under a legal hold are
// exempt. A background job applies the policies, one run at a time across
// instances, and audits each run with its counts.

const retentionSetting = "retention_policies"

// RetentionJob names the retention job (its lease, its system actor).
const RetentionJob = "retention"

// retentionLease bounds how long a run may hold the job before another
// instance may take it over (a crashed instance's lease runs out).
const retentionLease = time.Hour

func loadRetention(ctx context.Context, tx *store.Tx) ([]crm.RetentionPolicy, error) {
	out := make([]crm.RetentionPolicy, len(crm.RetentionObjects))
	for i, o := range crm.RetentionObjects {
		out[i] = crm.RetentionPolicy{Object: o}
	}
	v, err := tx.GetSetting(ctx, retentionSetting)
	if err != nil || v == "" {
		return out, err
	}
	var saved []crm.RetentionPolicy
	if err := json.Unmarshal([]byte(v), &saved); err != nil {
		return nil, fmt.Errorf("service: retention policies setting: %w", err)
	}
	for i, p := range out {
		if j := slices.IndexFunc(saved, func(x crm.RetentionPolicy) bool { return x.Object == p.Object }); j >= 0 {
			out[i] = saved[j]
		}
	}
	return out, nil
}

// RetentionPolicies returns the policy of each object (privacy officers).
func (s *Service) RetentionPolicies(ctx context.Context, a *access.Actor) ([]crm.RetentionPolicy, error) {
	if err := s.requirePrivacy(ctx, a, "retention.list"); err != nil {
		return nil, err
	}
	var out []crm.RetentionPolicy
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = loadRetention(ctx, tx)
		return err
	})
	return out, err
}

// SaveRetentionPolicy changes one object's policy (privacy officers, with a
// fresh second factor: a policy destroys data).
func (s *Service) SaveRetentionPolicy(ctx context.Context, a *access.Actor, p crm.RetentionPolicy) error {
	if err := s.requirePrivacy(ctx, a, "retention.save"); err != nil {
		return err
	}
	if err := s.requireStepUp(ctx, a, "retention.save"); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		all, err := loadRetention(ctx, tx)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(all, func(x crm.RetentionPolicy) bool { return x.Object == p.Object })
		before := all[i]
		all[i] = p
		if err := tx.PutSetting(ctx, retentionSetting, string(mustJSON(all))); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "retention.save", p.Object, 0, diff(before, p))
	})
}

// RetentionRun is what one run did, per object: records archived, people
// destroyed (each an erasure of every record of the person), and records
// the policy would have taken but a legal hold kept. Skipped means no
// policy is on, another instance holds the job, or the run was not due.
type RetentionRun struct {
	Skipped   bool               `json:"skipped,omitempty"`
	Archived  map[crm.Object]int `json:"archived"`
	Destroyed map[crm.Object]int `json:"destroyed"`
	Held      map[crm.Object]int `json:"held"`
	Failed    int                `json:"failed,omitempty"`
}

// retentionLastRun is the setting holding when the policies last ran; only
// the holder of the job's lease reads and writes it.
const retentionLastRun = "retention_last_run"

// RunRetention applies the retention policies once, as the system actor
// "retention" — unless none is on, another instance (holder names this
// one) holds the job's lease, or, with every > 0, they ran less than every
// ago. Each archive batch and each erasure is audited as it happens, and
// the run as a whole with its counts.
func (s *Service) RunRetention(ctx context.Context, holder string, every time.Duration) (RetentionRun, error) {
	run := RetentionRun{Archived: map[crm.Object]int{}, Destroyed: map[crm.Object]int{}, Held: map[crm.Object]int{}, Skipped: true}
	var policies []crm.RetentionPolicy
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		policies, err = loadRetention(ctx, tx)
		return err
	}); err != nil || !slices.ContainsFunc(policies, func(p crm.RetentionPolicy) bool { return p.ArchiveMonths > 0 || p.DestroyYears > 0 }) {
		return run, err
	}
	now := s.clock()
	var claimed bool
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		if claimed, err = tx.ClaimLease(ctx, RetentionJob, holder, now.Add(retentionLease), now); err != nil || !claimed {
			return err
		}
		last, err := tx.GetSetting(ctx, retentionLastRun)
		if at, perr := time.Parse(time.RFC3339Nano, last); every > 0 && perr == nil && now.Sub(at) < every {
			claimed = false // not due: the lease goes back below
		}
		return err
	})
	if err != nil {
		return run, err
	}
	defer func() {
		done := context.WithoutCancel(ctx)
		if err := s.db.WriteTx(done, func(tx *store.Tx) error { return tx.ReleaseLease(done, RetentionJob, holder) }); err != nil {
			s.logger.Error("retention: release the job's lease", "err", err)
		}
	}()
	if !claimed {
		return run, nil
	}
	run.Skipped = false
	sys := access.System(RetentionJob)
	for _, p := range policies {
		if p.ArchiveMonths > 0 {
			if err := s.archiveInactive(ctx, sys, p.Object, now.AddDate(0, -p.ArchiveMonths, 0), &run); err != nil {
				return run, err
			}
		}
		if p.DestroyYears > 0 {
			if err := s.destroyInactive(ctx, sys, p.Object, now.AddDate(-p.DestroyYears, 0, 0), &run); err != nil {
				return run, err
			}
		}
	}
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, retentionLastRun, now.Format(time.RFC3339Nano)); err != nil {
			return err
		}
		return s.audit(ctx, tx, sys, "retention.run", "", 0, run)
	})
	return run, err
}

// archiveInactive archives the live records of o whose people have had no
// activity since before, in batches, each batch audited.
func (s *Service) archiveInactive(ctx context.Context, sys *access.Actor, o crm.Object, before time.Time, run *RetentionRun) error {
	held, err := s.retentionCandidates(ctx, store.RetentionQuery{Object: o, Before: before, Archive: true, Held: true, Limit: 10000})
	if err != nil {
		return err
	}
	run.Held[o] += len(held)
	for {
		batch, err := s.retentionCandidates(ctx, store.RetentionQuery{Object: o, Before: before, Archive: true, Limit: 500})
		if err != nil || len(batch) == 0 {
			return err
		}
		ids := make([]int64, len(batch))
		for i, p := range batch {
			ids[i] = p.ID
		}
		err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
			n, err := tx.ArchiveRecords(ctx, o, ids, s.clock())
			if err != nil {
				return err
			}
			run.Archived[o] += n
			e := s.event(sys, string(o)+".archive", o, 0)
			e.RecordIDs = ids
			return s.insertEvent(ctx, tx, e)
		})
		if err != nil {
			return err
		}
	}
}

// destroyInactive erases the people behind records of o who have had no
// activity since before. An erasure that fails is logged and counted, and
// the run goes on with the next person.
func (s *Service) destroyInactive(ctx context.Context, sys *access.Actor, o crm.Object, before time.Time, run *RetentionRun) error {
	held, err := s.retentionCandidates(ctx, store.RetentionQuery{Object: o, Before: before, Held: true, Limit: 10000})
	if err != nil {
		return err
	}
	run.Held[o] += len(held)
	var after int64
	for {
		batch, err := s.retentionCandidates(ctx, store.RetentionQuery{Object: o, Before: before, AfterID: after, Limit: 500})
		if err != nil || len(batch) == 0 {
			return err
		}
		for _, p := range batch {
			after = p.ID
			var key string
			err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
				var err error
				_, key, err = s.erasePersonTx(ctx, tx, sys, p.Object, p.ID)
				return err
			})
			if err == nil {
				err = s.destroyKey(ctx, key)
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				s.logger.Error("retention: erase a person", "object", p.Object, "id", p.ID, "err", err)
				run.Failed++
				continue
			}
			run.Destroyed[o]++
		}
	}
}

func (s *Service) retentionCandidates(ctx context.Context, q store.RetentionQuery) ([]crm.PersonRef, error) {
	var out []crm.PersonRef
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.RetentionCandidates(ctx, q)
		return err
	})
	return out, err
}
