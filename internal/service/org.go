package service

import (
	"context"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// BootstrapResult tells the operator how to sign in the first time.
type BootstrapResult struct {
	Created  bool
	Username string
	Password string // one-time; the administrator must change it at first sign-in
}

// Bootstrap prepares an empty database: default roles, the root department
// and an administrator with a random one-time password. There is never a
// default password. On a database with users it does nothing.
func (s *Service) Bootstrap(ctx context.Context, orgName string) (BootstrapResult, error) {
	var res BootstrapResult
	sys := access.System("bootstrap")
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		n, err := tx.CountUsers(ctx)
		if err != nil || n > 0 {
			return err
		}
		now := s.clock()
		var adminRole int64
		for _, r := range crm.DefaultRoles() {
			if err := tx.InsertRole(ctx, &r, now); err != nil {
				return err
			}
			if r.Admin {
				adminRole = r.ID
			}
		}
		root := crm.Department{Name: orgName, CreatedAt: now}
		if err := root.Validate(); err != nil {
			return err
		}
		if err := tx.InsertDepartment(ctx, &root); err != nil {
			return err
		}
		res.Password = randomToken(12)
		hash, err := hashPassword(res.Password, s.argon)
		if err != nil {
			return err
		}
		u := crm.User{Username: "admin", DisplayName: "Administrator", DepartmentID: root.ID, RoleID: adminRole,
			MustChangePW: true, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertUser(ctx, &u, hash); err != nil {
			return err
		}
		res.Created, res.Username = true, u.Username
		return s.audit(ctx, tx, sys, "bootstrap", "", u.ID, nil)
	})
	return res, err
}

// UserInput creates a user.
type UserInput struct {
	crm.User
	Password string `json:"password"`
}

// CreateUser adds a user (administrators only). A password an
// administrator chose is known to two people, so its user must change it at
// first sign-in; only a system actor (the demo generator, a CLI command run
// by the operator) creates users who may keep theirs.
func (s *Service) CreateUser(ctx context.Context, a *access.Actor, in UserInput) (crm.User, error) {
	if err := s.requireAdmin(ctx, a, "user.create"); err != nil {
		return crm.User{}, err
	}
	u := in.User
	u.ID, u.Disabled = 0, false
	u.MustChangePW = a.Kind != access.KindSystem
	var p crm.Problems
	if err := u.Validate(); err != nil {
		p = append(p, err.(*crm.Error).Fields...)
	}
	if err := crm.ValidatePassword("password", in.Password); err != nil {
		p = append(p, err.(*crm.Error).Fields...)
	}
	if err := p.Err(); err != nil {
		return crm.User{}, err
	}
	if err := s.stepUpForRole(ctx, a, "user.create", u.RoleID, 0); err != nil {
		return crm.User{}, err
	}
	hash, err := hashPassword(in.Password, s.argon)
	if err != nil {
		return crm.User{}, err
	}
	now := s.clock()
	u.CreatedAt, u.UpdatedAt = now, now
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := checkUserRefs(ctx, tx, u); err != nil {
			return err
		}
		if err := tx.InsertUser(ctx, &u, hash); err != nil {
			return fieldConflict(err, "username")
		}
		return s.audit(ctx, tx, a, "user.create", "", u.ID, diff(crm.User{}, u))
	})
	return u, err
}

// UserUpdate changes a user; nil fields stay.
type UserUpdate struct {
	DisplayName  *string `json:"display_name,omitempty"`
	Email        *string `json:"email,omitempty"`
	DepartmentID *int64  `json:"department_id,omitempty"`
	RoleID       *int64  `json:"role_id,omitempty"`
	Lang         *string `json:"lang,omitempty"`
	Disabled     *bool   `json:"disabled,omitempty"`
}

// UpdateUser changes a user (administrators only). Disabling a user ends
// every session at once.
func (s *Service) UpdateUser(ctx context.Context, a *access.Actor, id int64, up UserUpdate) (crm.User, error) {
	if err := s.requireAdmin(ctx, a, "user.update"); err != nil {
		return crm.User{}, err
	}
	if up.RoleID != nil {
		if err := s.stepUpForRole(ctx, a, "user.update", *up.RoleID, id); err != nil {
			return crm.User{}, err
		}
	}
	var u crm.User
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		before, err := tx.GetUser(ctx, id)
		if err != nil {
			return err
		}
		u = before
		setIf(&u.DisplayName, up.DisplayName)
		setIf(&u.Email, up.Email)
		setIf(&u.DepartmentID, up.DepartmentID)
		setIf(&u.RoleID, up.RoleID)
		setIf(&u.Lang, up.Lang)
		setIf(&u.Disabled, up.Disabled)
		if u.ID == a.UserID && u.Disabled {
			return &crm.Error{Code: crm.Invalid, Message: "you cannot disable yourself", Fields: []crm.FieldError{{Field: "disabled", Rule: "self"}}}
		}
		if err := u.Validate(); err != nil {
			return err
		}
		if err := checkUserRefs(ctx, tx, u); err != nil {
			return err
		}
		u.UpdatedAt = s.clock()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return err
		}
		if u.Disabled {
			if _, err := tx.DeleteUserSessions(ctx, u.ID, 0); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "user.update", "", u.ID, diff(before, u))
	})
	return u, err
}

// SetUserPassword sets another user's password (administrators only); the
// user must change it at the next sign-in, and their sessions end.
func (s *Service) SetUserPassword(ctx context.Context, a *access.Actor, id int64, pw string) error {
	if err := s.requireAdmin(ctx, a, "user.set_password"); err != nil {
		return err
	}
	if err := s.requireStepUp(ctx, a, "user.set_password"); err != nil {
		return err
	}
	if err := crm.ValidatePassword("password", pw); err != nil {
		return err
	}
	hash, err := hashPassword(pw, s.argon)
	if err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, id, hash, true, s.clock()); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, id, 0); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "user.set_password", "", id, nil)
	})
}

