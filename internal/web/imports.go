package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/transfer"
)

// The import wizard (issue 14 §1): upload a file, map its columns, preview
// it (nothing is written), commit it as a job and watch it run, download
// its problem rows, undo it. Every step is a service call; the pages only
// read forms and show what the service answered.

// ImportsView is the list of imports with the form starting a new one.
type ImportsView struct {
	Page
	Imports   []ImportItem
	Objects   []Option
	Source    string
	Errors    FormErrors
	Templates []TemplateLink
}

// ImportItem is one import in the list.
type ImportItem struct {
	ID                                   int64
	FileName, Object, Status             string
	Created                              When
	Total, Done, Failed, Dups, Processed int
}

// TemplateLink downloads an object's template in a language and format.
type TemplateLink struct{ Object, Label, URL string }

// ImportView is one import: by its status, the mapping and preview, the
// progress, or the outcome with undo.
type ImportView struct {
	Page
	Import      crm.Import
	Object      string
	Status      string
	File        transfer.Info
	Detected    string // the encoding the file looked like
	Columns     []ImportColumn
	Values      []ValueMapView
	Encodings   []Option
	Sheets      []Option
	OwnerRules  []Option
	Owners      []Option
	Saved       []Option
	CustomerRef bool // the object links to a customer: offer creating it
	Rows        []ImportRowView
	Progress    service.ImportProgress
	Errors      FormErrors
	Undo        *service.ImportUndo
	Confirm     bool // asking to confirm an undo
	Changed     []RecordLink
	URL         string
}

// ImportColumn is a header of the file with the targets it may go to.
type ImportColumn struct {
	Header, Letter string
	Options        []Option
}

// ValueMapView maps a choice field's values in the file onto its options.
type ValueMapView struct {
	Target, Label, Text, Hint string
}

// ImportRowView is a row of the preview or of the outcome.
type ImportRowView struct {
	Line                      int
	Action, Reason, Duplicate string
	Cells                     string
}

// RecordLink links to a record.
type RecordLink struct {
	ID  int64
	URL string
}

// Previewed, Running, Finished say which part of the page applies.
func (v ImportView) Previewed() bool { return v.Import.Status == crm.ImportPreviewed }

// Running reports whether the job has the import (queued or running).
func (v ImportView) Running() bool {
	return v.Import.Status == crm.ImportQueued || v.Import.Status == crm.ImportRunning
}

// Finished reports whether the import ran to its end (or failed).
func (v ImportView) Finished() bool {
	return v.Import.Status == crm.ImportDone || v.Import.Status == crm.ImportFailed
}

// CanImport reports whether the user may import anything (for the menu).
func (p Page) CanImport() bool {
	return slices.ContainsFunc(service.ImportObjects(), func(o crm.Object) bool { return p.Actor.Can(o, crm.ActCreate) })
}

// importObjects are the objects the user may import, as options.
func (p Page) importObjects(selected string) []Option {
	var out []Option
	for _, o := range service.ImportObjects() {
		if p.Actor.Can(o, crm.ActCreate) {
			out = append(out, Option{Value: string(o), Label: p.T("object." + string(o)), Selected: string(o) == selected})
		}
	}
	return out
}

// imports serves GET /imports.
func (s *Server) imports(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showImports(w, r, a, http.StatusOK, "", "", FormErrors{})
}

func (s *Server) showImports(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, object, source string, e FormErrors) {
	list, err := s.svc.ListImports(r.Context(), a, 50)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	p := s.page(r, a, "import.title", "imports")
	v := ImportsView{Page: p, Objects: p.importObjects(object), Source: source, Errors: e}
	for _, im := range list {
		v.Imports = append(v.Imports, ImportItem{ID: im.ID, FileName: im.FileName, Object: p.T("object." + string(im.Object)),
			Status: p.Enum("import_status", string(im.Status)), Created: p.when(im.CreatedAt), Total: im.Total,
			Done: im.Created + im.Updated, Failed: im.Failed, Dups: im.Duplicates, Processed: im.DoneRows})
	}
	for _, o := range v.Objects {
		for _, t := range templateFiles {
			v.Templates = append(v.Templates, TemplateLink{Object: o.Label, Label: p.T(t.label),
				URL: "/imports/template?" + url.Values{"object": {o.Value}, "lang": {t.lang}, "format": {t.format}}.Encode()})
		}
	}
	s.render(w, r, status, "imports", v)
}

