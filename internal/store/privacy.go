package store

import (
	"context"
	"database/sql"
	"time"

	"custos/internal/crm"
)

// The queries of privacy rights (issue 4): the register of requests,
// consents, legal holds, a person's records for an access export, and the
// retention job's candidates. A person is named by the data key their
// contacts and leads are sealed under.

const privacyRequestCols = `r.id, r.kind, r.object, r.record_id, r.person_key, r.received_at, r.due_at, r.status, r.reason, r.notes,
	r.purpose, r.channel, r.completed_at, r.handled_by, COALESCE(u.display_name, ''), r.created_by, r.created_at,
	COALESCE(CASE WHEN r.object = 'contact' THEN (SELECT t.name FROM contacts t WHERE t.id = r.record_id)
		ELSE (SELECT l.name FROM leads l WHERE l.id = r.record_id) END, '')`

const privacyRequestFrom = " FROM privacy_requests r LEFT JOIN users u ON u.id = r.handled_by"

// scanPrivacyRequest reads a request; PersonName is the stored (sealed)
// name, which the service opens.
func scanPrivacyRequest(row scanner) (crm.PrivacyRequest, error) {
	var r crm.PrivacyRequest
	var received, due, created int64
	var completed sql.NullInt64
	var object string
	err := row.Scan(&r.ID, &r.Kind, &object, &r.RecordID, &r.PersonKey, &received, &due, &r.Status, &r.Reason, &r.Notes,
		&r.Purpose, &r.Channel, &completed, &r.HandledBy, &r.HandledByName, &r.CreatedBy, &created, &r.PersonName)
	r.Object = crm.Object(object)
	r.ReceivedAt, r.DueAt, r.CreatedAt, r.CompletedAt = fromMS(received), fromMS(due), fromMS(created), fromNullMS(completed)
	return r, err
}

// InsertPrivacyRequest stores a new, open request and sets its id.
func (tx *Tx) InsertPrivacyRequest(ctx context.Context, r *crm.PrivacyRequest) error {
	r.Status = crm.RequestOpen
	err := tx.q.QueryRowContext(ctx, `INSERT INTO privacy_requests (kind, object, record_id, person_key, received_at, due_at, status,
		notes, purpose, channel, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id`,
		r.Kind, string(r.Object), r.RecordID, r.PersonKey, ms(r.ReceivedAt), ms(r.DueAt), r.Status, r.Notes, r.Purpose, r.Channel,
		r.CreatedBy, ms(r.CreatedAt)).Scan(&r.ID)
	return mapErr("insert privacy request", err)
}

// GetPrivacyRequest returns one request.
func (tx *Tx) GetPrivacyRequest(ctx context.Context, id int64) (crm.PrivacyRequest, error) {
	r, err := scanPrivacyRequest(tx.q.QueryRowContext(ctx, "SELECT "+privacyRequestCols+privacyRequestFrom+" WHERE r.id = $1", id))
	return r, mapErr("privacy request", err)
}

// PrivacyRequestFilter narrows the register. Status is open, done, refused,
// overdue (open past its deadline at Now) or "" for all.
type PrivacyRequestFilter struct {
	Status    string
	Now       time.Time
	PersonKey string
	BeforeID  int64 // cursor: requests with a smaller id
	Limit     int
}

