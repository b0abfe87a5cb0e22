package web

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/service"
)

// The administration pages: users, departments and roles. The routes are
// wrapped in s.admin, and every write is checked again by the service.

// adminPage is the common view model of an administration page.
func (s *Server) adminPage(r *http.Request, a *access.Actor, titleKey, tab string) Page {
	p := s.page(r, a, titleKey, "admin")
	p.Tab = tab
	return p
}

func formInt(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(r.PostFormValue(name)), 10, 64)
	return n
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// directory loads users, departments and roles, or writes the error.
func (s *Server) directory(w http.ResponseWriter, r *http.Request, a *access.Actor) (service.Directory, bool) {
	d, err := s.svc.Directory(r.Context(), a)
	if err != nil {
		s.fail(w, r, a, err)
		return d, false
	}
	return d, true
}

// idOptions builds a select of records, with an optional empty first entry.
func idOptions[T any](items []T, id func(T) int64, label func(T) string, selected int64, empty string) []Option {
	var out []Option
	if empty != "" {
		out = append(out, Option{Value: "", Label: empty, Selected: selected == 0})
	}
	for _, it := range items {
		out = append(out, Option{Value: idString(id(it)), Label: label(it), Selected: id(it) == selected})
	}
	return out
}

func roleID(r crm.Role) int64 { return r.ID }
func userID(u crm.User) int64 { return u.ID }

// defaultRoleNames are the names Bootstrap gives the default roles, by key.
var defaultRoleNames = func() map[string]string {
	m := map[string]string{}
	for _, r := range crm.DefaultRoles() {
		m[r.Key] = r.Name
	}
	return m
}()

// roleLabel is a role's name for the reader: a default role that still
// has the English name Bootstrap gave it is named in the reader's language
// ("role.<key>"); a name an administrator chose is shown as written.
func (p Page) roleLabel(r crm.Role) string {
	if name, ok := defaultRoleNames[r.Key]; ok && name == r.Name {
		return p.T("role." + r.Key)
	}
	return r.Name
}
func userLabel(u crm.User) string { return u.DisplayName + " (" + u.Username + ")" }

// ---- users ----

// UserRow is one user in the user list.
type UserRow struct {
	ID          int64
	Username    string
	DisplayName string
	Email       string
	Department  string
	Role        string
	Disabled    bool
	MustChange  bool
}

// URL is the user's edit page.
func (u UserRow) URL() string { return "/admin/users/" + strconv.FormatInt(u.ID, 10) }

// UserForm is the user form's input as typed (never the password).
type UserForm struct {
	Username, DisplayName, Email string
	DepartmentID, RoleID         int64
	Disabled                     bool
}

// AdminUsersView lists users with a form to add one.
type AdminUsersView struct {
	Page
	Users  []UserRow
	Form   UserForm
	Errors FormErrors
	dir    service.Directory
}

var newUserFieldNames = []string{"username", "display_name", "email", "department_id", "role_id", "password"}

// Fields are the create-user form's inputs.
func (v AdminUsersView) Fields() []FieldView {
	f := v.Form
	out := []FieldView{
		{Name: "username", Value: f.Username, Required: true, Max: 40, Autocomplete: "off", Hint: v.T("hint.username")},
		{Name: "display_name", Value: f.DisplayName, Required: true, Max: 60},
		{Name: "email", Type: "email", Value: f.Email, Max: 200, Autocomplete: "off"},
		{Name: "department_id", Options: deptOptions(v.dir.Departments, f.DepartmentID, v.T("form.choose"))},
		{Name: "role_id", Options: idOptions(v.dir.Roles, roleID, v.roleLabel, f.RoleID, v.T("form.choose"))},
		{Name: "password", Type: "password", Required: true, Max: 200, Autocomplete: "new-password", Hint: v.T("hint.initial_password")},
	}
	return labelFields(v.Page, out, v.Errors)
}

func labelFields(p Page, fs []FieldView, e FormErrors) []FieldView {
	for i := range fs {
		fs[i].Label, fs[i].Error = p.T("field."+fs[i].Name), e.For(fs[i].Name)
	}
	return fs
}

// deptOptions lists departments in tree order, indented by depth.
func deptOptions(depts []crm.Department, selected int64, empty string) []Option {
	var out []Option
	if empty != "" {
		out = append(out, Option{Value: "", Label: empty, Selected: selected == 0})
	}
	for _, d := range deptTree(depts) {
		out = append(out, Option{Value: idString(d.ID), Label: strings.Repeat("　", d.Depth) + d.Name, Selected: d.ID == selected})
	}
	return out
}