// templateFiles are the template downloads offered per object.
var templateFiles = []struct{ lang, format, label string }{
	{"zh-CN", service.FileCSV, "import.template_zh_csv"}, {"zh-CN", service.FileXLSX, "import.template_zh_xlsx"},
	{"en", service.FileCSV, "import.template_en_csv"}, {"en", service.FileXLSX, "import.template_en_xlsx"},
}

// uploadHandler is a page handler receiving a file and the form's fields.
type uploadHandler func(w http.ResponseWriter, r *http.Request, a *access.Actor, fields url.Values, file *httpx.Upload)

// uploading is authed for a multipart upload: the body is refused by its
// length before it is read; the CSRF token comes from the X-CSRF-Token
// header (htmx) or else must be the form's first part (the hidden field,
// first in the form), so the file is not read before the token is checked.
func (s *Server) uploading(h uploadHandler) http.HandlerFunc {
	return s.uploadingTo(h, func(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, e FormErrors) {
		s.showImports(w, r, a, status, "", "", e)
	})
}

// uploadingTo is uploading with the page that shows a refused upload.
func (s *Server) uploadingTo(h uploadHandler, refused func(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, e FormErrors)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var mr *multipart.Reader
		body := func(w http.ResponseWriter, r *http.Request) (string, error) {
			var err error
			if mr, err = httpx.MultipartReader(w, r, service.MaxImportBytes+maxForm); err != nil {
				return "", err
			}
			// The parts are read once, by mr: no later PostFormValue may
			// parse (and spool) the body on its own.
			r.Form, r.PostForm = url.Values{}, url.Values{}
			if token := r.Header.Get(httpx.CSRFHeader); token != "" {
				return token, nil
			}
			part, err := mr.NextPart()
			if err != nil || part.FormName() != httpx.CSRFField {
				return "", nil // refused as a missing token
			}
			b, err := io.ReadAll(io.LimitReader(part, 256))
			return string(b), err
		}
		s.guardBody(gateUser, body, func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
			fields, file, err := httpx.ReadParts(mr, "file", service.MaxImportBytes)
			if err != nil {
				s.refuse(w, r, a, err, func(status int) { refused(w, r, a, status, formErrors(lang(r, a), err)) })
				return
			}
			defer file.Close()
			h(w, r, a, fields, file)
		})(w, r)
	}
}

// uploadImport serves POST /imports: the file is stored and previewed with
// the suggested mapping; the import's page follows.
func (s *Server) uploadImport(w http.ResponseWriter, r *http.Request, a *access.Actor, fields url.Values, file *httpx.Upload) {
	object, source := fields.Get("object"), fields.Get("source")
	preview, err := s.svc.PreviewImport(r.Context(), a, service.ImportRequest{Object: crm.Object(object), Source: source,
		FileName: file.Name, File: file, Size: file.Size})
	if err != nil && preview.Import.ID == 0 {
		s.refuse(w, r, a, err, func(status int) {
			s.showImports(w, r, a, status, object, source, formErrors(lang(r, a), err))
		})
		return
	}
	// Stored but not previewed (a mapping that does not fit): the import's
	// page shows why and lets the user choose another.
	redirect(w, r, importURL(preview.Import.ID))
}

func importURL(id int64) string { return "/imports/" + strconv.FormatInt(id, 10) }

// showImport serves GET /imports/{id}.
func (s *Server) showImport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	v, err := s.importView(r, a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "import", v)
}

