package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"custos/internal/crm"
)

// The queries of the start-up upgrade that seals personal data written
// before encryption (schema 19) and blinds old index rows. The service
// does the cryptography; these only find and replace rows.

// personTable is the table of an object holding personal data and the
// columns sealed in it, in the registry's order.
type personTable struct {
	table string
	cols  []string
}

// personTables describes, from the registry, the objects holding a
// person's data (ObjectSpec.Personal).
var personTables = func() map[crm.Object]personTable {
	out := map[crm.Object]personTable{}
	for _, s := range crm.Specs() {
		if !s.Personal {
			continue
		}
		pt := personTable{table: s.Table}
		for _, f := range s.Fields {
			if f.Sealed {
				pt.cols = append(pt.cols, f.Column)
			}
		}
		out[s.Name] = pt
	}
	return out
}()

// SealedColumns returns the columns of o's table that hold sealed personal
// data, in order (none for objects without personal data). The service
// seals the same fields (a test holds the two lists together).
func SealedColumns(o crm.Object) []string {
	if o == crm.ObjFollowUp {
		return []string{"content"} // under follow_ups.data_key; not a person's row
	}
	return slices.Clone(personTables[o].cols)
}

// UnsealedPerson is a contact or lead row written before encryption.
type UnsealedPerson struct {
	ID     int64
	Fields map[string]string // column → plaintext value
	// ContactID is, for a converted lead, the contact it became (which
	// shares its key).
	ContactID int64
}

// PersonColumns returns the sealed columns of one row of o, by column.
func (tx *Tx) PersonColumns(ctx context.Context, o crm.Object, id int64) (map[string]string, error) {
	pt, ok := personTables[o]
	if !ok {
		return nil, fmt.Errorf("store: %s holds no personal data", o)
	}
	vals := make([]string, len(pt.cols))
	dest := make([]any, len(vals))
	for i := range vals {
		dest[i] = &vals[i]
	}
	err := tx.q.QueryRowContext(ctx, "SELECT "+strings.Join(pt.cols, ", ")+" FROM "+pt.table+" WHERE id = $1", id).Scan(dest...)
	if err != nil {
		return nil, mapErr("person columns", err)
	}
	out := make(map[string]string, len(vals))
	for i, c := range pt.cols {
		out[c] = vals[i]
	}
	return out, nil
}

// SetPersonColumns stores sealed values of some of a row's sealed columns,
// without touching its version.
func (tx *Tx) SetPersonColumns(ctx context.Context, o crm.Object, id int64, sealed map[string]string) error {
	pt := personTables[o]
	var a args
	var sets []string
	for _, c := range pt.cols { // only known columns, in a fixed order
		if v, ok := sealed[c]; ok {
			sets = append(sets, c+" = "+a.add(v))
		}
	}
	if len(sets) == 0 {
		return nil
	}
	_, err := tx.q.ExecContext(ctx, "UPDATE "+pt.table+" SET "+strings.Join(sets, ", ")+" WHERE id = "+a.add(id), a...)
	return mapErr("seal person columns", err)
}

// PeopleAfter returns the rows of o (deleted ones too) with a data key and
// an id above after, in id order.
func (tx *Tx) PeopleAfter(ctx context.Context, o crm.Object, after int64, limit int) ([]PersonRef, error) {
	pt, ok := personTables[o]
	if !ok {
		return nil, fmt.Errorf("store: %s holds no personal data", o)
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT id, person_key FROM "+pt.table+" WHERE id > $1 AND person_key <> '' ORDER BY id LIMIT $2", after, limit)
	if err != nil {
		return nil, mapErr("list people", err)
	}
	defer rows.Close()
	var out []PersonRef
	for rows.Next() {
		r := PersonRef{Object: o}
		if err := rows.Scan(&r.ID, &r.Key); err != nil {
			return nil, mapErr("scan person", err)
		}
		out = append(out, r)
	}
	return out, mapErr("list people", rows.Err())
}

// UnsealedPeople returns up to limit rows of o (deleted ones too) without a
// data key, in id order.
func (tx *Tx) UnsealedPeople(ctx context.Context, o crm.Object, limit int) ([]UnsealedPerson, error) {
	pt, ok := personTables[o]
	if !ok {
		return nil, fmt.Errorf("store: %s holds no personal data", o)
	}
	contact := "0"
	if o == crm.ObjLead {
		contact = "COALESCE(contact_id, 0)"
	}
	q := "SELECT id, " + contact
	for _, c := range pt.cols {
		q += ", " + c
	}
	rows, err := tx.q.QueryContext(ctx, q+" FROM "+pt.table+" WHERE person_key = '' ORDER BY id LIMIT $1", limit)
	if err != nil {
		return nil, mapErr("list unsealed people", err)
	}
	defer rows.Close()
	var out []UnsealedPerson
	for rows.Next() {
		p := UnsealedPerson{Fields: map[string]string{}}
		vals := make([]string, len(pt.cols))
		dest := []any{&p.ID, &p.ContactID}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, mapErr("scan unsealed person", err)
		}
		for i, c := range pt.cols {
			p.Fields[c] = vals[i]
		}
		out = append(out, p)
	}
	return out, mapErr("list unsealed people", rows.Err())
}

