package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/httpx"
	"custos/internal/service"
)

// TaskRow is one task in a list, with its due state worked out.
type TaskRow struct {
	ID           int64
	Title        string
	Notes        string
	DueAt        *time.Time
	Overdue      bool
	DueToday     bool
	Done         bool
	CustomerID   int64
	CustomerName string
	OwnerName    string
}

// NotesLink is the task's notes as a link when they are one page of this
// site (a fix-up's record, a review campaign): a path, never another host.
func (k TaskRow) NotesLink() string {
	if strings.HasPrefix(k.Notes, "/") && !strings.HasPrefix(k.Notes, "//") && !strings.ContainsAny(k.Notes, " \\\n") {
		return k.Notes
	}
	return ""
}

// CustomerURL is the task's customer, if any.
func (k TaskRow) CustomerURL() string {
	if k.CustomerID == 0 {
		return ""
	}
	return "/customers/" + strconv.FormatInt(k.CustomerID, 10)
}

// taskRows marks due and overdue tasks ("today" is a day in the user's
// time zone loc) and names their customers where the user may see them.
func taskRows(loc *time.Location, tasks []crm.Task, customerNames map[int64]string) []TaskRow {
	now := time.Now().In(loc)
	y, m, d := now.Date()
	endOfDay := time.Date(y, m, d, 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	out := make([]TaskRow, len(tasks))
	for i, k := range tasks {
		out[i] = TaskRow{ID: k.ID, Title: k.Title, Notes: k.Notes, DueAt: k.DueAt, Done: k.Done, CustomerID: k.CustomerID,
			CustomerName: customerNames[k.CustomerID], OwnerName: k.OwnerName}
		if k.DueAt != nil && !k.Done {
			out[i].Overdue = k.DueAt.Before(now)
			out[i].DueToday = !out[i].Overdue && k.DueAt.Before(endOfDay)
		}
	}
	return out
}

// namedTaskRows is taskRows with the customers' names looked up.
func (s *Server) namedTaskRows(ctx context.Context, a *access.Actor, tasks []crm.Task) ([]TaskRow, error) {
	names := map[int64]string{}
	if a.Can(crm.ObjCustomer, crm.ActRead) {
		var ids []int64
		for _, k := range tasks {
			if k.CustomerID != 0 {
				ids = append(ids, k.CustomerID)
			}
		}
		if len(ids) > 0 {
			var err error
			if names, err = s.svc.CustomerNames(ctx, a, ids); err != nil {
				return nil, err
			}
		}
	}
	return taskRows(s.svc.Location(a), tasks, names), nil
}

// taskListLimit bounds the task list; done tasks beyond it are old news.
const taskListLimit = 200

// TasksView is my task list, open only or all.
type TasksView struct {
	Page
	All     bool
	Overdue bool // only tasks past due (due=overdue)
	Pick    TeamPick
	Tasks   []TaskRow
}

// TeamForm is the rep and department filter.
func (v TasksView) TeamForm() TeamForm {
	keep := url.Values{}
	if v.All {
		keep.Set("show", "all")
	}
	if v.Overdue {
		keep.Set("due", crm.DueOverdue)
	}
	return v.Pick.form(v.Page, "/tasks", keep)
}

// Team reports whether the list shows other people's tasks (their names
// are then shown beside each).
func (v TasksView) Team() bool { return v.Pick.Owner != 0 || v.Pick.Dept != 0 }

// TaskList is the list of tasks shared by Today and the task page; From
// says where a plain "done" form returns to.
type TaskList struct {
	Page
	Tasks     []TaskRow
	From      string
	ShowOwner bool // the tasks are several people's
}

// TaskList is the page's list.
func (v TasksView) TaskList() TaskList {
	from := "tasks"
	if v.All {
		from = "all"
	}
	return TaskList{Page: v.Page, Tasks: v.Tasks, From: from, ShowOwner: v.Team()}
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := r.URL.Query()
	all, overdue := q.Get("show") == "all", q.Get("due") == crm.DueOverdue
	pick, err := s.teamPick(r, a)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	tasks, err := s.svc.ListTasks(r.Context(), a, service.TaskFilter{All: all, Overdue: overdue, OwnerID: pick.Owner, DeptID: pick.Dept,
		Limit: taskListLimit})
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := TasksView{Page: s.page(r, a, "tasks.title", "tasks"), All: all, Overdue: overdue, Pick: pick}
	if v.Tasks, err = s.namedTaskRows(r.Context(), a, tasks); err != nil {
		s.fail(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "tasks", v)
}

// setTaskDone marks a task done (or open again). With htmx the button's
// cell becomes a short confirmation; without, the browser returns to the
// page it came from (the task list or Today).
func (s *Server) setTaskDone(done bool) handler {
	return func(w http.ResponseWriter, r *http.Request, a *access.Actor) {
		id, ok := pathID(r)
		if !ok {
			s.notFound(w, r, a)
			return
		}
		if err := s.svc.SetTaskDone(r.Context(), a, id, done); err != nil {
			s.fail(w, r, a, err)
			return
		}
		if isHTMX(r) {
			p := s.page(r, a, "tasks.title", "tasks")
			msg := p.T("tasks.marked_done")
			if !done {
				msg = p.T("tasks.reopened")
			}
			s.renderPartial(w, r, http.StatusOK, "tasks", "task-done", DoneView{Page: p, Message: msg})
			return
		}
		to := "/tasks"
		switch r.PostFormValue("from") {
		case "home":
			to = "/"
		case "all":
			to = "/tasks?show=all"
		}
		redirect(w, r, to)
	}
}

// ---- form ----

// TaskForm is the task form's input as typed.
type TaskForm struct {
	Title, Notes, DueAt    string
	CustomerID, AssigneeID int64
	// OpportunityID links a new task to the opportunity whose page it was
	// added from (what the stage criteria count).
	OpportunityID int64
}

var taskFieldNames = []string{"title", "notes", "due_at", "customer_id", "assignee_id"}

// TaskFormView creates or edits a task; managers and administrators also
// choose whom it is for.
type TaskFormView struct {
	Page
	ID        int64 // 0 for a new task
	Version   int64
	Form      TaskForm
	Errors    FormErrors
	Stale     bool // the task changed meanwhile; the form keeps what was typed
	customers []Option
	assignees []Option // nil: the task is the user's own
}

// Action is where the form posts.
func (v TaskFormView) Action() string {
	if v.ID == 0 {
		return "/tasks"
	}
	return "/tasks/" + strconv.FormatInt(v.ID, 10)
}

// taskLabels words the task's fields: its title is not a job title.
func taskLabels(p Page) map[string]string {
	return map[string]string{"title": p.T("field.task_title")}
}

// Fields are the form's inputs.
func (v TaskFormView) Fields() []FieldView {
	f := v.Form
	fs := labelFields(v.Page, []FieldView{
		{Name: "title", Value: f.Title, Required: true, Max: 200, Wide: true},
		{Name: "due_at", Type: "datetime-local", Value: f.DueAt},
	}, v.Errors)
	fs[0].Label = v.T("field.task_title")
	if v.assignees != nil {
		fs = append(fs, FieldView{Name: "assignee_id", Label: v.T("field.assignee_id"), Options: v.assignees, Error: v.Errors.For("assignee_id")})
	}
	if f.OpportunityID != 0 && v.ID == 0 {
		fs = append(fs, FieldView{Name: "opportunity_id", Type: "hidden", Value: idString(f.OpportunityID)})
	}
	fs = append(fs, pickerField(v.Page, v.customers, "none", v.Errors))
	notes := FieldView{Name: "notes", Label: v.T("field.notes"), Type: "textarea", Value: f.Notes, Max: 2000, Wide: true, Error: v.Errors.For("notes")}
	return append(fs, notes)
}

// CancelURL is where "cancel" leads; after a stale edit, it shows the
// task as it is now (on its customer's page, or in the task list).
func (v TaskFormView) CancelURL() string {
	if v.Form.OpportunityID != 0 && v.ID == 0 {
		return "/opportunities/" + strconv.FormatInt(v.Form.OpportunityID, 10)
	}
	if v.Form.CustomerID != 0 {
		return "/customers/" + strconv.FormatInt(v.Form.CustomerID, 10)
	}
	return "/tasks"
}

// assignable lists the users a task may be given to: for a role whose task
// scope reaches beyond its own records, the active users in that scope
// (the service checks the choice again). nil means "only yourself".
func assignable(a *access.Actor, dir service.Directory, selected int64) []Option {
	scope := a.Role.Grant(crm.ObjTask).Scope
	if scope == crm.ScopeOwn || scope == "" {
		return nil
	}
	paths := map[int64]string{}
	for _, d := range dir.Departments {
		paths[d.ID] = d.Path
	}
	if selected == 0 {
		selected = a.UserID
	}
	var out []Option
	for _, u := range dir.Users {
		in := u.ID == a.UserID
		switch scope {
		case crm.ScopeAll:
			in = true
		case crm.ScopeDepartment:
			in = in || u.DepartmentID == a.DeptID
		case crm.ScopeSubtree:
			in = in || strings.HasPrefix(paths[u.DepartmentID], a.DeptPath)
		}
		if in && !u.Disabled || u.ID == selected {
			// The current assignee stays a choice even beyond the scope, so
			// saving other changes never hands the task to someone else.
			out = append(out, Option{Value: idString(u.ID), Label: u.DisplayName, Selected: u.ID == selected})
		}
	}
	return out
}

func (s *Server) taskForm(w http.ResponseWriter, r *http.Request, a *access.Actor, titleKey string, f TaskForm) (TaskFormView, bool) {
	v := TaskFormView{Page: s.page(r, a, titleKey, "tasks"), Form: f}
	var err error
	if v.customers, err = s.customerOptions(r.Context(), a, v.Page, "", f.CustomerID, "", "none"); err != nil {
		s.fail(w, r, a, err)
		return v, false
	}
	dir, ok := s.directory(w, r, a)
	if !ok {
		return v, false
	}
	v.assignees = assignable(a, dir, f.AssigneeID)
	return v, true
}

func (s *Server) newTask(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	q := r.URL.Query()
	v, ok := s.taskForm(w, r, a, "task.new", TaskForm{CustomerID: queryID(q, "customer_id"), OpportunityID: queryID(q, "opportunity_id")})
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "task_form", v)
}

func readTaskForm(r *http.Request) TaskForm {
	return TaskForm{Title: r.PostFormValue("title"), Notes: r.PostFormValue("notes"), DueAt: r.PostFormValue("due_at"),
		CustomerID: formInt(r, "customer_id"), AssigneeID: formInt(r, "assignee_id"), OpportunityID: formInt(r, "opportunity_id")}
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f := readTaskForm(r)
	var p crm.Problems
	fields := crm.TaskFields{Title: f.Title, Notes: f.Notes, DueAt: parseLocalTime(s.svc.Location(a), &p, "due_at", f.DueAt), CustomerID: f.CustomerID,
		AssigneeID: f.AssigneeID, OpportunityID: f.OpportunityID}
	err := submit(p, fields.Validate, func() error {
		_, err := s.svc.CreateTask(r.Context(), a, fields)
		return err
	})
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			if v, ok := s.taskForm(w, r, a, "task.new", f); ok {
				s.render(w, r, status, "task_form", v.refused(err))
			}
		})
		return
	}
	if f.OpportunityID != 0 {
		redirect(w, r, "/opportunities/"+strconv.FormatInt(f.OpportunityID, 10)+"#tasks")
		return
	}
	taskSaved(w, r, f.CustomerID)
}

