package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
)

// The versions of a record: each with what changed from the one before,
// and buttons to restore a field or the whole version.

// VersionsView lists a record's versions.
type VersionsView struct {
	Page
	Object   string
	ID       int64
	Current  int64
	Record   string
	Versions []VersionRow
	CanEdit  bool
}

// VersionRow is one version and its changes from the previous one.
type VersionRow struct {
	Version int64
	By      string
	At      any
	Changes []FieldChange
}

// FieldChange is one field's value before and in this version.
type FieldChange struct {
	Field, Label, From, To string
}

func (s *Server) versionsPage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o := crm.Object(r.PathValue("object"))
	id, ok := pathID(r)
	if !ok || !slices.Contains(versionedPages, o) {
		s.notFound(w, r, a)
		return
	}
	versions, err := s.svc.Versions(r.Context(), a, o, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := VersionsView{Page: s.page(r, a, "versions.title", string(o)), Object: string(o), ID: id,
		Record: "/" + collectionPath(o) + "/" + strconv.FormatInt(id, 10), CanEdit: a.Can(o, crm.ActEdit)}
	for i, ver := range versions {
		row := VersionRow{Version: ver.Version, By: ver.ActorName, At: ver.At}
		var prev json.RawMessage
		if i+1 < len(versions) {
			prev = versions[i+1].Fields
		}
		row.Changes = fieldChanges(v.Page, prev, ver.Fields)
		v.Versions = append(v.Versions, row)
	}
	if len(versions) > 0 {
		v.Current = versions[0].Version
	}
	s.render(w, r, http.StatusOK, "versions", v)
}

// fieldChanges lists the fields whose value differs between two versions.
func fieldChanges(p Page, before, after json.RawMessage) []FieldChange {
	var b, a map[string]any
	json.Unmarshal(before, &b)
	json.Unmarshal(after, &a)
	var out []FieldChange
	for name, av := range a {
		bv := b[name]
		bs, as := display(bv), display(av)
		if bs == as {
			continue
		}
		out = append(out, FieldChange{Field: name, Label: p.FieldLabel(name), From: bs, To: as})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func display(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	b, _ := json.Marshal(v)
	if string(b) == "[]" || string(b) == "{}" {
		return ""
	}
	return fmt.Sprint(string(b))
}

// restoreVersion serves POST /versions/{object}/{id}/{version}: the whole
// version, or the one field named by "field".
func (s *Server) restoreVersion(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o := crm.Object(r.PathValue("object"))
	id, ok := pathID(r)
	version, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if !ok || err != nil || !slices.Contains(versionedPages, o) {
		s.notFound(w, r, a)
		return
	}
	var fields []string
	if f := r.PostFormValue("field"); f != "" {
		fields = []string{f}
	}
	if err := s.svc.RestoreVersion(r.Context(), a, o, id, version, formInt(r, "current"), fields); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/versions/"+string(o)+"/"+strconv.FormatInt(id, 10))
}
