package web

import (
	"net/http"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// HomeView is the "today" page.
type HomeView struct {
	Page
	Greeting    string
	MyCount     int
	Due         []CustomerRow
	DueMore     bool // more of my customers are due than fit the list
	Recent      []CustomerRow
	CanCustomer bool
	CanTasks    bool
	Tasks       []TaskRow // my open tasks, soonest due first
	TasksMore   bool
	// Approvals waiting for the user's decision, and the user's own
	// requests decided in the last week: the in-app notification.
	ToDecide []crm.ApprovalRequest
	Decided  []crm.ApprovalRequest
	// Team is the team section, for a user whose scope covers others.
	Team *TeamView
}

// homeTaskLimit bounds the task list on Today; the task page shows all.
const homeTaskLimit = 20

// homeDueLimit bounds the follow-up list; the customer list sorted by next
// follow-up shows the rest.
const homeDueLimit = 50

// home shows the greeting, my customer count, my customers whose next
// follow-up is due today or overdue, my open tasks and recently updated
// customers.
func (s *Server) home(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	v := HomeView{Page: s.page(r, a, "home.title", "home")}
	now := time.Now().In(v.Location())
	v.Greeting = v.Tf(greetingKey(now), a.Name)
	v.CanCustomer = a.Can(crm.ObjCustomer, crm.ActRead)
	var err error
	if v.Team, err = s.teamView(r, a, v.Page); err != nil {
		s.fail(w, r, a, err)
		return
	}
	if v.CanCustomer {
		// One query answers both "how many are mine" (Total) and "which are
		// due": sorted by next follow-up, due ones come first and customers
		// without a date come last.
		mine, err := s.svc.ListCustomers(r.Context(), a, crm.CustomerFilter{OwnerID: a.UserID, Sort: "next_follow_up", Limit: homeDueLimit})
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		v.MyCount = mine.Total
		y, m, d := now.Date()
		startOfDay := time.Date(y, m, d, 0, 0, 0, 0, v.Location())
		endOfDay := startOfDay.AddDate(0, 0, 1)
		for _, c := range mine.Items {
			if c.NextFollowUpAt == nil || !c.NextFollowUpAt.Before(endOfDay) {
				break
			}
			row := customerRow(v.Page, CustomList{}, c)
			row.Overdue = c.NextFollowUpAt.Before(startOfDay)
			v.Due = append(v.Due, row)
		}
		v.DueMore = len(v.Due) == homeDueLimit && mine.Next != ""
		recent, err := s.svc.ListCustomers(r.Context(), a, crm.CustomerFilter{Sort: "updated", Limit: 8})
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		v.Recent = customerRows(v.Page, CustomList{}, recent.Items)
	}
	if v.CanTasks = a.Can(crm.ObjTask, crm.ActRead); v.CanTasks {
		tasks, err := s.svc.ListTasks(r.Context(), a, service.TaskFilter{Limit: homeTaskLimit + 1})
		if err != nil {
			s.fail(w, r, a, err)
			return
		}
		if len(tasks) > homeTaskLimit {
			tasks, v.TasksMore = tasks[:homeTaskLimit], true
		}
		if v.Tasks, err = s.namedTaskRows(r.Context(), a, tasks); err != nil {
			s.fail(w, r, a, err)
			return
		}
	}
	approvals, err := s.svc.ListApprovals(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v.ToDecide = approvals.ToDecide
	for _, req := range approvals.Requested {
		if req.DecidedAt != nil && time.Since(*req.DecidedAt) < 7*24*time.Hour && len(v.Decided) < 5 {
			v.Decided = append(v.Decided, req)
		}
	}
	s.render(w, r, http.StatusOK, "home", v)
}

func greetingKey(t time.Time) string {
	switch h := t.Hour(); {
	case h < 5:
		return "home.greeting.evening"
	case h < 12:
		return "home.greeting.morning"
	case h < 18:
		return "home.greeting.afternoon"
	}
	return "home.greeting.evening"
}

// TaskList is my open tasks, for the shared task list.
func (v HomeView) TaskList() TaskList { return TaskList{Page: v.Page, Tasks: v.Tasks, From: "home"} }