// ListPrivacyRequests returns requests newest first.
func (tx *Tx) ListPrivacyRequests(ctx context.Context, f PrivacyRequestFilter) ([]crm.PrivacyRequest, error) {
	var a args
	where := "TRUE"
	switch f.Status {
	case "":
	case "overdue":
		where += " AND r.status = 'open' AND r.due_at < " + a.add(ms(f.Now))
	default:
		where += " AND r.status = " + a.add(f.Status)
	}
	if f.PersonKey != "" {
		where += " AND r.person_key = " + a.add(f.PersonKey)
	}
	if f.BeforeID != 0 {
		where += " AND r.id < " + a.add(f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	return queryAll(ctx, tx, "SELECT "+privacyRequestCols+privacyRequestFrom+" WHERE "+where+" ORDER BY r.id DESC LIMIT "+a.add(f.Limit),
		scanPrivacyRequest, a...)
}

// CountOverduePrivacyRequests counts open requests past their deadline.
func (tx *Tx) CountOverduePrivacyRequests(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT COUNT(*) FROM privacy_requests WHERE status = 'open' AND due_at < $1", ms(now)).Scan(&n)
	return n, mapErr("count overdue privacy requests", err)
}

// ClosePrivacyRequest records how an open request ended; a request no
// longer open is a conflict.
func (tx *Tx) ClosePrivacyRequest(ctx context.Context, r *crm.PrivacyRequest) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE privacy_requests SET status = $1, reason = $2, notes = $3, completed_at = $4, handled_by = $5
		WHERE id = $6 AND status = 'open'`, r.Status, r.Reason, r.Notes, msPtr(r.CompletedAt), r.HandledBy, r.ID)
	if err := expectOne(res, err, "privacy request"); err != nil {
		if crm.IsCode(err, crm.NotFound) {
			return &crm.Error{Code: crm.Conflict, Key: "request_closed", Message: "the request is no longer open"}
		}
		return err
	}
	return nil
}

// PersonContacts returns the contacts sealed under a person's key, those
// in the recycle bin too.
func (tx *Tx) PersonContacts(ctx context.Context, key string) ([]crm.Contact, error) {
	return queryAll(ctx, tx, "SELECT "+contactCols+contactFrom+" WHERE t.person_key = $1 ORDER BY t.id", scanContact, key)
}

// PersonLeads returns the leads sealed under a person's key, those in the
// recycle bin too.
func (tx *Tx) PersonLeads(ctx context.Context, key string) ([]crm.Lead, error) {
	return queryAll(ctx, tx, "SELECT "+leadCols+leadFrom+" WHERE l.person_key = $1 ORDER BY l.id", scanLead, key)
}

// FollowUpsAbout returns the follow-ups about any of the contacts or leads
// (those in the recycle bin too), oldest first.
func (tx *Tx) FollowUpsAbout(ctx context.Context, contactIDs, leadIDs []int64) ([]crm.FollowUp, error) {
	var a args
	var conds []string
	if len(contactIDs) > 0 {
		conds = append(conds, inList("f.contact_id", contactIDs, &a))
	}
	if len(leadIDs) > 0 {
		conds = append(conds, inList("f.lead_id", leadIDs, &a))
	}
	if len(conds) == 0 {
		return nil, nil
	}
	where := conds[0]
	if len(conds) == 2 {
		where = "(" + conds[0] + " OR " + conds[1] + ")"
	}
	return queryAll(ctx, tx, followUpSelect+" WHERE "+where+" ORDER BY f.occurred_at, f.id", scanFollowUp, a...)
}

// OpportunitiesByID returns the live opportunities with the given ids.
func (tx *Tx) OpportunitiesByID(ctx context.Context, ids []int64) ([]crm.Opportunity, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var a args
	return queryAll(ctx, tx, "SELECT "+opportunityCols+opportunityFrom+" WHERE "+inList("o.id", ids, &a)+" AND o.deleted_at IS NULL ORDER BY o.id",
		scanOpportunity, a...)
}

// TasksOfOpportunities returns the live tasks linked to the opportunities.
func (tx *Tx) TasksOfOpportunities(ctx context.Context, ids []int64) ([]crm.Task, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var a args
	return queryAll(ctx, tx, "SELECT "+taskCols+" FROM tasks k LEFT JOIN users u ON u.id = k.owner_id WHERE "+
		inList("k.opportunity_id", ids, &a)+" AND k.deleted_at IS NULL ORDER BY k.id", scanTask, a...)
}

// queryAll runs a query and scans every row.
func queryAll[T any](ctx context.Context, tx *Tx, q string, scan func(scanner) (T, error), a ...any) ([]T, error) {
	rows, err := tx.q.QueryContext(ctx, q, a...)
	if err != nil {
		return nil, mapErr("query", err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, mapErr("scan", err)
		}
		out = append(out, v)
	}
	return out, mapErr("query", rows.Err())
}

// Consents.

const consentCols = "id, object, record_id, purpose, channel, source, granted_at, granted_by, withdrawn_at, withdrawn_by"

func scanConsent(row scanner) (crm.Consent, error) {
	var c crm.Consent
	var object string
	var granted int64
	var withdrawn sql.NullInt64
	err := row.Scan(&c.ID, &object, &c.RecordID, &c.Purpose, &c.Channel, &c.Source, &granted, &c.GrantedBy, &withdrawn, &c.WithdrawnBy)
	c.Object, c.GrantedAt, c.WithdrawnAt = crm.Object(object), fromMS(granted), fromNullMS(withdrawn)
	return c, err
}

// InsertConsent stores a live consent of a person; one already live for
// the purpose and channel is a duplicate (crm.Duplicate from the unique
// index).
func (tx *Tx) InsertConsent(ctx context.Context, key string, c *crm.Consent) error {
	err := tx.q.QueryRowContext(ctx, `INSERT INTO consents (person_key, object, record_id, purpose, channel, source, granted_at, granted_by)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`, key, string(c.Object), c.RecordID, c.Purpose, c.Channel, c.Source,
		ms(c.GrantedAt), c.GrantedBy).Scan(&c.ID)
	return mapErr("insert consent", err)
}

// LiveConsent returns a person's live consent to a purpose on a channel;
// ok is false when there is none.
func (tx *Tx) LiveConsent(ctx context.Context, key, purpose, channel string) (c crm.Consent, ok bool, err error) {
	c, err = scanConsent(tx.q.QueryRowContext(ctx, "SELECT "+consentCols+` FROM consents
		WHERE person_key = $1 AND purpose = $2 AND channel = $3 AND withdrawn_at IS NULL`, key, purpose, channel))
	if err == sql.ErrNoRows {
		return c, false, nil
	}
	return c, err == nil, mapErr("consent", err)
}

// WithdrawConsents ends a person's live consents to a purpose on a channel
// ("" for every purpose or channel) and returns those withdrawn.
func (tx *Tx) WithdrawConsents(ctx context.Context, key, purpose, channel string, at time.Time, by int64) ([]crm.Consent, error) {
	var a args
	where := "person_key = " + a.add(key) + " AND withdrawn_at IS NULL"
	if purpose != "" {
		where += " AND purpose = " + a.add(purpose)
	}
	if channel != "" {
		where += " AND channel = " + a.add(channel)
	}
	live, err := queryAll(ctx, tx, "SELECT "+consentCols+" FROM consents WHERE "+where+" ORDER BY id", scanConsent, a...)
	if err != nil || len(live) == 0 {
		return nil, err
	}
	ids := make([]int64, len(live))
	for i := range live {
		ids[i], live[i].WithdrawnAt, live[i].WithdrawnBy = live[i].ID, &at, by
	}
	var b args
	_, err = tx.q.ExecContext(ctx, "UPDATE consents SET withdrawn_at = "+b.add(ms(at))+", withdrawn_by = "+b.add(by)+" WHERE "+
		inList("id", ids, &b), b...)
	return live, mapErr("withdraw consents", err)
}

// PersonConsents returns every consent of a person, live and withdrawn,
// oldest first.
func (tx *Tx) PersonConsents(ctx context.Context, key string) ([]crm.Consent, error) {
	return queryAll(ctx, tx, "SELECT "+consentCols+" FROM consents WHERE person_key = $1 ORDER BY id", scanConsent, key)
}

// ConsentingPeople returns the live contacts and leads within the scopes
// whose person has a live consent to the purpose on the channel, people
// erased or in the recycle bin left out.
func (tx *Tx) ConsentingPeople(ctx context.Context, purpose, channel string, contacts ChildScope, leads Scope) ([]PersonRef, error) {
	var out []PersonRef
	for _, o := range []crm.Object{crm.ObjContact, crm.ObjLead} {
		var a args
		alias, cond := "t", ""
		if o == crm.ObjContact {
			cond = contacts.cond("t", &a)
		} else {
			alias, cond = "l", recordCond(leads, "l.id", "l.owner_id", &a)
		}
		q := "SELECT " + alias + ".id, " + alias + ".person_key FROM " + personTables[o].table + " " + alias +
			" JOIN consents c ON c.person_key = " + alias + ".person_key AND c.withdrawn_at IS NULL AND c.purpose = " + a.add(purpose) +
			" AND c.channel = " + a.add(channel) + " WHERE " + alias + ".deleted_at IS NULL AND " + alias + ".name <> '' AND " + cond +
			" ORDER BY " + alias + ".id"
		refs, err := queryAll(ctx, tx, q, func(row scanner) (PersonRef, error) {
			r := PersonRef{Object: o}
			return r, row.Scan(&r.ID, &r.Key)
		}, a...)
		if err != nil {
			return nil, err
		}
		out = append(out, refs...)
	}
	return out, nil
}

// Legal holds.

// GetLegalHold returns a person's legal hold; ok is false when none.
func (tx *Tx) GetLegalHold(ctx context.Context, key string) (h crm.LegalHold, ok bool, err error) {
	var at int64
	err = tx.q.QueryRowContext(ctx, `SELECT h.reason, h.set_by, COALESCE(u.display_name, ''), h.set_at FROM legal_holds h
		LEFT JOIN users u ON u.id = h.set_by WHERE h.person_key = $1`, key).Scan(&h.Reason, &h.SetBy, &h.SetByName, &at)
	if err == sql.ErrNoRows {
		return h, false, nil
	}
	h.SetAt = fromMS(at)
	return h, err == nil, mapErr("legal hold", err)
}

// PutLegalHold sets (or replaces) a person's legal hold.
func (tx *Tx) PutLegalHold(ctx context.Context, key string, h crm.LegalHold) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO legal_holds (person_key, reason, set_by, set_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (person_key) DO UPDATE SET reason = excluded.reason, set_by = excluded.set_by, set_at = excluded.set_at`,
		key, h.Reason, h.SetBy, ms(h.SetAt))
	return mapErr("put legal hold", err)
}

