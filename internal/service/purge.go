package service

import (
	"context"
	"fmt"
	"slices"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// DefaultRecycleRetention is how long a deleted record stays in the
// recycle bin, restorable, before the purge removes it for good.
const DefaultRecycleRetention = 90 * 24 * time.Hour

// purgeBatch bounds the records one purge transaction removes, so a large
// backlog (a bulk delete of thousands, a first run after an upgrade) never
// holds the writer for long.
const purgeBatch = 100

// PurgeReport counts, by object, the records a purge removed.
type PurgeReport struct {
	Purged map[crm.Object]int `json:"purged"`
	// Busy reports that another instance was purging; it finishes the
	// backlog, and this run stopped.
	Busy bool `json:"busy,omitempty"`
}

// Total is the number of records purged.
func (r PurgeReport) Total() int {
	n := 0
	for _, c := range r.Purged {
		n += c
	}
	return n
}

// purgeAt is when a record deleted at deletedAt leaves the recycle bin for
// good (at the purge job's first run after it: within the hour).
func (s *Service) purgeAt(deletedAt time.Time) time.Time { return deletedAt.Add(s.recycleRetention) }

// PurgeRecycleBin removes for good every record deleted longer ago than the
// retention window, with what hangs off it (its search terms, duplicate
// keys, shares, versions, stage history, the requested values of approval
// requests about it, and the data key of a person no record is left
// under), in batches, as the system job "recycle-purge". Each
// purged record gets its <object>.purge event in the batch's transaction.
// It is idempotent, and with several instances on PostgreSQL one purges at
// a time (the others find the lock taken and stop).
func (s *Service) PurgeRecycleBin(ctx context.Context) (PurgeReport, error) {
	job := access.System("recycle-purge")
	now := s.clock()
	cutoff := now.Add(-s.recycleRetention)
	rep := PurgeReport{Purged: map[crm.Object]int{}}
	for {
		batch, locked, err := s.purgeBatch(ctx, job, cutoff, now)
		if err == nil {
			// The keys go after the data commits, as with an erasure.
			err = s.erasePurgedKeys(ctx)
		}
		if err != nil {
			return rep, err
		}
		if !locked {
			rep.Busy = true
			return rep, nil
		}
		n := 0
		for o, c := range batch {
			rep.Purged[o] += c
			n += c
		}
		if n < purgeBatch {
			return rep, nil
		}
	}
}

// keepCustomerHistory moves the follow-ups about a contact or lead being
// purged that belong to a customer from the person's key to the
// customer's: they are the customer's history and outlive the person's
// record, while the person's key goes with its last record. It returns
// how many it moved.
func (s *Service) keepCustomerHistory(ctx context.Context, tx *store.Tx, o crm.Object, id int64) (int, error) {
	if o != crm.ObjContact && o != crm.ObjLead {
		return 0, nil
	}
	linked, err := tx.FollowUpsLinked(ctx, o, id)
	if err != nil {
		return 0, err
	}
	moved := 0
	for _, f := range linked {
		if f.CustomerID == 0 || f.DataKey == "" {
			continue
		}
		key, err := s.followUpKey(ctx, tx, "", f.CustomerID)
		if err == nil {
			err = s.reseal(ctx, tx, crm.PersonRef{Object: crm.ObjFollowUp, ID: f.ID}, f.DataKey, key)
		}
		if err != nil {
			return moved, err
		}
		moved++
	}
	return moved, nil
}

// lastUnderKey reports whether a purged record was the last under its data
// key, which then goes with it. A person's key goes with their last
// contact or lead: follow-ups about them still under it (those of no
// customer) are emptied now. A customer's or a follow-up's key stays while
// any row holds it.
func (s *Service) lastUnderKey(ctx context.Context, tx *store.Tx, o crm.Object, key string) (bool, error) {
	if o != crm.ObjContact && o != crm.ObjLead {
		still, err := tx.KeyHolders(ctx, []string{key})
		return len(still) == 0, err
	}
	still, err := tx.PeopleWithKeys(ctx, []string{key})
	if err != nil || len(still) > 0 {
		return false, err
	}
	_, err = tx.EraseFollowUpsUnder(ctx, key)
	return true, err
}

// erasePurgedKeys destroys, in the key store and its snapshots, the data
// keys the purge queued: those of purged people no record uses any more.
// Every copy of their sealed data, in any data backup, becomes unreadable.
// A failure leaves them queued for the next run.
func (s *Service) erasePurgedKeys(ctx context.Context) error {
	for {
		var pending []string
		var used []crm.PersonRef
		err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
			var err error
			if pending, err = tx.PendingKeyErasures(ctx, 500); err != nil || len(pending) == 0 {
				return err
			}
			// A key some record is under again (a database restored beside
			// the queue) stays.
			used, err = tx.KeyHolders(ctx, pending)
			return err
		})
		if err != nil || len(pending) == 0 {
			return err
		}
		var erase []string
		for _, k := range pending {
			if !slices.ContainsFunc(used, func(p crm.PersonRef) bool { return p.Key == k }) {
				erase = append(erase, k)
			}
		}
		if err := s.vault.EraseKeys(ctx, erase); err != nil {
			return fmt.Errorf("service: destroy the data keys of purged people (retried next run): %w", err)
		}
		if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.DoneKeyErasures(ctx, pending) }); err != nil {
			return err
		}
	}
}

// purgeBatch purges up to purgeBatch expired records, children before
// their customers, in one transaction.
func (s *Service) purgeBatch(ctx context.Context, job *access.Actor, cutoff, now time.Time) (map[crm.Object]int, bool, error) {
	var counts map[crm.Object]int
	var locked bool
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		counts, locked = map[crm.Object]int{}, false
		var err error
		if locked, err = tx.TryPurgeLock(ctx); err != nil || !locked {
			return err
		}
		left := purgeBatch
		var keys []string // data keys of the people purged in this batch
		for _, o := range store.PurgeOrder {
			if left == 0 {
				break
			}
			expired, err := tx.ExpiredRecords(ctx, o, cutoff, left)
			if err != nil {
				return err
			}
			for _, r := range expired {
				kept, err := s.keepCustomerHistory(ctx, tx, o, r.ID)
				if err != nil {
					return err
				}
				res, err := tx.PurgeRecord(ctx, o, r.ID, cutoff, now)
				if err != nil {
					return err
				}
				// Which record and when it was deleted; never its values.
				fields := map[string]any{"deleted_at": r.DeletedAt}
				if len(res.Unlinked) > 0 {
					fields["unlinked"] = res.Unlinked
				}
				if res.Approvals > 0 {
					fields["approval_requests_erased"] = res.Approvals
				}
				if kept > 0 {
					fields["follow_ups_kept"] = kept
				}
				if res.PersonKey != "" {
					destroy, err := s.lastUnderKey(ctx, tx, o, res.PersonKey)
					if err != nil {
						return err
					}
					if destroy {
						keys = append(keys, res.PersonKey)
						fields["data_key_destroyed"] = true
					}
				}
				if err := s.audit(ctx, tx, job, string(o)+".purge", o, r.ID, fields); err != nil {
					return err
				}
				counts[o]++
				left--
			}
		}
		// The keys of people merged into a purged person go with theirs:
		// backups from before the merge hold data under them.
		merged, err := tx.MergedKeysInto(ctx, keys)
		if err != nil {
			return err
		}
		return tx.QueueKeyErasures(ctx, append(keys, merged...))
	})
	return counts, locked, err
}
