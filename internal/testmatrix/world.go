// Package testmatrix builds the world of the authorisation matrix tests of
// the API and the web pages: a small organisation, records standing in every
// relation to every actor (own, same department, subtree, other department,
// the public pool, shared to read, shared to edit, a share that expired, a
// child of a visible customer, a missing record), and an oracle that says
// what each actor may do with each of them. The oracle is written from the
// permission model of docs/security.md — roles, record scopes, shares — and
// never asks the service: the tests compare the two. Only tests import it.
package testmatrix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testorg"
)

// ActorKey names an actor of the matrix.
type ActorKey string

// The actors. Token is an API token of mgr.east limited to reading
// customers and leads and writing contacts; it exists only on the API.
const (
	Admin   ActorKey = "admin"    // administrator, scope all
	MgrEast ActorKey = "mgr_east" // manager of East and its subtree East-1
	MgrWest ActorKey = "mgr_west" // manager of another department (West)
	Rep1    ActorKey = "rep1"     // sales in East-1, the owner of the rep1 records
	Rep2    ActorKey = "rep2"     // sales colleague of rep1 in East-1
	Rep3    ActorKey = "rep3"     // sales in West
	Auditor ActorKey = "auditor"  // reads the audit trail, no records (in East-1)
	Privacy ActorKey = "privacy"  // the privacy officer: the privacy register for anyone, no records (in HQ)
	Token   ActorKey = "token"    // mgr.east's API token: customer:read, contact:write, lead:read
)

// TokenScopes are the scopes of the Token actor.
var TokenScopes = []string{"contact:write", "customer:read", "lead:read"}

// PersonActors are the actors that sign in with a session.
var PersonActors = []ActorKey{Admin, MgrEast, MgrWest, Rep1, Rep2, Rep3, Auditor, Privacy}

// APIActors are the actors of the API matrix: every person and the token.
var APIActors = append(append([]ActorKey{}, PersonActors...), Token)

// Slot names a record's relation to the organisation; its relation to an
// actor follows from who the actor is (see Relation).
type Slot string

// The slots of business records.
const (
	SlotRep1          Slot = "rep1"           // customer and children owned by rep1
	SlotRep2          Slot = "rep2"           // owned by rep2 (rep1's colleague)
	SlotMgrEast       Slot = "mgr_east"       // owned by mgr.east
	SlotRep3          Slot = "rep3"           // owned by rep3 (West)
	SlotPool          Slot = "pool"           // a public pool customer; its children owned by rep3
	SlotSharedRead    Slot = "shared_read"    // owned by rep3, the customer and lead shared with rep1 to read
	SlotSharedEdit    Slot = "shared_edit"    // owned by rep3, shared with rep1 to edit
	SlotSharedExpired Slot = "shared_expired" // owned by rep3, shared with rep1 to edit until a time now past
	SlotChild         Slot = "child"          // children owned by rep3 on a customer owned by rep1
	SlotMissing       Slot = "missing"        // a record that does not exist
)

// MissingID is the id of the missing record of every object.
const MissingID int64 = 987654321

// Slots returns the slots that apply to an object: the pool and the child
// slot exist for customers' children (and the pool for customers), not for
// leads.
func Slots(o crm.Object) []Slot {
	switch o {
	case crm.ObjCustomer:
		return []Slot{SlotRep1, SlotRep2, SlotMgrEast, SlotRep3, SlotPool, SlotSharedRead, SlotSharedEdit, SlotSharedExpired, SlotMissing}
	case crm.ObjLead:
		return []Slot{SlotRep1, SlotRep2, SlotMgrEast, SlotRep3, SlotSharedRead, SlotSharedEdit, SlotSharedExpired, SlotMissing}
	}
	return []Slot{SlotRep1, SlotRep2, SlotMgrEast, SlotRep3, SlotPool, SlotSharedRead, SlotSharedEdit, SlotSharedExpired, SlotChild, SlotMissing}
}

// Variant is the state a family of records is built in.
type Variant int

// The variants: everything live; the children and the lead in the recycle
// bin (the customer live); the customer in the recycle bin.
const (
	Live Variant = iota
	Deleted
	CustomerDeleted
)

// Record is one record of a family; Name carries a marker unique in the
// database, so a response can be searched for it.
type Record struct {
	ID   int64
	Name string
}

