package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/store"
	"custos/internal/transfer"
)

// Exports of lists (issue 15 §4): a list — with its own filters, the
// reader's record scope and field rules — written to CSV or XLSX, with a
// visible watermark (who, when, which export) and an invisible
// fingerprint (internal/transfer/watermark.go) that leads any copy or
// excerpt back to the export. Each export is a row of the exports table
// and one "<object>.export" audit event carrying the id of every record in
// the file, written before the first byte leaves, so the exposure report
// answers per export. Above the role's row threshold an export needs the
// bulk-export approval and a fresh second factor; once approved, its file
// is made as the requester, sealed under a data key of its own, and handed
// to the requester alone, once, within ExportDownloadTime; then the key is
// erased.

// Export limits.
const (
	// DefaultExportsPerHour is how many exports (written or asked for) one
	// user may make an hour.
	DefaultExportsPerHour = 20
	// DefaultExportDownloadTime is how long an approved export's file
	// waits for its one download.
	DefaultExportDownloadTime = 24 * time.Hour
	// exportPage is how many records one read of an export's list takes.
	exportPage = 200
	// exportMarkKey names the system key the fingerprint seeds are sealed
	// under.
	exportMarkKey = "export_marks"
	// traceCandidates bounds how many exports a trace compares.
	traceCandidates = 100000
	// traceRequired is the chance of a false lead a trace accepts at most
	// (after allowing for every export compared).
	traceRequired = 1e-6
)

// exportingKey marks a context whose list reads gather an export's rows:
// the list's own audit event is left out, since the export records one
// event with every record's id before the file is handed out.
type exportingKey struct{}

func exporting(ctx context.Context) bool { return ctx.Value(exportingKey{}) != nil }

// ExportFilter is a list's filters as its surface reads them: the paged
// lists' (search, status, owner, customer, stage, custom fields, order),
// the customers' level and pool, the follow-up timeline's record, the task
// list's customer, due time and "all".
type ExportFilter struct {
	crm.ListFilter
	Level     string     `json:"level,omitempty"`
	Pool      bool       `json:"pool,omitempty"`
	Parent    crm.Object `json:"parent,omitempty"`
	ParentID  int64      `json:"parent_id,omitempty"`
	AllTasks  bool       `json:"all,omitempty"`
	DueBefore *time.Time `json:"due_before,omitempty"`
}

// ParseExportFilter reads an export's filters from the query string of
// the list it exports — the same parameters the list takes (customers: q,
// level, status, pool, custom.*, sort; contacts, leads, opportunities: q,
// status, owner_id, customer_id, stage_id, opportunity_id, custom.*,
// sort; department_id and a report drill-down's filters on those that
// take them; follow-ups: customer_id | contact_id | opportunity_id | lead_id;
// tasks: customer_id, all, due_before). Web and API share it.
func ParseExportFilter(o crm.Object, q url.Values) (ExportFilter, error) {
	f := ExportFilter{ListFilter: crm.ListFilter{Query: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Sort: q.Get("sort")},
		Level: q.Get("level"), Pool: q.Get("pool") == "true", AllTasks: q.Get("all") == "true"}
	for k, v := range q {
		if key, ok := strings.CutPrefix(k, "custom."); ok && len(v) > 0 && v[0] != "" {
			if f.Custom == nil {
				f.Custom = map[string]string{}
			}
			f.Custom[key] = v[0]
		}
	}
	var p crm.Problems
	id := func(name string) int64 {
		v := q.Get(name)
		if v == "" {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			p.Add(name, "integer")
		}
		return n
	}
	f.CustomerID, f.OwnerID, f.StageID, f.OpportunityID = id("customer_id"), id("owner_id"), id("stage_id"), id("opportunity_id")
	f.DeptID = id("department_id")
	// A report's drill-down list exports what it shows: its filters too.
	drill, err := crm.ParseDrillFilter(q)
	if err != nil {
		return f, err
	}
	f.Drill = drill
	if o == crm.ObjFollowUp {
		for _, parent := range []struct {
			param string
			o     crm.Object
		}{{"customer_id", crm.ObjCustomer}, {"contact_id", crm.ObjContact}, {"opportunity_id", crm.ObjOpportunity}, {"lead_id", crm.ObjLead}} {
			if n := id(parent.param); n != 0 && f.ParentID == 0 {
				f.Parent, f.ParentID = parent.o, n
			}
		}
	}
	if d := q.Get("due_before"); d != "" {
		t, err := time.Parse(time.RFC3339, d)
		if err != nil {
			p.Add("due_before", "format")
		}
		f.DueBefore = &t
	}
	return f, p.Err()
}

