package testmatrix

import (
	"maps"
	"slices"
	"strings"

	"custos/internal/crm"
)

// The oracle: what docs/security.md says each actor may do with each
// record, from the role's grants and record scope, the slot's owners and
// shares — written out here, never asked of the service.

// Outcome is what a request should come to.
type Outcome string

// The outcomes. Every denial but Forbidden and StepUp is an answer that
// must look exactly like the answer about a missing record.
const (
	Allow     Outcome = "allow"       // the action is carried out
	Invalid   Outcome = "invalid"     // authorised, refused on its merits (a field named)
	Hidden    Outcome = "hidden"      // "not found", exactly as for a missing record
	Forbidden Outcome = "forbidden"   // the role lacks the function permission
	StepUp    Outcome = "step_up"     // needs a second factor verified in this session minutes ago
	BadRef    Outcome = "bad_ref"     // names a record the actor may not use: as if it did not exist
	Conflict  Outcome = "conflict"    // not possible in the record's state (claiming what is not in the pool)
	Session   Outcome = "session_req" // needs a browser session; a token may not
)

// Denial reports whether an outcome refuses the request.
func (o Outcome) Denial() bool { return o != Allow && o != Invalid }

// grant is what a role allows on one object.
type grant struct {
	read, create, edit, delete bool
	// export: writing the list to a file (administrators and managers by
	// default, sales when the role allows it).
	export bool
	scope  crm.Scope
}

// role is a role as docs/security.md describes the defaults.
type role struct {
	grants                         map[crm.Object]grant
	admin, audit, privacy, reports bool
}

func fullGrants(s crm.Scope, export bool) map[crm.Object]grant {
	m := map[crm.Object]grant{}
	for _, o := range crm.Objects {
		m[o] = grant{read: true, create: true, edit: true, delete: true, export: export, scope: s}
	}
	return m
}

// The default roles: administrator (all), manager (department and below),
// sales (own), auditor (the audit trail only), privacy officer (the privacy
// register only).
var roles = map[string]role{
	"admin":   {grants: fullGrants(crm.ScopeAll, true), admin: true, audit: true, privacy: true, reports: true},
	"manager": {grants: fullGrants(crm.ScopeSubtree, true), reports: true},
	"sales":   {grants: fullGrants(crm.ScopeOwn, false), reports: true},
	"auditor": {grants: map[crm.Object]grant{}, audit: true},
	"privacy": {grants: map[crm.Object]grant{}, privacy: true},
}

var actorRole = map[ActorKey]string{Admin: "admin", MgrEast: "manager", MgrWest: "manager", Rep1: "sales", Rep2: "sales",
	Rep3: "sales", Auditor: "auditor", Privacy: "privacy", Token: "manager"}

// roleOf is the actor's role; the token's is its owner's narrowed to its
// scopes: an object without a scope loses everything, "read" keeps only
// reading, "write" keeps all; admin, audit and privacy need scopes of
// their own. Reports need none: what a report counts is narrowed by the
// object scopes already.
func roleOf(a ActorKey) role {
	r := roles[actorRole[a]]
	if a != Token {
		return r
	}
	out := role{grants: map[crm.Object]grant{}, admin: r.admin && hasScope("admin"), audit: r.audit && hasScope("audit"),
		privacy: r.privacy && hasScope("privacy"), reports: r.reports}
	for o, g := range r.grants {
		read, write := hasScope(string(o)+":read"), hasScope(string(o)+":write")
		out.grants[o] = grant{read: g.read && (read || write), create: g.create && write, edit: g.edit && write,
			delete: g.delete && write, export: g.export && (read || write), scope: g.scope}
	}
	return out
}

func hasScope(s string) bool {
	for _, x := range TokenScopes {
		if x == s {
			return true
		}
	}
	return false
}

// IsAdmin reports whether the actor may use the administration functions.
func IsAdmin(a ActorKey) bool { return roleOf(a).admin }

