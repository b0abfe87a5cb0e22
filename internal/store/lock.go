package store

import (
	"context"
	"slices"

	"custos/internal/crm"
)

// Races are settled by the database, not by a prior read (DESIGN.md §2).
// A use case that checks a state and then acts on it first locks what it
// checks, inside its write transaction; the lock lasts until the commit.
// On PostgreSQL at READ COMMITTED every statement reads the newest
// committed data, so once the lock is granted the check sees whatever a
// competing transaction committed, and the loser gets the very answer it
// would get on SQLite. There the single writer runs write transactions one
// after another, so the locks are not needed and cost nothing.

// dedupLockClass is the first key of the two-key advisory locks taken on
// duplicate-check keys. PostgreSQL keeps two-key locks apart from the
// one-key locks of the sealer, the purge and the migrations.
const dedupLockClass = 0x43555354 // "CUST"

// LockDedupKeys takes, until the transaction ends, a lock on each
// duplicate-check key, so that of two transactions writing records with
// the same phone, e-mail, credit code, company name or unique custom value
// the second checks for duplicates only after the first has committed.
// The keys are locked in one order, so two transactions cannot wait on
// each other. A uniqueness index cannot do this job: a key is unique among
// live records of every object together, and recycled ones keep theirs.
func (tx *Tx) LockDedupKeys(ctx context.Context, keys []DedupKey) error {
	if tx.d != Postgres || len(keys) == 0 {
		return nil
	}
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		if k.Key != "" {
			names = append(names, k.Kind+":"+k.Key)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, n := range names {
		if _, err := tx.q.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", dedupLockClass, n); err != nil {
			return mapErr("lock duplicate-check key", err)
		}
	}
	return nil
}

// LockRecord locks a business record (live or recycled) until the
// transaction ends, so a claim, conversion, stage move, deletion, restore,
// hand-over or share decided on its current state cannot interleave with
// another one. A record that does not exist is no error: the check that
// follows answers that. (The tables are the recycle bin's, plus customers,
// which have a bin of their own.)
func (tx *Tx) LockRecord(ctx context.Context, o crm.Object, id int64) error {
	if o == crm.ObjCustomer {
		return tx.lockRow(ctx, "customers", id)
	}
	r, ok := recyclable[o]
	if !ok {
		return crm.ErrNotFound(string(o))
	}
	return tx.lockRow(ctx, r.table, id)
}

// LockUsers locks user rows in id order (so two hand-overs between the
// same people cannot wait on each other): offboarding and job changes
// decide on the state of the user and of the users taking their records.
// Zero ids are skipped.
func (tx *Tx) LockUsers(ctx context.Context, ids ...int64) error {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for _, id := range ids {
		if id == 0 {
			continue
		}
		if err := tx.lockRow(ctx, "users", id); err != nil {
			return err
		}
	}
	return nil
}

// LockApprovalRequest locks an approval request before a decision on it.
func (tx *Tx) LockApprovalRequest(ctx context.Context, id int64) error {
	return tx.lockRow(ctx, "approval_requests", id)
}

// LockPrivacyRequest locks a privacy request before it is carried out.
func (tx *Tx) LockPrivacyRequest(ctx context.Context, id int64) error {
	return tx.lockRow(ctx, "privacy_requests", id)
}

// lockRow is SELECT … FOR UPDATE on PostgreSQL; table is one of this
// file's constants, never input. A read transaction acts on nothing, so it
// locks nothing (a check shared by reads and writes may call it).
func (tx *Tx) lockRow(ctx context.Context, table string, id int64) error {
	if tx.d != Postgres || tx.read {
		return nil
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT id FROM "+table+" WHERE id = $1 FOR UPDATE", id)
	if err != nil {
		return mapErr("lock "+table, err)
	}
	for rows.Next() {
	}
	rows.Close()
	return mapErr("lock "+table, rows.Err())
}