// ExportRequest asks for one list as a file.
type ExportRequest struct {
	Object crm.Object
	Filter ExportFilter
	Format string // csv (default) or xlsx
	Lang   string // the header's language
}

// ExportFile is what Export wrote, or filed for approval (Export.Status
// pending, and the error is the crm.Pending one).
type ExportFile struct {
	Export      crm.Export
	Name        string
	ContentType string
}

// exporter reads every record of one object's list the export asks for.
type exporter func(ctx context.Context, s *Service, a *access.Actor, f ExportFilter) ([]any, []int64, error)

// exporters are the lists that can be exported: each reads through the
// list's own use case (permission, filters, scope, field rules).
var exporters = map[crm.Object]exporter{
	crm.ObjCustomer: func(ctx context.Context, s *Service, a *access.Actor, f ExportFilter) ([]any, []int64, error) {
		return allPages(func(cursor string) (Page[crm.Customer], error) {
			return s.ListCustomers(ctx, a, crm.CustomerFilter{Query: f.Query, Level: f.Level, Status: f.Status, OwnerID: f.OwnerID, DeptID: f.DeptID,
				Pool: f.Pool, Custom: f.Custom, Drill: f.Drill, Sort: f.Sort, Cursor: cursor, Limit: exportPage})
		}, func(c crm.Customer) int64 { return c.ID })
	},
	crm.ObjContact: pagedExporter((*Service).ListContacts, func(c crm.Contact) int64 { return c.ID }),
	crm.ObjLead:    pagedExporter((*Service).ListLeads, func(l crm.Lead) int64 { return l.ID }),
	crm.ObjOpportunity: pagedExporter((*Service).ListOpportunities,
		func(o crm.Opportunity) int64 { return o.ID }),
	crm.ObjFollowUp: func(ctx context.Context, s *Service, a *access.Actor, f ExportFilter) ([]any, []int64, error) {
		if f.Parent == "" || f.ParentID == 0 { // the follow-ups in scope, filtered (a drill-down)
			return pagedExporter((*Service).ListFollowUpsBy, func(x crm.FollowUp) int64 { return x.ID })(ctx, s, a, f)
		}
		return allPages(func(cursor string) (Page[crm.FollowUp], error) {
			return s.ListRecordFollowUps(ctx, a, f.Parent, f.ParentID, cursor, exportPage)
		}, func(x crm.FollowUp) int64 { return x.ID })
	},
	crm.ObjTask: func(ctx context.Context, s *Service, a *access.Actor, f ExportFilter) ([]any, []int64, error) {
		// The task list is not paged: it is the list as shown.
		tasks, err := s.ListTasks(ctx, a, TaskFilter{CustomerID: f.CustomerID, DueBefore: f.DueBefore, All: f.AllTasks, Limit: exportPage})
		out := make([]any, len(tasks))
		for i := range tasks {
			out[i] = tasks[i]
		}
		return out, ids(tasks, func(k crm.Task) int64 { return k.ID }), err
	},
}

// ExportObjects reports whether a list of the object can be exported.
func ExportObjects(o crm.Object) bool { _, ok := exporters[o]; return ok }

func pagedExporter[T any](list func(*Service, context.Context, *access.Actor, crm.ListFilter) (Page[T], error), id func(T) int64) exporter {
	return func(ctx context.Context, s *Service, a *access.Actor, f ExportFilter) ([]any, []int64, error) {
		return allPages(func(cursor string) (Page[T], error) {
			lf := f.ListFilter
			lf.Cursor, lf.Limit = cursor, exportPage
			return list(s, ctx, a, lf)
		}, id)
	}
}

