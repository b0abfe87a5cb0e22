package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/i18n"
	"custos/internal/service"
)

// The duplicate review (issue 14 §3): per object the latest scan's pairs
// and clusters among the records the user may see, a "scan now" for
// administrators, "not a duplicate", the comparison of two records with a
// choice per field, the merge, and the merge history with undo. Every
// call goes through the service, which scopes, shapes and audits.

// DupTab is one object's tab of the duplicate pages.
type DupTab struct {
	Object crm.Object
	Key    string // the object's path segment
	Label  string
	Active bool
}

// dupTabs are the tabs of the objects the finder scans that the user may
// read, the active one marked.
func dupTabs(p Page, active crm.Object) []DupTab {
	var out []DupTab
	for _, o := range service.DuplicateObjects {
		if !p.Actor.Can(o, crm.ActRead) {
			continue
		}
		s, _ := crm.Spec(o)
		out = append(out, DupTab{Object: o, Key: s.Path, Label: p.T(s.Label), Active: o == active})
	}
	return out
}

// CanReviewDuplicates reports whether the navigation shows the duplicate
// review: the user reads one of the objects the finder scans.
func (p Page) CanReviewDuplicates() bool {
	return slices.ContainsFunc(service.DuplicateObjects, func(o crm.Object) bool { return p.Actor.Can(o, crm.ActRead) })
}

// dupHandler is a handler of one object's duplicate pages.
type dupHandler func(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, key string)

// onDupObject reads the {object} segment — the path of an object the
// finder scans (anything else is no page) — and hands it to h.
func (s *Server) onDupObject(h dupHandler) handler {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		key := r.PathValue("object")
		for _, o := range service.DuplicateObjects {
			if spec, _ := crm.Spec(o); spec.Path == key {
				h(w, r, a, o, key)
				return
			}
		}
		s.notFound(w, r, a)
	}
}

// recordLink is the page of a record.
func recordLink(o crm.Object, id int64) string {
	return "/" + collectionPath(o) + "/" + strconv.FormatInt(id, 10)
}

// DuplicatesView is the list of one object's candidate pairs.
type DuplicatesView struct {
	Page
	Tabs      []DupTab
	Key       string
	Scan      *crm.DupScan // nil: never scanned
	ScanLine  string
	Pairs     []DupPairView
	Clusters  [][]DupMember
	NextURL   string
	Dismissed bool
	// ScanRequested: an administrator just asked for a scan.
	ScanRequested bool
}

// DupPairView is one pair as a row: both records linked, and the links to
// compare them.
type DupPairView struct {
	service.DuplicatePair
	Score        string
	LinkA, LinkB string
	CompareURL   string
}

// DupMember is one record of a cluster.
type DupMember struct {
	Title, Link string
}

// duplicatesHome serves GET /duplicates: the first object's pairs the
// user may read.
func (s *Server) duplicatesHome(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	tabs := dupTabs(s.page(r, a, "dup.title", "duplicates"), "")
	if len(tabs) == 0 {
		s.fail(w, r, a, crm.ErrForbidden())
		return
	}
	redirect(w, r, "/duplicates/"+tabs[0].Key)
}

