package store

import (
	"context"
	"slices"
	"time"

	"custos/internal/crm"
)

// ExposureFilter selects the events an exposure report reads: successful
// events of the given action patterns in a time window, oldest first,
// optionally of one user, one API token or one event, after a cursor.
type ExposureFilter struct {
	Since, Until time.Time
	ActorID      int64
	TokenID      int64
	EventID      int64
	Actions      []string // LIKE patterns, e.g. "%.view"
	// AfterAt and AfterID are the cursor: events after (at, id).
	AfterAt time.Time
	AfterID int64
	Limit   int
}

// ExposureEvents returns a batch of the events of an exposure report in
// (at, id) order; the caller pages with the last event's at and id. The
// (at, id), (actor_id, at, id) and token indexes answer each narrowing.
func (tx *Tx) ExposureEvents(ctx context.Context, f ExposureFilter) ([]AuditEvent, error) {
	var a args
	where := "outcome = 'ok' AND at >= " + a.add(ms(f.Since)) + " AND at < " + a.add(ms(f.Until)) +
		" AND (at, id) > (" + a.add(ms(f.AfterAt)) + ", " + a.add(f.AfterID) + ")"
	if f.ActorID != 0 {
		where += " AND actor_id = " + a.add(f.ActorID)
	}
	if f.TokenID != 0 {
		// "<> 0" repeats the partial index's condition so SQLite uses it.
		where += " AND token_id = " + a.add(f.TokenID) + " AND token_id <> 0"
	}
	if f.EventID != 0 {
		where += " AND id = " + a.add(f.EventID)
	}
	if len(f.Actions) > 0 {
		where += " AND ("
		for i, p := range f.Actions {
			if i > 0 {
				where += " OR "
			}
			where += "action LIKE " + a.add(p)
		}
		where += ")"
	}
	return tx.queryAuditEvents(ctx, "WHERE "+where+" ORDER BY at, id LIMIT "+a.add(f.Limit), a...)
}

// GetAuditEvent returns one event.
func (tx *Tx) GetAuditEvent(ctx context.Context, id int64) (AuditEvent, error) {
	events, err := tx.queryAuditEvents(ctx, "WHERE id = $1", id)
	if err != nil {
		return AuditEvent{}, err
	}
	if len(events) == 0 {
		return AuditEvent{}, crm.ErrNotFound("audit event")
	}
	return events[0], nil
}

// PersonLinks are the people behind records: a customer's contacts, the
// contact a lead became, the contact or lead a follow-up is about — live
// or in the recycle bin, since an exposure concerns them either way.
type PersonLinks struct {
	CustomerContacts map[int64][]int64
	LeadContact      map[int64]int64
	FollowUpPerson   map[int64]FollowUpPerson
}

// FollowUpPerson is whom a follow-up is about.
type FollowUpPerson struct{ CustomerID, ContactID, LeadID int64 }

// PeopleOf reads the links of the given customers, leads and follow-ups.
// Only ids are read: no record content.
func (tx *Tx) PeopleOf(ctx context.Context, customers, leads, followUps []int64) (PersonLinks, error) {
	l := PersonLinks{CustomerContacts: map[int64][]int64{}, LeadContact: map[int64]int64{}, FollowUpPerson: map[int64]FollowUpPerson{}}
	for _, chunk := range chunks(customers) {
		var a args
		err := tx.scanPairs(ctx, "SELECT customer_id, id FROM contacts WHERE "+inList("customer_id", chunk, &a)+" ORDER BY id", a, func(c, id int64) {
			l.CustomerContacts[c] = append(l.CustomerContacts[c], id)
		})
		if err != nil {
			return l, err
		}
	}
	for _, chunk := range chunks(leads) {
		var a args
		err := tx.scanPairs(ctx, "SELECT id, contact_id FROM leads WHERE contact_id IS NOT NULL AND "+inList("id", chunk, &a), a, func(id, c int64) {
			l.LeadContact[id] = c
		})
		if err != nil {
			return l, err
		}
	}
	for _, chunk := range chunks(followUps) {
		var a args
		rows, err := tx.q.QueryContext(ctx, `SELECT id, COALESCE(customer_id, 0), COALESCE(contact_id, 0), COALESCE(lead_id, 0)
			FROM follow_ups WHERE `+inList("id", chunk, &a), a...)
		if err != nil {
			return l, mapErr("follow-up people", err)
		}
		for rows.Next() {
			var id int64
			var p FollowUpPerson
			if err := rows.Scan(&id, &p.CustomerID, &p.ContactID, &p.LeadID); err != nil {
				rows.Close()
				return l, mapErr("follow-up people", err)
			}
			l.FollowUpPerson[id] = p
		}
		if err := rows.Close(); err != nil {
			return l, mapErr("follow-up people", err)
		}
	}
	return l, nil
}

