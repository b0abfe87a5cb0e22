package service

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Access and portability (GDPR Art. 15 and 20, PIPL Art. 45): everything
// Custos holds about one person, machine-readable. A privacy officer reads
// it whoever owns the records — the person is entitled to all of it — and
// sees the values in clear: the records are opened through the same
// decryption as every read, but no field rule masks them.

// PersonExport is everything held about one person: their contacts and
// leads (those in the recycle bin too), the follow-ups about them, the
// opportunities their converted leads became and those opportunities'
// tasks, their consents, the privacy requests they made, a legal hold, and
// who accessed or changed their records (the audit trail of each record).
type PersonExport struct {
	GeneratedAt   time.Time            `json:"generated_at"`
	Object        crm.Object           `json:"object"`
	RecordID      int64                `json:"record_id"`
	Erased        bool                 `json:"erased"`
	LegalHold     *crm.LegalHold       `json:"legal_hold,omitempty"`
	Contacts      []crm.Contact        `json:"contacts"`
	Leads         []crm.Lead           `json:"leads"`
	FollowUps     []crm.FollowUp       `json:"follow_ups"`
	Opportunities []crm.Opportunity    `json:"opportunities"`
	Tasks         []crm.Task           `json:"tasks"`
	Consents      []crm.Consent        `json:"consents"`
	Requests      []crm.PrivacyRequest `json:"privacy_requests"`
	Access        []AccessEntry        `json:"access_log"`
	// AccessTruncated says the access log stopped at MaxAccessEntries.
	AccessTruncated bool `json:"access_log_truncated,omitempty"`
}

// AccessEntry is one event of the audit trail about one of the person's
// records: who (a user, an API token's owner or a system job), what, when,
// and which fields (sensitive ones by reference only, never their values).
type AccessEntry struct {
	At        time.Time       `json:"at"`
	ActorKind string          `json:"actor_kind"`
	ActorName string          `json:"actor_name"`
	Action    string          `json:"action"`
	Object    string          `json:"object"`
	RecordID  int64           `json:"record_id"`
	Fields    json.RawMessage `json:"fields,omitempty"`
	Outcome   string          `json:"outcome"`
}

// MaxAccessEntries bounds the access log of one export.
const MaxAccessEntries = 20000

// The export formats.
const (
	ExportJSON = "json"
	ExportCSV  = "csv"
)

// ExportPerson returns everything held about the person behind a contact
// or lead (privacy officers), for the format the caller will write; the
// export is audited, with the records it covers, before it is returned.
func (s *Service) ExportPerson(ctx context.Context, a *access.Actor, o crm.Object, id int64, format string) (PersonExport, error) {
	if format != ExportJSON && format != ExportCSV {
		return PersonExport{}, crm.Problems{{Field: "format", Rule: "enum", Param: "json, csv"}}.Err()
	}
	return s.personData(ctx, a, o, id, "privacy.export", map[string]any{"format": format})
}

// PersonPrivacy is ExportPerson for the privacy officer's page about the
// person: the same content, audited as a view.
func (s *Service) PersonPrivacy(ctx context.Context, a *access.Actor, o crm.Object, id int64) (PersonExport, error) {
	return s.personData(ctx, a, o, id, "privacy.view", map[string]any{})
}

func (s *Service) personData(ctx context.Context, a *access.Actor, o crm.Object, id int64, action string, fields map[string]any) (PersonExport, error) {
	if err := s.requirePrivacy(ctx, a, action); err != nil {
		return PersonExport{}, err
	}
	e := PersonExport{GeneratedAt: s.clock(), Object: o, RecordID: id}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		key, err := personKey(ctx, tx, o, id)
		if err != nil {
			return err
		}
		return s.readPerson(ctx, tx, key, &e)
	})
	if err != nil {
		return PersonExport{}, err
	}
	if err := openRecords(ctx, s, e.Contacts); err != nil {
		return PersonExport{}, err
	}
	if err := openRecords(ctx, s, e.Leads); err != nil {
		return PersonExport{}, err
	}
	if err := openRecords(ctx, s, e.Opportunities); err != nil {
		return PersonExport{}, err
	}
	if err := openRecords(ctx, s, e.FollowUps); err != nil {
		return PersonExport{}, err
	}
	if err := s.openRequests(ctx, e.Requests, e.GeneratedAt); err != nil {
		return PersonExport{}, err
	}
	var records []string
	shown := map[crm.Object][]int64{}
	for _, t := range e.Contacts {
		e.Erased = e.Erased || t.Erased
		records = append(records, fmt.Sprintf("contact:%d", t.ID))
		shown[crm.ObjContact] = append(shown[crm.ObjContact], t.ID)
	}
	for _, l := range e.Leads {
		e.Erased = e.Erased || l.Erased
		records = append(records, fmt.Sprintf("lead:%d", l.ID))
		shown[crm.ObjLead] = append(shown[crm.ObjLead], l.ID)
	}
	fields["records"] = records
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return s.auditPersonRead(ctx, tx, a, action, shown, fields) }); err != nil {
		return PersonExport{}, err
	}
	return e, nil
}

