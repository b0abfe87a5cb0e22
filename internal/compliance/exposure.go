package compliance

import (
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// The exposure report (issue 5, incident response): for a user, an API
// token, an export or a time window, which records' data was viewed,
// revealed, listed, searched or exported, by whom, which fields, when and
// how often — per record, with the people concerned. It is read from the
// audit trail alone, so the readers of the trail (administrators and
// auditors) may ask; only administrators also get the records' names,
// through their own scope and field rules. Asking is audited.

// ExposureQuery is what a report covers: a time window (since required,
// until now when zero) narrowed by any of a user, a token and one export
// event. An export event alone needs no window.
type ExposureQuery struct {
	Since   time.Time `json:"since,omitzero"`
	Until   time.Time `json:"until,omitzero"`
	ActorID int64     `json:"actor_id,omitempty"`
	TokenID int64     `json:"token_id,omitempty"`
	EventID int64     `json:"event_id,omitempty"`
}

// ExposureReport is the answer, one row per record.
type ExposureReport struct {
	Query       ExposureQuery `json:"query"`
	GeneratedAt time.Time     `json:"generated_at"`
	Rows        []ExposureRow `json:"rows"`
	Events      int           `json:"events"` // audit events read
	People      int           `json:"people"` // distinct people concerned
	// Capped reports that the report stopped early (MaxExposureRecords
	// records or MaxExposureEvents events): it is complete for the events
	// before CompleteUntil only.
	Capped        bool      `json:"capped,omitempty"`
	CompleteUntil time.Time `json:"complete_until,omitzero"`
	// Named reports that rows and people carry names (administrators).
	Named bool `json:"named,omitempty"`
}

// ExposureRow is one record and what happened to its data.
type ExposureRow struct {
	// Object is "" for the ids of a global search recorded before searches
	// named their objects (a customer, contact or lead).
	Object   crm.Object `json:"object"`
	RecordID int64      `json:"record_id"`
	Name     string     `json:"name,omitempty"`
	// Kinds: viewed, revealed, listed, searched, exported.
	Kinds []string `json:"kinds"`
	// Fields were shown in clear, revealed or exported; "*" stands for
	// every field the reader's role showed, where the event did not record
	// them (follow-ups, tasks, older events). Masked were shown only masked.
	Fields  []string        `json:"fields"`
	Masked  []string        `json:"masked_fields,omitempty"`
	Actors  []ExposureActor `json:"actors"`
	FirstAt time.Time       `json:"first_at"`
	LastAt  time.Time       `json:"last_at"`
	Count   int             `json:"count"`
	People  []PersonRef     `json:"people,omitempty"`
}

// ExposureActor is who saw a record: a user in a session, through a
// token, or a system job.
type ExposureActor struct {
	Kind    string `json:"kind"`
	ID      int64  `json:"id,omitempty"`
	Name    string `json:"name"`
	TokenID int64  `json:"token_id,omitempty"`
}

// PersonRef is a person concerned: a contact or a lead.
type PersonRef struct {
	Object crm.Object `json:"object"`
	ID     int64      `json:"id"`
	Name   string     `json:"name,omitempty"`
}

// The report's bounds: beyond them it stops and says so, rather than hold
// an unbounded trail in memory.
const (
	MaxExposureRecords = 20_000
	MaxExposureEvents  = 2_000_000
	exposureBatch      = 2_000
)

// exposureActions sorts the actions that showed record data into what the
// report says happened: an action ending in suffix or starting with prefix.
// A record's history is not among them: it never shows personal values
// (they are recorded by reference).
var exposureActions = []struct{ suffix, prefix, kind string }{
	{suffix: ".view", kind: "viewed"}, {suffix: ".versions", kind: "viewed"},
	{suffix: ".reveal", kind: "revealed"},
	{suffix: ".list", kind: "listed"}, {suffix: ".names", kind: "listed"}, {suffix: ".recycle_bin", kind: "listed"},
	{suffix: ".search", kind: "searched"}, {prefix: "search.", kind: "searched"},
	{suffix: ".export", kind: "exported"}, {prefix: "export", kind: "exported"},
}

// exposureKind is what an action did with record data, or "".
func exposureKind(action string) string {
	for _, x := range exposureActions {
		if x.suffix != "" && strings.HasSuffix(action, x.suffix) || x.prefix != "" && strings.HasPrefix(action, x.prefix) {
			return x.kind
		}
	}
	return ""
}

// exposurePatterns are exposureActions as SQL LIKE patterns.
func exposurePatterns() []string {
	out := make([]string, len(exposureActions))
	for i, x := range exposureActions {
		out[i] = "%" + x.suffix
		if x.prefix != "" {
			out[i] = x.prefix + "%"
		}
	}
	return out
}

// MayReportExposure checks that the actor may ask for exposure reports
// (the trail's readers), recording a refusal: for pages that show the
// query form before any report.
func (s *Service) MayReportExposure(ctx context.Context, a *access.Actor) error {
	return s.requireAuditReader(ctx, a, "exposure.report")
}

// ExposureReport computes the report for an administrator or an auditor.
func (s *Service) ExposureReport(ctx context.Context, a *access.Actor, q ExposureQuery) (ExposureReport, error) {
	if err := s.MayReportExposure(ctx, a); err != nil {
		return ExposureReport{}, err
	}
	rep, err := s.exposure(ctx, a, q)
	if err != nil {
		return ExposureReport{}, err
	}
	return rep, s.auditExposure(ctx, a, 0, rep)
}

// auditExposure records that a report was made (for an incident, when
// incident is not 0): the query and its size, never a name or a value.
func (s *Service) auditExposure(ctx context.Context, a *access.Actor, incident int64, rep ExposureReport) error {
	e := s.k.Event(a, "exposure.report", "", 0)
	fields := map[string]any{"query": rep.Query, "rows": len(rep.Rows), "people": rep.People, "events": rep.Events,
		"capped": rep.Capped, "named": rep.Named}
	if incident != 0 {
		fields["incident"] = incident
	}
	e.Fields = kernel.MustJSON(fields)
	return s.k.RecordRead(ctx, e)
}

// exposure validates the query and builds the report (no permission check,
// no event: the callers do both).
func (s *Service) exposure(ctx context.Context, a *access.Actor, q ExposureQuery) (ExposureReport, error) {
	now := s.k.Clock()
	rep := ExposureReport{GeneratedAt: now, Rows: []ExposureRow{}}
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if q, err = s.checkExposureQuery(ctx, tx, q, now); err != nil {
			return err
		}
		rep.Query = q
		rows, err := scanExposure(ctx, tx, q, &rep)
		if err != nil {
			return err
		}
		rep.Rows = rows
		return s.addPeople(ctx, tx, a, &rep)
	})
	return rep, err
}