// CanAudit reports whether the actor may read the audit trail.
func CanAudit(a ActorKey) bool { return roleOf(a).audit }

// CanPrivacy reports whether the actor may use the privacy register and
// carry out its requests: privacy officers and administrators.
func CanPrivacy(a ActorKey) bool { r := roleOf(a); return r.privacy || r.admin }

// Can reports whether the actor's role allows an action on an object.
func Can(a ActorKey, o crm.Object, act crm.Action) bool {
	g := roleOf(a).grants[o]
	switch act {
	case crm.ActRead:
		return g.read
	case crm.ActCreate:
		return g.create
	case crm.ActEdit:
		return g.edit
	case crm.ActDelete:
		return g.delete
	}
	return false
}

// person is the user an actor acts as.
func person(a ActorKey) ActorKey {
	if a == Token {
		return MgrEast
	}
	return a
}

// Bystander names the user no actor is (in HQ), as an owner of tokens.
const Bystander ActorKey = "bystander"

// home is each user's department in the tree HQ ─ East ─ East-1, HQ ─ West.
var home = map[ActorKey]string{Admin: "/hq/", MgrEast: "/hq/east/", MgrWest: "/hq/west/", Rep1: "/hq/east/east-1/",
	Rep2: "/hq/east/east-1/", Rep3: "/hq/west/", Auditor: "/hq/east/east-1/", Privacy: "/hq/", Bystander: "/hq/"}

// managerOf is who manages a department (New sets them): the manager's
// access review covers it and the departments below.
var managerOf = map[string]ActorKey{"/hq/east/": MgrEast, "/hq/west/": MgrWest}

// Reviews reports whether the actor's access review covers the user:
// administrators review everyone, department managers the departments
// they manage and those below.
func Reviews(a, user ActorKey) bool {
	if IsAdmin(a) {
		return true
	}
	for path, m := range managerOf {
		if m == person(a) && strings.HasPrefix(home[user], path) {
			return true
		}
	}
	return false
}

// ReviewOutcome is the access review and its confirmation: administrators
// and department managers.
func ReviewOutcome(a ActorKey, _ Slot) Outcome {
	if IsAdmin(a) || slices.Contains(slices.Collect(maps.Values(managerOf)), person(a)) {
		return Allow
	}
	return Forbidden
}

// ReviewConfirmOutcome is confirming a review: as ReviewOutcome, but never
// through an API token without the admin scope.
func ReviewConfirmOutcome(a ActorKey, s Slot) Outcome {
	if a == Token {
		return Forbidden
	}
	return ReviewOutcome(a, s)
}

// ReviewTokenOutcome is revoking someone's API token from an access
// review: their owner must be in the reviewer's review; anyone else's token
// is not found; an API token without the admin scope may not.
func ReviewTokenOutcome(a ActorKey, s Slot) Outcome {
	if a == Token {
		return Forbidden
	}
	owner := map[Slot]ActorKey{SlotOwn: person(a), SlotMember: Rep1, SlotOther: Bystander}[s]
	if owner != "" && Reviews(a, owner) {
		return Allow
	}
	return Hidden
}

// HistoryOutcome is reading a record's audit history: whoever may see the
// record, and those who read the audit trail (any record).
func HistoryOutcome(a ActorKey, o crm.Object, s Slot) Outcome {
	if CanAudit(a) {
		return Allow
	}
	return ReadOutcome(a, o, s)
}

// ReportOutcome is reading a report: the roles with the reports
// permission (figures within their scopes), not the auditor or the
// privacy officer.
func ReportOutcome(a ActorKey, _ Slot) Outcome {
	if roleOf(a).reports {
		return Allow
	}
	return Forbidden
}

// AuditOutcome is reading the audit trail.
func AuditOutcome(a ActorKey, _ Slot) Outcome {
	if CanAudit(a) {
		return Allow
	}
	return Forbidden
}