func (s *Server) adminUsers(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showAdminUsers(w, r, a, http.StatusOK, UserForm{}, FormErrors{})
}

func (s *Server) showAdminUsers(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, f UserForm, e FormErrors) {
	dir, ok := s.directory(w, r, a)
	if !ok {
		return
	}
	v := AdminUsersView{Page: s.adminPage(r, a, "admin.users", "users"), Form: f, Errors: e, dir: dir}
	depts := map[int64]string{}
	for _, d := range dir.Departments {
		depts[d.ID] = d.Name
	}
	roles := map[int64]string{}
	for _, r := range dir.Roles {
		roles[r.ID] = v.roleLabel(r)
	}
	for _, u := range dir.Users {
		v.Users = append(v.Users, UserRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
			Department: depts[u.DepartmentID], Role: roles[u.RoleID], Disabled: u.Disabled, MustChange: u.MustChangePW})
	}
	s.render(w, r, status, "admin_users", v)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f := UserForm{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"), Email: r.PostFormValue("email"),
		DepartmentID: formInt(r, "department_id"), RoleID: formInt(r, "role_id")}
	_, err := s.svc.CreateUser(r.Context(), a, service.UserInput{Password: r.PostFormValue("password"),
		User: crm.User{Username: f.Username, DisplayName: f.DisplayName, Email: f.Email, DepartmentID: f.DepartmentID, RoleID: f.RoleID}})
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showAdminUsers(w, r, a, status, f, formErrors(lang(r, a), err, newUserFieldNames...))
		})
		return
	}
	redirect(w, r, "/admin/users")
}

// AdminUserView edits one user and sets their password.
type AdminUserView struct {
	Page
	User     crm.User
	Form     UserForm
	Errors   FormErrors
	PWErrors FormErrors
	dir      service.Directory
	IsSelf   bool
}

var editUserFieldNames = []string{"display_name", "email", "department_id", "role_id", "disabled"}

// URL is where the edit form posts.
func (v AdminUserView) URL() string { return "/admin/users/" + strconv.FormatInt(v.User.ID, 10) }

// Fields are the edit form's inputs (the disabled checkbox is separate).
func (v AdminUserView) Fields() []FieldView {
	f := v.Form
	out := []FieldView{
		{Name: "display_name", Value: f.DisplayName, Required: true, Max: 60},
		{Name: "email", Type: "email", Value: f.Email, Max: 200, Autocomplete: "off"},
		{Name: "department_id", Options: deptOptions(v.dir.Departments, f.DepartmentID, "")},
		{Name: "role_id", Options: idOptions(v.dir.Roles, roleID, v.roleLabel, f.RoleID, "")},
	}
	return labelFields(v.Page, out, v.Errors)
}

// PasswordField is the set-password input.
func (v AdminUserView) PasswordField() FieldView {
	return FieldView{Name: "password", Label: v.T("field.password"), Type: "password", Required: true, Max: 200,
		Autocomplete: "new-password", Error: v.PWErrors.For("password"), Hint: v.T("hint.set_password")}
}

func (s *Server) adminUser(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showAdminUser(w, r, a, http.StatusOK, nil, FormErrors{}, FormErrors{})
}

// showAdminUser renders the user page; form is the submitted input, or nil
// to show the stored user.
func (s *Server) showAdminUser(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, form *UserForm, e, pwe FormErrors) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	dir, ok := s.directory(w, r, a)
	if !ok {
		return
	}
	i := slices.IndexFunc(dir.Users, func(u crm.User) bool { return u.ID == id })
	if i < 0 {
		s.notFound(w, r, a)
		return
	}
	u := dir.Users[i]
	v := AdminUserView{Page: s.adminPage(r, a, "admin.user", "users"), User: u, Errors: e, PWErrors: pwe, dir: dir, IsSelf: u.ID == a.UserID}
	v.Title = u.DisplayName
	if form != nil {
		v.Form = *form
	} else {
		v.Form = UserForm{Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, DepartmentID: u.DepartmentID, RoleID: u.RoleID, Disabled: u.Disabled}
	}
	s.render(w, r, status, "admin_user", v)
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	f := UserForm{DisplayName: r.PostFormValue("display_name"), Email: r.PostFormValue("email"),
		DepartmentID: formInt(r, "department_id"), RoleID: formInt(r, "role_id"), Disabled: r.PostFormValue("disabled") == "on"}
	_, err := s.svc.UpdateUser(r.Context(), a, id, service.UserUpdate{DisplayName: &f.DisplayName, Email: &f.Email,
		DepartmentID: &f.DepartmentID, RoleID: &f.RoleID, Disabled: &f.Disabled})
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showAdminUser(w, r, a, status, &f, formErrors(lang(r, a), err, editUserFieldNames...), FormErrors{})
		})
		return
	}
	redirect(w, r, "/admin/users")
}

