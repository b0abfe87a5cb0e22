package service

import (
	"context"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/vault"
)

// Blind-index key rotation (custos keys rotate-blind). A new blind-index
// version starts "building": every write indexes under it and the old one,
// while this rebuild re-indexes every record — opened, normalised and
// blinded exactly as a write would — and searches keep using the old
// version, so nothing drops out of search meanwhile. Then the new version
// becomes the one searches use and the old version's rows go. It is online
// and resumable: run again, it continues the building version.

// indexObjects are the objects with index rows, in rebuild order.
var indexObjects = crm.ObjectsWhere(crm.ObjectSpec.Indexed)

// RotateBlindIndex re-keys the blind index. settle is how long to wait
// after starting a new version before re-indexing, so that other instances
// (which reload their blind-index keys every BlindKeyReload) index new
// writes under it too. It returns the records re-indexed.
func (s *Service) RotateBlindIndex(ctx context.Context, a *access.Actor, batch int, settle time.Duration, progress func(done int)) (int, error) {
	if err := s.requireAdmin(ctx, a, "keys.rotate_blind"); err != nil {
		return 0, err
	}
	if batch <= 0 {
		batch = 500
	}
	version, err := s.vault.StartBlindRotation(ctx)
	if err != nil {
		return 0, err
	}
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	done, err := s.reindexAll(ctx, batch, nil, progress)
	if err != nil {
		return done, err
	}
	retired, err := s.vault.FinishBlindRotation(ctx, version)
	if err != nil {
		return done, err
	}
	var dropped int64
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		for _, v := range retired {
			n, err := tx.DropIndexVersion(ctx, vault.TermPrefix(v))
			if err != nil {
				return err
			}
			dropped += n
		}
		return nil
	})
	return done, s.keyEvent(ctx, a, "keys.rotate_blind", map[string]any{"blind_version": version, "records": done,
		"retired": retired, "rows_dropped": dropped}, err)
}

// BlindKeyReload is how often serve reloads the blind-index keys, to pick
// up a rotation started elsewhere.
const BlindKeyReload = 30 * time.Second

// ReloadMasterKey reads the master key file again (versions added or
// retired by custos keys or another instance).
func (s *Service) ReloadMasterKey() error {
	_, err := s.vault.ReloadMaster()
	return err
}

// ReloadBlindKeys picks up blind-index key changes made elsewhere.
func (s *Service) ReloadBlindKeys(ctx context.Context) error { return s.vault.ReloadBlindKeys(ctx) }

// reindexAll re-indexes every record of every indexed object in batches of
// batch records, one transaction each. from, when given, says where each
// object's run resumes (after which id) and records in the batch's
// transaction how far it got, so a run cut short continues where it stopped.
func (s *Service) reindexAll(ctx context.Context, batch int, from *reindexMark, progress func(done int)) (int, error) {
	done := 0
	for _, o := range indexObjects {
		after := int64(0)
		if from != nil {
			var err error
			if after, err = from.load(ctx, s, o); err != nil {
				return done, err
			}
		}
		for {
			var ids []int64
			err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
				var err error
				ids, err = tx.RecordIDsAfter(ctx, o, after, batch)
				return err
			})
			if err != nil {
				return done, err
			}
			if len(ids) == 0 {
				break
			}
			after = ids[len(ids)-1]
			err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
				if err := s.reindex(ctx, tx, o, ids); err != nil || from == nil {
					return err
				}
				return from.save(ctx, tx, o, after)
			})
			if err != nil {
				return done, err
			}
			done += len(ids)
			if progress != nil {
				progress(done)
			}
		}
	}
	return done, nil
}

// reindex rewrites the index rows of records from their current values.
func (s *Service) reindex(ctx context.Context, tx *store.Tx, o crm.Object, ids []int64) error {
	for _, id := range ids {
		rec, err := tx.AnyRecord(ctx, o, id)
		if err != nil {
			return err
		}
		if err := s.openRecord(ctx, rec); err != nil {
			return err
		}
		keys, terms, err := s.indexOf(ctx, tx, rec)
		if err != nil {
			return err
		}
		if err := s.writeIndex(ctx, tx, o, id, keys, terms); err != nil {
			return err
		}
	}
	return nil
}

// indexOf computes a record's duplicate keys and search terms as its last
// write did. Values that no longer pass validation still index as they
// are: a rebuild must not drop a record out of search.
func (s *Service) indexOf(ctx context.Context, tx *store.Tx, rec any) ([]store.DedupKey, []string, error) {
	custom, o, _ := customOf(rec)
	var keys []store.DedupKey
	var terms []string
	if h := objectHooks[o]; h.index != nil {
		keys, terms = h.index(s, rec)
	}
	_, ckeys, _, err := s.checkCustom(ctx, tx, o, *custom)
	return append(keys, ckeys...), terms, err
}