// duplicates serves GET /duplicates/{object}?after=<cursor>: a page of
// pairs, the groups among them, and what the latest scan did.
func (s *Server) duplicates(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, key string) {
	q := r.URL.Query()
	f := service.DuplicateFilter{Limit: dupPageSize}
	after, err := crm.ParseDupCursor(q.Get("after"))
	f.After = after
	var page service.DuplicatePage
	if err == nil {
		page, err = s.svc.DuplicatePairs(r.Context(), a, o, f)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := DuplicatesView{Page: s.page(r, a, "dup.title", "duplicates"), Key: key, Dismissed: q.Has("dismissed"),
		ScanRequested: q.Get("scan") == "requested"}
	v.Tabs = dupTabs(v.Page, o)
	if page.Scan.ID != 0 {
		v.Scan = &page.Scan
		v.ScanLine = scanLine(v.Page, page.Scan)
	}
	titles := map[int64]string{}
	for _, p := range page.Pairs {
		titles[p.IDA], titles[p.IDB] = p.TitleA, p.TitleB
		compare := url.Values{"survivor": {strconv.FormatInt(p.IDA, 10)}, "merged": {strconv.FormatInt(p.IDB, 10)}}
		v.Pairs = append(v.Pairs, DupPairView{DuplicatePair: p, Score: strconv.FormatFloat(p.Score, 'f', 2, 64),
			LinkA: recordLink(o, p.IDA), LinkB: recordLink(o, p.IDB), CompareURL: "/duplicates/" + key + "/compare?" + compare.Encode()})
	}
	// A cluster of two is its pair; groups of three or more say which
	// records are one and the same.
	for _, c := range page.Clusters {
		if len(c) < 3 {
			continue
		}
		var g []DupMember
		for _, id := range c {
			g = append(g, DupMember{Title: titles[id], Link: recordLink(o, id)})
		}
		v.Clusters = append(v.Clusters, g)
	}
	if n := len(page.Pairs); n == dupPageSize {
		v.NextURL = "/duplicates/" + key + "?" + url.Values{"after": {page.Pairs[n-1].Cursor()}}.Encode()
	}
	s.render(w, r, http.StatusOK, "duplicates", v)
}

// dupPageSize is the pairs a page shows.
const dupPageSize = 50

// scanLine says what the latest scan did.
func scanLine(p Page, sc crm.DupScan) string {
	if sc.Status == crm.DupScanFailed {
		return p.Tf("dup.scan_failed", p.Date(sc.StartedAt))
	}
	return p.Tf("dup.last_scan", p.Date(sc.StartedAt), sc.Records, sc.Candidates, sc.Pairs,
		strconv.FormatFloat(sc.Threshold, 'f', -1, 64))
}

// scanDuplicates serves POST /duplicates/{object}/scan (administrators):
// asks for a scan, which the background job starts within a minute; the
// list says so, and shows the latest scan's counts once it has run.
func (s *Server) scanDuplicates(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, key string) {
	if err := s.svc.RequestDuplicateScan(r.Context(), a, o); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/duplicates/"+key+"?scan=requested")
}

// dismissDuplicate serves POST /duplicates/{object}/dismiss (id_a, id_b).
func (s *Server) dismissDuplicate(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, key string) {
	var p crm.Problems
	idA, idB := formID(r, &p, "id_a"), formID(r, &p, "id_b")
	err := p.Err()
	if err == nil {
		err = s.svc.DismissDuplicatePair(r.Context(), a, o, idA, idB)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/duplicates/"+key+"?dismissed=1")
}

// formID reads a positive id from a form field or the query, naming it
// when it is missing or malformed.
func formID(r *http.Request, p *crm.Problems, name string) int64 {
	raw := strings.TrimSpace(r.FormValue(name))
	id, err := strconv.ParseInt(raw, 10, 64)
	switch {
	case raw == "":
		p.Add(name, "required")
	case err != nil || id <= 0:
		p.Add(name, "number")
	}
	return id
}

// CompareView is the comparison of two records before a merge: their
// fields side by side, a choice per field that differs and the user may
// change, and the rows that would move.
type CompareView struct {
	Page
	Tabs                           []DupTab
	Key                            string
	SurvivorID, MergedID           int64
	SurvivorVersion, MergedVersion int64
	SurvivorTitle, MergedTitle     string
	SurvivorLink, MergedLink       string
	SwapURL                        string
	Rows                           []CompareRow
	Moves                          []MoveRow
	Errors                         FormErrors
}

// CompareRow is one field of the comparison. Input is the radio group's
// name when the user chooses (Choosable), KeepMerged the choice shown.
type CompareRow struct {
	Name, Label, Input string
	Survivor, Merged   string
	Differs, Choosable bool
	KeepMerged         bool
}

// MoveRow is one kind of linked row and how many would move.
type MoveRow struct {
	Label string
	Count int
}

// keepInput is the radio group of a field's choice.
func keepInput(field string) string { return "keep." + field }

// compareDuplicates serves GET /duplicates/{object}/compare?survivor=&merged=.
func (s *Server) compareDuplicates(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, key string) {
	var p crm.Problems
	survivor, merged := formID(r, &p, "survivor"), formID(r, &p, "merged")
	if err := p.Err(); err != nil {
		s.fail(w, r, a, err)
		return
	}
	v, err := s.comparePage(r, a, o, key, survivor, merged, nil)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "compare", v)
}

// comparePage builds the comparison; choices (a refused merge's form)
// replace the defaults the service proposes.
func (s *Server) comparePage(r *http.Request, a *access.Actor, o crm.Object, key string, survivor, merged int64, choices map[string]string) (CompareView, error) {
	pv, err := s.svc.PreviewMerge(r.Context(), a, o, survivor, merged)
	if err != nil {
		return CompareView{}, err
	}
	defs, err := s.svc.CustomFields(r.Context(), a, o)
	if err != nil {
		return CompareView{}, err
	}
	labels := map[string]string{}
	for _, d := range defs {
		labels["custom."+d.Key] = d.Label
	}
	v := CompareView{Page: s.page(r, a, "dup.compare_title", "duplicates"), Key: key, SurvivorID: survivor, MergedID: merged,
		SurvivorVersion: versionOf(pv.Survivor), MergedVersion: versionOf(pv.Merged),
		SurvivorLink: recordLink(o, survivor), MergedLink: recordLink(o, merged)}
	v.Tabs = dupTabs(v.Page, o)
	swap := url.Values{"survivor": {strconv.FormatInt(merged, 10)}, "merged": {strconv.FormatInt(survivor, 10)}}
	v.SwapURL = "/duplicates/" + key + "/compare?" + swap.Encode()
	spec, _ := crm.Spec(o)
	for _, f := range pv.Fields {
		row := CompareRow{Name: f.Name, Label: v.FieldLabel(f.Name), Input: keepInput(f.Name), Differs: f.Differs,
			Survivor: shownValue(v.Page, f.Name, f.Survivor), Merged: shownValue(v.Page, f.Name, f.Merged),
			Choosable: f.Differs && f.Editable, KeepMerged: f.Default == crm.KeepMerged}
		if l, ok := labels[f.Name]; ok {
			row.Label = l
		}
		if fs, ok := spec.Field(f.Name); ok && fs.Ref != "" { // a link: the record's number
			row.Survivor, row.Merged = refValue(row.Survivor), refValue(row.Merged)
		}
		if c, ok := choices[f.Name]; ok && row.Choosable {
			row.KeepMerged = c == crm.KeepMerged
		}
		if f.Name == spec.Title {
			v.SurvivorTitle, v.MergedTitle = row.Survivor, row.Merged
		}
		v.Rows = append(v.Rows, row)
	}
	tables := map[string]string{}
	for _, sp := range crm.Specs() {
		tables[sp.Table] = sp.Label
	}
	for table, n := range pv.Moves {
		if n == 0 {
			continue
		}
		label := "dup.moves." + table
		if l, ok := tables[table]; ok {
			label = l
		}
		v.Moves = append(v.Moves, MoveRow{Label: v.T(label), Count: n})
	}
	slices.SortFunc(v.Moves, func(a, b MoveRow) int { return strings.Compare(a.Label, b.Label) })
	return v, nil
}

// refValue shows a link to a record as its number ("" and 0: none).
func refValue(id string) string {
	if id == "" || id == "0" {
		return ""
	}
	return "#" + id
}

// versionOf reads a record's version from its JSON form.
func versionOf(rec any) int64 {
	var r struct {
		Version int64 `json:"version"`
	}
	b, _ := json.Marshal(rec)
	json.Unmarshal(b, &r)
	return r.Version
}

// shownValue is a field's value as the comparison shows it: text as it
// is, enum values in the user's language, times in their zone, lists
// joined; masked values come masked from the service, hidden ones empty.
func shownValue(p Page, field string, raw json.RawMessage) string {
	var v any
	if len(bytes.TrimSpace(raw)) == 0 || json.Unmarshal(raw, &v) != nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			return p.Date(t)
		}
		return p.Enum(field, x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, display(e))
		}
		return strings.Join(parts, "、")
	}
	return display(v)
}