// allPages reads a list page after page; a list longer than
// crm.MaxExportRows is refused rather than cut short.
func allPages[T any](page func(cursor string) (Page[T], error), id func(T) int64) ([]any, []int64, error) {
	var items []any
	var recs []int64
	for cursor := ""; ; {
		p, err := page(cursor)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range p.Items {
			items, recs = append(items, it), append(recs, id(it))
		}
		if len(items) > crm.MaxExportRows {
			return nil, nil, &crm.Error{Code: crm.Invalid, Key: "export_too_large",
				Message: fmt.Sprintf("the list has more than %d rows: narrow the filters", crm.MaxExportRows),
				Fields:  []crm.FieldError{{Field: "filter", Rule: "export_too_large", Param: strconv.Itoa(crm.MaxExportRows)}}}
		}
		if p.Next == "" {
			return items, recs, nil
		}
		cursor = p.Next
	}
}

// mayExport checks the read and export permissions and the format.
func (s *Service) mayExport(ctx context.Context, a *access.Actor, r *ExportRequest) error {
	if _, ok := exporters[r.Object]; !ok {
		return crm.ErrNotFound("export")
	}
	if err := s.require(ctx, a, r.Object, crm.ActRead); err != nil {
		return err
	}
	if !a.Role.Grant(r.Object).Export || a.Kind == access.KindSystem {
		s.auditDenied(ctx, a, string(r.Object)+".export", r.Object, 0)
		return crm.ErrForbidden()
	}
	if r.Format == "" {
		r.Format = FileCSV
	}
	if r.Format != FileCSV && r.Format != FileXLSX {
		return &crm.Error{Code: crm.Invalid, Message: "unknown file format",
			Fields: []crm.FieldError{{Field: "format", Rule: "enum", Param: FileCSV + ", " + FileXLSX}}}
	}
	return nil
}

// checkExportRate refuses an export past the user's hourly allowance.
func (s *Service) checkExportRate(ctx context.Context, a *access.Actor, o crm.Object) error {
	var n int
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.CountExportsSince(ctx, a.UserID, s.clock().Add(-time.Hour))
		return err
	})
	if err != nil || n < s.exportLimit {
		return err
	}
	s.auditDenied(ctx, a, string(o)+".export", o, 0)
	return &crm.Error{Code: crm.RateLimited, Key: "export_limit",
		Message: fmt.Sprintf("at most %d exports an hour; try again later", s.exportLimit)}
}

// Export writes the list the request names to w, or — above the role's
// row threshold while the bulk-export policy is on — files it for approval
// (a fresh second factor first) and returns the crm.Pending error with the
// request's id; the export's id is in the returned Export either way.
func (s *Service) Export(ctx context.Context, a *access.Actor, r ExportRequest, w io.Writer) (ExportFile, error) {
	if err := s.mayExport(ctx, a, &r); err != nil {
		return ExportFile{}, err
	}
	if err := s.checkExportRate(ctx, a, r.Object); err != nil {
		return ExportFile{}, err
	}
	items, recs, err := exporters[r.Object](context.WithValue(ctx, exportingKey{}, true), s, a, r.Filter)
	if err != nil {
		return ExportFile{}, err
	}
	filter := redactedFilter(r.Filter)
	var policy crm.ApprovalPolicy
	var on bool
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		policy, on, err = activePolicy(ctx, tx, crm.ApproveBulkExport)
		return err
	}); err != nil {
		return ExportFile{}, err
	}
	threshold := policy.Threshold
	if own := a.Role.Grant(r.Object).ExportRows; own > 0 {
		threshold = int64(own)
	}
	if on && int64(len(items)) > threshold {
		return s.requestExport(ctx, a, r, filter, len(items))
	}
	seed, sealedSeed, err := s.newExportSeed(ctx)
	if err != nil {
		return ExportFile{}, err
	}
	e := crm.Export{UserID: a.UserID, UserName: a.Name, Object: r.Object, Filter: filter, Format: r.Format, Rows: len(items),
		Seed: sealedSeed, Status: crm.ExportDone, CreatedAt: s.clock()}
	// The event is stored before a byte is written: an export that cannot
	// be recorded is not served.
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertExport(ctx, &e); err != nil {
			return err
		}
		if err := s.auditExportSearch(ctx, tx, a, e, r.Filter.Query); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, s.exportEvent(a, e, recs))
	})
	if err != nil {
		return ExportFile{}, err
	}
	f := ExportFile{Export: e}
	f.Name, f.ContentType, err = s.writeExport(ctx, a, r, e, seed, items, w)
	e.FileName = f.Name
	return f, err
}

