package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"custos/internal/crm"
)

// DedupKey is one normalised identity of a record: kind is "phone", "email",
// "credit_code" or "company".
type DedupKey struct {
	Kind string
	Key  string
}

// ReplaceDedupKeys sets the duplicate-check keys of one record.
func (tx *Tx) ReplaceDedupKeys(ctx context.Context, object string, id int64, keys []DedupKey) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM dedup_keys WHERE object = $1 AND record_id = $2", object, id); err != nil {
		return mapErr("clear dedup keys", err)
	}
	return tx.InsertDedupKeys(ctx, object, id, keys)
}

// InsertDedupKeys adds the duplicate-check keys of a record that has none
// yet (a new one), in one statement.
func (tx *Tx) InsertDedupKeys(ctx context.Context, object string, id int64, keys []DedupKey) error {
	for chunk := range slices.Chunk(keys, termChunk/2) {
		var a args
		o, r := a.add(object), a.add(id)
		rows := make([]string, 0, len(chunk))
		for _, k := range chunk {
			if k.Key != "" {
				rows = append(rows, "("+a.add(k.Kind)+", "+a.add(k.Key)+", "+o+", "+r+")")
			}
		}
		if len(rows) == 0 {
			continue
		}
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO dedup_keys (kind, key, object, record_id) VALUES "+strings.Join(rows, ", ")+
			" ON CONFLICT DO NOTHING", a...); err != nil {
			return mapErr("insert dedup key", err)
		}
	}
	return nil
}

// DuplicateHit names a live record that already holds a key, and its owner.
// It is all the duplicate check may reveal across scopes.
type DuplicateHit struct {
	Kind      string
	Object    string
	RecordID  int64
	OwnerName string // empty for a pool customer
}

// duplicateJoins and duplicateLive are the SQL that finds the record a
// dedup_keys row belongs to, among the objects with index rows (the
// registry's Indexed objects, in its order), its owner, and whether it is
// live: written once, so the statement stays the same text.
var duplicateJoins, duplicateLive = func() (string, string) {
	var joins, owners, deleted, present []string
	for _, s := range crm.Specs() {
		if !s.Indexed() {
			continue
		}
		x := s.Alias
		joins = append(joins, " LEFT JOIN "+s.Table+" "+x+" ON k.object = '"+string(s.Name)+"' AND "+x+".id = k.record_id")
		owners = append(owners, x+".owner_id")
		deleted = append(deleted, x+".deleted_at")
		present = append(present, x+".id IS NOT NULL")
	}
	return strings.Join(joins, "") + " LEFT JOIN users u ON u.id = COALESCE(" + strings.Join(owners, ", ") + ")",
		" AND COALESCE(" + strings.Join(deleted, ", ") + ") IS NULL AND (" + strings.Join(present, " OR ") + ")"
}()

// FindDuplicate looks across the whole organisation for a live record, other
// than (object, exceptID), that holds one of keys.
func (tx *Tx) FindDuplicate(ctx context.Context, keys []DedupKey, object string, exceptID int64) (*DuplicateHit, error) {
	for _, k := range keys {
		if k.Key == "" {
			continue
		}
		var h DuplicateHit
		var a args
		q := "SELECT k.kind, k.object, k.record_id, COALESCE(u.display_name, '') FROM dedup_keys k" + duplicateJoins +
			" WHERE k.kind = " + a.add(k.Kind) + " AND k.key = " + a.add(k.Key) +
			" AND NOT (k.object = " + a.add(object) + " AND k.record_id = " + a.add(exceptID) + ")" +
			duplicateLive + " ORDER BY k.object, k.record_id LIMIT 1"
		err := tx.q.QueryRowContext(ctx, q, a...).Scan(&h.Kind, &h.Object, &h.RecordID, &h.OwnerName)
		switch {
		case err == nil:
			return &h, nil
		case !errors.Is(err, sql.ErrNoRows):
			return nil, mapErr("find duplicate", err)
		}
	}
	return nil, nil
}