// auditPersonRead records a read of a person's records: one event per
// record (a lead and the contact it became), so each record's history, the
// person's access log and the exposure report see every record it showed.
func (s *Service) auditPersonRead(ctx context.Context, tx *store.Tx, a *access.Actor, action string,
	shown map[crm.Object][]int64, fields map[string]any) error {
	for _, o := range []crm.Object{crm.ObjContact, crm.ObjLead} {
		for _, id := range shown[o] {
			if err := s.audit(ctx, tx, a, action, o, id, fields); err != nil {
				return err
			}
		}
	}
	return nil
}

// readPerson reads everything held about the person with the key.
func (s *Service) readPerson(ctx context.Context, tx *store.Tx, key string, e *PersonExport) error {
	var err error
	if e.Contacts, err = tx.PersonContacts(ctx, key); err != nil {
		return err
	}
	if e.Leads, err = tx.PersonLeads(ctx, key); err != nil {
		return err
	}
	var contactIDs, leadIDs, oppIDs []int64
	for _, t := range e.Contacts {
		contactIDs = append(contactIDs, t.ID)
	}
	for _, l := range e.Leads {
		leadIDs = append(leadIDs, l.ID)
		if l.OpportunityID != 0 {
			oppIDs = append(oppIDs, l.OpportunityID)
		}
	}
	if e.FollowUps, err = tx.FollowUpsAbout(ctx, contactIDs, leadIDs); err != nil {
		return err
	}
	if e.Opportunities, err = tx.OpportunitiesByID(ctx, oppIDs); err != nil {
		return err
	}
	if e.Tasks, err = tx.TasksOfOpportunities(ctx, oppIDs); err != nil {
		return err
	}
	if e.Consents, err = tx.PersonConsents(ctx, key); err != nil {
		return err
	}
	if e.Requests, err = tx.ListPrivacyRequests(ctx, store.PrivacyRequestFilter{PersonKey: key, Limit: 500}); err != nil {
		return err
	}
	if h, held, err := tx.GetLegalHold(ctx, key); err != nil {
		return err
	} else if held {
		e.LegalHold = &h
	}
	refs := make([]crm.PersonRef, 0, len(contactIDs)+len(leadIDs))
	for _, id := range contactIDs {
		refs = append(refs, crm.PersonRef{Object: crm.ObjContact, ID: id})
	}
	for _, id := range leadIDs {
		refs = append(refs, crm.PersonRef{Object: crm.ObjLead, ID: id})
	}
	if err := readAccessLog(ctx, tx, refs, e); err != nil {
		return err
	}
	emptyNotNil(e)
	return nil
}

// readAccessLog collects the audit events of each record, oldest first,
// up to MaxAccessEntries.
func readAccessLog(ctx context.Context, tx *store.Tx, refs []crm.PersonRef, e *PersonExport) error {
	for _, r := range refs {
		f := store.AuditFilter{Object: string(r.Object), RecordID: r.ID, Limit: 500}
		for {
			page, err := tx.ListAuditEvents(ctx, f)
			if err != nil {
				return err
			}
			for _, ev := range page {
				if len(e.Access) == MaxAccessEntries {
					e.AccessTruncated = true
					break
				}
				e.Access = append(e.Access, AccessEntry{At: ev.At, ActorKind: ev.ActorKind, ActorName: ev.ActorName, Action: ev.Action,
					Object: ev.Object, RecordID: ev.RecordID, Fields: ev.Fields, Outcome: ev.Outcome})
			}
			if len(page) < f.Limit || e.AccessTruncated {
				break
			}
			f.BeforeID = page[len(page)-1].ID
		}
	}
	slices.SortStableFunc(e.Access, func(x, y AccessEntry) int { return x.At.Compare(y.At) })
	return nil
}