// auditExportSearch records an export filtered by a phone, e-mail or
// credit code as the search it also is ("<object>.search.<kind>", the
// kind only): it counts toward the hourly sensitive-search limit like the
// list's search would, and the anomaly rules see it.
func (s *Service) auditExportSearch(ctx context.Context, tx *store.Tx, a *access.Actor, e crm.Export, query string) error {
	action := s.listAction(e.Object, strings.TrimSpace(query))
	if !isSensitiveSearch(action) {
		return nil
	}
	ev := s.event(a, action, e.Object, 0)
	ev.Fields = mustJSON(map[string]any{"export_id": e.ID})
	return s.insertEvent(ctx, tx, ev)
}

// exportEvent is the audit event of an export: every record's id, the
// fields the file showed, its id, format, rows and filters.
func (s *Service) exportEvent(a *access.Actor, e crm.Export, recs []int64) *crm.AuditEvent {
	ev := s.event(a, string(e.Object)+".export", e.Object, 0)
	ev.RecordIDs = recs
	fields := map[string]any{"export_id": e.ID, "format": e.Format, "rows": e.Rows, "filter": json.RawMessage(e.Filter)}
	if crm.RuleFields[e.Object] != nil {
		// As a list's event records them, so the exposure report reads
		// which fields the file held in clear and which masked.
		shown := fieldsFor(a, e.Object, false)
		fields["seen"], fields["masked"] = shown.Seen, shown.Masked
	}
	if e.ApprovalID != 0 {
		fields["approval_id"] = e.ApprovalID
	}
	ev.Fields = mustJSON(fields)
	return ev
}

// requestExport files an export above the threshold for approval.
func (s *Service) requestExport(ctx context.Context, a *access.Actor, r ExportRequest, filter string, rows int) (ExportFile, error) {
	if err := s.requireStepUp(ctx, a, string(r.Object)+".export"); err != nil {
		return ExportFile{}, err
	}
	_, sealedSeed, err := s.newExportSeed(ctx)
	if err != nil {
		return ExportFile{}, err
	}
	query, err := s.sealExportValue(ctx, "export.query", string(mustJSON(r.Filter)))
	if err != nil {
		return ExportFile{}, err
	}
	e := crm.Export{UserID: a.UserID, UserName: a.Name, Object: r.Object, Filter: filter, Query: query, Format: r.Format, Rows: rows,
		Seed: sealedSeed, Status: crm.ExportPending, CreatedAt: s.clock()}
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.InsertExport(ctx, &e) }); err != nil {
		return ExportFile{}, err
	}
	payload := exportPayload{ExportID: e.ID, Lang: r.Lang}
	perr := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		p, _, err := activePolicy(ctx, tx, crm.ApproveBulkExport)
		if err != nil {
			return err
		}
		return needApproval(p, r.Object, 0, 0, payload, fmt.Sprintf("export %d: %d %s rows as %s", e.ID, rows, r.Object, r.Format))
	})
	perr = s.filed(ctx, a, perr)
	var ce *crm.Error
	if errors.As(perr, &ce) && ce.Code == crm.Pending {
		e.ApprovalID = ce.Ref
		if err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetExportApproval(ctx, e.ID, e.ApprovalID); err != nil {
				return err
			}
			return s.audit(ctx, tx, a, string(r.Object)+".export_request", r.Object, 0,
				map[string]any{"export_id": e.ID, "approval_id": e.ApprovalID, "rows": rows, "format": r.Format, "filter": json.RawMessage(filter)})
		}); err != nil {
			return ExportFile{}, err
		}
	}
	return ExportFile{Export: e}, perr
}

