package service_test

import (
	"context"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
)

// cheapArgon keeps password hashing fast in tests; production cost is
// covered by the password tests themselves.
var cheapArgon = service.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// org is a small organisation:
//
//	HQ
//	├── East (manager: mgrEast)
//	│   └── East-1 (rep1, rep2)
//	└── West (manager: mgrWest, rep3)
type org struct {
	svc                                       *service.Service
	db                                        *store.DB
	admin, mgrEast, mgrWest, rep1, rep2, rep3 *access.Actor
	hq, east, east1, west                     crm.Department
	roles                                     map[string]crm.Role
}

func newService(t *testing.T, db *store.DB) *service.Service {
	t.Helper()
	return service.New(db, service.Options{Argon2: cheapArgon})
}

func newOrg(t *testing.T, db *store.DB) *org {
	t.Helper()
	ctx := context.Background()
	o := &org{db: db, svc: newService(t, db), roles: map[string]crm.Role{}}
	boot, err := o.svc.Bootstrap(ctx, "HQ")
	if err != nil || !boot.Created {
		t.Fatalf("bootstrap: %v %+v", err, boot)
	}
	o.admin = mustActor(t, o.svc, 1)
	dir, err := o.svc.Directory(ctx, o.admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range dir.Roles {
		o.roles[r.Key] = r
	}
	o.hq = dir.Departments[0]
	o.east = mustDept(t, o, "East", o.hq.ID)
	o.east1 = mustDept(t, o, "East-1", o.east.ID)
	o.west = mustDept(t, o, "West", o.hq.ID)
	o.mgrEast = mustUser(t, o, "mgr.east", o.east.ID, "manager")
	o.mgrWest = mustUser(t, o, "mgr.west", o.west.ID, "manager")
	o.rep1 = mustUser(t, o, "rep1", o.east1.ID, "sales")
	o.rep2 = mustUser(t, o, "rep2", o.east1.ID, "sales")
	o.rep3 = mustUser(t, o, "rep3", o.west.ID, "sales")
	return o
}

func mustActor(t *testing.T, svc *service.Service, id int64) *access.Actor {
	t.Helper()
	a, err := svc.UserActor(context.Background(), id)
	if err != nil {
		t.Fatalf("actor %d: %v", id, err)
	}
	return a
}

func mustDept(t *testing.T, o *org, name string, parent int64) crm.Department {
	t.Helper()
	d, err := o.svc.CreateDepartment(context.Background(), o.admin, crm.Department{Name: name, ParentID: parent})
	if err != nil {
		t.Fatalf("create department %s: %v", name, err)
	}
	return d
}

func mustUser(t *testing.T, o *org, username string, dept int64, role string) *access.Actor {
	t.Helper()
	u, err := o.svc.CreateUser(context.Background(), o.admin, service.UserInput{
		User:     crm.User{Username: username, DisplayName: "User " + username, DepartmentID: dept, RoleID: o.roles[role].ID},
		Password: "correct horse battery",
	})
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	return mustActor(t, o.svc, u.ID)
}

func mustCreateCustomer(t *testing.T, svc *service.Service, a *access.Actor, f crm.CustomerFields) crm.Customer {
	t.Helper()
	c, err := svc.CreateCustomer(context.Background(), a, service.CustomerInput{CustomerFields: f})
	if err != nil {
		t.Fatalf("create customer %q: %v", f.Name, err)
	}
	return c
}

func wantCode(t *testing.T, err error, code crm.Code) {
	t.Helper()
	if !crm.IsCode(err, code) {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}
