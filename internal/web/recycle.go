package web

import (
	"net/http"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// recycleTabs are the recycle bin's sections, one per recyclable object of
// the registry in menu order (customers first); each names the object, its
// path segment and its label.
var recycleTabs = func() []RecycleTab {
	var out []RecycleTab
	for _, s := range crm.Specs() {
		if s.Recyclable {
			out = append(out, RecycleTab{Object: s.Name, Key: s.Path, Label: s.Label})
		}
	}
	return out
}()

// RecycleTab is one section of the recycle bin.
type RecycleTab struct {
	Object crm.Object
	Key    string
	Label  string
	Active bool
}

// RecycleTabs are the recycle bin's sections with translated labels; the
// active one is the page's current recycle tab ("customers" by default).
func (p Page) RecycleTabs() []RecycleTab {
	out := make([]RecycleTab, len(recycleTabs))
	for i, t := range recycleTabs {
		t.Active = t.Key == p.recycleTab || (p.recycleTab == "" && t.Key == "customers")
		t.Label = p.T(t.Label)
		out[i] = t
	}
	return out
}

// RecycleRecordsView lists the recycled records of one object other than
// customers (which have their own list with paging and search).
type RecycleRecordsView struct {
	Page
	Tab  RecycleTab
	Rows []service.DeletedRecord
}

func recycleTab(key string) (RecycleTab, bool) {
	for _, t := range recycleTabs {
		if t.Key == key {
			return t, true
		}
	}
	return RecycleTab{}, false
}

// recycleRecords shows the recycled contacts, leads, opportunities, tasks or
// follow-ups the user may restore.
func (s *Server) recycleRecords(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	tab, ok := recycleTab(r.PathValue("object"))
	if !ok || tab.Object == crm.ObjCustomer {
		redirect(w, r, "/recycle-bin")
		return
	}
	rows, err := s.svc.RecycleBin(r.Context(), a, tab.Object, 100)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	p := s.page(r, a, "recycle.title", "recycle")
	p.recycleTab = tab.Key
	s.render(w, r, http.StatusOK, "recycle_records", RecycleRecordsView{Page: p, Tab: tab, Rows: rows})
}

// restoreRecord brings one record of a tab back.
func (s *Server) restoreRecord(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	tab, ok := recycleTab(r.PathValue("object"))
	id, okID := pathID(r)
	if !ok || !okID || tab.Object == crm.ObjCustomer {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.RestoreRecord(r.Context(), a, tab.Object, id); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/recycle-bin/"+tab.Key)
}
