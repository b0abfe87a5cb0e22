package web

import (
	"net/http"
	"slices"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
)

// Masked values (issue 3): a field the reader's role masks shows its masked
// form with a "show" button when the role may reveal it. The button posts
// to /reveal/{object}/{id}; the service checks and audits every reveal.

// MaskedView is one masked value on a detail page.
type MaskedView struct {
	Page
	Value     string
	Field     string
	Action    string
	CanReveal bool
}

// Mask returns the view of a field when the record lists it as masked,
// or nil when the value is shown as it is.
func (p Page) Mask(object string, id int64, masked []string, field, value string) *MaskedView {
	if !slices.Contains(masked, field) {
		return nil
	}
	o := crm.Object(object)
	return &MaskedView{Page: p, Value: value, Field: field, CanReveal: p.Actor.CanReveal(o),
		Action: "/reveal/" + object + "/" + strconv.FormatInt(id, 10)}
}

// revealableObjects are the objects with pages of their own (a list and a
// detail page showing masked values, a history): the registry's Paged
// objects.
var revealableObjects = crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Paged })

// versionedPages are the objects whose detail pages link to their
// versions: those of them the registry says keep versions.
var versionedPages = crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Paged && s.Versioned })

// reveal answers POST /reveal/{object}/{id} with field=<name>: the value
// alone for htmx, or a small page for a browser without script.
func (s *Server) reveal(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	o := crm.Object(r.PathValue("object"))
	id, ok := pathID(r)
	if !ok || !slices.Contains(revealableObjects, o) {
		s.notFound(w, r, a)
		return
	}
	field := r.PostFormValue("field")
	value, err := s.svc.RevealField(r.Context(), a, o, id, field)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := RevealedView{Page: s.page(r, a, "action.reveal", string(o)), Value: value, Field: field,
		Back: "/" + collectionPath(o) + "/" + strconv.FormatInt(id, 10)}
	if r.Header.Get("HX-Request") == "true" {
		s.renderPartial(w, r, http.StatusOK, "revealed", "revealed-value", v)
		return
	}
	s.render(w, r, http.StatusOK, "revealed", v)
}

// RevealedView shows one revealed value.
type RevealedView struct {
	Page
	Value, Field, Back string
}

// collectionPath is the web path segment of an object's pages.
func collectionPath(o crm.Object) string {
	s, _ := crm.Spec(o)
	return s.Path
}
