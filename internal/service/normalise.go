package service

import (
	"context"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// possibleDuplicates looks, after the exact duplicate check passed, for a
// record holding the same company name with or without its place: a name
// with a place (成都华信物流) against one without (华信物流), and the other way
// round. Two different places (成都 and 深圳) are two companies and give no
// warning. The warning links the other record when the actor may see it,
// else names only its owner, as the duplicate check does; it never refuses.
func (s *Service) possibleDuplicates(ctx context.Context, tx *store.Tx, a *access.Actor, keys []store.DedupKey, o crm.Object, id int64) ([]crm.Warning, error) {
	var exact, core string
	for _, k := range keys {
		switch k.Kind {
		case companyKey:
			exact = k.Key
		case companyCoreKey:
			core = k.Key
		}
	}
	// A placed name looks for its core among the exact keys (names without
	// a place); a name without a place among the cores of placed names.
	probe := store.DedupKey{Kind: companyKey, Key: core}
	if core == "" {
		probe = store.DedupKey{Kind: companyCoreKey, Key: exact}
	}
	if probe.Key == "" {
		return nil, nil
	}
	hit, err := tx.FindDuplicate(ctx, s.lookupKeys([]store.DedupKey{probe}), string(o), id)
	if err != nil || hit == nil {
		return nil, err
	}
	w := crm.Warning{Code: crm.WarnPossibleDuplicate, Field: dedupFields[companyKey], Owner: hit.OwnerName,
		Message: "possibly the same company as a record owned by " + hit.OwnerName + "; review it"}
	if hit.OwnerName == "" {
		w.Message = "possibly the same company as a record in the public pool; review it"
	}
	switch _, err := readLinked(s, ctx, tx, a, crm.Object(hit.Object), hit.RecordID); {
	case err == nil:
		w.Object, w.RecordID = crm.Object(hit.Object), hit.RecordID
	case !crm.IsCode(err, crm.NotFound):
		return nil, err
	}
	return []crm.Warning{w}, nil
}

// readLinked is readInScope, reached through a variable set in init: the
// update use cases give warnings, and objectHooks' initialiser refers to
// them, a cycle a variable's initialiser may not have.
var readLinked func(s *Service, ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, id int64) (any, error)

func init() { readLinked = (*Service).readInScope }

// CustomerWarnings answers, for a customer the actor may see, the warnings
// its create would give now (a possible duplicate of another company): the
// web shows them on the customer's page after a save that gave them.
func (s *Service) CustomerWarnings(ctx context.Context, a *access.Actor, id int64) ([]crm.Warning, error) {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActRead); err != nil {
		return nil, err
	}
	var out []crm.Warning
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		c, err := tx.GetCustomer(ctx, id, customerQuery(a))
		if err != nil {
			return err
		}
		out, err = s.possibleDuplicates(ctx, tx, a, companyKeys(c.Name), crm.ObjCustomer, id)
		return err
	})
	return out, err
}

// normaliserVersion names the rules that made the stored duplicate keys and
// search terms. A database indexed under older rules is re-indexed at start
// (Renormalise); change it whenever the normaliser changes what it makes of
// stored values.
const normaliserVersion = "2026-12 places in company names; spaces in Chinese names"

// reindexMark keeps a re-index's progress in settings, per object, so a run
// cut short resumes where it stopped.
type reindexMark struct{ prefix string }

func (m *reindexMark) load(ctx context.Context, s *Service, o crm.Object) (int64, error) {
	var after int64
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		v, err := tx.GetSetting(ctx, m.prefix+string(o))
		if err == nil && v != "" {
			after, err = strconv.ParseInt(v, 10, 64)
		}
		return err
	})
	return after, err
}

func (m *reindexMark) save(ctx context.Context, tx *store.Tx, o crm.Object, after int64) error {
	return tx.PutSetting(ctx, m.prefix+string(o), strconv.FormatInt(after, 10))
}

// Renormalise re-makes the duplicate keys and search terms of every record
// stored under older normalisation rules (customers' company keys with
// their place; bigrams across the spaces in Chinese names), so records
// entered before are found as duplicates and by search like new ones. Stored
// values keep their form. It runs at start-up before serving, in batches;
// it is idempotent and resumes after a crash; it does nothing once the
// database is marked with the current rules. One audit event records what
// it re-indexed (none for an empty database).
func (s *Service) Renormalise(ctx context.Context) (int, error) {
	const versionSetting, markPrefix = "normaliser_version", "normaliser_reindexed."
	var current string
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		current, err = tx.GetSetting(ctx, versionSetting)
		return err
	})
	if err != nil || current == normaliserVersion {
		return 0, err
	}
	n, err := s.reindexAll(ctx, 500, &reindexMark{prefix: markPrefix}, nil)
	if err != nil {
		return n, err
	}
	a := access.System("upgrade")
	return n, s.db.WriteTx(ctx, func(tx *store.Tx) error {
		for _, o := range indexObjects {
			if err := tx.PutSetting(ctx, markPrefix+string(o), "0"); err != nil {
				return err
			}
		}
		if err := tx.PutSetting(ctx, versionSetting, normaliserVersion); err != nil || n == 0 {
			return err
		}
		return s.audit(ctx, tx, a, "records.renormalise", "", 0, map[string]any{"records": n, "rules": normaliserVersion})
	})
}
