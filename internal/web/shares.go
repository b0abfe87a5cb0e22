package web

import (
	"net/http"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// Sharing on record pages, and the page of the shares a user granted with
// their bulk revoke.

// SharesView is the sharing card of a record page.
type SharesView struct {
	Page
	Action string // where the share form posts
	Back   string // the record page, where revoking returns
	Shares []crm.RecordShare
	Users  []Option
	Depts  []Option
}

// sharesCard loads the sharing card for a record the actor may share, or
// nil when they may not (a share grants no sharing).
func (s *Server) sharesCard(r *http.Request, a *access.Actor, p Page, o crm.Object, id int64) (*SharesView, error) {
	shares, err := s.svc.ListShares(r.Context(), a, o, id)
	if crm.IsCode(err, crm.NotFound) || crm.IsCode(err, crm.Forbidden) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dir, err := s.svc.Directory(r.Context(), a)
	if err != nil {
		return nil, err
	}
	base := "/" + collectionPath(o) + "/" + strconv.FormatInt(id, 10)
	v := &SharesView{Page: p, Shares: shares, Action: base + "/shares", Back: base}
	v.Users = idOptions(dir.Users, userID, userLabel, 0, "—")
	v.Depts = idOptions(dir.Departments, func(d crm.Department) int64 { return d.ID }, func(d crm.Department) string { return d.Name }, 0, "—")
	return v, nil
}

// shareRecord serves POST /{collection}/{id}/shares.
func (s *Server) shareRecord(o crm.Object) func(http.ResponseWriter, *http.Request, *access.Actor) {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, ok := pathID(r)
		if !ok {
			s.notFound(w, r, a)
			return
		}
		in := service.ShareInput{UserID: formInt(r, "user_id"), DeptID: formInt(r, "dept_id"), Level: r.PostFormValue("level")}
		if v := r.PostFormValue("expires_at"); v != "" {
			day, err := time.ParseInLocation(time.DateOnly, v, time.Local)
			if err != nil {
				s.fail(w, r, a, &crm.Error{Code: crm.Invalid, Message: "bad date", Fields: []crm.FieldError{{Field: "expires_at", Rule: "date"}}})
				return
			}
			end := day.AddDate(0, 0, 1) // valid through the chosen day
			in.ExpiresAt = &end
		}
		if _, err := s.svc.ShareRecord(r.Context(), a, o, id, in); err != nil {
			s.fail(w, r, a, err)
			return
		}
		redirect(w, r, "/"+collectionPath(o)+"/"+strconv.FormatInt(id, 10)+"#sharing")
	}
}

// MySharesView lists the shares the user granted.
type MySharesView struct {
	Page
	Shares []crm.RecordShare
}

// ShareURL links a share to its record.
func (v MySharesView) ShareURL(sh crm.RecordShare) string {
	return "/" + collectionPath(sh.Object) + "/" + strconv.FormatInt(sh.RecordID, 10)
}

func (s *Server) myShares(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	shares, err := s.svc.MyGrants(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "shares", MySharesView{Page: s.page(r, a, "shares.title", "account"), Shares: shares})
}

// revokeShares serves POST /shares/revoke with one or more "id" values; it
// returns to the page named by "back" when it is a local path.
func (s *Server) revokeShares(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	var ids []int64
	for _, v := range r.PostForm["id"] {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	if err := s.svc.RevokeShares(r.Context(), a, ids); err != nil {
		s.fail(w, r, a, err)
		return
	}
	back := r.PostFormValue("back")
	if len(back) < 2 || back[0] != '/' || back[1] == '/' || back[1] == '\\' {
		back = "/shares"
	}
	redirect(w, r, back)
}