// exportPayload is the payload of a bulk-export approval.
type exportPayload struct {
	ExportID int64  `json:"export_id"`
	Lang     string `json:"lang,omitempty"`
}

// carryOutExport makes an approved export's file as its requester (the
// scope and field rules they have now), seals it under a new data key
// and leaves it for their one download.
func (s *Service) carryOutExport(ctx context.Context, a *access.Actor, approvalID int64, p exportPayload) error {
	var e crm.Export
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		e, err = tx.GetExport(ctx, p.ExportID)
		return err
	}); err != nil {
		return err
	}
	if e.UserID != a.UserID || e.ApprovalID != approvalID || e.Status != crm.ExportPending {
		return &crm.Error{Code: crm.Conflict, Key: "export_state", Message: "the export is no longer waiting for approval"}
	}
	query, err := s.openExportValue(ctx, "export.query", e.Query)
	if err != nil {
		return err
	}
	var f ExportFilter
	if err := json.Unmarshal([]byte(query), &f); err != nil {
		return fmt.Errorf("service: export %d filter: %w", e.ID, err)
	}
	r := ExportRequest{Object: e.Object, Filter: f, Format: e.Format, Lang: p.Lang}
	if err := s.mayExport(ctx, a, &r); err != nil {
		return err
	}
	items, recs, err := exporters[r.Object](context.WithValue(ctx, exportingKey{}, true), s, a, f)
	if err != nil {
		return err
	}
	seed, err := s.openExportSeed(ctx, e.Seed)
	if err != nil {
		return err
	}
	e.Rows = len(items)
	var buf bytes.Buffer
	if e.FileName, e.ContentType, err = s.writeExport(ctx, a, r, e, seed, items, &buf); err != nil {
		return err
	}
	if e.DataKey, err = s.newPersonKey(ctx); err != nil {
		return err
	}
	ring, err := s.vault.DataKeys(ctx, []string{e.DataKey})
	if err != nil {
		return err
	}
	if e.File, err = ring.Seal(e.DataKey, "export.file", base64.StdEncoding.EncodeToString(buf.Bytes())); err != nil {
		return err
	}
	now := s.clock()
	expires := now.Add(s.exportTTL)
	e.ReadyAt, e.ExpiresAt = &now, &expires
	// The file is made now, as the requester: the event with its records
	// is the export's, stored with the file.
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.ReadyExport(ctx, &e); err != nil {
			return err
		}
		if err := s.auditExportSearch(ctx, tx, a, e, f.Query); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, s.exportEvent(a, e, recs))
	})
}

// endRequestedExport marks the export an approval request was about as
// rejected, when the request was rejected or could not be carried out.
func (s *Service) endRequestedExport(ctx context.Context, approvalID int64) error {
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		e, err := tx.ExportOfApproval(ctx, approvalID)
		if crm.IsCode(err, crm.NotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.EndExport(ctx, e.ID, crm.ExportRejected, s.clock(), crm.ExportPending)
		return err
	})
}