// Family is the records of one slot: a customer with a contact, an
// opportunity, a contract, a follow-up and a task, and a lead (for the slots leads
// have). A family is used until a request changed it (Dirty), then the next
// Family call builds a fresh one.
type Family struct {
	Slot    Slot
	Variant Variant
	Records map[crm.Object]Record
	dirty   bool
}

// ID is the id of the family's record of o (MissingID for the missing slot).
func (f *Family) ID(o crm.Object) int64 {
	if f.Slot == SlotMissing {
		return MissingID
	}
	r, ok := f.Records[o]
	if !ok {
		panic(fmt.Sprintf("testmatrix: family %s has no %s", f.Slot, o))
	}
	return r.ID
}

// Has reports whether the family has a record of o.
func (f *Family) Has(o crm.Object) bool { _, ok := f.Records[o]; return ok || f.Slot == SlotMissing }

// World is the organisation and its records.
type World struct {
	t     *testing.T
	ctx   context.Context
	Org   *testorg.Org
	Clock *testorg.Clock
	Svc   *service.Service
	// Users are the person actors; Bystander is a user no actor is, to
	// share with and hand records to without changing what actors see.
	Users     map[ActorKey]*access.Actor
	Bystander *access.Actor
	// TokenSecret is the Token actor's bearer token.
	TokenSecret string
	// Sessions are the signed-in sessions of every person (SignIn).
	Sessions map[ActorKey]SessionKeys
	// BystanderPasskey is the id of the bystander's passkey (someone
	// else's, to every actor).
	BystanderPasskey int64
	passkeys         map[int64]*testorg.Authenticator // by user id
	// Requests are the approval requests filed by rep1 (decided by
	// mgr.east) and by rep3 (decided by mgr.west), by requester.
	Requests map[ActorKey]int64
	// PrivacyRequest is an access request in the privacy register, about
	// rep1's contact.
	PrivacyRequest int64
	sys            *access.Actor
	ready          bool // New has finished: the clock may move for new expiring shares
	families       map[familyKey]*Family
	base           []*Family
	serial         int
}

type familyKey struct {
	slot    Slot
	variant Variant
}

// New builds the world on db: the organisation of testorg plus an auditor
// and a bystander, department managers (for approvals), the MFA of the
// administrator (enrolled, not fresh), a family of every slot in every
// variant, two approval requests and the Token.
func New(t *testing.T, db *store.DB) *World {
	t.Helper()
	clock := testorg.NewClock()
	o := testorg.NewWithClock(t, db, clock)
	w := &World{t: t, ctx: context.Background(), Org: o, Clock: clock, Svc: o.Svc, sys: access.System("matrix"),
		families: map[familyKey]*Family{}, Requests: map[ActorKey]int64{}, passkeys: map[int64]*testorg.Authenticator{}}
	w.Users = map[ActorKey]*access.Actor{Admin: o.Admin, MgrEast: o.MgrEast, MgrWest: o.MgrWest, Rep1: o.Rep1, Rep2: o.Rep2, Rep3: o.Rep3,
		Auditor: o.User(t, "auditor", o.East1.ID, "auditor"), Privacy: o.User(t, "privacy", o.HQ.ID, "privacy")}
	w.Bystander = o.User(t, "bystander", o.HQ.ID, "sales")
	w.registerPasskey(w.Bystander)
	for _, d := range []struct {
		dept crm.Department
		mgr  *access.Actor
	}{{o.East, o.MgrEast}, {o.West, o.MgrWest}} {
		d.dept.ManagerID = d.mgr.UserID
		if _, err := w.Svc.UpdateDepartment(w.ctx, w.sys, d.dept); err != nil {
			t.Fatalf("set manager of %s: %v", d.dept.Name, err)
		}
	}
	// The administrator signs in like everyone: with the shared password.
	w.must(w.Svc.ChangePassword(w.ctx, o.Admin, o.AdminPassword, testorg.Password), "administrator's password")
	o.EnrolMFA(t, o.Admin) // enrolled; its freshness passes with the clock below
	tok, err := w.Svc.CreateAPIToken(w.ctx, o.MgrEast, service.TokenInput{Name: "matrix", Scopes: TokenScopes})
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	w.TokenSecret = tok.Secret
	for _, v := range []Variant{Live, Deleted, CustomerDeleted} {
		for _, s := range Slots(crm.ObjContact) {
			if s != SlotMissing {
				w.base = append(w.base, w.Family(s, v))
			}
		}
	}
	w.fileRequests()
	w.PrivacyRequest = w.FreshPrivacyRequest(crm.RequestAccess)
	// Expiring shares end and the administrator's second factor is no
	// longer fresh for step-up.
	w.Clock.Advance(10 * time.Minute)
	w.ready = true
	w.SignIn()
	return w
}