// mergeRecords serves POST /duplicates/{object}/merge: the comparison's
// form. A refusal shows the comparison again, as it is now, with the
// user's choices kept and the reason in their language.
func (s *Server) mergeRecords(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, key string) {
	var p crm.Problems
	req := crm.MergeRequest{SurvivorID: formID(r, &p, "survivor_id"), MergedID: formID(r, &p, "merged_id"),
		SurvivorVersion: formID(r, &p, "survivor_version"), MergedVersion: formID(r, &p, "merged_version"), Fields: map[string]string{}}
	if err := p.Err(); err != nil {
		s.fail(w, r, a, err)
		return
	}
	for name := range r.PostForm {
		if field, ok := strings.CutPrefix(name, "keep."); ok {
			req.Fields[field] = r.PostFormValue(name)
		}
	}
	m, err := s.svc.MergeRecords(r.Context(), a, o, req)
	if err != nil {
		v, verr := s.comparePage(r, a, o, key, req.SurvivorID, req.MergedID, req.Fields)
		if verr != nil {
			s.fail(w, r, a, err)
			return
		}
		v.Errors = formErrors(v.Lang, err)
		s.render(w, r, httpx.Status(err), "compare", v)
		return
	}
	redirect(w, r, "/duplicates/"+key+"/merges?merged="+strconv.FormatInt(m.ID, 10))
}