// SetSealedPerson stores a row's sealed fields and its data key, without
// touching its version: sealing changes no value a user sees.
func (tx *Tx) SetSealedPerson(ctx context.Context, o crm.Object, id int64, key string, sealed map[string]string) error {
	pt := personTables[o]
	var a args
	q := "UPDATE " + pt.table + " SET person_key = " + a.add(key)
	for _, c := range pt.cols {
		q += ", " + c + " = " + a.add(sealed[c])
	}
	_, err := tx.q.ExecContext(ctx, q+" WHERE id = "+a.add(id), a...)
	return mapErr("seal person", err)
}

// SetVersionFields replaces the fields of one stored version.
func (tx *Tx) SetVersionFields(ctx context.Context, o crm.Object, id, version int64, fields []byte) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE record_versions SET fields = $1 WHERE object = $2 AND record_id = $3 AND version = $4",
		string(fields), string(o), id, version)
	return mapErr("set version fields", err)
}

// IndexRow is one row of dedup_keys (Kind set) or search_terms.
type IndexRow struct {
	Object   string
	Kind     string
	Value    string
	RecordID int64
}

// PlainIndexRows returns up to limit index rows, of dedup_keys or
// search_terms (terms true), whose value is not blind yet. Blind values
// look like "b1:…"; plaintext terms (words, bigrams) and keys (phones,
// e-mails, credit codes, company keys) never start so.
func (tx *Tx) PlainIndexRows(ctx context.Context, terms bool, limit int) ([]IndexRow, error) {
	q := "SELECT object, kind, key, record_id FROM dedup_keys WHERE key NOT LIKE 'b%:%' ORDER BY object, record_id LIMIT $1"
	if terms {
		q = "SELECT object, '', term, record_id FROM search_terms WHERE term NOT LIKE 'b%:%' ORDER BY object, record_id LIMIT $1"
	}
	rows, err := tx.q.QueryContext(ctx, q, limit)
	if err != nil {
		return nil, mapErr("list plain index rows", err)
	}
	defer rows.Close()
	var out []IndexRow
	for rows.Next() {
		var r IndexRow
		if err := rows.Scan(&r.Object, &r.Kind, &r.Value, &r.RecordID); err != nil {
			return nil, mapErr("scan index row", err)
		}
		out = append(out, r)
	}
	return out, mapErr("list plain index rows", rows.Err())
}

// ReplaceIndexRow swaps one index row's value for its blind forms.
func (tx *Tx) ReplaceIndexRow(ctx context.Context, terms bool, r IndexRow, blind []string) error {
	del := "DELETE FROM dedup_keys WHERE object = $1 AND kind = $2 AND key = $3 AND record_id = $4"
	ins := "INSERT INTO dedup_keys (object, kind, key, record_id) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING"
	args := func(v string) []any { return []any{r.Object, r.Kind, v, r.RecordID} }
	if terms {
		del = "DELETE FROM search_terms WHERE object = $1 AND term = $2 AND record_id = $3"
		ins = "INSERT INTO search_terms (object, term, record_id) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING"
		args = func(v string) []any { return []any{r.Object, v, r.RecordID} }
	}
	if _, err := tx.q.ExecContext(ctx, del, args(r.Value)...); err != nil {
		return mapErr("drop plain index row", err)
	}
	for _, b := range blind {
		if _, err := tx.q.ExecContext(ctx, ins, args(b)...); err != nil {
			return mapErr("insert blind index row", err)
		}
	}
	return nil
}

// erasedFreeText are the unsealed text columns erasure also empties.
var erasedFreeText = map[crm.Object][]string{crm.ObjContact: {"title"}, crm.ObjLead: {"title"}}

// PersonRef is crm.PersonRef: the type lives with the domain so no surface needs the store.
type PersonRef = crm.PersonRef