// customerOwner owns the slot's customer ("" for the pool).
func customerOwner(s Slot) ActorKey {
	switch s {
	case SlotRep1, SlotChild:
		return Rep1
	case SlotRep2:
		return Rep2
	case SlotMgrEast:
		return MgrEast
	case SlotPool:
		return ""
	}
	return Rep3
}

// recordOwner owns the slot's children and lead.
func recordOwner(s Slot) ActorKey {
	switch s {
	case SlotRep1, SlotRep2, SlotMgrEast:
		return ActorKey(s)
	}
	return Rep3
}

// Owner is the owner of the slot's record of o ("" for a pool customer).
func Owner(o crm.Object, s Slot) ActorKey {
	if o == crm.ObjCustomer {
		return customerOwner(s)
	}
	return recordOwner(s)
}

// inScope reports whether a record of o owned by owner is within the
// actor's record scope ("" owns pool customers: only scope all reaches
// them through the scope).
func inScope(a ActorKey, o crm.Object, owner ActorKey) bool {
	g := roleOf(a).grants[o]
	if !g.read {
		return false
	}
	if g.scope == crm.ScopeAll {
		return true
	}
	if owner == "" {
		return false
	}
	me := person(a)
	switch g.scope {
	case crm.ScopeOwn:
		return owner == me
	case crm.ScopeDepartment:
		return home[owner] == home[me]
	case crm.ScopeSubtree:
		return strings.HasPrefix(home[owner], home[me])
	}
	return false
}

// shared reports whether the slot's customer and lead are shared with the
// actor, live, at the level asked (edit: an edit share).
func shared(a ActorKey, s Slot, edit bool) bool {
	if person(a) != Rep1 {
		return false
	}
	switch s {
	case SlotSharedRead:
		return !edit
	case SlotSharedEdit:
		return true
	}
	return false // SlotSharedExpired: the share ended
}

// viaCustomer reports whether a child of o is reached through its customer:
// a customer in the actor's customer scope (not the pool: its history
// belongs to whoever claims it), or one shared with them (tasks do not come
// with a share).
func viaCustomer(a ActorKey, o crm.Object, s Slot, edit bool) bool {
	return inScope(a, crm.ObjCustomer, customerOwner(s)) || o != crm.ObjTask && shared(a, s, edit)
}

// Visible reports whether the actor sees the slot's live record of o.
func Visible(a ActorKey, o crm.Object, s Slot) bool {
	if s == SlotMissing || !Can(a, o, crm.ActRead) {
		return false
	}
	switch o {
	case crm.ObjCustomer:
		return inScope(a, o, customerOwner(s)) || s == SlotPool || shared(a, s, false)
	case crm.ObjLead:
		return inScope(a, o, recordOwner(s)) || shared(a, s, false)
	}
	return inScope(a, o, recordOwner(s)) || viaCustomer(a, o, s, false)
}

// editable reports whether the actor may change the slot's record of o:
// within their scope or shared with them to edit; never a pool customer.
func editable(a ActorKey, o crm.Object, s Slot) bool {
	if s == SlotMissing || !Can(a, o, crm.ActEdit) {
		return false
	}
	switch o {
	case crm.ObjCustomer:
		return inScope(a, o, customerOwner(s)) || shared(a, s, true)
	case crm.ObjLead:
		return inScope(a, o, recordOwner(s)) || shared(a, s, true)
	}
	return inScope(a, o, recordOwner(s)) || viaCustomer(a, o, s, true)
}

// owned reports whether the slot's record of o is within the actor's own
// scope, as deleting, restoring, releasing, handing over and sharing need:
// shares never count.
func owned(a ActorKey, o crm.Object, s Slot) bool {
	if s == SlotMissing {
		return false
	}
	switch o {
	case crm.ObjCustomer, crm.ObjLead:
		return inScope(a, o, Owner(o, s))
	}
	return inScope(a, o, recordOwner(s)) || inScope(a, crm.ObjCustomer, customerOwner(s))
}