// MergesView is an object's merge history.
type MergesView struct {
	Page
	Tabs   []DupTab
	Key    string
	Rows   []MergeRow
	Done   *MergeRow  // the merge just made
	Undo   bool       // a merge was just undone
	Kept   string     // fields the undo kept as they are now
	Errors FormErrors // an undo refused
}

// MergeRow is one merge of the history.
type MergeRow struct {
	crm.Merge
	SurvivorLink string
	Fields       string
}

// merges serves GET /duplicates/{object}/merges.
func (s *Server) merges(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, key string) {
	q := r.URL.Query()
	v, err := s.mergesPage(r, a, o, key)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	if id, err := strconv.ParseInt(q.Get("merged"), 10, 64); err == nil {
		for i := range v.Rows {
			if v.Rows[i].ID == id {
				v.Done = &v.Rows[i]
			}
		}
	}
	if q.Has("undone") {
		v.Undo = true
		var kept []string
		for _, f := range strings.Split(q.Get("kept"), ",") {
			if f != "" {
				kept = append(kept, v.FieldLabel(f))
			}
		}
		v.Kept = strings.Join(kept, listSeparator(v.Lang))
	}
	s.render(w, r, http.StatusOK, "merges", v)
}

// listSeparator joins the items of a list in a sentence.
func listSeparator(lang string) string {
	if lang == i18n.ZH {
		return "、"
	}
	return ", "
}

func (s *Server) mergesPage(r *http.Request, a *access.Actor, o crm.Object, key string) (MergesView, error) {
	ms, err := s.svc.Merges(r.Context(), a, o, 100)
	if err != nil {
		return MergesView{}, err
	}
	v := MergesView{Page: s.page(r, a, "dup.history", "duplicates"), Key: key}
	v.Tabs = dupTabs(v.Page, o)
	for _, m := range ms {
		labels := make([]string, len(m.Fields))
		for i, f := range m.Fields {
			labels[i] = v.FieldLabel(f)
		}
		v.Rows = append(v.Rows, MergeRow{Merge: m, SurvivorLink: recordLink(o, m.SurvivorID), Fields: strings.Join(labels, listSeparator(v.Lang))})
	}
	return v, nil
}

// undoMerge serves POST /duplicates/{object}/merges/{id}/undo. A refusal
// on the merge's merits (undone already, a record taken meanwhile) shows
// the history with the reason; anything else is the error page.
func (s *Server) undoMerge(w http.ResponseWriter, r *http.Request, a *access.Actor, o crm.Object, key string) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	u, err := s.svc.UndoMerge(r.Context(), a, id)
	if err != nil {
		if crm.IsCode(err, crm.Conflict) || crm.IsCode(err, crm.Duplicate) {
			if v, verr := s.mergesPage(r, a, o, key); verr == nil {
				v.Errors = formErrors(v.Lang, err)
				s.render(w, r, httpx.Status(err), "merges", v)
				return
			}
		}
		s.fail(w, r, a, err)
		return
	}
	q := url.Values{"undone": {strconv.FormatInt(id, 10)}}
	if len(u.Kept) > 0 {
		q.Set("kept", strings.Join(u.Kept, ","))
	}
	redirect(w, r, "/duplicates/"+collectionPath(u.Object)+"/merges?"+q.Encode())
}
