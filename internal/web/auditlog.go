package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// The audit trail page (administrators and auditors) and the history of
// one record (anyone who may see it).

// AuditView is the trail page or a record's history.
type AuditView struct {
	Page
	Events  []EventRow
	NextURL string
	// Filters (trail page only).
	Users    []Option
	Objects  []Option
	Outcomes []Option
	Query    url.Values
	Record   string // the record's page, on a history page
	// ArchivedThrough is the time of the newest event moved out of the
	// database into archive segments (nil: none were).
	ArchivedThrough *time.Time
}

// EventRow is one event as the table shows it.
type EventRow struct {
	crm.AuditEvent
	Changes string // the changed fields, compact JSON
}

func eventRows(events []crm.AuditEvent) []EventRow {
	out := make([]EventRow, len(events))
	for i, e := range events {
		out[i] = EventRow{AuditEvent: e}
		if len(e.Fields) > 0 {
			var v any
			if json.Unmarshal(e.Fields, &v) == nil {
				b, _ := json.Marshal(v)
				out[i].Changes = string(b)
			}
		}
	}
	return out
}

func (s *Server) auditTrail(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v := r.URL.Query()
	q := service.AuditQuery{Object: crm.Object(v.Get("object")), Action: v.Get("action"), Outcome: v.Get("outcome")}
	q.ActorID, _ = strconv.ParseInt(v.Get("actor_id"), 10, 64)
	q.RecordID, _ = strconv.ParseInt(v.Get("record_id"), 10, 64)
	q.Before, _ = strconv.ParseInt(v.Get("before"), 10, 64)
	p := s.page(r, a, "audit.title", "audit")
	loc := p.Location()
	if d, err := time.ParseInLocation(time.DateOnly, v.Get("since"), loc); err == nil {
		q.Since = d
	}
	if d, err := time.ParseInLocation(time.DateOnly, v.Get("until"), loc); err == nil {
		q.Until = d.AddDate(0, 0, 1)
	}
	page, err := s.svc.AuditTrail(r.Context(), a, q)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	dir, err := s.svc.Directory(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	view := AuditView{Page: p, Events: eventRows(page.Items), Query: v, ArchivedThrough: page.ArchivedThrough}
	view.Users = idOptions(dir.Users, userID, userLabel, q.ActorID, "—")
	objects := make([]string, len(crm.Objects))
	for i, o := range crm.Objects {
		objects[i] = string(o)
	}
	view.Objects = append([]Option{{Value: "", Label: "—", Selected: q.Object == ""}}, objectOptions(p, objects, string(q.Object))...)
	view.Outcomes = []Option{{Value: "", Label: "—"}, {Value: "ok", Label: "ok", Selected: q.Outcome == "ok"},
		{Value: "denied", Label: "denied", Selected: q.Outcome == "denied"}}
	if page.Next != 0 {
		next := url.Values{}
		for k, vals := range v {
			next[k] = slices.Clone(vals)
		}
		next.Set("before", strconv.FormatInt(page.Next, 10))
		view.NextURL = "/audit?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", view)
}

func objectOptions(p Page, objects []string, selected string) []Option {
	out := make([]Option, len(objects))
	for i, o := range objects {
		out[i] = Option{Value: o, Label: p.T("object." + o), Selected: o == selected}
	}
	return out
}

// recordHistory serves GET /history/{object}/{id}.
func (s *Server) recordHistory(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o := crm.Object(r.PathValue("object"))
	id, ok := pathID(r)
	if !ok || !slices.Contains(revealableObjects, o) {
		s.notFound(w, r, a)
		return
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	page, err := s.svc.RecordHistory(r.Context(), a, o, id, before)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	rec := "/" + collectionPath(o) + "/" + strconv.FormatInt(id, 10)
	view := AuditView{Page: s.page(r, a, "audit.history", string(o)), Events: eventRows(page.Items), Record: rec,
		ArchivedThrough: page.ArchivedThrough}
	if page.Next != 0 {
		view.NextURL = "/history/" + string(o) + "/" + strconv.FormatInt(id, 10) + "?before=" + strconv.FormatInt(page.Next, 10)
	}
	s.render(w, r, http.StatusOK, "audit", view)
}
