package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// Data review campaigns (issue 14 §4): the list with the start form
// (administrators, managers), a campaign's progress per owner and
// department, and its records — an owner's review list with a "confirm"
// button and an edit link per record, or a manager's drill-down.

// CampaignsView is the campaign list.
type CampaignsView struct {
	Page
	Campaigns []service.CampaignReport
	Form      *CampaignForm // nil: the user may not start one
	Errors    FormErrors
}

// CampaignForm is the start form as typed.
type CampaignForm struct {
	Name, DueAt, Selection, BelowScore, RecurMonths, DepartmentID string
	Objects                                                       []crm.Object
	Choices                                                       []crm.Object
	Selections                                                    []crm.CampaignSelection
	Departments                                                   []crm.Department
}

// Chosen reports whether the form has an object ticked.
func (f CampaignForm) Chosen(o crm.Object) bool { return slices.Contains(f.Objects, o) }

// campaignFields are the form's fields shown next to their inputs.
var campaignFields = []string{"name", "objects", "selection", "below_score", "due_at", "recur_months", "department_id"}

// campaignForm makes the start form for the actor, or nil when they may
// not start a campaign: the departments offered are those their campaign
// may cover.
func (s *Server) campaignForm(r *http.Request, a *access.Actor, typed *CampaignForm) (*CampaignForm, error) {
	if _, ok := service.CampaignStarterKind(a, crm.CampaignObjects()); !ok {
		return nil, nil
	}
	f := typed
	if f == nil {
		f = &CampaignForm{Selection: string(crm.SelectAll), RecurMonths: "0", Objects: []crm.Object{crm.ObjCustomer}}
	}
	f.Choices, f.Selections = crm.CampaignObjects(), crm.CampaignSelections
	dir, err := s.svc.Directory(r.Context(), a)
	if err != nil {
		return nil, err
	}
	for _, d := range dir.Departments {
		if a.IsAdmin() || strings.HasPrefix(d.Path, a.DeptPath) {
			f.Departments = append(f.Departments, d)
		}
	}
	return f, nil
}

// campaigns serves GET /quality/campaigns.
func (s *Server) campaigns(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showCampaigns(w, r, a, http.StatusOK, nil, nil)
}

func (s *Server) showCampaigns(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, typed *CampaignForm, refused error) {
	v := CampaignsView{Page: s.page(r, a, "campaign.title", "quality")}
	var err error
	if v.Campaigns, err = s.svc.Campaigns(r.Context(), a); err == nil {
		v.Form, err = s.campaignForm(r, a, typed)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	if refused != nil {
		v.Errors = formErrors(v.Lang, refused, campaignFields...)
	}
	s.render(w, r, status, "campaigns", v)
}

// readCampaignForm reads the start form; a malformed number or date is
// refused naming its field.
func (s *Server) readCampaignForm(r *http.Request, a *access.Actor) (CampaignForm, crm.CampaignStart, crm.Problems) {
	f := CampaignForm{Name: r.PostFormValue("name"), DueAt: r.PostFormValue("due_at"), Selection: r.PostFormValue("selection"),
		BelowScore: r.PostFormValue("below_score"), RecurMonths: r.PostFormValue("recur_months"), DepartmentID: r.PostFormValue("department_id")}
	for _, o := range r.PostForm["objects"] {
		f.Objects = append(f.Objects, crm.Object(o))
	}
	var p crm.Problems
	in := crm.CampaignStart{Name: f.Name, Objects: f.Objects, Selection: crm.CampaignSelection(f.Selection)}
	number := func(field, raw string) int64 {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 32)
		if err != nil || n < 0 {
			p.Add(field, "number")
		}
		return n
	}
	if in.Selection == crm.SelectBelow {
		in.BelowScore = int(number("below_score", f.BelowScore))
	}
	in.RecurMonths = int(number("recur_months", f.RecurMonths))
	in.DepartmentID = number("department_id", f.DepartmentID)
	if due := parseLocalTime(s.svc.Location(a), &p, "due_at", f.DueAt); due != nil {
		in.DueAt = *due
	}
	return f, in, p
}