func (s *Server) setUserPassword(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	if err := s.svc.SetUserPassword(r.Context(), a, id, r.PostFormValue("password")); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showAdminUser(w, r, a, status, nil, FormErrors{}, formErrors(lang(r, a), err, "password"))
		})
		return
	}
	redirect(w, r, "/admin/users/"+strconv.FormatInt(id, 10))
}

// ---- departments ----

// DeptRow is one department in tree order.
type DeptRow struct {
	ID        int64
	Name      string
	Depth     int
	ParentID  int64
	ManagerID int64
	Manager   string
	Members   int
}

// URL is the department's edit page.
func (d DeptRow) URL() string { return "/admin/departments/" + strconv.FormatInt(d.ID, 10) }

// Indent is the CSS class that indents the row (the CSP allows no inline
// styles, so depth is a class).
func (d DeptRow) Indent() string { return "depth-" + strconv.Itoa(min(d.Depth, 6)) }

// deptTree orders departments depth-first with siblings by name.
func deptTree(depts []crm.Department) []DeptRow {
	children := map[int64][]crm.Department{}
	for _, d := range depts {
		children[d.ParentID] = append(children[d.ParentID], d)
	}
	var out []DeptRow
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		kids := children[parent]
		slices.SortFunc(kids, func(a, b crm.Department) int { return strings.Compare(a.Name, b.Name) })
		for _, d := range kids {
			out = append(out, DeptRow{ID: d.ID, Name: d.Name, Depth: depth, ParentID: d.ParentID, ManagerID: d.ManagerID})
			walk(d.ID, depth+1)
		}
	}
	walk(0, 0)
	return out
}

// DeptForm is the department form's input as typed.
type DeptForm struct {
	Name                string
	ParentID, ManagerID int64
}

// AdminDepartmentsView is the department tree with a form to add one.
type AdminDepartmentsView struct {
	Page
	Rows   []DeptRow
	Form   DeptForm
	Errors FormErrors
	dir    service.Directory
}

var deptFieldNames = []string{"name", "parent_id", "manager_id"}

// Fields are the create-department form's inputs.
func (v AdminDepartmentsView) Fields() []FieldView {
	return labelFields(v.Page, []FieldView{
		{Name: "name", Value: v.Form.Name, Required: true, Max: 80},
		{Name: "parent_id", Options: deptOptions(v.dir.Departments, v.Form.ParentID, v.T("form.choose"))},
	}, v.Errors)
}

func (s *Server) adminDepartments(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showAdminDepartments(w, r, a, http.StatusOK, DeptForm{}, FormErrors{})
}

func (s *Server) showAdminDepartments(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, f DeptForm, e FormErrors) {
	dir, ok := s.directory(w, r, a)
	if !ok {
		return
	}
	v := AdminDepartmentsView{Page: s.adminPage(r, a, "admin.departments", "departments"), Form: f, Errors: e, dir: dir, Rows: deptTree(dir.Departments)}
	users := map[int64]string{}
	members := map[int64]int{}
	for _, u := range dir.Users {
		users[u.ID] = u.DisplayName
		members[u.DepartmentID]++
	}
	for i, d := range v.Rows {
		v.Rows[i].Manager, v.Rows[i].Members = users[d.ManagerID], members[d.ID]
	}
	s.render(w, r, status, "admin_departments", v)
}

func (s *Server) createDepartment(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	f := DeptForm{Name: r.PostFormValue("name"), ParentID: formInt(r, "parent_id")}
	var err error
	if f.ParentID == 0 {
		// Only the root has no parent, and it exists from the start.
		err = &crm.Error{Code: crm.Invalid, Key: "invalid", Message: "parent is required", Fields: []crm.FieldError{{Field: "parent_id", Rule: "required"}}}
	} else {
		_, err = s.svc.CreateDepartment(r.Context(), a, crm.Department{Name: f.Name, ParentID: f.ParentID})
	}
	if err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showAdminDepartments(w, r, a, status, f, formErrors(lang(r, a), err, deptFieldNames...))
		})
		return
	}
	redirect(w, r, "/admin/departments")
}

