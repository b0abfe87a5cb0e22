package crm

import (
	"strconv"
	"time"
)

// Object names a kind of business record that permissions are granted on.
type Object string

// The business objects.
const (
	ObjCustomer    Object = "customer"
	ObjContact     Object = "contact"
	ObjLead        Object = "lead"
	ObjOpportunity Object = "opportunity"
	ObjContract    Object = "contract"
	ObjFollowUp    Object = "followup"
	ObjTask        Object = "task"
)

// Objects lists every business object, in menu order (the registry's).
var Objects = ObjectsWhere(func(ObjectSpec) bool { return true })

// Action is something a role may do with an object.
type Action string

// The record actions.
const (
	ActRead   Action = "read"
	ActCreate Action = "create"
	ActEdit   Action = "edit"
	ActDelete Action = "delete"
)

// Scope says which records of an object a role reaches, by their owner.
type Scope string

// The record scopes, narrowest first. Department scopes use the owner's
// current department, so visibility moves with the person.
const (
	ScopeOwn        Scope = "own"
	ScopeDepartment Scope = "department"
	ScopeSubtree    Scope = "subtree"
	ScopeAll        Scope = "all"
)

// Scopes lists the valid scopes, narrowest first.
var Scopes = []Scope{ScopeOwn, ScopeDepartment, ScopeSubtree, ScopeAll}

// ObjectGrant is what a role may do with one object.
type ObjectGrant struct {
	Read   bool  `json:"read"`
	Create bool  `json:"create"`
	Edit   bool  `json:"edit"`
	Delete bool  `json:"delete"`
	Scope  Scope `json:"scope"`
	// Fields holds the field rules by field name; a field not named is
	// editable. Reveal allows showing a masked value, one audited action
	// at a time.
	Fields map[string]FieldAccess `json:"fields,omitempty"`
	Reveal bool                   `json:"reveal,omitempty"`
	// Export allows writing the object's list (what Read reaches, shaped
	// by the field rules) to a CSV or XLSX file. ExportRows is how many
	// rows such a file may hold before it needs the bulk-export approval
	// (0: the policy's threshold).
	Export     bool `json:"export,omitempty"`
	ExportRows int  `json:"export_rows,omitempty"`
}

// Field returns the access to one field ("custom.<key>" for custom fields).
func (g ObjectGrant) Field(name string) FieldAccess {
	if a, ok := g.Fields[name]; ok && a != "" {
		return a
	}
	return FieldEditable
}

// Allows reports whether the grant includes the action.
func (g ObjectGrant) Allows(a Action) bool {
	switch a {
	case ActRead:
		return g.Read
	case ActCreate:
		return g.Create
	case ActEdit:
		return g.Edit
	case ActDelete:
		return g.Delete
	}
	return false
}

// Role is a named set of grants. Admin grants the administration pages
// (users, departments, roles, stages, custom fields); Audit grants reading
// the audit trail, which an auditor role has without any customer record;
// Privacy grants the register of privacy requests and carrying them out
// (access exports, corrections, erasure, legal holds, retention), which a
// privacy officer has without any customer record. Reports grants the
// reports (aggregates of the records the role reaches, under its scopes
// and field rules).
// RequireMFA makes every user of the role enrol a second factor before
// doing anything else.
type Role struct {
	ID         int64                  `json:"id"`
	Key        string                 `json:"key"`
	Name       string                 `json:"name"`
	Admin      bool                   `json:"admin"`
	Audit      bool                   `json:"audit"`
	Privacy    bool                   `json:"privacy"`
	Reports    bool                   `json:"reports"`
	Grants     map[Object]ObjectGrant `json:"grants"`
	RequireMFA bool                   `json:"require_mfa"`
}

// Grant returns the role's grant for an object (the zero grant allows nothing).
func (r *Role) Grant(o Object) ObjectGrant {
	if r == nil {
		return ObjectGrant{}
	}
	return r.Grants[o]
}

// Validate checks a role definition.
func (r *Role) Validate() error {
	var p Problems
	r.Key = p.Text("key", r.Key, true, 40)
	r.Name = p.Text("name", r.Name, true, 60)
	for o, g := range r.Grants {
		if !isObject(o) {
			p.Add("grants", "enum", string(o))
			continue
		}
		if g.Scope == "" {
			g.Scope = ScopeOwn
			r.Grants[o] = g
		}
		if !isScope(g.Scope) {
			p.Add("grants."+string(o)+".scope", "enum")
		}
		if g.ExportRows < 0 || g.ExportRows > MaxExportRows {
			p.Add("grants."+string(o)+".export_rows", "range", "0-"+strconv.Itoa(MaxExportRows))
		}
		validateFieldRules(&p, o, g.Fields)
	}
	return p.Err()
}

func isObject(o Object) bool {
	for _, x := range Objects {
		if x == o {
			return true
		}
	}
	return false
}

func isScope(s Scope) bool {
	for _, x := range Scopes {
		if x == s {
			return true
		}
	}
	return false
}

// DefaultRoles are created on an empty database: administrator (all, and
// a second factor required: whoever holds it can read and change every
// record and every setting, so a password alone must not be enough),
// manager (own department and below), sales (own records), auditor (the
// audit trail, no customer records) and privacy officer (the privacy
// register and its requests, no customer records).
func DefaultRoles() []Role {
	full := func(s Scope, export bool) map[Object]ObjectGrant {
		m := map[Object]ObjectGrant{}
		for _, o := range Objects {
			m[o] = ObjectGrant{Read: true, Create: true, Edit: true, Delete: true, Scope: s, Export: export}
		}
		return m
	}
	return []Role{
		{Key: "admin", Name: "Administrator", Admin: true, Audit: true, Privacy: true, Reports: true, Grants: full(ScopeAll, true), RequireMFA: true},
		{Key: "manager", Name: "Manager", Reports: true, Grants: full(ScopeSubtree, true)},
		// Sales may not export until an administrator allows it on the
		// role's page: a rep's list leaving as a file is the leak exports
		// are watched for.
		{Key: "sales", Name: "Sales", Reports: true, Grants: full(ScopeOwn, false)},
		{Key: "auditor", Name: "Auditor", Audit: true, Grants: map[Object]ObjectGrant{}},
		{Key: "privacy", Name: "Privacy officer", Privacy: true, Grants: map[Object]ObjectGrant{}},
	}
}

// RecordScope is the record scope of one read, computed by the access layer
// from the actor's role. The store renders it as SQL so every list, search,
// count and lookup is narrowed inside the database, never in memory.
type RecordScope struct {
	Kind     Scope
	UserID   int64       // the actor, for "own"
	DeptID   int64       // the actor's department, for "department"
	DeptPath string      // the actor's department path, for "subtree"
	Share    *ShareScope // records shared with the actor, on top (nil: none)
}

// ShareScope widens a scope with the records shared with the actor —
// directly or with their department — and not expired at Now. Edit keeps
// only shares that allow editing.
type ShareScope struct {
	Object string
	UserID int64
	DeptID int64
	Now    time.Time
	Edit   bool
}