// checkExposureQuery validates a query and fills its window.
func (s *Service) checkExposureQuery(ctx context.Context, tx *store.Tx, q ExposureQuery, now time.Time) (ExposureQuery, error) {
	var p crm.Problems
	if q.ActorID < 0 || q.TokenID < 0 || q.EventID < 0 {
		p.Add("query", "format")
	}
	if q.EventID > 0 {
		e, err := tx.GetAuditEvent(ctx, q.EventID)
		switch {
		case crm.IsCode(err, crm.NotFound):
			p.Add("event_id", "not_found")
		case err != nil:
			return q, err
		case exposureKind(e.Action) != "exported":
			p.Add("event_id", "not_export")
		case q.Since.IsZero() && q.Until.IsZero():
			// The export's own instant is its window.
			q.Since, q.Until = e.At, e.At.Add(time.Millisecond)
		}
	}
	if q.Since.IsZero() && p.Err() == nil {
		p.Add("since", "required")
	}
	if q.Until.IsZero() {
		q.Until = now
	}
	if !q.Since.IsZero() && !q.Until.After(q.Since) {
		p.Add("until", "after_since")
	}
	return q, p.Err()
}

// exposureAgg gathers one row.
type exposureAgg struct {
	row                   ExposureRow
	kinds, fields, masked map[string]bool
	actors                map[ExposureActor]bool
}