// AdminDepartmentView renames, moves or sets the manager of a department.
type AdminDepartmentView struct {
	Page
	Dept   crm.Department
	Form   DeptForm
	Errors FormErrors
	dir    service.Directory
}

// URL is where the form posts.
func (v AdminDepartmentView) URL() string {
	return "/admin/departments/" + strconv.FormatInt(v.Dept.ID, 10)
}

// Fields are the edit form's inputs. The parent choices leave out the
// department itself and everything below it; the root keeps no parent.
func (v AdminDepartmentView) Fields() []FieldView {
	var parents []crm.Department
	for _, d := range v.dir.Departments {
		if !strings.HasPrefix(d.Path, v.Dept.Path) {
			parents = append(parents, d)
		}
	}
	fs := []FieldView{{Name: "name", Value: v.Form.Name, Required: true, Max: 80}}
	if v.Dept.ParentID != 0 {
		fs = append(fs, FieldView{Name: "parent_id", Options: deptOptions(parents, v.Form.ParentID, "")})
	}
	fs = append(fs, FieldView{Name: "manager_id", Options: idOptions(v.dir.Users, userID, userLabel, v.Form.ManagerID, v.T("form.none"))})
	return labelFields(v.Page, fs, v.Errors)
}

func (s *Server) adminDepartment(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showAdminDepartment(w, r, a, http.StatusOK, nil, FormErrors{})
}

func (s *Server) showAdminDepartment(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, form *DeptForm, e FormErrors) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	dir, ok := s.directory(w, r, a)
	if !ok {
		return
	}
	i := slices.IndexFunc(dir.Departments, func(d crm.Department) bool { return d.ID == id })
	if i < 0 {
		s.notFound(w, r, a)
		return
	}
	d := dir.Departments[i]
	v := AdminDepartmentView{Page: s.adminPage(r, a, "admin.department", "departments"), Dept: d, Errors: e, dir: dir,
		Form: DeptForm{Name: d.Name, ParentID: d.ParentID, ManagerID: d.ManagerID}}
	v.Title = d.Name
	if form != nil {
		v.Form = *form
	}
	s.render(w, r, status, "admin_department", v)
}

func (s *Server) updateDepartment(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return
	}
	f := DeptForm{Name: r.PostFormValue("name"), ParentID: formInt(r, "parent_id"), ManagerID: formInt(r, "manager_id")}
	if _, err := s.svc.UpdateDepartment(r.Context(), a, crm.Department{ID: id, Name: f.Name, ParentID: f.ParentID, ManagerID: f.ManagerID}); err != nil {
		s.refuse(w, r, a, err, func(status int) {
			s.showAdminDepartment(w, r, a, status, &f, formErrors(lang(r, a), err, deptFieldNames...))
		})
		return
	}
	redirect(w, r, "/admin/departments")
}

// ---- roles ----

// GrantRow is a role's grant on one object, for the table and the form.
type GrantRow struct {
	Object                     string
	Label                      string
	Read, Create, Edit, Delete bool
	Scope                      string
	ScopeOptions               []Option
	Error                      string // a refused scope, shown in its row
	Reveal                     bool
	// Exportable: the object's list can be exported; Export and
	// ExportRows are the role's permission and row threshold.
	Exportable bool
	Export     bool
	ExportRows int
	Rules      []RuleRow // field rules, on the edit form only
}

// RuleRow is the rule of one field in the role form.
type RuleRow struct {
	Name    string // "mobile", "custom.budget"
	Label   string
	Options []Option
	Error   string
}

// RoleRow is one role in the role list.
type RoleRow struct {
	ID         int64
	Key        string
	Name       string
	Admin      bool
	Audit      bool
	Privacy    bool
	Reports    bool
	Grants     []GrantRow
	RequireMFA bool
}

// URL is the role's edit page.
func (r RoleRow) URL() string { return "/admin/roles/" + strconv.FormatInt(r.ID, 10) }