// taskSaved returns to the task's customer, or to the task list.
func taskSaved(w http.ResponseWriter, r *http.Request, customerID int64) {
	if customerID != 0 {
		redirect(w, r, "/customers/"+strconv.FormatInt(customerID, 10)+"#tasks")
		return
	}
	redirect(w, r, "/tasks")
}

// refused shows the form again with the service's objections; a stale
// version keeps the input and says the task changed meanwhile.
func (v TaskFormView) refused(err error) TaskFormView {
	v.Stale = isStale(err)
	shown := taskFieldNames
	if v.assignees == nil {
		// Without the choice on the form, an assignee problem is said above it.
		shown = slices.DeleteFunc(slices.Clone(shown), func(f string) bool { return f == "assignee_id" })
	}
	v.Errors = labeledFormErrors(v.Lang, err, taskLabels(v.Page), shown...)
	return v
}

// editTask shows a task's edit form.
func (s *Server) editTask(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	k, err := s.svc.GetTask(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v, ok := s.taskForm(w, r, a, "task.edit", TaskForm{Title: k.Title, Notes: k.Notes, CustomerID: k.CustomerID, AssigneeID: k.OwnerID})
	if !ok {
		return
	}
	v.ID, v.Version, v.Form.DueAt = k.ID, k.Version, v.LocalInput(k.DueAt)
	s.render(w, r, http.StatusOK, "task_form", v)
}

// updateTask saves the edit form if its version is still current. The form
// sends every field it shows: an emptied due time is removed, no customer
// unlinks it; the assignee changes only where the form offers a choice.
func (s *Server) updateTask(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	f := readTaskForm(r)
	var p crm.Problems
	due := parseLocalTime(s.svc.Location(a), &p, "due_at", f.DueAt)
	up := crm.TaskUpdate{Version: formInt(r, "version"), Title: &f.Title, Notes: &f.Notes, DueAt: due, ClearDueAt: due == nil,
		CustomerID: &f.CustomerID}
	if _, chosen := r.PostForm["assignee_id"]; chosen {
		up.AssigneeID = &f.AssigneeID
	}
	check := crm.TaskFields{Title: f.Title, Notes: f.Notes}
	err := submit(p, check.Validate, func() error {
		_, err := s.svc.UpdateTask(r.Context(), a, id, up)
		return err
	})
	if err == nil {
		taskSaved(w, r, f.CustomerID)
		return
	}
	if !isStale(err) && !hasFieldErrors(err) {
		s.fail(w, r, a, err)
		return
	}
	v, ok := s.taskForm(w, r, a, "task.edit", f)
	if !ok {
		return
	}
	v.ID, v.Version = id, up.Version
	s.render(w, r, httpx.Status(err), "task_form", v.refused(err))
}