// Recycled reports whether the slot's deleted record of o is in the
// actor's recycle bin: it is theirs to restore.
func Recycled(a ActorKey, o crm.Object, s Slot) bool {
	return Can(a, o, crm.ActDelete) && owned(a, o, s)
}

// ReadOutcome is viewing the record.
func ReadOutcome(a ActorKey, o crm.Object, s Slot) Outcome {
	return check(Can(a, o, crm.ActRead), Visible(a, o, s))
}

// EditOutcome is changing the record's fields (a stage move, a task done).
func EditOutcome(a ActorKey, o crm.Object, s Slot) Outcome {
	return check(Can(a, o, crm.ActEdit), editable(a, o, s))
}

// DeleteOutcome is moving the record to the recycle bin or restoring it.
func DeleteOutcome(a ActorKey, o crm.Object, s Slot) Outcome {
	return check(Can(a, o, crm.ActDelete), owned(a, o, s))
}

// BulkDeleteOutcome is deleting records in bulk: a risky operation that
// needs a fresh second factor, after the delete permission.
func BulkDeleteOutcome(a ActorKey, o crm.Object) Outcome {
	if !Can(a, o, crm.ActDelete) {
		return Forbidden
	}
	return StepUp
}

// ShareOutcome is sharing the record, or listing its shares.
func ShareOutcome(a ActorKey, o crm.Object, s Slot) Outcome {
	return check(Can(a, o, crm.ActEdit), owned(a, o, s))
}

// ReleaseOutcome is returning a customer to the pool.
func ReleaseOutcome(a ActorKey, s Slot) Outcome {
	return check(Can(a, crm.ObjCustomer, crm.ActEdit), owned(a, crm.ObjCustomer, s))
}

// ClaimOutcome is taking a customer from the pool; anything else is "no
// longer in the pool", the same for every record.
func ClaimOutcome(a ActorKey, s Slot) Outcome {
	switch {
	case !Can(a, crm.ObjCustomer, crm.ActEdit):
		return Forbidden
	case s == SlotPool:
		return Allow
	}
	return Conflict
}

// TransferOutcome is handing the record to the user to: the actor's own
// scope reaches the record, and to is someone else within the actor's
// scope (or the actor).
func TransferOutcome(a ActorKey, o crm.Object, s Slot, to ActorKey) Outcome {
	switch out := check(Can(a, o, crm.ActEdit), owned(a, o, s)); {
	case out != Allow:
		return out
	case to == Owner(o, s) || to != person(a) && !inScope(a, o, to):
		return Invalid
	}
	return Allow
}

// RevealOutcome is revealing a masked value: no default role may reveal,
// so a record the actor sees is refused, one they do not is not found.
func RevealOutcome(a ActorKey, o crm.Object, s Slot) Outcome {
	if !Can(a, o, crm.ActRead) || Visible(a, o, s) {
		return Forbidden
	}
	return Hidden
}

// ConvertOutcome is converting a lead into a new customer and contact.
func ConvertOutcome(a ActorKey, s Slot) Outcome {
	ok := Can(a, crm.ObjLead, crm.ActEdit) && Can(a, crm.ObjCustomer, crm.ActCreate) && Can(a, crm.ObjContact, crm.ActCreate)
	return check(ok, editable(a, crm.ObjLead, s))
}

// AttachOutcome is creating a record of o on the slot's customer: the
// actor must be able to edit that customer; one they may not is named as
// if it did not exist.
func AttachOutcome(a ActorKey, o crm.Object, s Slot) Outcome {
	switch {
	case !Can(a, o, crm.ActCreate):
		return Forbidden
	case editable(a, crm.ObjCustomer, s):
		return Allow
	}
	return BadRef
}