// FindDuplicates is FindDuplicate for many keys at once: for each key the
// live record holding it that FindDuplicate would name (the first by
// object and id), or nil when none does. An import batch asks it once for
// the customers its rows name, instead of once a row.
func (tx *Tx) FindDuplicates(ctx context.Context, keys []DedupKey) (map[DedupKey]*DuplicateHit, error) {
	out := make(map[DedupKey]*DuplicateHit, len(keys))
	byKind := map[string][]string{}
	for _, k := range keys {
		if _, asked := out[k]; k.Key != "" && !asked {
			out[k] = nil
			byKind[k.Kind] = append(byKind[k.Kind], k.Key)
		}
	}
	for kind, all := range byKind {
		for chunk := range slices.Chunk(all, termChunk) {
			var a args
			q := "SELECT k.key, k.object, k.record_id, COALESCE(u.display_name, '') FROM dedup_keys k" + duplicateJoins +
				" WHERE k.kind = " + a.add(kind) + " AND " + inList("k.key", chunk, &a) + duplicateLive + " ORDER BY k.object, k.record_id"
			rows, err := tx.q.QueryContext(ctx, q, a...)
			if err != nil {
				return nil, mapErr("find duplicates", err)
			}
			for rows.Next() {
				h := DuplicateHit{Kind: kind}
				var key string
				if err := rows.Scan(&key, &h.Object, &h.RecordID, &h.OwnerName); err != nil {
					rows.Close()
					return nil, mapErr("find duplicates", err)
				}
				if k := (DedupKey{Kind: kind, Key: key}); out[k] == nil {
					out[k] = &h
				}
			}
			if err := rows.Close(); err != nil {
				return nil, mapErr("find duplicates", err)
			}
			if err := rows.Err(); err != nil {
				return nil, mapErr("find duplicates", err)
			}
		}
	}
	return out, nil
}

// termChunk bounds the terms of one insert (a parameter each).
const termChunk = 300

// HasDedupKey reports whether a record already holds a duplicate-check key
// (blinded as for a lookup): an edit that keeps a value is no new lookup.
func (tx *Tx) HasDedupKey(ctx context.Context, object string, id int64, k DedupKey) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM dedup_keys WHERE object = $1 AND record_id = $2 AND kind = $3 AND key = $4",
		object, id, k.Kind, k.Key).Scan(&n)
	return n > 0, mapErr("dedup key", err)
}

// ReplaceSearchTerms sets the search terms of one record. The terms go in
// as one multi-row insert: a company name has a dozen or more bigrams, and
// a statement per term cost a round trip each on PostgreSQL and, on
// SQLite, statement overhead on top of the customer_terms trigger's work.
func (tx *Tx) ReplaceSearchTerms(ctx context.Context, object string, id int64, terms []string) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM search_terms WHERE object = $1 AND record_id = $2", object, id); err != nil {
		return mapErr("clear search terms", err)
	}
	tx.dropHeldTerms(object, id)
	return tx.InsertSearchTerms(ctx, object, id, terms)
}

// InsertSearchTerms adds the search terms of a record that has none yet (a
// new one).
func (tx *Tx) InsertSearchTerms(ctx context.Context, object string, id int64, terms []string) error {
	if tx.bulk != nil {
		for _, t := range terms {
			tx.bulk.terms = append(tx.bulk.terms, termRow{object, id, t})
		}
		return nil
	}
	for chunk := range slices.Chunk(terms, termChunk) {
		var a args
		o, r := a.add(object), a.add(id)
		rows := make([]string, len(chunk))
		for i, t := range chunk {
			rows[i] = "(" + o + ", " + a.add(t) + ", " + r + ")"
		}
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO search_terms (object, term, record_id) VALUES "+strings.Join(rows, ", ")+
			" ON CONFLICT DO NOTHING", a...); err != nil {
			return mapErr("insert search terms", err)
		}
	}
	return nil
}

// termMatch renders "col is a record of object having every term". On
// SQLite one term (a 2-character Chinese name is one bigram) needs no
// grouping: the index answers it in record order, without counting each
// record's terms. PostgreSQL keeps the grouped form: it estimates about one
// row per record from it, which keeps the generic plan of a prepared search
// on the indexes; from the plain form it estimated more and planned a
// sequential scan of the contacts (150 ms instead of 0.3 ms).
func (tx *Tx) termMatch(col, object string, terms []string, a *args) string {
	if len(terms) == 1 && tx.d == SQLite {
		return col + " IN (SELECT record_id FROM search_terms WHERE object = " + a.add(object) + " AND term = " + a.add(terms[0]) + ")"
	}
	var b strings.Builder
	b.WriteString(col + " IN (SELECT record_id FROM search_terms WHERE object = " + a.add(object) + " AND ")
	b.WriteString(inList("term", terms, a))
	b.WriteString(" GROUP BY record_id HAVING COUNT(*) = " + a.add(len(terms)) + ")")
	return b.String()
}

// keyMatch renders "col is a record of object holding the dedup key".
// A phone search also finds landlines, which are indexed but not checked for
// duplicates (colleagues share a switchboard number).
func keyMatch(col, object string, k DedupKey, a *args) string {
	kinds := []string{k.Kind}
	if k.Kind == "phone" {
		kinds = append(kinds, "landline")
	}
	return col + " IN (SELECT record_id FROM dedup_keys WHERE object = " + a.add(object) + " AND " + inList("kind", kinds, a) +
		" AND key = " + a.add(k.Key) + ")"
}
