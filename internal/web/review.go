package web

import (
	"net/http"
	"strconv"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// The access review page of managers and administrators, and the job
// change page of administrators (preview, then move with a hand-over).

// ReviewView is the access review.
type ReviewView struct {
	Page
	service.AccessReview
}

func (s *Server) accessReview(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	rev, err := s.svc.AccessReview(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "access_review", ReviewView{Page: s.page(r, a, "review.title", "account"), AccessReview: rev})
}

func (s *Server) confirmReview(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if err := s.svc.ConfirmAccessReview(r.Context(), a); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/review")
}

// revokeUserToken serves POST /review/tokens: one token of someone in the
// reviewer's subtree.
func (s *Server) revokeUserToken(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if err := s.svc.RevokeUserToken(r.Context(), a, formInt(r, "user_id"), formInt(r, "token_id")); err != nil {
		s.fail(w, r, a, err)
		return
	}
	redirect(w, r, "/review")
}

// JobView is the job change page: the move chosen, its preview and the
// hand-over choices.
type JobView struct {
	Page
	User        crm.User
	Depts       []Option
	Roles       []Option
	Takers      []Option
	Preview     *service.JobChangePreview
	Objects     []crm.Object
	Errors      FormErrors
	DeptID      int64
	RoleID      int64
	CustomersTo int64
	OthersTo    int64
}

func (s *Server) jobPage(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := r.URL.Query()
	dept, _ := strconv.ParseInt(q.Get("department_id"), 10, 64)
	role, _ := strconv.ParseInt(q.Get("role_id"), 10, 64)
	s.showJob(w, r, a, http.StatusOK, service.JobChange{DepartmentID: dept, RoleID: role}, nil)
}

func (s *Server) showJob(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, jc service.JobChange, ferr error) {
	u, dir, ok := s.offboardUser(w, r, a)
	if !ok {
		return
	}
	v := JobView{Page: s.adminPage(r, a, "job.title", "users"), User: u, DeptID: jc.DepartmentID, RoleID: jc.RoleID, Objects: previewObjects}
	v.Depts = idOptions(dir.Departments, func(d crm.Department) int64 { return d.ID }, func(d crm.Department) string { return d.Name }, jc.DepartmentID, "—")
	v.Roles = idOptions(dir.Roles, roleID, v.roleLabel, jc.RoleID, "—")
	if jc.Handover != nil {
		v.CustomersTo, v.OthersTo = jc.Handover.CustomersTo, jc.Handover.OthersTo
	}
	takers := make([]crm.User, 0, len(dir.Users))
	for _, x := range dir.Users {
		if !x.Disabled && x.ID != u.ID {
			takers = append(takers, x)
		}
	}
	v.Takers = idOptions(takers, userID, userLabel, 0, "—")
	if jc.DepartmentID != 0 || jc.RoleID != 0 {
		pv, err := s.svc.PreviewJobChange(r.Context(), a, u.ID, jc)
		if err != nil && !hasFieldErrors(err) {
			s.fail(w, r, a, err)
			return
		}
		if err == nil {
			v.Preview = &pv
		}
	}
	if ferr != nil {
		v.Errors = formErrors(v.Lang, ferr, "department_id", "role_id", "customers_to", "others_to")
	}
	s.render(w, r, status, "admin_job", v)
}

// previewObjects are the objects the job preview counts (those with a
// counted list of their own, as the service counts them), in table order.
var previewObjects = crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Paged })

func (s *Server) changeJob(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	u, _, ok := s.offboardUser(w, r, a)
	if !ok {
		return
	}
	jc := service.JobChange{DepartmentID: formInt(r, "department_id"), RoleID: formInt(r, "role_id")}
	if r.PostFormValue("handover") == "on" {
		jc.Handover = &service.Handover{CustomersTo: formInt(r, "customers_to"), OthersTo: formInt(r, "others_to")}
	}
	if _, err := s.svc.ChangeJob(r.Context(), a, u.ID, jc); err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showJob(w, r, a, status, jc, err) })
		return
	}
	redirect(w, r, "/admin/users/"+strconv.FormatInt(u.ID, 10))
}