// TimelineOutcome is listing the follow-ups of the slot's record of o:
// pool customers show no history until claimed.
func TimelineOutcome(a ActorKey, o crm.Object, s Slot) Outcome {
	if !Can(a, crm.ObjFollowUp, crm.ActRead) {
		return Forbidden
	}
	var ok bool
	switch o {
	case crm.ObjCustomer:
		ok = s != SlotMissing && Can(a, o, crm.ActRead) && (inScope(a, o, customerOwner(s)) || shared(a, s, false))
	default:
		ok = Visible(a, o, s)
	}
	return check(true, ok)
}

// ApprovalOutcome is opening an approval request filed by requester: its
// requester, its approvers (the requester's manager) and administrators.
func ApprovalOutcome(a ActorKey, requester ActorKey) Outcome {
	approver := map[ActorKey]ActorKey{Rep1: MgrEast, Rep3: MgrWest}[requester]
	if requester != "" && (person(a) == requester || person(a) == approver || IsAdmin(a)) {
		return Allow
	}
	return Hidden
}

// AdminOutcome is an administration function; stepUp marks one that also
// needs a fresh second factor.
func AdminOutcome(a ActorKey, stepUp bool) Outcome {
	switch {
	case !IsAdmin(a):
		return Forbidden
	case stepUp:
		return StepUp
	}
	return Allow
}

// check is the usual order of a service's answer: the function permission
// first, then the record.
func check(permitted, reached bool) Outcome {
	switch {
	case !permitted:
		return Forbidden
	case !reached:
		return Hidden
	}
	return Allow
}

// Relation names the slot's record of o as the actor sees it: own, same
// department, subtree, other department, pool customer, shared read,
// shared edit, shared expired, child of a visible customer, missing.
func Relation(a ActorKey, o crm.Object, s Slot) string {
	if _, ok := PseudoSlots[o]; ok {
		return pseudoRelation(a, o, s)
	}
	switch {
	case s == SlotMissing:
		return "missing"
	case s == SlotPool:
		if o == crm.ObjCustomer {
			return "pool customer"
		}
		return "child of a pool customer"
	case person(a) == Rep1 && (s == SlotSharedRead || s == SlotSharedEdit || s == SlotSharedExpired):
		return strings.ReplaceAll(string(s), "_", " ")
	case s == SlotChild && o != crm.ObjCustomer && Visible(a, crm.ObjCustomer, s):
		return "child of a visible customer"
	}
	owner, me := Owner(o, s), person(a)
	switch {
	case owner == me:
		return "own"
	case home[owner] == home[me]:
		return "same department"
	case strings.HasPrefix(home[owner], home[me]):
		return "subtree"
	}
	return "other department"
}

func pseudoRelation(a ActorKey, o crm.Object, s Slot) string {
	switch s {
	case SlotMissing:
		return "missing"
	case SlotOwn:
		return "own"
	case SlotMember:
		if Reviews(a, Rep1) {
			return "in my review"
		}
		return "someone else's"
	case SlotOther:
		return "someone else's"
	case SlotFiled:
		return "a filed request"
	case SlotRequestRep1, SlotRequestRep3:
		req := Requester(s)
		switch {
		case person(a) == req:
			return "own request"
		case ApprovalOutcome(a, req) == Allow && !IsAdmin(a):
			return "request to decide"
		}
		return "someone else's request"
	}
	granter := ShareGranter(s)
	switch {
	case granter == person(a):
		return "share granted by me"
	case inScope(a, crm.ObjCustomer, Owner(crm.ObjCustomer, ShareRecordSlot(s))):
		return "share on a record in my scope"
	}
	return "someone else's share"
}

// Requester is who filed the approval request of a slot.
func Requester(s Slot) ActorKey {
	return map[Slot]ActorKey{SlotRequestRep1: Rep1, SlotRequestRep3: Rep3}[s]
}

// ShareGranter is who granted the share of a slot.
func ShareGranter(s Slot) ActorKey {
	return map[Slot]ActorKey{SlotShareRep1: Rep1, SlotShareMgr: MgrEast, SlotShareRep3: Rep3, SlotShareAdmin: Admin}[s]
}