// importView builds the page of an import from its stored state.
func (s *Server) importView(r *http.Request, a *access.Actor, id int64) (ImportView, error) {
	ctx := r.Context()
	d, err := s.svc.ImportDetail(ctx, a, id)
	if err != nil {
		return ImportView{}, err
	}
	im := d.Import
	p := s.page(r, a, "import.title", "imports")
	v := ImportView{Page: p, Import: im, Object: p.T("object." + string(im.Object)), Status: p.Enum("import_status", string(im.Status)),
		File: d.File, Detected: d.File.Encoding, Progress: service.Progress(im, time.Now()), URL: importURL(id)}
	p.Title = p.Tf("import.title_one", im.ID, im.FileName)
	v.Page = p
	for _, row := range d.Rows {
		action := row.Action // what the commit did, else what the preview planned
		if action == "" {
			action = row.Planned
		}
		v.Rows = append(v.Rows, ImportRowView{Line: row.Line, Action: p.Enum("import_action", action), Reason: row.Reason,
			Duplicate: row.DuplicateOf, Cells: strings.Join(row.Raw, " | ")})
	}
	if !v.Previewed() {
		return v, nil
	}
	targets, err := s.svc.ImportTargets(ctx, a, im.Object, p.Lang)
	if err != nil {
		return v, err
	}
	mapping := im.Options.Mapping
	if mapping == nil {
		mapping = d.Suggested
	}
	for i, h := range d.Header {
		col := ImportColumn{Header: h, Letter: transfer.ColumnName(i + 1),
			Options: []Option{{Value: "", Label: p.T("import.skip_column"), Selected: mapping[h] == ""}}}
		for _, t := range targets {
			col.Options = append(col.Options, Option{Value: t.Name, Label: t.Label, Selected: mapping[h] == t.Name})
		}
		v.Columns = append(v.Columns, col)
	}
	v.CustomerRef = targetNamed(targets, "customer") != nil
	spec, _ := crm.Spec(im.Object)
	for _, target := range slices.Sorted(mapValues(mapping)) {
		f, ok := spec.Field(target)
		if !ok || f.Type != crm.TypeEnum {
			continue
		}
		v.Values = append(v.Values, ValueMapView{Target: target, Label: p.FieldLabel(target), Text: valueLines(im.Options.Values[target]),
			Hint: p.Tf("import.values_hint", strings.Join(f.Options, ", "))})
	}
	enc := im.Options.Encoding
	v.Encodings = []Option{{Value: "utf-8", Label: "UTF-8", Selected: enc == "utf-8"}, {Value: "utf-8-bom", Label: "UTF-8 (BOM)", Selected: enc == "utf-8-bom"},
		{Value: "gb18030", Label: "GBK / GB18030", Selected: enc == "gb18030"}}
	for _, sh := range d.File.Sheets {
		v.Sheets = append(v.Sheets, Option{Value: sh, Label: sh, Selected: sh == im.Options.Sheet})
	}
	rules := []string{crm.OwnerImporter, crm.OwnerColumn, crm.OwnerRoundRobin}
	if im.Object == crm.ObjCustomer {
		rules = append(rules, crm.OwnerPool)
	}
	v.OwnerRules = p.enumOptions("owner_rule", rules, cmpOr(im.Options.OwnerRule, crm.OwnerImporter), "")
	dir, err := s.svc.Directory(ctx, a)
	if err != nil {
		return v, err
	}
	for _, u := range dir.Users {
		if !u.Disabled {
			v.Owners = append(v.Owners, Option{Value: strconv.FormatInt(u.ID, 10), Label: u.DisplayName + " (" + u.Username + ")", Selected: slices.Contains(im.Options.Owners, u.ID)})
		}
	}
	saved, err := s.svc.ImportMappings(ctx, a, im.Object)
	if err != nil {
		return v, err
	}
	if len(saved) > 0 {
		v.Saved = append(v.Saved, Option{Value: "", Label: p.T("import.saved_none")})
		for _, name := range slices.Sorted(mapKeys(saved)) {
			v.Saved = append(v.Saved, Option{Value: name, Label: name})
		}
	}
	return v, nil
}

