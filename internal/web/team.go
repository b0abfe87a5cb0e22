package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
)

// TeamPick is the rep and department filter of a list, the board and the
// Today page (owner=, department=). Its choices are only the people and
// departments within the actor's scope; a value outside them still reaches
// the service, which ANDs it to the scope, so it narrows to nothing.
type TeamPick struct {
	Owner, Dept int64
	users       []Option
	depts       []Option
}

// teamPick reads the filter and loads its choices. An actor who sees only
// their own records has no choices and no select.
func (s *Server) teamPick(r *http.Request, a *access.Actor) (TeamPick, error) {
	q := r.URL.Query()
	// The API's names (owner_id, department_id) too: a report's drill-down
	// links here with the API list's query.
	t := TeamPick{Owner: cmp.Or(queryID(q, "owner"), queryID(q, "owner_id")), Dept: cmp.Or(queryID(q, "department"), queryID(q, "department_id"))}
	choices, err := s.svc.TeamChoices(r.Context(), a)
	if err != nil {
		return t, err
	}
	for _, u := range choices.Users {
		name := u.Name
		if name == "" {
			name = u.Username
		}
		t.users = append(t.users, Option{Value: idString(u.ID), Label: name, Selected: u.ID == t.Owner})
	}
	for _, d := range choices.Departments {
		depth := max(strings.Count(d.Path, "/")-2, 0)
		t.depts = append(t.depts, Option{Value: idString(d.ID), Label: strings.Repeat("· ", depth) + d.Name, Selected: d.ID == t.Dept})
	}
	return t, nil
}

// queryID reads a positive id from the query; anything else is no filter.
func queryID(q url.Values, name string) int64 {
	id, err := strconv.ParseInt(q.Get(name), 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// Shown reports whether the actor has a team to filter by.
func (t TeamPick) Shown() bool { return len(t.users) > 1 || len(t.depts) > 0 }

// selects are the rep and department selects; a chosen value outside the
// choices is kept as its number so the page says what it filters by.
func (t TeamPick) selects(p Page) []FilterSelect {
	if !t.Shown() {
		return nil
	}
	pick := func(name, label, any string, opts []Option, chosen int64) FilterSelect {
		out := []Option{{Value: "", Label: p.T(any), Selected: chosen == 0}}
		found := chosen == 0
		for _, o := range opts {
			found = found || o.Selected
		}
		if !found {
			out = append(out, Option{Value: idString(chosen), Label: "#" + idString(chosen), Selected: true})
		}
		return FilterSelect{Name: name, Label: p.T(label), Options: append(out, opts...)}
	}
	return []FilterSelect{pick("owner", "field.owner", "team.any_owner", t.users, t.Owner),
		pick("department", "field.department_id", "team.any_department", t.depts, t.Dept)}
}

// params keeps the filter in paging and drill-down links.
func (t TeamPick) params(v url.Values) {
	if t.Owner != 0 {
		v.Set("owner", idString(t.Owner))
	}
	if t.Dept != 0 {
		v.Set("department", idString(t.Dept))
	}
}

// teamQuery is the filter as a query.
func teamQuery(t TeamPick) url.Values {
	v := url.Values{}
	t.params(v)
	return v
}

// TeamView is the team section of a manager's Today page: per rep in scope,
// the numbers that need attention, each linking to the list it counts.
type TeamView struct {
	Page
	Rows        []TeamRowView
	StalledDays int
	Pick        TeamPick
	CanTasks    bool
	CanOpps     bool
}

// TeamRowView is one rep's row.
type TeamRowView struct {
	Name                                     string
	Overdue, DueToday, TasksOverdue, Stalled TeamCell
}

// TeamCell is one number and the filtered list that makes it up.
type TeamCell struct {
	N   int
	URL string
}

// FilterSelects are the rep and department selects of the team section.
func (v TeamView) FilterSelects() []FilterSelect { return v.Pick.selects(v.Page) }

// StalledNote states what "stalled" means on the page.
func (v TeamView) StalledNote() string { return v.Tf("team.stalled_note", v.StalledDays) }

// teamView loads the team section for an actor whose scope covers others.
func (s *Server) teamView(r *http.Request, a *access.Actor, p Page) (*TeamView, error) {
	if !service.TeamScoped(a) {
		return nil, nil
	}
	pick, err := s.teamPick(r, a)
	if err != nil {
		return nil, err
	}
	sum, err := s.svc.Team(r.Context(), a, service.TeamFilter{OwnerID: pick.Owner, DeptID: pick.Dept})
	if err != nil {
		return nil, err
	}
	v := &TeamView{Page: p, StalledDays: sum.StalledDays, Pick: pick,
		CanTasks: a.Can(crm.ObjTask, crm.ActRead), CanOpps: a.Can(crm.ObjOpportunity, crm.ActRead)}
	for _, row := range sum.Rows {
		owner := idString(row.User.ID)
		cell := func(n *int, path string, extra ...string) TeamCell {
			if n == nil {
				return TeamCell{}
			}
			q := url.Values{"owner": {owner}}
			for i := 0; i+1 < len(extra); i += 2 {
				q.Set(extra[i], extra[i+1])
			}
			return TeamCell{N: *n, URL: withQuery(path, q)}
		}
		name := row.User.Name
		if name == "" {
			name = row.User.Username
		}
		v.Rows = append(v.Rows, TeamRowView{Name: name,
			Overdue:      cell(row.Overdue, "/customers", "due", crm.DueOverdue, "sort", "next_follow_up"),
			DueToday:     cell(row.DueToday, "/customers", "due", crm.DueToday, "sort", "next_follow_up"),
			TasksOverdue: cell(row.TasksOverdue, "/tasks", "due", crm.DueOverdue),
			Stalled:      cell(row.Stalled, "/opportunities", "stalled", strconv.Itoa(sum.StalledDays)),
		})
	}
	return v, nil
}

// TeamForm is the rep and department filter form of a page without a
// list filter form of its own (Today, the task list, the board): a GET to
// Path keeping Hidden.
type TeamForm struct {
	Page
	Path    string
	Selects []FilterSelect
	Hidden  []Option
}

// form is the filter form for a page at path, keeping hidden's values.
func (t TeamPick) form(p Page, path string, hidden url.Values) TeamForm {
	f := TeamForm{Page: p, Path: path, Selects: t.selects(p)}
	for k, vs := range hidden {
		for _, v := range vs {
			f.Hidden = append(f.Hidden, Option{Value: v, Label: k})
		}
	}
	return f
}

// TeamForm is the team section's filter form.
func (v TeamView) TeamForm() TeamForm { return v.Pick.form(v.Page, "/", nil) }