// ShareRecordSlot is the slot of the customer a share of a slot is on.
func ShareRecordSlot(s Slot) Slot {
	return map[Slot]Slot{SlotShareRep1: SlotRep1, SlotShareMgr: SlotMgrEast, SlotShareRep3: SlotRep3, SlotShareAdmin: SlotRep1}[s]
}

// RevokeOutcome is revoking a share: one the actor granted, or one on a
// record the actor may share (administrators: any). Revoking changes who
// sees what, so it needs the edit permission on the object like sharing
// does: a token that may only read changes nothing. A share the actor may
// not revoke is not found.
func RevokeOutcome(a ActorKey, s Slot) Outcome {
	if s == SlotMissing {
		return Hidden
	}
	mine := ShareGranter(s) == person(a) && Can(a, crm.ObjCustomer, crm.ActEdit)
	if mine || IsAdmin(a) || ShareOutcome(a, crm.ObjCustomer, ShareRecordSlot(s)) == Allow {
		return Allow
	}
	return Hidden
}

// Person is the user an actor acts as (the token's owner for Token).
func Person(a ActorKey) ActorKey { return person(a) }

// IsLive reports whether the record of o of a family in variant v is live
// (not in the recycle bin).
func IsLive(o crm.Object, v Variant) bool {
	switch v {
	case Deleted:
		return o == crm.ObjCustomer
	case CustomerDeleted:
		return false
	}
	return true
}

// InLists reports whether the slot's live record of o appears in the
// actor's lists and searches of o: the records they see, except pool
// customers, which have a list of their own — unless the actor's scope
// reaches every customer.
func InLists(a ActorKey, o crm.Object, s Slot) bool {
	if o == crm.ObjCustomer && s == SlotPool {
		return Can(a, o, crm.ActRead) && inScope(a, o, "")
	}
	return Visible(a, o, s)
}

// Shorthands for classifying routes.

// Anyone allows every actor.
func Anyone(ActorKey, Slot) Outcome { return Allow }

// Admins allows administrators.
func Admins(a ActorKey, _ Slot) Outcome { return AdminOutcome(a, false) }

// StepUps is an administration function that needs a fresh second factor.
func StepUps(a ActorKey, _ Slot) Outcome { return AdminOutcome(a, true) }

// TeamOutcome is the answer to the team view: for an actor who may read
// customers beyond their own; a rep's scope has no team.
func TeamOutcome(a ActorKey, _ Slot) Outcome {
	if g := roleOf(a).grants[crm.ObjCustomer]; g.read && g.scope != crm.ScopeOwn {
		return Allow
	}
	return Forbidden
}

// CanDo allows the actors whose role allows an action on an object.
func CanDo(o crm.Object, act crm.Action) func(ActorKey, Slot) Outcome {
	return func(a ActorKey, _ Slot) Outcome {
		if Can(a, o, act) {
			return Allow
		}
		return Forbidden
	}
}

// ExportOutcome is exporting a list of o: the actors whose role reads o and
// may export it; found is the outcome for them (a follow-up export naming a
// record that does not exist: hidden).
func ExportOutcome(o crm.Object, found Outcome) func(ActorKey, Slot) Outcome {
	return func(a ActorKey, _ Slot) Outcome {
		if g := roleOf(a).grants[o]; g.read && g.export {
			return found
		}
		return Forbidden
	}
}

// ReportExportOutcome is exporting a report about records of o: the
// reports permission and the right to read and export o.
func ReportExportOutcome(o crm.Object) func(ActorKey, Slot) Outcome {
	return func(a ActorKey, s Slot) Outcome {
		if ReportOutcome(a, s) != Allow {
			return Forbidden
		}
		return ExportOutcome(o, Allow)(a, s)
	}
}

// On binds an outcome about records of o to o.
func On(o crm.Object, f func(ActorKey, crm.Object, Slot) Outcome) func(ActorKey, Slot) Outcome {
	return func(a ActorKey, s Slot) Outcome { return f(a, o, s) }
}

