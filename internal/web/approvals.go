package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// Approvals: the inbox of requests waiting for the user's decision and of
// their own requests, one page per request with the decision form, and the
// administrators' policy page.

// ApprovalsView is the inbox.
type ApprovalsView struct {
	Page
	service.Approvals
}

func (s *Server) approvals(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	list, err := s.svc.ListApprovals(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "approvals", ApprovalsView{Page: s.page(r, a, "approvals.title", "approvals"), Approvals: list})
}

// ApprovalView is one request.
type ApprovalView struct {
	Page
	R         crm.ApprovalRequest
	Payload   string
	CanDecide bool
	Errors    FormErrors
	Comment   string
}

// RecordURL links to the record the request is about.
func (v ApprovalView) RecordURL() string {
	if v.R.RecordID == 0 {
		return ""
	}
	return "/" + collectionPath(v.R.Object) + "/" + strconv.FormatInt(v.R.RecordID, 10)
}

func (s *Server) approval(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showApproval(w, r, a, http.StatusOK, "", nil)
}

func (s *Server) showApproval(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, comment string, ferr error) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	req, err := s.svc.GetApproval(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	list, err := s.svc.ListApprovals(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := ApprovalView{Page: s.page(r, a, "approvals.request", "approvals"), R: req, Comment: comment}
	for _, p := range list.ToDecide {
		v.CanDecide = v.CanDecide || p.ID == req.ID
	}
	if b, err := json.MarshalIndent(json.RawMessage(req.Payload), "", "  "); err == nil {
		v.Payload = string(b)
	}
	if ferr != nil {
		v.Errors = formErrors(v.Lang, ferr, "comment")
	}
	s.render(w, r, status, "approval", v)
}

func (s *Server) decideApproval(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	d := service.Decision{Approve: r.PostFormValue("decision") == "approve", Comment: r.PostFormValue("comment")}
	_, err := s.svc.DecideApproval(r.Context(), a, id, d)
	if err != nil && hasFieldErrors(err) {
		s.showApproval(w, r, a, http.StatusUnprocessableEntity, d.Comment, err)
		return
	}
	if err != nil && !crm.IsCode(err, crm.Conflict) {
		s.fail(w, r, a, err)
		return
	}
	// A stale or failed request is shown with its outcome.
	redirect(w, r, "/approvals/"+strconv.FormatInt(id, 10))
}

// transferRecord serves POST /{collection}/{id}/transfer from a record page.
func (s *Server) transferRecord(o crm.Object) func(http.ResponseWriter, *http.Request, *access.Actor) {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, ok := pathID(r)
		if !ok {
			s.notFound(w, r, a)
			return
		}
		err := s.svc.TransferRecord(r.Context(), a, o, id, formInt(r, "to"), formInt(r, "version"))
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		redirect(w, r, "/"+collectionPath(o)+"/"+strconv.FormatInt(id, 10))
	}
}

// PolicyRow is one approval policy in the administrators' form.
type PolicyRow struct {
	crm.ApprovalPolicy
	StepsText  string // "manager, role:admin"
	FieldsText string // "customer.phone, opportunity.amount"
	Error      string
}

// AdminApprovalsView is the policy page.
type AdminApprovalsView struct {
	Page
	Policies []PolicyRow
	Errors   FormErrors
}

func (s *Server) adminApprovals(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	ps, err := s.svc.ApprovalPolicies(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := AdminApprovalsView{Page: s.adminPage(r, a, "admin.approvals", "approvals")}
	for _, p := range ps {
		v.Policies = append(v.Policies, policyRow(p))
	}
	s.render(w, r, http.StatusOK, "admin_approvals", v)
}

func policyRow(p crm.ApprovalPolicy) PolicyRow {
	row := PolicyRow{ApprovalPolicy: p}
	var steps, fields []string
	for _, st := range p.Steps {
		if st.Type == "role" {
			steps = append(steps, "role:"+st.RoleKey)
		} else {
			steps = append(steps, st.Type)
		}
	}
	for _, o := range crm.Objects {
		for _, f := range p.Fields[o] {
			fields = append(fields, string(o)+"."+f)
		}
	}
	row.StepsText, row.FieldsText = strings.Join(steps, ", "), strings.Join(fields, ", ")
	return row
}

// readPolicy reads one kind's row of the policy form.
func readPolicy(r *http.Request, kind crm.ApprovalKind) crm.ApprovalPolicy {
	k := string(kind)
	p := crm.ApprovalPolicy{Kind: kind, Enabled: r.PostFormValue("enabled."+k) == "on", Threshold: formInt(r, "threshold."+k)}
	for _, st := range splitList(r.PostFormValue("steps." + k)) {
		if role, ok := strings.CutPrefix(st, "role:"); ok {
			p.Steps = append(p.Steps, crm.ApprovalStep{Type: "role", RoleKey: role})
		} else {
			p.Steps = append(p.Steps, crm.ApprovalStep{Type: st})
		}
	}
	for _, f := range splitList(r.PostFormValue("fields." + k)) {
		o, name, _ := strings.Cut(f, ".")
		if p.Fields == nil {
			p.Fields = map[crm.Object][]string{}
		}
		p.Fields[crm.Object(o)] = append(p.Fields[crm.Object(o)], name)
	}
	return p
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == ' ' }) {
		out = append(out, strings.TrimSpace(part))
	}
	return out
}

// saveApprovalPolicy saves one kind's row (each row is its own form).
func (s *Server) saveApprovalPolicy(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	kind := crm.ApprovalKind(r.PathValue("kind"))
	p := readPolicy(r, kind)
	if _, err := s.svc.SaveApprovalPolicy(r.Context(), a, p); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			ps, lerr := s.svc.ApprovalPolicies(r.Context(), a)
			if lerr != nil {
				s.fail(w, r, a, lerr)
				return
			}
			v := AdminApprovalsView{Page: s.adminPage(r, a, "admin.approvals", "approvals")}
			for _, stored := range ps {
				row := policyRow(stored)
				if stored.Kind == kind {
					row = policyRow(p)
					row.Error = strings.Join(formErrors(v.Lang, err).Other, " ")
				}
				v.Policies = append(v.Policies, row)
			}
			v.Errors = formErrors(v.Lang, err)
			s.render(w, r, status, "admin_approvals", v)
		})
		return
	}
	redirect(w, r, "/admin/approvals")
}