// Ctx is the context of fixture calls.
func (w *World) Ctx() context.Context { return w.ctx }

// System is an actor with full scope for fixture work.
func (w *World) System() *access.Actor { return w.sys }

// Base returns the family of the slot and variant built with the world,
// whatever requests did since (for checking lists, read before any write).
func (w *World) Base(s Slot, v Variant) *Family {
	if s == SlotMissing {
		return &Family{Slot: SlotMissing, Variant: v}
	}
	for _, f := range w.base {
		if f.Slot == s && f.Variant == v {
			return f
		}
	}
	w.t.Fatalf("no base family %s/%d", s, v)
	return nil
}

// Family returns a clean family of the slot and variant, building a fresh
// one when the last was changed by a request.
func (w *World) Family(s Slot, v Variant) *Family {
	if s == SlotMissing {
		return &Family{Slot: SlotMissing, Variant: v}
	}
	k := familyKey{s, v}
	if f := w.families[k]; f != nil && !f.dirty {
		return f
	}
	f := w.build(s, v)
	w.families[k] = f
	return f
}

// Dirty marks a family changed, so the next request gets a fresh one.
func (w *World) Dirty(f *Family) { f.dirty = true }

// Name returns a new unique marker for a record name.
func (w *World) Name(kind string) string {
	w.serial++
	return fmt.Sprintf("棱镜%s%04dq", kind, w.serial)
}

// builder is who creates a slot's records before they are moved into place.
func builder(s Slot) ActorKey {
	switch s {
	case SlotRep1, SlotRep2, SlotMgrEast:
		return ActorKey(s)
	}
	return Rep3
}

func (w *World) must(err error, what string) {
	w.t.Helper()
	if err != nil {
		w.t.Fatalf("matrix fixture: %s: %v", what, err)
	}
}

// build creates a family: the builder creates the customer and its
// children (and a lead), then the slot puts them in place — released to
// the pool, shared with rep1, or the customer handed to rep1 — and the
// variant moves records to the recycle bin.
func (w *World) build(s Slot, v Variant) *Family {
	w.t.Helper()
	ctx, by := w.ctx, w.Users[builder(s)]
	f := &Family{Slot: s, Variant: v, Records: map[crm.Object]Record{}}
	name := w.Name("客户")
	c, err := w.Svc.CreateCustomer(ctx, by, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: name}})
	w.must(err, "customer")
	f.Records[crm.ObjCustomer] = Record{c.ID, name}
	if v != CustomerDeleted {
		w.children(f, by, c.ID)
	}
	switch s {
	case SlotPool:
		w.must(w.Svc.ReleaseCustomer(ctx, by, c.ID), "release")
	case SlotSharedRead, SlotSharedEdit, SlotSharedExpired:
		in := service.ShareInput{UserID: w.Users[Rep1].UserID, Level: "edit"}
		if s == SlotSharedRead {
			in.Level = "read"
		}
		if s == SlotSharedExpired {
			at := w.Clock.Now().Add(time.Minute)
			in.ExpiresAt = &at
		}
		for _, o := range []crm.Object{crm.ObjCustomer, crm.ObjLead} {
			if f.Has(o) {
				_, err := w.Svc.ShareRecord(ctx, by, o, f.ID(o), in)
				w.must(err, "share")
			}
		}
		if s == SlotSharedExpired && w.ready { // New moves the clock once at its end
			w.Clock.Advance(2 * time.Minute)
		}
	case SlotChild:
		w.must(w.Svc.TransferRecord(ctx, w.sys, crm.ObjCustomer, c.ID, w.Users[Rep1].UserID, 0), "hand customer to rep1")
	}
	switch v {
	case Deleted:
		for _, o := range crm.ObjectsWhere(func(s crm.ObjectSpec) bool { return s.Recyclable && s.Name != crm.ObjCustomer }) {
			if f.Has(o) {
				w.must(w.Svc.DeleteRecord(ctx, w.sys, o, f.ID(o)), "delete "+string(o))
			}
		}
	case CustomerDeleted:
		w.must(w.Svc.DeleteCustomer(ctx, w.sys, c.ID), "delete customer")
	}
	return f
}