// SessionOnly refuses the token and lets every signed-in person reach an
// account function of their own.
func SessionOnly(a ActorKey, _ Slot) Outcome {
	if a == Token {
		return Forbidden
	}
	return Reached
}

// Account is managing one's account (sessions, tokens, second factor):
// as want says for a person, and refused to any API token whatever its
// scopes — a leaked token must not sign its owner out or revoke the
// owner's other tokens.
func Account(want func(ActorKey, Slot) Outcome) func(ActorKey, Slot) Outcome {
	return func(a ActorKey, s Slot) Outcome {
		if a == Token {
			return Forbidden
		}
		return want(a, s)
	}
}

// AddFactor is adding a second factor (confirming an app, registering a
// passkey): an account that has one already needs step-up for it, so a
// stolen session cannot add the thief's; tokens never may.
func AddFactor(enrolled func(ActorKey) bool) func(ActorKey, Slot) Outcome {
	return func(a ActorKey, s Slot) Outcome {
		if out := SessionOnly(a, s); out != Reached || !enrolled(a) {
			return out
		}
		return StepUp
	}
}

// OwnOnly allows one's own session or token; anyone else's is not found.
func OwnOnly(_ ActorKey, s Slot) Outcome {
	if s == SlotOwn {
		return Allow
	}
	return Hidden
}

// InList is a Listing's rule for lists of live records.
func InList(a ActorKey, o crm.Object, s Slot, v Variant) bool {
	return IsLive(o, v) && InLists(a, o, s)
}

// InTeamList is a Listing's rule for a list filtered by owner or
// department: what the list shows, less the pool customers, which have
// no owner to match.
func InTeamList(a ActorKey, o crm.Object, s Slot, v Variant) bool {
	return InList(a, o, s, v) && !(o == crm.ObjCustomer && s == SlotPool)
}

// InBin is a Listing's rule for recycle bins.
func InBin(a ActorKey, o crm.Object, s Slot, v Variant) bool {
	return !IsLive(o, v) && Recycled(a, o, s)
}

// InPool is a Listing's rule for the public pool.
func InPool(a ActorKey, o crm.Object, s Slot, v Variant) bool {
	return s == SlotPool && IsLive(o, v) && Visible(a, o, s)
}

// MyTasks is a Listing's rule for the task list: the actor's own open tasks.
func MyTasks(a ActorKey, o crm.Object, s Slot, v Variant) bool {
	return IsLive(o, v) && Can(a, o, crm.ActRead) && Owner(o, s) == person(a)
}

// AdminFindsNothing is an administration function on a record that does
// not exist: administrators get "not found", everyone else "forbidden".
func AdminFindsNothing(a ActorKey, _ Slot) Outcome {
	if IsAdmin(a) {
		return Hidden
	}
	return Forbidden
}

// AuditFindsNothing is reading something of the audit trail's readers
// (an incident) that does not exist: they get "not found", everyone else
// "forbidden".
func AuditFindsNothing(a ActorKey, _ Slot) Outcome {
	if CanAudit(a) {
		return Hidden
	}
	return Forbidden
}

// Privacy rights: the privacy officer (and administrators) reach every
// person, whoever owns their records; everyone else is refused the
// function, before any record is looked at.

// PrivacyOutcome is a function of the privacy register about no record.
func PrivacyOutcome(a ActorKey, _ Slot) Outcome {
	if CanPrivacy(a) {
		return Allow
	}
	return Forbidden
}

// PrivacyStepUp is a privacy function that needs a fresh second factor.
func PrivacyStepUp(a ActorKey, _ Slot) Outcome {
	if CanPrivacy(a) {
		return StepUp
	}
	return Forbidden
}