// exposureHit is one record one event showed, with the fields it showed
// (nil: not recorded).
type exposureHit struct {
	object crm.Object
	id     int64
	shown  *kernel.FieldsShown
	kind   string // what the event did with this record, when not what its action says
}

// scanExposure reads the events in batches, oldest first, folding each
// into its records' rows; it stops at the caps and says where.
func scanExposure(ctx context.Context, tx *store.Tx, q ExposureQuery, rep *ExposureReport) ([]ExposureRow, error) {
	aggs := map[exposureHit]*exposureAgg{} // keyed by object and id only
	f := store.ExposureFilter{Since: q.Since, Until: q.Until, ActorID: q.ActorID, TokenID: q.TokenID, EventID: q.EventID,
		Actions: exposurePatterns(), AfterAt: q.Since.Add(-time.Millisecond), Limit: exposureBatch}
scan:
	for {
		events, err := tx.ExposureEvents(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			kind := exposureKind(e.Action)
			hits := exposureHits(e)
			fresh := map[exposureHit]bool{}
			for _, h := range hits {
				if key := (exposureHit{object: h.object, id: h.id}); aggs[key] == nil {
					fresh[key] = true
				}
			}
			if len(aggs)+len(fresh) > MaxExposureRecords || rep.Events >= MaxExposureEvents {
				rep.Capped, rep.CompleteUntil = true, e.At
				break scan
			}
			rep.Events++
			actor := ExposureActor{Kind: e.ActorKind, ID: e.ActorID, Name: e.ActorName, TokenID: e.TokenID}
			for _, h := range hits {
				key := exposureHit{object: h.object, id: h.id}
				g := aggs[key]
				if g == nil {
					g = &exposureAgg{row: ExposureRow{Object: h.object, RecordID: h.id, FirstAt: e.At}, kinds: map[string]bool{},
						fields: map[string]bool{}, masked: map[string]bool{}, actors: map[ExposureActor]bool{}}
					aggs[key] = g
				}
				g.row.LastAt, g.row.Count = e.At, g.row.Count+1
				g.kinds[cmp.Or(h.kind, kind)], g.actors[actor] = true, true
				if h.shown == nil {
					g.fields["*"] = true
					continue
				}
				for _, name := range h.shown.Seen {
					g.fields[name] = true
				}
				for _, name := range h.shown.Masked {
					g.masked[name] = true
				}
			}
		}
		if len(events) < f.Limit {
			break
		}
		last := events[len(events)-1]
		f.AfterAt, f.AfterID = last.At, last.ID
	}
	rows := make([]ExposureRow, 0, len(aggs))
	for _, g := range aggs {
		r := g.row
		r.Kinds = slices.Sorted(maps.Keys(g.kinds))
		r.Fields = slices.Sorted(maps.Keys(g.fields))
		for name := range g.masked {
			if !g.fields[name] {
				r.Masked = append(r.Masked, name)
			}
		}
		slices.Sort(r.Masked)
		r.Actors = slices.SortedFunc(maps.Keys(g.actors), func(x, y ExposureActor) int {
			return cmp.Or(cmp.Compare(x.ID, y.ID), strings.Compare(x.Kind, y.Kind), cmp.Compare(x.TokenID, y.TokenID), strings.Compare(x.Name, y.Name))
		})
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(x, y ExposureRow) int {
		return cmp.Or(strings.Compare(string(x.Object), string(y.Object)), cmp.Compare(x.RecordID, y.RecordID))
	})
	return rows, nil
}

