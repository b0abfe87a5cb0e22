package web

import (
	"net/http"
	"slices"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// Offboarding: choose who takes over a departing user's records, disable
// the user and hand over in one step, then read what they did lately.

// OffboardView is the hand-over form, and after it the result and the
// activity report.
type OffboardView struct {
	Page
	User        crm.User
	Counts      []CountRow
	CustomersTo []Option
	OthersTo    []Option
	Errors      FormErrors
	Done        bool
	Reports     []ActivityView
}

// CountRow is how many records of one object a user owns or handed over.
type CountRow struct {
	Label string
	N     int
}

// ActivityView is one period of the activity report.
type ActivityView struct {
	Days   int
	Report service.ActivityReport
}

func (s *Server) offboardPage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showOffboard(w, r, a, http.StatusOK, service.Handover{}, nil)
}

func (s *Server) showOffboard(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, h service.Handover, ferr error) {
	u, dir, ok := s.offboardUser(w, r, a)
	if !ok {
		return
	}
	counts, err := s.svc.HandoverCounts(r.Context(), a, u.ID)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := OffboardView{Page: s.adminPage(r, a, "admin.offboard", "users"), User: u}
	for _, o := range crm.Objects {
		if n, ok := counts[o]; ok {
			v.Counts = append(v.Counts, CountRow{Label: v.T("object." + string(o)), N: n})
		}
	}
	takers := slices.DeleteFunc(slices.Clone(dir.Users), func(x crm.User) bool { return x.Disabled || x.ID == u.ID })
	v.CustomersTo = idOptions(takers, userID, userLabel, h.CustomersTo, v.T("admin.to_pool"))
	v.OthersTo = idOptions(takers, userID, userLabel, h.OthersTo, "—")
	if ferr != nil {
		v.Errors = formErrors(v.Lang, ferr, "customers_to", "others_to")
	}
	s.render(w, r, status, "admin_offboard", v)
}

// offboardUser finds the user named by the path.
func (s *Server) offboardUser(w http.ResponseWriter, r *http.Request, a *access.Actor) (crm.User, service.Directory, bool) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return crm.User{}, service.Directory{}, false
	}
	dir, ok := s.directory(w, r, a)
	if !ok {
		return crm.User{}, dir, false
	}
	i := slices.IndexFunc(dir.Users, func(u crm.User) bool { return u.ID == id })
	if i < 0 {
		s.notFound(w, r, a)
		return crm.User{}, dir, false
	}
	return dir.Users[i], dir, true
}

func (s *Server) offboard(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	u, _, ok := s.offboardUser(w, r, a)
	if !ok {
		return
	}
	h := service.Handover{CustomersTo: formInt(r, "customers_to"), OthersTo: formInt(r, "others_to")}
	res, err := s.svc.Offboard(r.Context(), a, u.ID, h)
	if err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showOffboard(w, r, a, status, h, err) })
		return
	}
	v := OffboardView{Page: s.adminPage(r, a, "admin.offboard", "users"), User: u, Done: true}
	for _, o := range crm.Objects {
		if ids, ok := res.Moved[o]; ok {
			v.Counts = append(v.Counts, CountRow{Label: v.T("object." + string(o)), N: len(ids)})
		}
	}
	for _, days := range []int{30, 90} {
		rep, err := s.svc.UserActivity(r.Context(), a, u.ID, days)
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		v.Reports = append(v.Reports, ActivityView{Days: days, Report: rep})
	}
	s.render(w, r, http.StatusOK, "admin_offboard", v)
}