// DownloadExport hands an approved export's file to its requester, once:
// the first download wins (a conditional write), the file and its key are
// then destroyed. Anyone else, a second download or an expired file gets
// nothing.
func (s *Service) DownloadExport(ctx context.Context, a *access.Actor, id int64, w io.Writer) (ExportFile, error) {
	var e crm.Export
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		e, err = tx.GetExport(ctx, id)
		return err
	})
	if err != nil || e.UserID != a.UserID || a.Kind == access.KindSystem {
		if err == nil {
			s.auditDenied(ctx, a, "export.download", e.Object, 0)
			err = crm.ErrNotFound("export")
		}
		return ExportFile{}, err
	}
	now := s.clock()
	if e.Status == crm.ExportReady && e.ExpiresAt != nil && now.After(*e.ExpiresAt) {
		_ = s.expireExport(ctx, e)
		e.Status = crm.ExportExpired
	}
	if e.Status != crm.ExportReady {
		return ExportFile{Export: e}, &crm.Error{Code: crm.Conflict, Key: "export_gone",
			Message: "the export's file is not available: " + string(e.Status)}
	}
	ring, err := s.vault.DataKeys(ctx, []string{e.DataKey})
	if err != nil {
		return ExportFile{}, err
	}
	plain, err := ring.Open(e.DataKey, "export.file", e.File)
	if err != nil {
		return ExportFile{}, err
	}
	data, err := base64.StdEncoding.DecodeString(plain)
	if err != nil {
		return ExportFile{}, fmt.Errorf("service: export %d file: %w", id, err)
	}
	var won bool
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		if won, err = tx.EndExport(ctx, id, crm.ExportDownloaded, now, crm.ExportReady); err != nil || !won {
			return err
		}
		return s.audit(ctx, tx, a, string(e.Object)+".export_download", e.Object, 0, map[string]any{"export_id": id})
	})
	if err != nil {
		return ExportFile{}, err
	}
	if !won {
		return ExportFile{Export: e}, &crm.Error{Code: crm.Conflict, Key: "export_gone", Message: "the export's file was downloaded already"}
	}
	if err := s.vault.EraseKeys(ctx, []string{e.DataKey}); err != nil {
		s.logger.Error("erase export key", "export_id", id, "err", err)
	}
	e.Status, e.DownloadedAt = crm.ExportDownloaded, &now
	if _, err := w.Write(data); err != nil {
		return ExportFile{}, err
	}
	return ExportFile{Export: e, Name: e.FileName, ContentType: e.ContentType}, nil
}

// expireExport ends an approved export whose download time ran out and
// erases its key.
func (s *Service) expireExport(ctx context.Context, e crm.Export) error {
	moved := false
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		moved, err = tx.EndExport(ctx, e.ID, crm.ExportExpired, s.clock(), crm.ExportReady)
		return err
	})
	if err == nil && moved && e.DataKey != "" {
		err = s.vault.EraseKeys(ctx, []string{e.DataKey})
	}
	return err
}