// children creates the customer's contact, opportunity, contract, follow-up and task
// and, for the slots leads have, a lead, all owned by by.
func (w *World) children(f *Family, by *access.Actor, customerID int64) {
	ctx := w.ctx
	name := w.Name("联系人")
	t, err := w.Svc.CreateContact(ctx, by, crm.ContactFields{CustomerID: customerID, Name: name})
	w.must(err, "contact")
	f.Records[crm.ObjContact] = Record{t.ID, name}
	name = w.Name("商机")
	op, err := w.Svc.CreateOpportunity(ctx, by, crm.OpportunityFields{CustomerID: customerID, Name: name, Amount: 100})
	w.must(err, "opportunity")
	f.Records[crm.ObjOpportunity] = Record{op.ID, name}
	name = w.Name("合同")
	ct, err := w.Svc.CreateContract(ctx, by, crm.ContractFields{CustomerID: customerID, OpportunityID: op.ID, Number: name, Name: name, Amount: 100})
	w.must(err, "contract")
	f.Records[crm.ObjContract] = Record{ct.ID, name}
	name = w.Name("跟进")
	fu, err := w.Svc.CreateFollowUp(ctx, by, crm.FollowUpInput{CustomerID: customerID, Kind: "call", Content: name})
	w.must(err, "follow-up")
	f.Records[crm.ObjFollowUp] = Record{fu.ID, name}
	name = w.Name("任务")
	k, err := w.Svc.CreateTask(ctx, by, crm.TaskFields{CustomerID: customerID, Title: name})
	w.must(err, "task")
	f.Records[crm.ObjTask] = Record{k.ID, name}
	if f.Slot == SlotPool || f.Slot == SlotChild {
		return
	}
	name = w.Name("线索")
	l, err := w.Svc.CreateLead(ctx, by, crm.LeadFields{Name: name, Company: name + "公司"})
	w.must(err, "lead")
	f.Records[crm.ObjLead] = Record{l.ID, name}
}

// fileRequests files two requests to hand a customer to the bystander
// under a transfer policy (then switched off again, so transfers in the
// matrix apply at once): rep1's, decided by mgr.east, and rep3's, decided
// by mgr.west. Filing changes nothing in the records.
func (w *World) fileRequests() {
	ctx := w.ctx
	policy := crm.ApprovalPolicy{Kind: crm.ApproveTransfer, Enabled: true, Steps: []crm.ApprovalStep{{Type: "manager"}}}
	_, err := w.Svc.SaveApprovalPolicy(ctx, w.sys, policy)
	w.must(err, "approval policy")
	for _, a := range []ActorKey{Rep1, Rep3} {
		by := w.Users[a]
		err := w.Svc.TransferRecord(ctx, by, crm.ObjCustomer, w.Family(Slot(a), Live).ID(crm.ObjCustomer), w.Bystander.UserID, 0)
		var ce *crm.Error
		if !errors.As(err, &ce) || ce.Code != crm.Pending {
			w.t.Fatalf("matrix fixture: transfer request: %v", err)
		}
		w.Requests[a] = ce.Ref
	}
	policy.Enabled = false
	_, err = w.Svc.SaveApprovalPolicy(ctx, w.sys, policy)
	w.must(err, "approval policy off")
}

// Version is the current version of a live record (1 for the missing one).
func (w *World) Version(o crm.Object, id int64) int64 {
	w.t.Helper()
	if id == MissingID {
		return 1
	}
	if o == crm.ObjFollowUp {
		f, err := w.Svc.GetFollowUp(w.ctx, w.sys, id)
		w.must(err, fmt.Sprintf("version of follow-up %d", id))
		return f.Version
	}
	var v int64
	err := w.Org.DB.ReadTx(w.ctx, func(tx *store.Tx) error {
		var err error
		v, err = tx.CurrentVersion(w.ctx, o, id)
		return err
	})
	w.must(err, fmt.Sprintf("version of %s %d", o, id))
	return v
}

// SessionKeys are a session's token (for the cookie) and its CSRF token.
type SessionKeys struct{ Token, CSRF string }