// emptyNotNil makes every section a list, so the JSON has [] rather than
// null for what is not held.
func emptyNotNil(e *PersonExport) {
	if e.Contacts == nil {
		e.Contacts = []crm.Contact{}
	}
	if e.Leads == nil {
		e.Leads = []crm.Lead{}
	}
	if e.FollowUps == nil {
		e.FollowUps = []crm.FollowUp{}
	}
	if e.Opportunities == nil {
		e.Opportunities = []crm.Opportunity{}
	}
	if e.Tasks == nil {
		e.Tasks = []crm.Task{}
	}
	if e.Consents == nil {
		e.Consents = []crm.Consent{}
	}
	if e.Requests == nil {
		e.Requests = []crm.PrivacyRequest{}
	}
	if e.Access == nil {
		e.Access = []AccessEntry{}
	}
}

// WriteCSVZip writes the export as a zip archive of one CSV file per
// section (contacts.csv, leads.csv, follow_ups.csv, opportunities.csv,
// tasks.csv, consents.csv, privacy_requests.csv, access_log.csv and
// summary.csv). Each file has a header row of the fields' JSON names;
// nested values are flattened ("custom.industry"), lists are JSON text,
// and a cell a spreadsheet would run as a formula is prefixed with an
// apostrophe.
func (e PersonExport) WriteCSVZip(w io.Writer) error {
	z := zip.NewWriter(w)
	summary := [][]string{{"field", "value"}, {"generated_at", e.GeneratedAt.Format(time.RFC3339)},
		{"object", string(e.Object)}, {"record_id", fmt.Sprint(e.RecordID)}, {"erased", fmt.Sprint(e.Erased)}}
	if e.LegalHold != nil {
		summary = append(summary, []string{"legal_hold", e.LegalHold.Reason}, []string{"legal_hold_set_at", e.LegalHold.SetAt.Format(time.RFC3339)})
	}
	if e.AccessTruncated {
		summary = append(summary, []string{"access_log_truncated", "true"})
	}
	sections := []struct {
		name  string
		items any
	}{{"contacts", e.Contacts}, {"leads", e.Leads}, {"follow_ups", e.FollowUps}, {"opportunities", e.Opportunities},
		{"tasks", e.Tasks}, {"consents", e.Consents}, {"privacy_requests", e.Requests}, {"access_log", e.Access}}
	if err := writeCSV(z, "summary.csv", summary); err != nil {
		return err
	}
	for _, sec := range sections {
		rows, err := csvRows(sec.items)
		if err != nil {
			return err
		}
		if err := writeCSV(z, sec.name+".csv", rows); err != nil {
			return err
		}
	}
	return z.Close()
}

func writeCSV(z *zip.Writer, name string, rows [][]string) error {
	f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()})
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	for _, r := range rows {
		for i, cell := range r {
			r[i] = spreadsheetSafe(cell)
		}
	}
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("service: write %s: %w", name, err)
	}
	return nil
}

// csvRows flattens a list of records into a header and rows, by their JSON
// form: the columns are every field any record has, "id" first.
func csvRows(items any) ([][]string, error) {
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, err
	}
	flat := make([]map[string]string, len(list))
	cols := map[string]bool{}
	for i, m := range list {
		flat[i] = map[string]string{}
		flatten("", m, flat[i])
		for k := range flat[i] {
			cols[k] = true
		}
	}
	header := make([]string, 0, len(cols))
	for k := range cols {
		header = append(header, k)
	}
	slices.SortFunc(header, func(x, y string) int {
		switch {
		case x == y:
			return 0
		case x == "id":
			return -1
		case y == "id":
			return 1
		}
		return strings.Compare(x, y)
	})
	rows := [][]string{header}
	for _, m := range flat {
		row := make([]string, len(header))
		for i, k := range header {
			row[i] = m[k]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// flatten writes a JSON object's values as text under dotted keys.
func flatten(prefix string, m map[string]any, out map[string]string) {
	for k, v := range m {
		key := prefix + k
		switch x := v.(type) {
		case map[string]any:
			flatten(key+".", x, out)
		case string:
			out[key] = x
		case nil:
			out[key] = ""
		default:
			b, _ := json.Marshal(x)
			out[key] = string(b)
		}
	}
}

// spreadsheetSafe keeps a spreadsheet from running a cell as a formula
// (CSV injection): text starting with = + - @ or a tab or carriage return
// gets a leading apostrophe. Numbers stay as they are.
func spreadsheetSafe(s string) string {
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := json.Number(s).Float64(); err == nil {
		return s
	}
	return "'" + s
}