// PeopleWithKeys returns the contacts and leads (deleted ones too) sealed
// under any of keys.
func (tx *Tx) PeopleWithKeys(ctx context.Context, keys []string) ([]PersonRef, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	var out []PersonRef
	for _, o := range []crm.Object{crm.ObjContact, crm.ObjLead} {
		var a args
		rows, err := tx.q.QueryContext(ctx, "SELECT id, person_key FROM "+personTables[o].table+" WHERE "+inList("person_key", keys, &a)+
			" ORDER BY id", a...)
		if err != nil {
			return nil, mapErr("people with keys", err)
		}
		for rows.Next() {
			r := PersonRef{Object: o}
			if err := rows.Scan(&r.ID, &r.Key); err != nil {
				rows.Close()
				return nil, mapErr("scan person", err)
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr("people with keys", err)
		}
	}
	return out, nil
}

// KeyHolders returns every row under any of keys: the contacts and leads
// sealed under them (as PeopleWithKeys), the follow-ups whose content is,
// and the customers whose follow-ups' key it is. A key with a holder must
// not be destroyed by a purge, and a re-encryption moves every holder.
func (tx *Tx) KeyHolders(ctx context.Context, keys []string) ([]PersonRef, error) {
	out, err := tx.PeopleWithKeys(ctx, keys)
	if err != nil || len(keys) == 0 {
		return out, err
	}
	for _, h := range []struct {
		o          crm.Object
		table, col string
	}{{crm.ObjFollowUp, "follow_ups", "data_key"}, {crm.ObjCustomer, "customers", "data_key"}} {
		var a args
		rows, err := tx.q.QueryContext(ctx, "SELECT id, "+h.col+" FROM "+h.table+" WHERE "+inList(h.col, keys, &a)+" ORDER BY id", a...)
		if err != nil {
			return nil, mapErr("key holders", err)
		}
		for rows.Next() {
			r := PersonRef{Object: h.o}
			if err := rows.Scan(&r.ID, &r.Key); err != nil {
				rows.Close()
				return nil, mapErr("scan key holder", err)
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, mapErr("key holders", err)
		}
	}
	return out, nil
}

// ErasePersonRemains empties a contact's or lead's personal fields, its
// title, notes and custom values, and drops its index rows and stored
// versions: what erasure leaves of a person
// in the live database is a record with no one in it. It reports whether
// anything was left to remove.
func (tx *Tx) ErasePersonRemains(ctx context.Context, o crm.Object, id int64) (bool, error) {
	pt := personTables[o]
	set, nonEmpty := "", ""
	// The sealed fields, and the free text written about the person in the
	// record itself (title, notes, custom values), which may name them.
	for i, c := range append(slices.Clone(pt.cols), erasedFreeText[o]...) {
		if i > 0 {
			set, nonEmpty = set+", ", nonEmpty+" OR "
		}
		set += c + " = ''"
		nonEmpty += c + " <> ''"
	}
	set += ", custom = '{}'"
	nonEmpty += " OR custom <> '{}'"
	res, err := tx.q.ExecContext(ctx, "UPDATE "+pt.table+" SET "+set+" WHERE id = $1 AND ("+nonEmpty+")", id)
	if err != nil {
		return false, mapErr("erase person", err)
	}
	changed, _ := res.RowsAffected()
	for _, q := range []string{"DELETE FROM dedup_keys WHERE object = $1 AND record_id = $2",
		"DELETE FROM search_terms WHERE object = $1 AND record_id = $2",
		"DELETE FROM record_versions WHERE object = $1 AND record_id = $2"} {
		res, err := tx.q.ExecContext(ctx, q, string(o), id)
		if err != nil {
			return false, mapErr("erase person remains", err)
		}
		n, _ := res.RowsAffected()
		changed += n
	}
	return changed > 0, nil
}

// AnyRecord loads a customer, contact, lead, opportunity, contract or follow-up by id alone —
// live or recycled, in no actor's scope — for key operations that must
// reach every copy.
func (tx *Tx) AnyRecord(ctx context.Context, o crm.Object, id int64) (any, error) {
	r, ok := recordReaders[o]
	if !ok {
		return nil, crm.ErrNotFound(string(o))
	}
	rec, err := r.scan(tx.q.QueryRowContext(ctx, r.sel+" WHERE "+r.alias+".id = $1", id))
	return rec, mapErr(string(o), err)
}

// recordReader reads whole records of one object: the select up to its
// WHERE, the table's alias in it, and the row scanner.
type recordReader struct {
	sel, alias string
	scan       func(scanner) (any, error)
}

// readerOf wraps a typed scanner so a reader hands out pointers to records.
func readerOf[T any](sel, alias string, scan func(scanner) (T, error)) recordReader {
	return recordReader{sel: sel, alias: alias, scan: func(row scanner) (any, error) {
		v, err := scan(row)
		return &v, err
	}}
}

// recordReaders are the readers of every object with records of its own.
var recordReaders = map[crm.Object]recordReader{
	crm.ObjContact:     readerOf("SELECT "+contactCols+contactFrom, "t", scanContact),
	crm.ObjLead:        readerOf("SELECT "+leadCols+leadFrom, "l", scanLead),
	crm.ObjCustomer:    readerOf("SELECT "+customerCols+customerFrom, "c", scanCustomer),
	crm.ObjOpportunity: readerOf("SELECT "+opportunityCols+opportunityFrom, "o", scanOpportunity),
	crm.ObjContract:    readerOf("SELECT "+contractCols+contractFrom, "ct", scanContract),
	crm.ObjFollowUp:    readerOf(followUpSelect, "f", scanFollowUp),
}

// indexedTables names the tables of the objects with index rows.
var indexedTables = tablesWhere(crm.ObjectSpec.Indexed)

// RecordIDsAfter returns up to limit ids of o's records (deleted ones too)
// greater than after, in order.
func (tx *Tx) RecordIDsAfter(ctx context.Context, o crm.Object, after int64, limit int) ([]int64, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT id FROM "+indexedTables[o]+" WHERE id > $1 ORDER BY id LIMIT $2", after, limit)
	if err != nil {
		return nil, mapErr("list record ids", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, mapErr("scan record id", err)
		}
		out = append(out, id)
	}
	return out, mapErr("list record ids", rows.Err())
}

// DropIndexVersion deletes every index row of a retired blind-index
// version (its terms start with prefix, e.g. "b1:").
func (tx *Tx) DropIndexVersion(ctx context.Context, prefix string) (int64, error) {
	var n int64
	for _, q := range []string{"DELETE FROM dedup_keys WHERE key LIKE $1", "DELETE FROM search_terms WHERE term LIKE $1"} {
		res, err := tx.q.ExecContext(ctx, q, prefix+"%")
		if err != nil {
			return n, mapErr("drop index version", err)
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

// RewriteSealedPerson stores the sealed fields, custom values and data key
// of a contact, lead or follow-up as they are in p, without touching its
// version.
func (tx *Tx) RewriteSealedPerson(ctx context.Context, p any) error {
	var o crm.Object
	var id int64
	var key string
	var custom map[string]any
	vals := map[string]string{}
	switch r := p.(type) {
	case *crm.Contact:
		o, id, key, custom = crm.ObjContact, r.ID, r.DataKey, r.Custom
		vals = map[string]string{"name": r.Name, "mobile": r.Mobile, "phone": r.Phone, "email": r.Email, "wechat": r.WeChat, "notes": r.Notes}
	case *crm.Lead:
		o, id, key, custom = crm.ObjLead, r.ID, r.DataKey, r.Custom
		vals = map[string]string{"name": r.Name, "mobile": r.Mobile, "email": r.Email, "wechat": r.WeChat, "notes": r.Notes}
	case *crm.FollowUp:
		return tx.SetSealedFollowUp(ctx, r.ID, r.DataKey, r.Content)
	default:
		return fmt.Errorf("store: %T holds no personal data", p)
	}
	for _, c := range personTables[o].cols {
		if _, ok := vals[c]; !ok {
			// A sealed column this rewrite does not carry would be emptied.
			return fmt.Errorf("store: rewriting %s would lose its %s", o, c)
		}
	}
	if err := tx.SetSealedPerson(ctx, o, id, key, vals); err != nil {
		return err
	}
	_, err := tx.q.ExecContext(ctx, "UPDATE "+personTables[o].table+" SET custom = $1 WHERE id = $2", encodeCustom(custom), id)
	return mapErr("rewrite person", err)
}

// PersonKeysAfter returns up to limit distinct data keys greater than after,
// in order — of contacts and leads, and of customers and follow-ups (what
// was written about a customer): the work list of a re-encryption.
func (tx *Tx) PersonKeysAfter(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT person_key FROM contacts WHERE person_key > $1
		UNION SELECT person_key FROM leads WHERE person_key > $1 UNION SELECT data_key FROM customers WHERE data_key > $1
		UNION SELECT data_key FROM follow_ups WHERE data_key > $1 ORDER BY 1 LIMIT $2`, after, limit)
	if err != nil {
		return nil, mapErr("list person keys", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, mapErr("scan person key", err)
		}
		out = append(out, k)
	}
	return out, mapErr("list person keys", rows.Err())
}