// DeleteLegalHold lifts a person's legal hold, reporting whether there was
// one.
func (tx *Tx) DeleteLegalHold(ctx context.Context, key string) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM legal_holds WHERE person_key = $1", key)
	if err != nil {
		return false, mapErr("delete legal hold", err)
	}
	n, err := res.RowsAffected()
	return n > 0, mapErr("delete legal hold", err)
}

// Retention.

// personActivity is a CTE of every person's last activity: the latest
// change of any of their contacts and leads (the recycle bin's too) and of
// any follow-up about them.
const personActivity = `WITH acts(k, at) AS (
	SELECT person_key, updated_at FROM contacts WHERE person_key <> ''
	UNION ALL SELECT person_key, updated_at FROM leads WHERE person_key <> ''
	UNION ALL SELECT t.person_key, f.updated_at FROM follow_ups f JOIN contacts t ON t.id = f.contact_id
	UNION ALL SELECT l.person_key, f.updated_at FROM follow_ups f JOIN leads l ON l.id = f.lead_id
), last_act(k, at) AS (SELECT k, MAX(at) FROM acts GROUP BY k) `

// RetentionQuery asks for the records of one object whose person has had
// no activity since Before: live ones not archived yet (Archive), or any
// not erased yet (for destruction). Held picks the people under a legal
// hold instead of those free of one.
type RetentionQuery struct {
	Object  crm.Object
	Before  time.Time
	Archive bool
	Held    bool
	AfterID int64 // cursor: records with a larger id
	Limit   int
}