// SignIn signs every person in again, into Sessions.
func (w *World) SignIn() {
	w.t.Helper()
	w.Sessions = map[ActorKey]SessionKeys{}
	for _, a := range PersonActors {
		tok, csrf := w.Session(a)
		w.Sessions[a] = SessionKeys{tok, csrf}
	}
}

// Session signs the actor in and returns a new session's token and CSRF
// token. A user with a second factor completes the sign-in with a code, and
// the clock then moves past the step-up window: the matrix's sessions have
// no fresh second factor.
func (w *World) Session(a ActorKey) (token, csrf string) {
	w.t.Helper()
	u := w.Users[a]
	if a == Token {
		u = w.Users[MgrEast]
	}
	return w.SessionOf(u)
}

// SessionOf is Session for any user.
func (w *World) SessionOf(u *access.Actor) (token, csrf string) {
	w.t.Helper()
	ctx := w.ctx
	me, err := w.Svc.Me(ctx, u)
	w.must(err, "me")
	res, err := w.Svc.Login(ctx, me.Username, testorg.Password, testorg.ClientForTest())
	w.must(err, "sign in "+me.Username)
	if !res.MFARequired {
		return res.Token, res.CSRFToken
	}
	pending, err := w.Svc.Authenticate(ctx, res.Token, testorg.ClientForTest())
	w.must(err, "pending session")
	var done service.LoginResult
	if f := w.Org.MFA[u.UserID]; f != nil {
		done, err = w.Svc.CompleteLogin(ctx, pending, f.NextCode(w.t))
	} else if au := w.passkeys[u.UserID]; au != nil {
		var opts []byte
		opts, err = w.Svc.BeginPasskeyCheck(ctx, pending)
		w.must(err, "passkey check of "+me.Username)
		done, err = w.Svc.CompleteLoginPasskey(ctx, pending, au.Get(w.t, opts))
	} else {
		w.t.Fatalf("matrix fixture: %s has a second factor the world does not know", me.Username)
	}
	w.must(err, "second factor of "+me.Username)
	w.Clock.Advance(service.StepUpWindow + time.Minute)
	return done.Token, done.CSRFToken
}

// UserID is the user id of an actor (the token's owner for Token).
func (w *World) UserID(a ActorKey) int64 {
	if a == Token {
		return w.Users[MgrEast].UserID
	}
	return w.Users[a].UserID
}

// OwnTokenScope is a scope the actor's own role grants, for a token of
// theirs: reading customers, else reading the audit trail, else the
// privacy functions.
func OwnTokenScope(a ActorKey) string {
	r := roles[actorRole[person(a)]]
	switch {
	case r.grants[crm.ObjCustomer].read:
		return "customer:read"
	case r.audit:
		return "audit"
	}
	return "privacy"
}

// FreshPrivacyRequest files a request of the kind about rep1's contact
// and returns its id.
func (w *World) FreshPrivacyRequest(kind string) int64 {
	w.t.Helper()
	r, err := w.Svc.FilePrivacyRequest(w.ctx, w.sys, crm.PrivacyRequestInput{Object: crm.ObjContact,
		RecordID: w.Base(SlotRep1, Live).ID(crm.ObjContact), Kind: kind})
	w.must(err, "privacy request")
	return r.ID
}

// PrivacyRequestID is the id of the privacy request of a slot (a fresh one
// of the kind, or a missing one), as a path segment.
func (w *World) PrivacyRequestID(s Slot, kind string) string {
	switch {
	case s == SlotMissing:
		return fmt.Sprint(MissingID)
	case kind == "":
		return fmt.Sprint(w.PrivacyRequest)
	}
	return fmt.Sprint(w.FreshPrivacyRequest(kind))
}

// The slots of what is not a business record: users, sessions and tokens
// (the actor's own, the bystander's, a missing one), approval requests
// (filed by rep1 or by rep3) and shares (granted by rep1, by mgr.east or by
// rep3 on a customer of theirs, by the administrator on rep1's customer).
const (
	SlotOwn         Slot = "own"
	SlotMember      Slot = "member" // rep1's, in East-1
	SlotOther       Slot = "other"
	SlotRequestRep1 Slot = "request_rep1"
	SlotRequestRep3 Slot = "request_rep3"
	SlotShareRep1   Slot = "share_rep1"
	SlotShareMgr    Slot = "share_mgr_east"
	SlotShareRep3   Slot = "share_rep3"
	SlotShareAdmin  Slot = "share_admin"
	SlotFiled       Slot = "filed" // a request in the privacy register
)

