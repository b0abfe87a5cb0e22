// Package testorg builds a small organisation through the real service layer
// for tests of every surface, so each test states the people it needs
// instead of sharing a fixture database.
package testorg

import (
	"context"
	"custos/internal/vault"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

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
	Vault                                     *vault.Vault // the key store the service seals personal data with
	Admin, MgrEast, MgrWest, Rep1, Rep2, Rep3 *access.Actor
	HQ, East, East1, West                     crm.Department
	Roles                                     map[string]crm.Role
	AdminPassword                             string
	// MFA holds the second factor of every user enrolled through EnrolMFA
	// or StepUp, by user id, so tests can make codes.
	MFA map[int64]*Factor
	now func() time.Time
}

// Now is the time on the service's clock.
func (o *Org) Now() time.Time { return o.now() }

// Clock is a settable clock for the service under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at the real current time.
func NewClock() *Clock { return &Clock{t: time.Now()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set puts the clock at a time.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Factor is a test user's enrolled second factor: the TOTP secret and the
// recovery codes not used yet.
type Factor struct {
	Secret   string
	Recovery []string
	lastStep int64 // the last TOTP step a code was made for
	now      func() time.Time
}

// NextCode returns a TOTP code the service has not seen yet: for the
// current 30-second step, or the next one (accepted for clock drift) when
// the current one was used. A test needing more codes than that within 30
// seconds uses recovery codes.
func (f *Factor) NextCode(t *testing.T) string {
	t.Helper()
	cur := f.now().Unix() / 30
	step := max(cur, f.lastStep+1)
	if step > cur+1 {
		t.Fatal("no unused TOTP step left in this window; use a recovery code")
	}
	f.lastStep = step
	return Code(t, f.Secret, time.Unix(step*30, 0))
}

// NewFactor is the Factor of a TOTP secret enrolled through a surface
// rather than EnrolMFA, making codes on the real clock.
func NewFactor(secret string) *Factor { return &Factor{Secret: secret, now: time.Now} }

// New bootstraps db and creates the organisation.
func New(t *testing.T, db *store.DB) *Org { return NewWithClock(t, db, nil) }

// NewWithClock is New with the service on a settable clock (nil: the real
// one), for tests of expiry and freshness that must not wait.
func NewWithClock(t *testing.T, db *store.DB, c *Clock) *Org {
	t.Helper()
	opt := service.Options{Argon2: CheapArgon}
	if c != nil {
		opt.Now = c.Now
	}
	return NewWith(t, db, opt)
}

// NewWith is New with the service built from opt (its clock, audit keys).
//
// The organisation differs from a real one in one respect: its
// administrator role does not require a second factor. A real administrator
// must enrol one before doing anything else, which would make every test
// acting as the administrator through a surface enrol first; the tests of
// that requirement use NewAsShipped. The change is made the way an
// organisation would make it (SaveRole, audited), by a system actor, which
// needs no step-up.
func NewWith(t *testing.T, db *store.DB, opt service.Options) *Org {
	t.Helper()
	return build(t, db, opt, func(o *Org) {
		admin := o.Admin.Role
		admin.RequireMFA = false
		if _, err := o.Svc.SaveRole(context.Background(), access.System("testorg"), admin); err != nil {
			t.Fatalf("relax the administrator role: %v", err)
		}
		o.Admin = Actor(t, o.Svc, o.Admin.UserID)
	})
}

// NewAsShipped is New without NewWith's one difference: the administrator
// role requires a second factor, as Bootstrap makes it, and Admin has none.
func NewAsShipped(t *testing.T, db *store.DB, opt service.Options) *Org {
	t.Helper()
	return build(t, db, opt, func(*Org) {})
}

// build bootstraps db, lets adjust change the organisation as bootstrapped,
// then adds the departments and users.
func build(t *testing.T, db *store.DB, opt service.Options, adjust func(*Org)) *Org {
	t.Helper()
	ctx := context.Background()
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	if opt.PublicURL == "" {
		opt.PublicURL = PublicURL
	}
	if opt.Vault == nil {
		opt.Vault = NewVault(t)
	}
	o := &Org{DB: db, Vault: opt.Vault, Svc: service.New(db, opt), Roles: map[string]crm.Role{}, MFA: map[int64]*Factor{}, now: now}
	boot, err := o.Svc.Bootstrap(ctx, "HQ")
	if err != nil || !boot.Created {
		t.Fatalf("bootstrap: %v %+v", err, boot)
	}
	o.AdminPassword = boot.Password
	o.Admin = Actor(t, o.Svc, 1)
	adjust(o)
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
// "User <username>". A system actor creates it, so the user may sign in with
// Password at once (a user an administrator creates must change it first).
func (o *Org) User(t *testing.T, username string, dept int64, role string) *access.Actor {
	t.Helper()
	u, err := o.Svc.CreateUser(context.Background(), access.System("testorg"), service.UserInput{
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

// Opportunity creates an opportunity owned by a.
func (o *Org) Opportunity(t *testing.T, a *access.Actor, f crm.OpportunityFields) crm.Opportunity {
	t.Helper()
	x, err := o.Svc.CreateOpportunity(context.Background(), a, f)
	if err != nil {
		t.Fatalf("create opportunity %q: %v", f.Name, err)
	}
	return x
}

// Move moves an opportunity to the stage of that name (with the lost
// reason, for a lost stage) and returns it as it is now.
func (o *Org) Move(t *testing.T, a *access.Actor, x crm.Opportunity, stage, reason string) crm.Opportunity {
	t.Helper()
	ctx := context.Background()
	stages, err := o.Svc.Stages(ctx, a)
	i := slices.IndexFunc(stages, func(s crm.Stage) bool { return s.Name == stage })
	if err != nil || i < 0 {
		t.Fatalf("no stage %s: %v", stage, err)
	}
	y, err := o.Svc.MoveOpportunity(ctx, a, x.ID, crm.StageMove{Version: x.Version, StageID: stages[i].ID, LostReason: reason})
	if err != nil {
		t.Fatalf("move %s to %s: %v", x.Name, stage, err)
	}
	return y
}

// LookAlike creates a contact owned by a that the duplicate finder pairs
// with others made here: the same birthday, and an id number that differs
// in at most a transposition. The first call defines the two custom
// fields (dob, id_no) it uses.
func (o *Org) LookAlike(t *testing.T, a *access.Actor, name, idNo string) crm.Contact {
	t.Helper()
	ctx := context.Background()
	defs, err := o.Svc.CustomFields(ctx, a, crm.ObjContact)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(defs, func(d crm.CustomField) bool { return d.Key == "id_no" }) {
		for _, f := range []crm.CustomField{
			{Object: crm.ObjContact, Key: "dob", Label: "生日", Type: "date", Sensitive: true, Active: true},
			{Object: crm.ObjContact, Key: "id_no", Label: "证件号", Type: "text", Sensitive: true, Active: true},
		} {
			if _, err := o.Svc.SaveCustomField(ctx, access.System("testorg"), f); err != nil {
				t.Fatalf("custom field %s: %v", f.Key, err)
			}
		}
	}
	c, err := o.Svc.CreateContact(ctx, a, crm.ContactFields{Name: name, Custom: map[string]any{"dob": "1980-03-12", "id_no": idNo}})
	if err != nil {
		t.Fatalf("create contact %q: %v", name, err)
	}
	return c
}

// ClientForTest is a request origin for service calls made directly by tests.
func ClientForTest() service.Client {
	return service.Client{IP: "192.0.2.1", UserAgent: "go-test", RequestID: "test"}
}

// TokenScopes returns every token scope the actor's role grants, for a
// token that may do all its owner may.
func TokenScopes(a *access.Actor) []string {
	var out []string
	for _, sc := range crm.TokenScopes() {
		if crm.ScopeWithinRole(a.Role, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// Token creates an API token of a with every scope its role grants and
// returns its secret.
func (o *Org) Token(t *testing.T, a *access.Actor) string {
	t.Helper()
	tok, err := o.Svc.CreateAPIToken(context.Background(), a, service.TokenInput{Name: "test", Scopes: TokenScopes(a)})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return tok.Secret
}

// Code returns the current TOTP code of a secret.
func Code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// EnrolMFA sets up a TOTP second factor for a through the real service
// calls (begin, confirm with a code) and records it in o.MFA. The actor
// leaves with a freshly verified second factor.
func (o *Org) EnrolMFA(t *testing.T, a *access.Actor) *Factor {
	t.Helper()
	ctx := context.Background()
	en, err := o.Svc.BeginTOTP(ctx, a)
	if err != nil {
		t.Fatalf("begin TOTP: %v", err)
	}
	f := &Factor{Secret: en.Secret, now: o.now}
	codes, err := o.Svc.ConfirmTOTP(ctx, a, f.NextCode(t))
	if err != nil {
		t.Fatalf("confirm TOTP: %v", err)
	}
	f.Recovery = codes
	o.MFA[a.UserID] = f
	return f
}

// StepUp gives a a fresh step-up, as a user who just confirmed their second
// factor: it enrols one first if needed, then verifies a recovery code
// through the real StepUp (a TOTP code could not be reused within its
// 30-second step, and tests step up more often than that).
func (o *Org) StepUp(t *testing.T, a *access.Actor) {
	t.Helper()
	f := o.MFA[a.UserID]
	if f == nil {
		o.EnrolMFA(t, a) // confirming the enrolment is itself a fresh second factor
		return
	}
	if len(f.Recovery) == 0 {
		t.Fatalf("user %d has used all test recovery codes", a.UserID)
	}
	code := f.Recovery[0]
	f.Recovery = f.Recovery[1:]
	if err := o.Svc.StepUp(context.Background(), a, code); err != nil {
		t.Fatalf("step up: %v", err)
	}
}

// NewVault opens a fresh vault — master key file and SQLite key store — in
// a temporary directory, closed when the test ends.
func NewVault(t testing.TB) *vault.Vault {
	t.Helper()
	dir := t.TempDir()
	v, _, err := vault.Open(context.Background(), vault.Options{MasterKeyFile: filepath.Join(dir, "master.key"),
		KeyStore: filepath.Join(dir, "keystore.db"), SnapshotDir: filepath.Join(dir, "snapshots")})
	if err != nil {
		t.Fatalf("open vault: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}