// ExpireExports ends every approved export whose download time ran out
// (serve's hourly maintenance); it returns how many.
func (s *Service) ExpireExports(ctx context.Context) (int, error) {
	var list []crm.Export
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		list, err = tx.ExpiredExports(ctx, s.clock(), 500)
		return err
	}); err != nil {
		return 0, err
	}
	for _, e := range list {
		if err := s.expireExport(ctx, e); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

// ListExports returns the export log, newest first (administrators and
// auditors: everyone's; anyone else: their own), before the id before.
func (s *Service) ListExports(ctx context.Context, a *access.Actor, before int64, limit int) ([]crm.Export, error) {
	user := a.UserID
	if a.IsAdmin() || a.Role.Audit {
		user = 0
	}
	if limit <= 0 || limit > 200 {
		limit = 100
	}
	var out []crm.Export
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ListExports(ctx, user, before, limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, s.auditRead(ctx, a, "export.list", "", 0, nil)
}

// redactedFilter is a filter as the log and the audit trail keep it: the
// search text and custom values (a phone, an e-mail, a name) replaced by
// "***", never stored in clear.
func redactedFilter(f ExportFilter) string {
	if f.Query != "" {
		f.Query = "***"
	}
	if len(f.Custom) > 0 {
		custom := make(map[string]string, len(f.Custom))
		for k := range f.Custom {
			custom[k] = "***"
		}
		f.Custom = custom
	}
	return string(mustJSON(f))
}

// sealExportValue seals a value of an export (its fingerprint seed, its
// whole filter) under the exports' system key.
func (s *Service) sealExportValue(ctx context.Context, field, plain string) (string, error) {
	keyID, err := s.vault.SystemKey(ctx, exportMarkKey)
	if err != nil {
		return "", err
	}
	return s.vault.Seal(ctx, keyID, field, plain)
}

func (s *Service) openExportValue(ctx context.Context, field, sealed string) (string, error) {
	keyID, err := s.vault.SystemKey(ctx, exportMarkKey)
	if err != nil {
		return "", err
	}
	return s.vault.Open(ctx, keyID, field, sealed)
}

// newExportSeed makes an export's fingerprint key and its sealed form.
func (s *Service) newExportSeed(ctx context.Context) ([]byte, string, error) {
	seed := make([]byte, 32)
	if _, err := rand.Read(seed); err != nil {
		return nil, "", err
	}
	sealed, err := s.sealExportValue(ctx, "export.seed", base64.StdEncoding.EncodeToString(seed))
	return seed, sealed, err
}

func (s *Service) openExportSeed(ctx context.Context, sealed string) ([]byte, error) {
	plain, err := s.openExportValue(ctx, "export.seed", sealed)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(plain)
}

// writeExport writes the records as the file: the header in the
// language, a row per record with every cell marked by the export's
// fingerprint, and the visible watermark as the last line (and, in XLSX,
// the document properties).
func (s *Service) writeExport(ctx context.Context, a *access.Actor, r ExportRequest, e crm.Export, seed []byte, items []any, w io.Writer) (string, string, error) {
	lang := i18n.Pick(r.Lang, "")
	cols, err := s.exportColumns(ctx, a, r.Object, lang)
	if err != nil {
		return "", "", err
	}
	wr, f, err := newFileWriter(w, r.Format, "export")
	if err != nil {
		return "", "", err
	}
	name := fmt.Sprintf("custos-%s-export-%d%s", r.Object, e.ID, f.Name)
	stamp := exportStamp(e)
	if err := setExportProps(wr, e); err != nil {
		return "", "", err
	}
	fp := transfer.NewFingerprint(seed)
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = fp.Mark(c.label)
	}
	if err := wr.WriteRow(header); err != nil {
		return "", "", err
	}
	row := make([]string, len(cols))
	for _, it := range items {
		values, err := recordValues(it)
		if err != nil {
			return "", "", err
		}
		for i, c := range cols {
			row[i] = fp.Mark(c.cell(values))
		}
		if err := wr.WriteRow(row); err != nil {
			return "", "", err
		}
	}
	if err := wr.WriteRow([]string{stamp}); err != nil {
		return "", "", err
	}
	return name, f.ContentType, wr.Close()
}

// setExportProps puts the visible watermark in an XLSX file's document
// properties (File → Info): the export id, who, when.
func setExportProps(wr transfer.Writer, e crm.Export) error {
	return transfer.SetDocProps(wr, transfer.DocProps{Title: fmt.Sprintf("Custos export #%d", e.ID), Subject: string(e.Object),
		Creator: e.UserName, Description: exportStamp(e), Keywords: fmt.Sprintf("custos-export-%d", e.ID),
		Created: e.CreatedAt.Format(time.RFC3339)})
}

// exportStamp is the visible watermark: export id, who, when.
func exportStamp(e crm.Export) string {
	return fmt.Sprintf("Custos export #%d · %s (user %d) · %s · confidential / 机密", e.ID, e.UserName, e.UserID,
		e.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
}

// exportColumn is one column of an export: its header and how a record's
// JSON form gives its cell.
type exportColumn struct {
	label string
	cell  func(map[string]any) string
}

// exportColumns are the columns of an object's export for the reader: the
// id, every exportable field of the registry and every active custom
// field the reader may see (a hidden one is absent, not empty), and the
// owner. Masked values come masked from the list's shaping.
func (s *Service) exportColumns(ctx context.Context, a *access.Actor, o crm.Object, lang string) ([]exportColumn, error) {
	spec, _ := crm.Spec(o)
	var customs []crm.CustomField
	if spec.Custom {
		var err error
		if customs, err = s.CustomFields(ctx, a, o); err != nil {
			return nil, err
		}
	}
	cols := []exportColumn{{label: i18n.T(lang, "field.id"), cell: jsonCell("id", "")}}
	for _, f := range spec.Fields {
		if !f.Exportable || (f.RuleField && a.Field(o, f.Name) == crm.FieldHidden) {
			continue
		}
		cols = append(cols, exportColumn{label: i18n.T(lang, f.Label), cell: jsonCell(f.Name, f.Type)})
	}
	for _, c := range customs {
		if !c.Active || a.Field(o, "custom."+c.Key) == crm.FieldHidden {
			continue
		}
		key := c.Key
		cols = append(cols, exportColumn{label: c.LabelFor(lang), cell: func(m map[string]any) string {
			custom, _ := m["custom"].(map[string]any)
			return cellText(custom[key], "")
		}})
	}
	return append(cols, exportColumn{label: i18n.T(lang, "field.owner"), cell: jsonCell("owner_name", "")}), nil
}

func jsonCell(name string, t crm.FieldType) func(map[string]any) string {
	return func(m map[string]any) string { return cellText(m[name], t) }
}

// recordValues is a record's JSON form, numbers kept exact.
func recordValues(rec any) (map[string]any, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	return m, d.Decode(&m)
}

// majorUnits writes an amount stored in hundredths as a decimal in major
// units ("1234.50"), as the importer's parseMoney reads it back.
func majorUnits(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	return fmt.Sprintf("%s%d.%02d", sign, n/100, n%100)
}

// cellText writes a value as a spreadsheet cell: money in major units
// (the importer reads it back), lists joined, times as stored (RFC 3339).
func cellText(v any, t crm.FieldType) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		if n, err := x.Int64(); err == nil && t == crm.TypeMoney {
			return majorUnits(n)
		}
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = cellText(p, "")
		}
		return strings.Join(parts, ", ")
	}
	return string(mustJSON(v))
}