func (p Page) grantRows(grants map[crm.Object]crm.ObjectGrant) []GrantRow {
	out := make([]GrantRow, 0, len(crm.Objects))
	scopes := make([]string, len(crm.Scopes))
	for i, sc := range crm.Scopes {
		scopes[i] = string(sc)
	}
	for _, o := range crm.Objects {
		g := grants[o]
		if g.Scope == "" {
			g.Scope = crm.ScopeOwn
		}
		out = append(out, GrantRow{Object: string(o), Label: p.T("object." + string(o)), Read: g.Read, Create: g.Create,
			Edit: g.Edit, Delete: g.Delete, Scope: string(g.Scope), ScopeOptions: p.enumOptions("scope", scopes, string(g.Scope), ""),
			Reveal: g.Reveal, Exportable: service.ExportObjects(o), Export: g.Export, ExportRows: g.ExportRows})
	}
	return out
}

// withRules adds the field-rule rows to a role form's grants: the built-in
// fields of each object, then its custom fields.
func (p Page) withRules(rows []GrantRow, grants map[crm.Object]crm.ObjectGrant, defs map[crm.Object][]crm.CustomField) []GrantRow {
	levels := make([]string, len(crm.FieldAccesses))
	for i, l := range crm.FieldAccesses {
		levels[i] = string(l)
	}
	for i, row := range rows {
		o := crm.Object(row.Object)
		g := grants[o]
		add := func(name, label string) {
			rows[i].Rules = append(rows[i].Rules, RuleRow{Name: name, Label: label,
				Options: p.enumOptions("access", levels, string(g.Field(name)), "")})
		}
		for _, f := range crm.RuleFields[o] {
			add(f.Name, i18n.FieldName(p.Lang, f.Name))
		}
		for _, d := range defs[o] {
			add("custom."+d.Key, d.LabelFor(p.Lang))
		}
	}
	return rows
}

// customDefs loads the custom field definitions of every object that has
// them, for the role form.
func (s *Server) customDefs(r *http.Request, a *access.Actor) (map[crm.Object][]crm.CustomField, error) {
	out := map[crm.Object][]crm.CustomField{}
	for _, o := range crm.CustomObjects {
		defs, err := s.svc.CustomFields(r.Context(), a, o)
		if err != nil {
			return nil, err
		}
		out[o] = defs
	}
	return out, nil
}

// showRole renders the role form.
func (s *Server) showRole(w http.ResponseWriter, r *http.Request, a *access.Actor, status int, titleKey string, role crm.Role, err error) {
	defs, derr := s.customDefs(r, a)
	if derr != nil {
		s.fail(w, r, a, derr)
		return
	}
	v := AdminRoleView{Page: s.adminPage(r, a, titleKey, "roles")}
	v.Role = RoleRow{ID: role.ID, Key: role.Key, Name: role.Name, Admin: role.Admin, Audit: role.Audit, Privacy: role.Privacy, Reports: role.Reports,
		Grants: v.withRules(v.grantRows(role.Grants), role.Grants, defs), RequireMFA: role.RequireMFA}
	if role.ID != 0 && err == nil {
		v.Title = v.roleLabel(role)
	}
	if err != nil {
		shown := slices.Clone(roleFieldNames)
		for _, o := range crm.Objects {
			shown = append(shown, "grants."+string(o)+".scope", "grants."+string(o)+".fields")
		}
		v.Errors = formErrors(v.Lang, err, shown...)
		// Grant problems are named "grants.<object>.scope"; show each in its
		// object's row.
		for i, g := range v.Role.Grants {
			for _, f := range fieldErrors(err) {
				if f.Field == "grants."+g.Object+".scope" {
					v.Role.Grants[i].Error = fieldMessage(v.Lang, crm.FieldError{Field: "scope", Rule: f.Rule, Param: f.Param})
				}
			}
		}
	}
	s.render(w, r, status, "admin_role", v)
}

// AdminRolesView lists roles with their grants.
type AdminRolesView struct {
	Page
	Roles []RoleRow
}

func (s *Server) adminRoles(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	dir, ok := s.directory(w, r, a)
	if !ok {
		return
	}
	v := AdminRolesView{Page: s.adminPage(r, a, "admin.roles", "roles")}
	for _, role := range dir.Roles {
		v.Roles = append(v.Roles, RoleRow{ID: role.ID, Key: role.Key, Name: v.roleLabel(role), Admin: role.Admin, Privacy: role.Privacy, Grants: v.grantRows(role.Grants),
			RequireMFA: role.RequireMFA})
	}
	s.render(w, r, http.StatusOK, "admin_roles", v)
}

// AdminRoleView creates (ID 0) or edits a role.
type AdminRoleView struct {
	Page
	Role   RoleRow
	Errors FormErrors
}