// The objects of the slots above, as cells name them.
const (
	ObjUser     crm.Object = "user"
	ObjSession  crm.Object = "session"
	ObjToken    crm.Object = "token"
	ObjApproval crm.Object = "approval"
	ObjShare    crm.Object = "share"
	ObjReview   crm.Object = "reviewed token" // someone's token, as an access review revokes it
	ObjPasskey  crm.Object = "passkey"
	ObjPrivacy  crm.Object = "privacy request"
	ObjImport   crm.Object = "import"
)

// PseudoSlots are the slots of the objects above.
var PseudoSlots = map[crm.Object][]Slot{
	ObjUser:     {SlotOwn, SlotOther, SlotMissing},
	ObjSession:  {SlotOwn, SlotOther, SlotMissing},
	ObjToken:    {SlotOwn, SlotOther, SlotMissing},
	ObjApproval: {SlotRequestRep1, SlotRequestRep3, SlotMissing},
	ObjShare:    {SlotShareRep1, SlotShareMgr, SlotShareRep3, SlotShareAdmin, SlotMissing},
	ObjReview:   {SlotOwn, SlotMember, SlotOther, SlotMissing},
	ObjPasskey:  {SlotOther, SlotMissing}, // the bystander's
	ObjPrivacy:  {SlotFiled, SlotMissing},
	ObjImport:   {SlotMember, SlotMissing}, // rep1's
}

// ImportedName is the name of a customer the matrix imports, which the
// searches it checks do not find.
func (w *World) ImportedName() string { return fmt.Sprintf("导入客户%04dq", w.Serial()) }

// FreshImport is an import by rep1 of a one-customer file for the slot
// (previewed, or committed and run when done), or the missing import.
func (w *World) FreshImport(s Slot, done bool) int64 {
	w.t.Helper()
	if s == SlotMissing {
		return MissingID
	}
	rep1 := w.Users[Rep1]
	file := "名称\n" + w.ImportedName() + "\n"
	p, err := w.Svc.PreviewImport(w.ctx, rep1, service.ImportRequest{Object: crm.ObjCustomer, FileName: "matrix.csv",
		File: strings.NewReader(file), Size: int64(len(file))})
	w.must(err, "fresh import")
	if done {
		_, err = w.Svc.CommitImport(w.ctx, rep1, p.Import.ID)
		w.must(err, "commit import")
		w.must(w.Svc.RunImport(w.ctx, p.Import.ID, "matrix", nil), "run import")
	}
	return p.Import.ID
}

// Enrolled reports whether the actor's user has a second factor (the world
// enrols the administrator's).
func (w *World) Enrolled(a ActorKey) bool { return w.Org.MFA[w.UserID(a)] != nil }

// FreshSession opens a new session of the actor's user (or, for SlotOther,
// of the bystander) and returns its id.
func (w *World) FreshSession(a ActorKey, s Slot) int64 {
	w.t.Helper()
	u := w.Users[person(a)]
	if s == SlotOther {
		u = w.Bystander
	}
	tok, _ := w.SessionOf(u)
	sa, err := w.Svc.Authenticate(w.ctx, tok, testorg.ClientForTest())
	w.must(err, "fresh session")
	return sa.SessionID
}

// FreshToken issues a new API token of the actor's user (or the
// bystander's) and returns its id.
func (w *World) FreshToken(a ActorKey, s Slot) int64 {
	w.t.Helper()
	u, scope := w.Users[person(a)], "customer:read"
	switch s {
	case SlotOther:
		u = w.Bystander
	case SlotMember:
		u = w.Users[Rep1]
	}
	if s == SlotOwn {
		scope = OwnTokenScope(a)
	}
	tok, err := w.Svc.CreateAPIToken(w.ctx, u, service.TokenInput{Name: "fresh", Scopes: []string{scope}})
	w.must(err, "fresh token")
	return tok.ID
}

// FreshShare shares a customer with the bystander as the slot says and
// returns the share's id.
func (w *World) FreshShare(s Slot) int64 {
	w.t.Helper()
	sh, err := w.Svc.ShareRecord(w.ctx, w.Users[ShareGranter(s)], crm.ObjCustomer, w.Family(ShareRecordSlot(s), Live).ID(crm.ObjCustomer),
		service.ShareInput{UserID: w.Bystander.UserID, Level: "read"})
	w.must(err, "fresh share")
	return sh.ID
}