// exposureHits lists the records an event showed.
func exposureHits(e crm.AuditEvent) []exposureHit {
	switch {
	case e.Object == "" && strings.HasPrefix(e.Action, "search."):
		var split map[crm.Object]kernel.SearchShown
		if json.Unmarshal(e.Fields, &split) != nil || len(split) == 0 {
			// Recorded before searches named their objects.
			return idHits("", e.RecordIDs, nil)
		}
		var out []exposureHit
		for _, o := range slices.Sorted(maps.Keys(split)) {
			out = append(out, idHits(o, split[o].IDs, readShown(split[o].Fields))...)
		}
		return out
	case !slices.Contains(crm.Objects, crm.Object(e.Object)):
		return nil // not a record (sessions, users, the trail itself)
	}
	o := crm.Object(e.Object)
	if e.Action == "followup.list" {
		o = crm.ObjFollowUp // older timelines named the parent's object
	}
	shown := readShown(e.Fields)
	if strings.HasSuffix(e.Action, ".reveal") {
		var r struct{ Field string }
		if json.Unmarshal(e.Fields, &r) == nil && r.Field != "" {
			shown = &kernel.FieldsShown{Seen: []string{r.Field}}
		}
	}
	ids := e.RecordIDs
	if e.RecordID != 0 {
		ids = append([]int64{e.RecordID}, ids...)
	}
	return append(idHits(o, ids, shown), sectionHits(e.Fields)...)
}

// sectionHits lists the records a view showed beside its own (a customer's
// detail: its follow-ups, contacts, opportunities and tasks).
func sectionHits(raw json.RawMessage) []exposureHit {
	var d struct {
		With map[crm.Object]kernel.SearchShown `json:"with"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &d) != nil {
		return nil
	}
	var out []exposureHit
	for _, o := range slices.Sorted(maps.Keys(d.With)) {
		for _, h := range idHits(o, d.With[o].IDs, readShown(d.With[o].Fields)) {
			h.kind = "listed" // rows of the page's sections
			out = append(out, h)
		}
	}
	return out
}

func idHits(o crm.Object, ids []int64, shown *kernel.FieldsShown) []exposureHit {
	out := make([]exposureHit, 0, len(ids))
	for _, id := range ids {
		out = append(out, exposureHit{object: o, id: id, shown: shown})
	}
	return out
}

// readShown reads the fields a read recorded (nil when it recorded none).
// An export may list them as "fields".
func readShown(raw json.RawMessage) *kernel.FieldsShown {
	var f struct {
		kernel.FieldsShown
		Fields []string `json:"fields"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &f) != nil {
		return nil
	}
	if f.Seen == nil && f.Fields != nil {
		f.Seen = f.Fields
	}
	if f.Seen == nil {
		return nil
	}
	return &f.FieldsShown
}