// NameScope is whose records' names may be read: customers and leads by
// Scope (with the pool when PoolVisible), records hanging off customers by
// Child.
type NameScope struct {
	Scope       Scope
	Child       ChildScope
	PoolVisible bool
	// Titles names the records of objects without a name by their title
	// (a task's), as the notification centre does.
	Titles bool
}

// nameTables are the tables whose records have a name (a field in a name
// column).
var nameTables = tablesWhere(func(s crm.ObjectSpec) bool {
	return slices.ContainsFunc(s.Fields, func(f crm.FieldSpec) bool { return f.Column == "name" })
})

// titleColumns are, for the tables without a name, the column of the
// field that names a record in a line (a task's title), when the
// registry gives one that is not personal.
var titleColumns = func() map[crm.Object]string {
	out := map[crm.Object]string{}
	for _, s := range crm.Specs() {
		if _, named := nameTables[s.Name]; named || s.Title == "" {
			continue
		}
		for _, f := range s.Fields {
			if f.Name == s.Title && !f.Sensitive && f.Column != "" {
				out[s.Name] = f.Column
			}
		}
	}
	return out
}()

// RecordName is a record's name as stored: sealed under DataKey for a
// contact or lead (the service opens it).
type RecordName struct {
	ID      int64
	Name    string
	DataKey string
}

// RecordNames returns the names of records (live or in the recycle bin)
// within the reader's scope; records outside it are left out. The caller
// opens sealed names and applies the reader's field rules.
func (tx *Tx) RecordNames(ctx context.Context, o crm.Object, ids []int64, s NameScope) ([]RecordName, error) {
	var out []RecordName
	spec, _ := crm.Spec(o)
	table, column := nameTables[o], "t.name"
	if col, ok := titleColumns[o]; ok && s.Titles {
		table, column = spec.Table, "t."+col
	}
	if table == "" {
		return out, nil
	}
	key := "''"
	if spec.Personal {
		key = "t.person_key"
	}
	for _, chunk := range chunks(ids) {
		var a args
		cond := s.condOn(o, "t", &a)
		rows, err := tx.q.QueryContext(ctx, "SELECT t.id, "+column+", "+key+" FROM "+table+" t WHERE "+inList("t.id", chunk, &a)+" AND "+cond, a...)
		if err != nil {
			return nil, mapErr("record names", err)
		}
		for rows.Next() {
			var n RecordName
			if err := rows.Scan(&n.ID, &n.Name, &n.DataKey); err != nil {
				rows.Close()
				return nil, mapErr("record names", err)
			}
			out = append(out, n)
		}
		if err := rows.Close(); err != nil {
			return nil, mapErr("record names", err)
		}
	}
	return out, nil
}

// scanPairs runs a query of two integer columns.
func (tx *Tx) scanPairs(ctx context.Context, query string, a args, fn func(x, y int64)) error {
	rows, err := tx.q.QueryContext(ctx, query, a...)
	if err != nil {
		return mapErr("read ids", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x, y int64
		if err := rows.Scan(&x, &y); err != nil {
			return mapErr("read ids", err)
		}
		fn(x, y)
	}
	return mapErr("read ids", rows.Err())
}

// chunks splits ids into lists short enough for one IN (…) each.
func chunks(ids []int64) [][]int64 {
	const size = 500
	var out [][]int64
	for len(ids) > size {
		out = append(out, ids[:size])
		ids = ids[size:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