// UserOf is the user a pseudo slot names for an actor: themselves, rep1,
// the bystander, or a missing user.
func (w *World) UserOf(a ActorKey, s Slot) int64 {
	switch s {
	case SlotOwn:
		return w.UserID(a)
	case SlotMember:
		return w.UserID(Rep1)
	case SlotOther:
		return w.Bystander.UserID
	}
	return MissingID
}

// Serial returns a number not returned before, for unique keys.
func (w *World) Serial() int {
	w.serial++
	return w.serial
}

// ApprovalID is the id of the approval request of a slot, as a path
// segment.
func (w *World) ApprovalID(s Slot) string {
	if s == SlotMissing {
		return fmt.Sprint(MissingID)
	}
	return fmt.Sprint(w.Requests[Requester(s)])
}

// registerPasskey gives a user (without a second factor yet) a passkey of
// a software authenticator, through the real ceremony in a session.
func (w *World) registerPasskey(u *access.Actor) {
	w.t.Helper()
	tok, _ := w.SessionOf(u)
	a, err := w.Svc.Authenticate(w.ctx, tok, testorg.ClientForTest())
	w.must(err, "session for a passkey")
	au := testorg.NewAuthenticator()
	opts, err := w.Svc.BeginPasskeyRegistration(w.ctx, a)
	w.must(err, "begin passkey registration")
	reg, err := w.Svc.FinishPasskeyRegistration(w.ctx, a, "key", au.Create(w.t, opts))
	w.must(err, "finish passkey registration")
	w.passkeys[u.UserID], w.BystanderPasskey = au, reg.Passkey.ID
}

// Hold puts the person behind the family's record of o under a legal hold
// (nothing for the missing slot), so a request can lift it.
func (w *World) Hold(o crm.Object, f *Family, s Slot) {
	w.t.Helper()
	if s != SlotMissing {
		w.must(w.Svc.SetLegalHold(w.ctx, w.sys, o, f.ID(o), "matrix"), "legal hold")
	}
}

// FreshCampaign starts a review campaign, as the administrator, over every
// owned customer, contact and lead of the world, due in a month.
func (w *World) FreshCampaign() int64 {
	w.t.Helper()
	c, err := w.Svc.StartCampaign(w.ctx, w.Org.Admin, crm.CampaignStart{Name: "matrix", Objects: crm.CampaignObjects(),
		Selection: crm.SelectAll, DueAt: w.Clock.Now().Add(30 * 24 * time.Hour)})
	w.must(err, "fresh campaign")
	return c.ID
}

// Partner returns a record of o in the same relation to every actor as
// the target's: the same record of a fresh family of the slot. Both
// families are used up (the next request gets fresh ones).
func (w *World) Partner(x *Target, o crm.Object) int64 {
	w.t.Helper()
	w.Dirty(x.F)
	f := w.Family(x.S, x.F.Variant)
	w.Dirty(f)
	return f.ID(o)
}

// FreshMerge merges a partner into the target's record of o, as the
// administrator (a merge names a user), and returns the merge's id; for
// the missing slot, and for an actor who may not merge, MissingID.
func (w *World) FreshMerge(x *Target, o crm.Object) int64 {
	w.t.Helper()
	if x.S == SlotMissing || !Can(x.A, o, crm.ActEdit) {
		return MissingID
	}
	survivor, merged := x.F.ID(o), w.Partner(x, o)
	m, err := w.Svc.MergeRecords(w.ctx, w.Users[Admin], o, crm.MergeRequest{SurvivorID: survivor, MergedID: merged,
		SurvivorVersion: w.Version(o, survivor), MergedVersion: w.Version(o, merged)})
	w.must(err, fmt.Sprintf("merge %s %d into %d", o, merged, survivor))
	return m.ID
}

// MergePair returns the target's record of o and a partner to merge into
// it; for the missing slot, and for an actor who may not merge, the
// partner is the missing record.
func (w *World) MergePair(x *Target, o crm.Object) (survivor, merged int64) {
	w.t.Helper()
	if x.S == SlotMissing || !Can(x.A, o, crm.ActEdit) {
		return x.F.ID(o), MissingID
	}
	return x.F.ID(o), w.Partner(x, o)
}