// addPeople lists the people concerned by each row — a contact or lead is
// one; a customer's are its contacts; a follow-up's, the contact or lead it
// is about, else its customer's contacts — and, for administrators, the
// names of records and people under their scope and field rules.
func (s *Service) addPeople(ctx context.Context, tx *store.Tx, a *access.Actor, rep *ExposureReport) error {
	ids := map[crm.Object][]int64{}
	for _, r := range rep.Rows {
		ids[r.Object] = append(ids[r.Object], r.RecordID)
	}
	fl, err := tx.PeopleOf(ctx, nil, nil, ids[crm.ObjFollowUp])
	if err != nil {
		return err
	}
	customers := slices.Clone(ids[crm.ObjCustomer])
	for _, p := range fl.FollowUpPerson {
		if p.ContactID == 0 && p.LeadID == 0 && p.CustomerID != 0 {
			customers = append(customers, p.CustomerID)
		}
	}
	links, err := tx.PeopleOf(ctx, customers, ids[crm.ObjLead], nil)
	if err != nil {
		return err
	}
	contacts := func(ids []int64) []PersonRef {
		out := make([]PersonRef, len(ids))
		for i, id := range ids {
			out[i] = PersonRef{Object: crm.ObjContact, ID: id}
		}
		return out
	}
	everyone := map[PersonRef]bool{}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		switch r.Object {
		case crm.ObjContact:
			r.People = []PersonRef{{Object: crm.ObjContact, ID: r.RecordID}}
		case crm.ObjLead:
			r.People = []PersonRef{{Object: crm.ObjLead, ID: r.RecordID}}
			if c := links.LeadContact[r.RecordID]; c != 0 {
				r.People = append(r.People, PersonRef{Object: crm.ObjContact, ID: c}) // the same person, converted
			}
		case crm.ObjCustomer:
			r.People = contacts(links.CustomerContacts[r.RecordID])
		case crm.ObjFollowUp:
			switch p := fl.FollowUpPerson[r.RecordID]; {
			case p.ContactID != 0:
				r.People = []PersonRef{{Object: crm.ObjContact, ID: p.ContactID}}
			case p.LeadID != 0:
				r.People = []PersonRef{{Object: crm.ObjLead, ID: p.LeadID}}
			default:
				r.People = contacts(links.CustomerContacts[p.CustomerID])
			}
		}
		for _, p := range r.People {
			everyone[p] = true
		}
	}
	rep.People = len(everyone)
	if !a.IsAdmin() {
		return nil
	}
	// Names: the records' and the people's, each object read once.
	for p := range everyone {
		ids[p.Object] = append(ids[p.Object], p.ID)
	}
	names := map[crm.Object]map[int64]string{}
	for o, list := range ids {
		if o == "" {
			continue
		}
		slices.Sort(list)
		var err error
		if names[o], err = s.names(ctx, tx, a, o, slices.Compact(list)); err != nil {
			return err
		}
	}
	for i := range rep.Rows {
		r := &rep.Rows[i]
		r.Name = names[r.Object][r.RecordID]
		for j := range r.People {
			r.People[j].Name = names[r.People[j].Object][r.People[j].ID]
		}
	}
	rep.Named = true
	return nil
}

// exposureCapMessage says why a capped report stopped, in English, for
// the report's downloads (the pages say it in the reader's language).
func exposureCapMessage(rep ExposureReport) string {
	return fmt.Sprintf("incomplete: the report stops at %d records or %d events; events from %s on are not included. Narrow the window or filter by user or token.",
		MaxExposureRecords, MaxExposureEvents, rep.CompleteUntil.Format(time.RFC3339))
}

// WriteCSV writes the report as CSV, one line per record (names only in a
// report made for an administrator); a capped report ends with a line that
// says so.
func (r ExposureReport) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"object", "record_id", "kinds", "fields", "masked_fields", "actors", "first_at", "last_at", "events", "people"}
	if r.Named {
		head = slices.Insert(head, 2, "name")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, row := range r.Rows {
		actors := make([]string, len(row.Actors))
		for i, x := range row.Actors {
			actors[i] = x.Name + " (" + x.Kind + " " + strconv.FormatInt(x.ID, 10)
			if x.TokenID != 0 {
				actors[i] += ", token " + strconv.FormatInt(x.TokenID, 10)
			}
			actors[i] += ")"
		}
		people := make([]string, len(row.People))
		for i, p := range row.People {
			people[i] = string(p.Object) + ":" + strconv.FormatInt(p.ID, 10)
			if p.Name != "" {
				people[i] += " " + p.Name
			}
		}
		line := []string{string(row.Object), strconv.FormatInt(row.RecordID, 10), strings.Join(row.Kinds, " "),
			strings.Join(row.Fields, " "), strings.Join(row.Masked, " "), strings.Join(actors, "; "),
			row.FirstAt.Format(time.RFC3339), row.LastAt.Format(time.RFC3339), strconv.Itoa(row.Count), strings.Join(people, "; ")}
		if r.Named {
			line = slices.Insert(line, 2, row.Name)
		}
		for i := range line {
			line[i] = csvSafe(line[i])
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	if r.Capped {
		if err := cw.Write([]string{"# " + exposureCapMessage(r)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: names and
// user names are typed by people, and "=HYPERLINK(…)" is a name too.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