func checkUserRefs(ctx context.Context, tx *store.Tx, u crm.User) error {
	var p crm.Problems
	if _, err := tx.GetDepartment(ctx, u.DepartmentID); crm.IsCode(err, crm.NotFound) {
		p.Add("department_id", "not_found")
	} else if err != nil {
		return err
	}
	if _, err := tx.GetRole(ctx, u.RoleID); crm.IsCode(err, crm.NotFound) {
		p.Add("role_id", "not_found")
	} else if err != nil {
		return err
	}
	return p.Err()
}

// fieldConflict turns a unique-constraint conflict into a field error.
func fieldConflict(err error, field string) error {
	if crm.IsCode(err, crm.Conflict) {
		return &crm.Error{Code: crm.Invalid, Message: field + " is already taken", Fields: []crm.FieldError{{Field: field, Rule: "taken"}}}
	}
	return err
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// Directory is the organisation as the pages need it: users, departments
// and roles. Names of colleagues are not customer data; every signed-in
// user may read them (to pick an owner or an assignee).
type Directory struct {
	Users       []crm.User
	Departments []crm.Department
	Roles       []crm.Role
}

// Directory returns users, departments and roles.
func (s *Service) Directory(ctx context.Context, a *access.Actor) (Directory, error) {
	var d Directory
	if a == nil {
		return d, crm.Errorf(crm.Unauthenticated, "not signed in")
	}
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		if d.Users, err = tx.ListUsers(ctx); err != nil {
			return err
		}
		if d.Departments, err = tx.ListDepartments(ctx); err != nil {
			return err
		}
		d.Roles, err = tx.ListRoles(ctx)
		return err
	})
	return d, err
}

// CreateDepartment adds a department (administrators only).
func (s *Service) CreateDepartment(ctx context.Context, a *access.Actor, d crm.Department) (crm.Department, error) {
	if err := s.requireAdmin(ctx, a, "department.create"); err != nil {
		return d, err
	}
	if err := d.Validate(); err != nil {
		return d, err
	}
	d.ID, d.CreatedAt = 0, s.clock()
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if d.ParentID != 0 {
			if _, err := tx.GetDepartment(ctx, d.ParentID); err != nil {
				return refError(err, "parent_id")
			}
		}
		if err := tx.InsertDepartment(ctx, &d); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "department.create", "", d.ID, diff(crm.Department{}, d))
	})
	return d, err
}

// UpdateDepartment renames, re-parents or sets the manager of a department.
func (s *Service) UpdateDepartment(ctx context.Context, a *access.Actor, d crm.Department) (crm.Department, error) {
	if err := s.requireAdmin(ctx, a, "department.update"); err != nil {
		return d, err
	}
	if err := d.Validate(); err != nil {
		return d, err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		before, err := tx.GetDepartment(ctx, d.ID)
		if err != nil {
			return err
		}
		if d.ManagerID != 0 {
			if _, err := tx.GetUser(ctx, d.ManagerID); err != nil {
				return refError(err, "manager_id")
			}
		}
		if d.ParentID == 0 && before.ParentID != 0 {
			return &crm.Error{Code: crm.Invalid, Message: "only the root department has no parent", Fields: []crm.FieldError{{Field: "parent_id", Rule: "required"}}}
		}
		d.CreatedAt = before.CreatedAt
		if err := tx.UpdateDepartment(ctx, &d); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "department.update", "", d.ID, diff(before, d))
	})
	return d, err
}

// SaveRole creates (ID 0) or updates a role (administrators only).
func (s *Service) SaveRole(ctx context.Context, a *access.Actor, r crm.Role) (crm.Role, error) {
	if err := s.requireAdmin(ctx, a, "role.save"); err != nil {
		return r, err
	}
	if err := s.requireStepUp(ctx, a, "role.save"); err != nil {
		return r, err
	}
	if r.Grants == nil {
		r.Grants = map[crm.Object]crm.ObjectGrant{}
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if r.ID == 0 {
			if err := tx.InsertRole(ctx, &r, s.clock()); err != nil {
				return fieldConflict(err, "key")
			}
			return s.audit(ctx, tx, a, "role.create", "", r.ID, diff(crm.Role{}, r))
		}
		before, err := tx.GetRole(ctx, r.ID)
		if err != nil {
			return err
		}
		r.Key = before.Key // the key names the role in configuration; it does not change
		if err := tx.UpdateRole(ctx, &r, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "role.update", "", r.ID, diff(before, r))
	})
	return r, err
}

// refError turns "referenced record not found" into a field error.
func refError(err error, field string) error {
	if crm.IsCode(err, crm.NotFound) {
		return &crm.Error{Code: crm.Invalid, Message: field + " does not exist", Fields: []crm.FieldError{{Field: field, Rule: "not_found"}}}
	}
	return err
}

// stepUpForRole asks for a fresh second factor when a user gets a role
// (userID 0: a new user): creating an administrator, or changing an
// existing user's role. A role that stays the same needs none.
func (s *Service) stepUpForRole(ctx context.Context, a *access.Actor, action string, roleID, userID int64) error {
	var needed bool
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		if userID != 0 {
			u, err := tx.GetUser(ctx, userID)
			if err != nil {
				return err
			}
			needed = u.RoleID != roleID
			return nil
		}
		r, err := tx.GetRole(ctx, roleID)
		if crm.IsCode(err, crm.NotFound) {
			return nil // reported as a field error by the use case
		}
		needed = r.Admin
		return err
	})
	if err != nil || !needed {
		return err
	}
	return s.requireStepUp(ctx, a, action)
}