// URL is where the form posts.
func (v AdminRoleView) URL() string {
	if v.Role.ID == 0 {
		return "/admin/roles"
	}
	return v.Role.URL()
}

// Fields are the key (new roles only: it names the role in configuration
// and never changes) and the name.
func (v AdminRoleView) Fields() []FieldView {
	var fs []FieldView
	if v.Role.ID == 0 {
		fs = append(fs, FieldView{Name: "key", Value: v.Role.Key, Required: true, Max: 40, Autocomplete: "off", Hint: v.T("hint.role_key")})
	}
	fs = append(fs, FieldView{Name: "name", Value: v.Role.Name, Required: true, Max: 60})
	return labelFields(v.Page, fs, v.Errors)
}

var roleFieldNames = []string{"key", "name"}

func (s *Server) newRole(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	s.showRole(w, r, a, http.StatusOK, "admin.role_new", crm.Role{}, nil)
}

func (s *Server) adminRole(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	if role, ok := s.pathRole(w, r, a); ok {
		s.showRole(w, r, a, http.StatusOK, "admin.role", role, nil)
	}
}

// pathRole finds the role named by the path, answering 404 when none is.
func (s *Server) pathRole(w http.ResponseWriter, r *http.Request, a *access.Actor) (crm.Role, bool) {
	id, ok := pathID(r)
	if !ok {
		s.notFound(w, r, a)
		return crm.Role{}, false
	}
	dir, ok := s.directory(w, r, a)
	if !ok {
		return crm.Role{}, false
	}
	i := slices.IndexFunc(dir.Roles, func(r crm.Role) bool { return r.ID == id })
	if i < 0 {
		s.notFound(w, r, a)
		return crm.Role{}, false
	}
	return dir.Roles[i], true
}

// readRole reads the role form: a checkbox per object and action, a scope
// select per object, and per object the reveal checkbox and a rule select
// per field ("fr.<object>.<field>"; editable is not stored).
func readRole(r *http.Request) crm.Role {
	role := crm.Role{Key: r.PostFormValue("key"), Name: r.PostFormValue("name"), Admin: r.PostFormValue("admin") == "on",
		Audit: r.PostFormValue("audit") == "on", Privacy: r.PostFormValue("privacy") == "on", Reports: r.PostFormValue("reports") == "on", Grants: map[crm.Object]crm.ObjectGrant{},
		RequireMFA: r.PostFormValue("require_mfa") == "on"}
	for _, o := range crm.Objects {
		on := func(act string) bool { return r.PostFormValue(act+"."+string(o)) == "on" }
		g := crm.ObjectGrant{Read: on("read"), Create: on("create"), Edit: on("edit"), Delete: on("delete"),
			Scope: crm.Scope(r.PostFormValue("scope." + string(o))), Reveal: on("reveal"), Export: on("export")}
		if n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("export_rows." + string(o)))); err == nil {
			g.ExportRows = n
		} else if strings.TrimSpace(r.PostFormValue("export_rows."+string(o))) != "" {
			g.ExportRows = -1 // refused by the role's validation, naming the field
		}
		prefix := "fr." + string(o) + "."
		for key, vals := range r.PostForm {
			name, ok := strings.CutPrefix(key, prefix)
			if ok && len(vals) > 0 && vals[0] != string(crm.FieldEditable) {
				if g.Fields == nil {
					g.Fields = map[string]crm.FieldAccess{}
				}
				g.Fields[name] = crm.FieldAccess(vals[0])
			}
		}
		role.Grants[o] = g
	}
	return role
}

// saveRole creates a role (POST /admin/roles) or updates one. The admin
// flag is set only at creation: taking it away from a role in use could
// lock every administrator out, so the edit form does not offer it.
func (s *Server) saveRole(w http.ResponseWriter, r *http.Request, a *access.Actor) {
	role := readRole(r)
	titleKey := "admin.role_new"
	if r.PathValue("id") != "" {
		stored, ok := s.pathRole(w, r, a)
		if !ok {
			return
		}
		role.ID, role.Key, role.Admin, titleKey = stored.ID, stored.Key, stored.Admin, "admin.role"
	}
	submitted := role
	submitted.Grants = maps.Clone(role.Grants) // validation may rewrite the map it is given
	if _, err := s.svc.SaveRole(r.Context(), a, role); err != nil {
		s.refuse(w, r, a, err, func(status int) { s.showRole(w, r, a, status, titleKey, submitted, err) })
		return
	}
	redirect(w, r, "/admin/roles")
}
