package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
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

// CustomerURL is the task's customer, if any.
func (k TaskRow) CustomerURL() string {
	if k.CustomerID == 0 {
		return ""
	}
	return "/customers/" + strconv.FormatInt(k.CustomerID, 10)
}

// taskRows marks due and overdue tasks (in the server's time zone) and
// names their customers where the user may see them.
func taskRows(tasks []crm.Task, customerNames map[int64]string) []TaskRow {
	now := time.Now().In(time.Local)
	y, m, d := now.Date()
	endOfDay := time.Date(y, m, d, 0, 0, 0, 0, time.Local).AddDate(0, 0, 1)
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
	return taskRows(tasks, names), nil
}

// taskListLimit bounds the task list; done tasks beyond it are old news.
const taskListLimit = 200

// TasksView is my task list, open only or all.
type TasksView struct {
	Page
	All   bool
	Tasks []TaskRow
}

// TaskList is the list of tasks shared by Today and the task page; From
// says where a plain "done" form returns to.
type TaskList struct {
	Page
	Tasks []TaskRow
	From  string
}

// TaskList is the page's list.
func (v TasksView) TaskList() TaskList {
	from := "tasks"
	if v.All {
		from = "all"
	}
	return TaskList{Page: v.Page, Tasks: v.Tasks, From: from}
}

func (s *Server) listTasks(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	all := r.URL.Query().Get("show") == "all"
	tasks, err := s.svc.ListTasks(r.Context(), a, service.TaskFilter{All: all, Limit: taskListLimit})
	if err != nil {
		s.fail(w, r, a, err)
		return
	}
	v := TasksView{Page: s.page(r, a, "tasks.title", "tasks"), All: all}
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
}

var taskFieldNames = []string{"title", "notes", "due_at", "customer_id", "assignee_id"}

// TaskFormView creates a task; managers and administrators also choose
// whom it is for.
type TaskFormView struct {
	Page
	Form      TaskForm
	Errors    FormErrors
	customers []Option
	assignees []Option // nil: the task is the user's own
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
	fs = append(fs, pickerField(v.Page, v.customers, "none", v.Errors))
	notes := FieldView{Name: "notes", Label: v.T("field.notes"), Type: "textarea", Value: f.Notes, Max: 2000, Wide: true, Error: v.Errors.For("notes")}
	return append(fs, notes)
}

// CancelURL is where "cancel" leads.
func (v TaskFormView) CancelURL() string {
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
		if in && !u.Disabled {
			out = append(out, Option{Value: idString(u.ID), Label: u.DisplayName, Selected: u.ID == selected})
		}
	}
	return out
}

func (s *Server) taskForm(w http.ResponseWriter, r *http.Request, a *access.Actor, f TaskForm) (TaskFormView, bool) {
	v := TaskFormView{Page: s.page(r, a, "task.new", "tasks"), Form: f}
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
	customerID, _ := strconv.ParseInt(r.URL.Query().Get("customer_id"), 10, 64)
	v, ok := s.taskForm(w, r, a, TaskForm{CustomerID: customerID})
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, "task_form", v)
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f := TaskForm{Title: r.PostFormValue("title"), Notes: r.PostFormValue("notes"), DueAt: r.PostFormValue("due_at"),
		CustomerID: formInt(r, "customer_id"), AssigneeID: formInt(r, "assignee_id")}
	var p crm.Problems
	fields := crm.TaskFields{Title: f.Title, Notes: f.Notes, DueAt: parseLocalTime(&p, "due_at", f.DueAt), CustomerID: f.CustomerID, AssigneeID: f.AssigneeID}
	var err error
	if len(p) > 0 {
		check := fields
		err = mergeProblems(p, check.Validate())
	} else {
		_, err = s.svc.CreateTask(r.Context(), a, fields)
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			v, ok := s.taskForm(w, r, a, f)
			if !ok {
				return
			}
			v.Errors = labeledFormErrors(v.Lang, err, taskLabels(v.Page), taskFieldNames...)
			s.render(w, r, status, "task_form", v)
		})
		return
	}
	if f.CustomerID != 0 {
		redirect(w, r, "/customers/"+strconv.FormatInt(f.CustomerID, 10)+"#tasks")
		return
	}
	redirect(w, r, "/tasks")
}