// startCampaign serves POST /quality/campaigns.
func (s *Server) startCampaign(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f, in, p := s.readCampaignForm(r, a)
	var c crm.Campaign
	var err error
	if p.Err() != nil {
		// The form's own problems and the domain's, each field once.
		err = mergeProblems(p, in.Validate(time.Now()))
	} else {
		c, err = s.svc.StartCampaign(r.Context(), a, in)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showCampaigns(w, r, a, status, &f, err) })
		return
	}
	redirect(w, r, "/quality/campaigns/"+strconv.FormatInt(c.ID, 10))
}

// CampaignView is a campaign's progress.
type CampaignView struct {
	Page
	Report service.CampaignReport
}

// Drill is the URL of a campaign's records of an object: of an owner or a
// department (by "owner_id" or "department_id"; "" for all), only the
// unreviewed ones when asked.
func (v CampaignView) Drill(o crm.Object, by string, id int64, unreviewed bool) string {
	return campaignRecordsURL(v.Report.ID, o, by, id, unreviewed)
}

func campaignRecordsURL(campaign int64, o crm.Object, by string, id int64, unreviewed bool) string {
	q := url.Values{"object": {string(o)}}
	if by != "" {
		q.Set(by, strconv.FormatInt(id, 10))
	}
	if unreviewed {
		q.Set("unreviewed", "true")
	}
	return "/quality/campaigns/" + strconv.FormatInt(campaign, 10) + "/records?" + q.Encode()
}

// campaign serves GET /quality/campaigns/{id}.
func (s *Server) campaign(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	rep, err := s.svc.Campaign(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "campaign", CampaignView{Page: s.page(r, a, "campaign.title", "quality"), Report: rep})
}

// CampaignRecordsView is a campaign's records of one object.
type CampaignRecordsView struct {
	Page
	Query     service.CampaignQuery
	Records   service.CampaignRecords
	Path      string // the object's URL segment, for links to the records
	NextURL   string
	Confirmed string // what the last confirmation did
	// CanConfirm says whether the reader may confirm records of the
	// object while the campaign is open.
	CanConfirm bool
}

// campaignRecords serves GET /quality/campaigns/{id}/records.
func (s *Server) campaignRecords(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	v := r.URL.Query()
	q := service.CampaignQuery{CampaignID: id, Object: crm.Object(v.Get("object")), Unreviewed: v.Get("unreviewed") == "true"}
	var p crm.Problems
	readDrillIDs(v, &p, &q.OwnerID, &q.DeptID, &q.After)
	err := p.Err()
	var recs service.CampaignRecords
	if err == nil {
		recs, err = s.svc.CampaignRecords(r.Context(), a, q)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	spec, _ := crm.Spec(q.Object)
	view := CampaignRecordsView{Page: s.page(r, a, "campaign.records_title", "quality"), Query: q, Records: recs, Path: spec.Path,
		CanConfirm: recs.Campaign.Status == crm.CampaignOpen && a.Can(q.Object, crm.ActEdit)}
	if n := v.Get("confirmed"); n != "" {
		if c, err := strconv.Atoi(n); err == nil {
			view.Confirmed = view.Tf("campaign.confirmed", c)
		}
	}
	if recs.Next != 0 {
		next := r.URL.Query()
		next.Set("after", strconv.FormatInt(recs.Next, 10))
		next.Del("confirmed")
		view.NextURL = "/quality/campaigns/" + strconv.FormatInt(id, 10) + "/records?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "campaign_records", view)
}

// confirmCampaignReview serves POST /quality/campaigns/{id}/confirm: the records
// ticked (ids) of one object, back to the review list.
func (s *Server) confirmCampaignReview(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	o := crm.Object(r.PostFormValue("object"))
	var ids []int64
	var p crm.Problems
	for _, raw := range r.PostForm["ids"] {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			p.Add("ids", "number")
			break
		}
		ids = append(ids, n)
	}
	err := p.Err()
	n := 0
	if err == nil {
		n, err = s.svc.ConfirmReview(r.Context(), a, id, o, ids)
	}
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	back := campaignRecordsURL(id, o, "owner_id", a.UserID, true)
	if owner, err := strconv.ParseInt(r.PostFormValue("owner_id"), 10, 64); err == nil && owner >= 0 {
		back = campaignRecordsURL(id, o, "owner_id", owner, true)
		if owner == 0 {
			back = campaignRecordsURL(id, o, "", 0, true)
		}
	}
	redirect(w, r, back+"&confirmed="+strconv.Itoa(n))
}