// RetentionCandidates returns up to Limit records matching q, in id order.
// Erased people (whose names are empty) are never candidates.
func (tx *Tx) RetentionCandidates(ctx context.Context, q RetentionQuery) ([]PersonRef, error) {
	pt, ok := personTables[q.Object]
	if !ok {
		return nil, nil
	}
	var a args
	where := "r.person_key <> '' AND r.name <> '' AND last_act.at < " + a.add(ms(q.Before))
	if q.Archive {
		where += " AND r.deleted_at IS NULL AND r.archived_at IS NULL"
	}
	hold := " NOT IN "
	if q.Held {
		hold = " IN "
	}
	where += " AND r.person_key" + hold + "(SELECT person_key FROM legal_holds)"
	if q.AfterID != 0 {
		where += " AND r.id > " + a.add(q.AfterID)
	}
	if q.Limit <= 0 {
		q.Limit = 500
	}
	return queryAll(ctx, tx, personActivity+"SELECT r.id, r.person_key FROM "+pt.table+" r JOIN last_act ON last_act.k = r.person_key WHERE "+
		where+" ORDER BY r.id LIMIT "+a.add(q.Limit), func(row scanner) (PersonRef, error) {
		p := PersonRef{Object: q.Object}
		return p, row.Scan(&p.ID, &p.Key)
	}, a...)
}

// ArchiveRecords marks live contacts or leads archived, leaving their
// updated_at alone (archiving is no activity), and returns how many were.
func (tx *Tx) ArchiveRecords(ctx context.Context, o crm.Object, ids []int64, at time.Time) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var a args
	res, err := tx.q.ExecContext(ctx, "UPDATE "+personTables[o].table+" SET archived_at = "+a.add(ms(at))+" WHERE "+
		inList("id", ids, &a)+" AND archived_at IS NULL AND deleted_at IS NULL", a...)
	if err != nil {
		return 0, mapErr("archive", err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr("archive", err)
}

// UnarchiveRecord makes an archived contact or lead editable again. It
// counts as activity (updated_at moves), or the next retention run would
// archive it again at once.
func (tx *Tx) UnarchiveRecord(ctx context.Context, o crm.Object, id int64, at time.Time, by int64) error {
	pt, ok := personTables[o]
	if !ok {
		return crm.ErrNotFound(string(o))
	}
	res, err := tx.q.ExecContext(ctx, "UPDATE "+pt.table+" SET archived_at = NULL, updated_at = $1, updated_by = $2 WHERE id = $3 AND archived_at IS NOT NULL",
		ms(at), by, id)
	if err := expectOne(res, err, string(o)); err != nil {
		if crm.IsCode(err, crm.NotFound) {
			return &crm.Error{Code: crm.Conflict, Key: "not_archived", Message: "the record is not archived"}
		}
		return err
	}
	return nil
}
