// Package testorg builds a small organisation through the real service layer
// for tests of every surface, so each test states the people it needs
// instead of sharing a fixture database.
package testorg

import (
	"context"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
)

// CheapArgon keeps password hashing fast in tests; the production cost is
// covered by the password tests themselves.
var CheapArgon = service.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// Password is every test user's password.
const Password = "correct horse battery"

// Org is a small organisation:
//
//	HQ (admin)
//	├── East (MgrEast)
//	│   └── East-1 (Rep1, Rep2)
//	└── West (MgrWest, Rep3)
type Org struct {
	Svc                                       *service.Service
	DB                                        *store.DB
	Admin, MgrEast, MgrWest, Rep1, Rep2, Rep3 *access.Actor
	HQ, East, East1, West                     crm.Department
	Roles                                     map[string]crm.Role
	AdminPassword                             string
}

// New bootstraps db and creates the organisation.
func New(t *testing.T, db *store.DB) *Org {
	t.Helper()
	ctx := context.Background()
	o := &Org{DB: db, Svc: service.New(db, service.Options{Argon2: CheapArgon}), Roles: map[string]crm.Role{}}
	boot, err := o.Svc.Bootstrap(ctx, "HQ")
	if err != nil || !boot.Created {
		t.Fatalf("bootstrap: %v %+v", err, boot)
	}
	o.AdminPassword = boot.Password
	o.Admin = Actor(t, o.Svc, 1)
	dir, err := o.Svc.Directory(ctx, o.Admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range dir.Roles {
		o.Roles[r.Key] = r
	}
	o.HQ = dir.Departments[0]
	o.East = o.Dept(t, "East", o.HQ.ID)
	o.East1 = o.Dept(t, "East-1", o.East.ID)
	o.West = o.Dept(t, "West", o.HQ.ID)
	o.MgrEast = o.User(t, "mgr.east", o.East.ID, "manager")
	o.MgrWest = o.User(t, "mgr.west", o.West.ID, "manager")
	o.Rep1 = o.User(t, "rep1", o.East1.ID, "sales")
	o.Rep2 = o.User(t, "rep2", o.East1.ID, "sales")
	o.Rep3 = o.User(t, "rep3", o.West.ID, "sales")
	return o
}

// Actor loads the actor of a user.
func Actor(t *testing.T, svc *service.Service, id int64) *access.Actor {
	t.Helper()
	a, err := svc.UserActor(context.Background(), id)
	if err != nil {
		t.Fatalf("actor %d: %v", id, err)
	}
	return a
}

// Dept creates a department.
func (o *Org) Dept(t *testing.T, name string, parent int64) crm.Department {
	t.Helper()
	d, err := o.Svc.CreateDepartment(context.Background(), o.Admin, crm.Department{Name: name, ParentID: parent})
	if err != nil {
		t.Fatalf("create department %s: %v", name, err)
	}
	return d
}

// User creates a user with Password and a role by key; the display name is
// "User <username>".
func (o *Org) User(t *testing.T, username string, dept int64, role string) *access.Actor {
	t.Helper()
	u, err := o.Svc.CreateUser(context.Background(), o.Admin, service.UserInput{
		User:     crm.User{Username: username, DisplayName: "User " + username, DepartmentID: dept, RoleID: o.Roles[role].ID},
		Password: Password,
	})
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return Actor(t, o.Svc, u.ID)
}

// Customer creates a customer owned by a.
func (o *Org) Customer(t *testing.T, a *access.Actor, f crm.CustomerFields) crm.Customer {
	t.Helper()
	c, err := o.Svc.CreateCustomer(context.Background(), a, service.CustomerInput{CustomerFields: f})
	if err != nil {
		t.Fatalf("create customer %q: %v", f.Name, err)
	}
	return c
}

// ClientForTest is a request origin for service calls made directly by tests.
func ClientForTest() service.Client {
	return service.Client{IP: "192.0.2.1", UserAgent: "go-test", RequestID: "test"}
}