func targetNamed(ts []service.ImportTarget, name string) *service.ImportTarget {
	for i := range ts {
		if ts[i].Name == name {
			return &ts[i]
		}
	}
	return nil
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		seen := map[string]bool{}
		for _, v := range m {
			if v != "" && !seen[v] {
				seen[v] = true
				if !yield(v) {
					return
				}
			}
		}
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// valueLines shows a value map as "file value = option" lines.
func valueLines(m map[string]string) string {
	var lines []string
	for _, k := range slices.Sorted(mapKeys(m)) {
		lines = append(lines, k+" = "+m[k])
	}
	return strings.Join(lines, "\n")
}

// parseValueLines reads "file value = option" lines (also "→" or "=>").
func parseValueLines(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.NewReplacer("=>", "=", "→", "=", "＝", "=").Replace(line)
		k, v, ok := strings.Cut(line, "=")
		if k, v = strings.TrimSpace(k), strings.TrimSpace(v); ok && k != "" && v != "" {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// previewImport serves POST /imports/{id}/preview: the choices of the
// mapping form (or a saved mapping), previewed again; a name saves them.
func (s *Server) previewImport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	ctx := r.Context()
	d, err := s.svc.ImportDetail(ctx, a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	opts := crm.ImportOptions{Encoding: r.PostFormValue("encoding"), Sheet: r.PostFormValue("sheet"),
		OwnerRule: r.PostFormValue("owner_rule"), CreateCustomers: r.PostFormValue("create_customers") != "", Mapping: map[string]string{}}
	var p crm.Problems
	maps := r.PostForm["map"]
	for i, h := range d.Header {
		if i < len(maps) && maps[i] != "" {
			opts.Mapping[h] = maps[i]
		}
	}
	for key, vals := range r.PostForm {
		if target, ok := strings.CutPrefix(key, "values."); ok && len(vals) > 0 {
			if m := parseValueLines(vals[0]); m != nil {
				if opts.Values == nil {
					opts.Values = map[string]map[string]string{}
				}
				opts.Values[target] = m
			}
		}
	}
	for _, o := range r.PostForm["owners"] {
		uid, err := strconv.ParseInt(o, 10, 64)
		if err != nil || uid <= 0 {
			p.Add("owners", "number")
			continue
		}
		opts.Owners = append(opts.Owners, uid)
	}
	if name := r.PostFormValue("use_mapping"); name != "" {
		saved, err := s.svc.ImportMappings(ctx, a, d.Import.Object)
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		use, ok := saved[name]
		if !ok {
			p.Add("use_mapping", "enum", strings.Join(slices.Sorted(mapKeys(saved)), ", "))
		}
		use.Encoding, use.Sheet = opts.Encoding, opts.Sheet
		opts = use
	}
	err = p.Err()
	if err == nil {
		_, err = s.svc.RepreviewImport(ctx, a, id, opts)
	}
	if name := strings.TrimSpace(r.PostFormValue("mapping_name")); err == nil && name != "" {
		err = s.svc.SaveImportMapping(ctx, a, d.Import.Object, name, opts)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showImportErrors(w, r, a, id, status, err) })
		return
	}
	redirect(w, r, importURL(id))
}

// showImportErrors shows the import's page with the problems of a form.
func (s *Server) showImportErrors(w http.ResponseWriter, r *http.Request, a *access.Actor, id int64, status int, cause error) {
	v, err := s.importView(r, a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.Errors = formErrors(v.Lang, cause)
	s.render(w, r, status, "import", v)
}

// commitImport serves POST /imports/{id}/commit; an import the bulk-import
// policy holds goes to its approval request.
func (s *Server) commitImport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if _, err := s.svc.CommitImport(r.Context(), a, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, importURL(id))
}

// importProgress serves GET /imports/{id}/progress, the fragment the page
// polls every second while the job runs; once it is over, htmx reloads
// the page to show the outcome.
func (s *Server) importProgress(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	im, err := s.svc.GetImport(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	p := s.page(r, a, "import.title", "imports")
	v := ImportView{Page: p, Import: im, Status: p.Enum("import_status", string(im.Status)), Progress: service.Progress(im, time.Now()), URL: importURL(id)}
	if !v.Running() {
		w.Header().Set("HX-Refresh", "true")
	}
	s.renderPartial(w, r, http.StatusOK, "import", "import-progress", v)
}

// undoForm serves GET /imports/{id}/undo: what an undo would keep (the
// records edited since), and the choice to keep or remove them.
func (s *Server) undoForm(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	v, err := s.importView(r, a, id)
	if err == nil {
		var changed []int64
		changed, err = s.svc.ImportChangedSince(r.Context(), a, id)
		v.Confirm, v.Changed = true, recordLinks(v.Import.Object, changed)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "import", v)
}

// undoImport serves POST /imports/{id}/undo (confirm: also the records
// edited since) and shows what it did.
func (s *Server) undoImport(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	u, err := s.svc.UndoImport(r.Context(), a, id, r.PostFormValue("confirm") == "1")
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v, err := s.importView(r, a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.Undo, v.Changed = &u, recordLinks(v.Import.Object, u.Changed)
	s.render(w, r, http.StatusOK, "import", v)
}

func recordLinks(o crm.Object, ids []int64) []RecordLink {
	out := make([]RecordLink, len(ids))
	for i, id := range ids {
		out[i] = RecordLink{ID: id, URL: "/" + collectionPath(o) + "/" + strconv.FormatInt(id, 10)}
	}
	return out
}

// importErrors serves GET /imports/{id}/errors?format=csv|xlsx.
func (s *Server) importErrors(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	var buf bytes.Buffer
	f, err := s.svc.WriteImportErrors(r.Context(), a, id, lang(r, a), r.URL.Query().Get("format"), &buf)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	httpx.WriteDownload(w, f.Name, f.ContentType, buf.Bytes())
}

// importTemplate serves GET /imports/template?object=&lang=&format=.
func (s *Server) importTemplate(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := r.URL.Query()
	var buf bytes.Buffer
	f, err := s.svc.WriteImportTemplate(r.Context(), a, crm.Object(q.Get("object")), cmpOr(q.Get("lang"), lang(r, a)), q.Get("format"), &buf)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	httpx.WriteDownload(w, f.Name, f.ContentType, buf.Bytes())
}