// Trace reads a file — a whole export, an excerpt, a copy saved again by a
// spreadsheet — and names the export whose fingerprint it carries, with
// how sure that is; a file no export's fingerprint matches is "no match"
// (administrators; the trace is audited).
func (s *Service) Trace(ctx context.Context, a *access.Actor, file io.ReaderAt, size int64, name string) (crm.TraceResult, error) {
	var out crm.TraceResult
	if err := s.requireAdmin(ctx, a, "export.trace"); err != nil {
		return out, err
	}
	marks := transfer.NewMarks()
	if err := transfer.EachRow(file, size, name, marks.Observe); err != nil {
		return out, err
	}
	out.Marks, out.Claimed = marks.Positions(), marks.Claimed
	if marks.Marked() {
		var list []crm.Export
		if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
			var err error
			list, err = tx.ExportSeeds(ctx, traceCandidates)
			return err
		}); err != nil {
			return out, err
		}
		out.Tried = len(list)
		best, bestAgree, bestN := -1, -1, 0
		for i, e := range list {
			seed, err := s.openExportSeed(ctx, e.Seed)
			if err != nil {
				return out, err
			}
			n, agree := transfer.NewFingerprint(seed).Score(marks)
			if agree > bestAgree {
				best, bestAgree, bestN = i, agree, n
			}
		}
		if best >= 0 {
			chance := transfer.ChanceAgreement(bestN, bestAgree) * float64(len(list))
			out.Agree, out.Confidence, out.Chance = bestAgree, max(0, 1-chance), min(1, chance)
			if chance <= traceRequired {
				e := list[best]
				out.Match, out.ExportID, out.UserID, out.UserName, out.Object, out.At, out.Rows =
					true, e.ID, e.UserID, e.UserName, e.Object, e.CreatedAt, e.Rows
			}
		}
	}
	if !out.Match {
		out.Agree, out.Confidence, out.Chance = 0, 0, 1
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		return s.audit(ctx, tx, a, "export.trace", "", 0, map[string]any{"file": name, "match": out.Match,
			"export_id": out.ExportID, "confidence": out.Confidence, "marks": out.Marks})
	})
	return out, err
}