// PersonOutcome is a privacy function about the person behind the slot's
// record (or a request in the register): any that exists; then wanted is
// what it comes to (Allow, or StepUp for an erasure, Conflict for
// unarchiving a record that is not archived).
func PersonOutcome(wanted Outcome) func(a ActorKey, s Slot) Outcome {
	return func(a ActorKey, s Slot) Outcome {
		switch {
		case !CanPrivacy(a):
			return Forbidden
		case s == SlotMissing:
			return Hidden
		}
		return wanted
	}
}

// ConsentOutcome is reading (edit false) or granting and withdrawing a
// consent on the slot's contact or lead: as reading or changing the
// record, and for privacy officers any record that exists.
func ConsentOutcome(o crm.Object, edit bool) func(a ActorKey, s Slot) Outcome {
	return func(a ActorKey, s Slot) Outcome {
		switch {
		case CanPrivacy(a):
			return PersonOutcome(Allow)(a, s)
		case edit:
			return EditOutcome(a, o, s)
		}
		return ReadOutcome(a, o, s)
	}
}

// ImportOutcome is a call about an import of rep1's (ObjImport): rep1
// reaches it, an administrator gets admin (imports are visible to
// administrators, committed only by whoever made them), everyone else
// finds nothing, as about a missing import.
func ImportOutcome(admin Outcome) func(a ActorKey, s Slot) Outcome {
	return func(a ActorKey, s Slot) Outcome {
		switch {
		case s == SlotMissing:
			return Hidden
		case person(a) == Rep1:
			return Allow
		case IsAdmin(a):
			return admin
		}
		return Hidden
	}
}

// StartCampaignOutcome is starting a review campaign of customers:
// administrators, and those who may edit customers in a scope wider than
// their own records (managers); sales and readers may not.
func StartCampaignOutcome(a ActorKey, _ Slot) Outcome {
	if IsAdmin(a) {
		return Allow
	}
	g := roleOf(a).grants[crm.ObjCustomer]
	if Can(a, crm.ObjCustomer, crm.ActEdit) && g.scope != crm.ScopeOwn {
		return Allow
	}
	return Forbidden
}

// CampaignConfirmOutcome is confirming the slot's customer in a review
// campaign over every owned customer: the customer must be owned within
// the actor's own scope (shares never count); a pool customer has no owner
// and is in no campaign.
func CampaignConfirmOutcome(a ActorKey, s Slot) Outcome {
	return check(Can(a, crm.ObjCustomer, crm.ActEdit), s != SlotMissing && s != SlotPool && inScope(a, crm.ObjCustomer, customerOwner(s)))
}

// MergeOutcome is comparing or merging the slot's record of o with
// another in the same relation to the actor: a merge needs the rights to
// edit and delete records of o, over both records within the actor's own
// scope (shares do not count: the merged record goes to the recycle bin);
// a record outside it is a reference to nothing. missing is the answer
// about the missing record.
func MergeOutcome(o crm.Object, missing Outcome) func(a ActorKey, s Slot) Outcome {
	return func(a ActorKey, s Slot) Outcome {
		switch out := DeleteOutcome(a, o, s); {
		case out == Hidden && s == SlotMissing:
			return missing
		case out == Hidden:
			return BadRef
		default:
			return out
		}
	}
}

// DismissOutcome is marking a pair of the slot's record and a missing one
// as not a duplicate: for whoever may edit records of o, the pair is
// missing like any other.
func DismissOutcome(o crm.Object) func(a ActorKey, s Slot) Outcome {
	return func(a ActorKey, _ Slot) Outcome {
		if !Can(a, o, crm.ActEdit) {
			return Forbidden
		}
		return Hidden
	}
}

// UndoMergeOutcome is undoing a merge whose survivor is the slot's record
// (FreshMerge): the rights of a merge over it. An actor who may not merge
// is asked about a merge that does not exist, which answers first.
func UndoMergeOutcome(o crm.Object) func(a ActorKey, s Slot) Outcome {
	return func(a ActorKey, s Slot) Outcome {
		if !Can(a, o, crm.ActEdit) {
			return Hidden
		}
		return DeleteOutcome(a, o, s)
	}
}
