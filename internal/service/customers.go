package service

import (
	"context"
	"strings"
	"time"
	"unicode"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

// CustomerInput creates a customer. OwnerID 0 means the actor; another owner
// must be a user within the actor's customer scope.
type CustomerInput struct {
	crm.CustomerFields
	OwnerID int64 `json:"owner_id,omitempty"`
}

// normalizeCustomer validates the customer's fields and brings phone, e-mail
// and credit code into canonical form, and industry, province and city onto
// the standard lists when they match one (else they stay as typed). It
// returns the duplicate-check keys.
func (s *Service) normalizeCustomer(f *crm.CustomerFields) ([]store.DedupKey, error) {
	p := f.Validate()
	standardise(&f.Industry, quality.Industry)
	standardise(&f.Province, quality.Province)
	if province, city, ok := quality.City(f.City); ok {
		f.City = city
		if f.Province == "" {
			f.Province = province
		}
	}
	keys := companyKeys(f.Name)
	s.normPhone(&p, "phone", &f.Phone, "phone", &keys)
	normEmail(&p, "email", &f.Email, &keys)
	if f.CreditCode != "" {
		if v, err := quality.CreditCode(f.CreditCode); err != nil {
			p.Add("credit_code", "credit_code")
		} else {
			f.CreditCode = v
			keys = append(keys, store.DedupKey{Kind: "credit_code", Key: v})
		}
	}
	return keys, p.Err()
}

// standardise replaces *v by its standard form when lookup knows one.
func standardise(v *string, lookup func(string) (string, bool)) {
	if std, ok := lookup(*v); ok {
		*v = std
	}
}

// Company name keys. "company" is the exact key (place and core), checked
// for duplicates; "company_core" is the core of a name that carries a
// place, indexed but not checked: a name without its place is only a
// possible duplicate of it (possibleDuplicates).
const (
	companyKey     = "company"
	companyCoreKey = "company_core"
)

// companyKeys are the duplicate-check keys of a company name.
func companyKeys(name string) []store.DedupKey {
	c := quality.Company(name)
	keys := []store.DedupKey{{Kind: companyKey, Key: c.Key()}}
	if c.Place != "" {
		keys = append(keys, store.DedupKey{Kind: companyCoreKey, Key: c.Core})
	}
	return keys
}

// normalizeCustomerTx is normalizeCustomer plus the custom fields, which
// need the definitions stored in the database.
func (s *Service) normalizeCustomerTx(ctx context.Context, tx *store.Tx, f *crm.CustomerFields) ([]store.DedupKey, error) {
	keys, err := s.normalizeCustomer(f)
	return s.withCustom(ctx, tx, crm.ObjCustomer, &f.Custom, keys, err)
}

// dedupFields maps a key kind to the form field it came from.
var dedupFields = map[string]string{companyKey: "name", "phone": "phone", "email": "email", "credit_code": "credit_code",
	contractNumberKey: "number"}

// checkDuplicate refuses a record whose keys another live record already
// holds anywhere in the organisation (撞单). The answer names only the
// owner, never the other record's data.
func checkDuplicate(ctx context.Context, tx *store.Tx, keys []store.DedupKey, object crm.Object, id int64) error {
	keys = checkedKeys(keys)
	// Locked first, so two instances writing the same key at once cannot
	// both find it free (PostgreSQL; SQLite's single writer needs no lock).
	if err := tx.LockDedupKeys(ctx, keys); err != nil {
		return err
	}
	hit, err := tx.FindDuplicate(ctx, keys, string(object), id)
	if err != nil || hit == nil {
		return err
	}
	return duplicateRefusal(hit)
}

// duplicateRefusal is the entry check's answer for a record found anywhere
// in the organisation: it names only the owner (or the pool), and the
// form field of the key it shares.
func duplicateRefusal(hit *store.DuplicateHit) error {
	owner := hit.OwnerName
	msg := "already exists, owned by " + owner
	if owner == "" {
		msg = "already exists in the public pool"
	}
	field := dedupFields[hit.Kind]
	if rest, ok := strings.CutPrefix(hit.Kind, "custom:"); ok {
		field = "custom." + rest[strings.Index(rest, ":")+1:]
	}
	return &crm.Error{Code: crm.Duplicate, Key: "duplicate", Message: msg,
		Fields: []crm.FieldError{{Field: field, Rule: "duplicate", Param: owner}}}
}

// CreateCustomer validates, checks for duplicates across the organisation
// and stores a new customer with its audit event.
func (s *Service) CreateCustomer(ctx context.Context, a *access.Actor, in CustomerInput) (crm.Customer, error) {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActCreate); err != nil {
		return crm.Customer{}, err
	}
	c := crm.Customer{CustomerFields: in.CustomerFields}
	if err := s.guardFields(a, crm.ObjCustomer, &crm.CustomerFields{}, &c.CustomerFields); err != nil {
		return crm.Customer{}, err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := s.createCustomerTx(ctx, tx, a, &c, in.OwnerID); err != nil {
			return err
		}
		return s.notifyHandedOver(ctx, tx, a, c.OwnerID, crm.ObjCustomer, []int64{c.ID})
	})
	s.auditEntryLookups(ctx, err)
	s.shape(a, &c)
	return c, err
}

// createCustomerTx is CreateCustomer inside tx, for a customer owned by
// ownerID (0: the actor).
func (s *Service) createCustomerTx(ctx context.Context, tx *store.Tx, a *access.Actor, c *crm.Customer, ownerID int64) error {
	// Stamped when the write runs, as every create is (createTx).
	now := s.clock()
	c.OwnerID, c.CreatedBy, c.UpdatedBy, c.CreatedAt, c.UpdatedAt = a.UserID, a.UserID, a.UserID, now, now
	keys, err := s.normalizeCustomerTx(ctx, tx, &c.CustomerFields)
	if err != nil {
		return err
	}
	if ownerID != 0 && ownerID != a.UserID {
		if err := s.checkAssignable(ctx, tx, a, crm.ObjCustomer, ownerID); err != nil {
			return err
		}
		c.OwnerID = ownerID
	}
	if err := s.checkNewDuplicate(ctx, tx, a, keys, crm.ObjCustomer, 0); err != nil {
		return err
	}
	if c.Warnings, err = s.possibleDuplicates(ctx, tx, a, keys, crm.ObjCustomer, 0); err != nil {
		return err
	}
	stored, err := sealedCopy(ctx, s, tx, *c)
	if err == nil {
		err = tx.InsertCustomer(ctx, &stored)
	}
	if c.ID, c.Version = stored.ID, stored.Version; err != nil {
		return err
	}
	if err := s.indexNew(ctx, tx, crm.ObjCustomer, c.ID, keys, quality.SearchTerms(c.Name)); err != nil {
		return err
	}
	if err := s.keepVersion(ctx, tx, a, crm.ObjCustomer, c.ID, c.Version, "", c.CustomerFields); err != nil {
		return err
	}
	return s.audit(ctx, tx, a, "customer.create", crm.ObjCustomer, c.ID, auditDiff(crm.ObjCustomer, crm.CustomerFields{}, c.CustomerFields))
}

func (s *Service) indexCustomer(ctx context.Context, tx *store.Tx, c crm.Customer, keys []store.DedupKey) error {
	return s.writeIndex(ctx, tx, crm.ObjCustomer, c.ID, keys, quality.SearchTerms(c.Name))
}

// checkAssignable refuses an owner outside the actor's scope: a sales rep
// cannot hand records to strangers, a manager only within the subtree.
func (s *Service) checkAssignable(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, ownerID int64) error {
	ok, err := tx.UserInScope(ctx, ownerID, a.Scope(o))
	if err != nil {
		return err
	}
	if !ok {
		return &crm.Error{Code: crm.Invalid, Message: "owner is not a user you may assign to", Fields: []crm.FieldError{{Field: "owner_id", Rule: "not_assignable"}}}
	}
	return nil
}

// customerQuery is the actor's scoped view of customers. Pool customers are
// visible to anyone who may read customers (DESIGN.md §4).
func customerQuery(a *access.Actor) store.CustomerQuery {
	return store.CustomerQuery{Scope: a.SharedScope(crm.ObjCustomer, false), PoolVisible: a.Can(crm.ObjCustomer, crm.ActRead)}
}

// GetCustomer returns one customer the actor may see and records the view.
func (s *Service) GetCustomer(ctx context.Context, a *access.Actor, id int64) (crm.Customer, error) {
	return viewOne(ctx, s, a, crm.ObjCustomer, id, func(tx *store.Tx) (crm.Customer, error) {
		return tx.GetCustomer(ctx, id, customerQuery(a))
	})
}

// editableCustomer loads a customer the actor may delete, restore, release
// or hand over (owned within scope, not in the pool), or returns not found.
// The row stays locked until the transaction ends: what follows acts on
// the state read here.
func editableCustomer(ctx context.Context, tx *store.Tx, a *access.Actor, id int64, deleted bool) (crm.Customer, error) {
	if err := tx.LockRecord(ctx, crm.ObjCustomer, id); err != nil {
		return crm.Customer{}, err
	}
	return tx.GetCustomer(ctx, id, store.CustomerQuery{Scope: a.Scope(crm.ObjCustomer), Deleted: deleted})
}

// changeableCustomer loads a live customer the actor may edit or attach
// records to: their role edits customers, and the customer is within their
// scope or shared with them to edit. A role (or a token) that only reads
// customers attaches nothing to them: the customer is "not found".
func changeableCustomer(ctx context.Context, tx *store.Tx, a *access.Actor, id int64) (crm.Customer, error) {
	if !a.Can(crm.ObjCustomer, crm.ActEdit) {
		return crm.Customer{}, crm.ErrNotFound("customer")
	}
	return tx.GetCustomer(ctx, id, store.CustomerQuery{Scope: a.SharedScope(crm.ObjCustomer, true)})
}

// UpdateCustomer applies a partial update if up.Version is still current.
func (s *Service) UpdateCustomer(ctx context.Context, a *access.Actor, id int64, up crm.CustomerUpdate) (crm.Customer, error) {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActEdit); err != nil {
		return crm.Customer{}, err
	}
	if up.Version <= 0 {
		return crm.Customer{}, &crm.Error{Code: crm.Invalid, Message: "version is required",
			Fields: []crm.FieldError{{Field: "version", Rule: "required"}}}
	}
	var c crm.Customer
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		var err error
		c, err = s.updateCustomerTx(ctx, tx, a, id, up)
		return err
	})
	s.auditEntryLookups(ctx, err)
	s.shape(a, &c)
	return c, s.filed(ctx, a, err)
}

// updateCustomerTx is UpdateCustomer inside tx.
func (s *Service) updateCustomerTx(ctx context.Context, tx *store.Tx, a *access.Actor, id int64, up crm.CustomerUpdate) (crm.Customer, error) {
	before, err := changeableCustomer(ctx, tx, a, id)
	if err == nil {
		err = s.openRecord(ctx, &before)
	}
	if err != nil {
		return before, err
	}
	if up.Version != before.Version {
		return before, crm.ErrStale()
	}
	c := before
	c.CustomerFields = up.Apply(before.CustomerFields)
	if err := s.guardFields(a, crm.ObjCustomer, &before.CustomerFields, &c.CustomerFields); err != nil {
		return c, err
	}
	keys, err := s.normalizeCustomerTx(ctx, tx, &c.CustomerFields)
	if err != nil {
		return c, err
	}
	if err := s.checkNewDuplicate(ctx, tx, a, keys, crm.ObjCustomer, id); err != nil {
		return c, err
	}
	if quality.CompanyKey(before.Name) != quality.CompanyKey(c.Name) { // a renamed customer is reviewed again
		if c.Warnings, err = s.possibleDuplicates(ctx, tx, a, keys, crm.ObjCustomer, id); err != nil {
			return c, err
		}
	}
	changes := diff(before.CustomerFields, c.CustomerFields)
	if err := holdKeyFields(ctx, tx, crm.ObjCustomer, id, before.Version, up, changes); err != nil {
		return c, err
	}
	c.UpdatedBy, c.UpdatedAt = a.UserID, s.clock()
	stored, err := sealedCopy(ctx, s, tx, c)
	if err == nil {
		err = tx.UpdateCustomer(ctx, &stored)
	}
	if c.Version = stored.Version; err != nil {
		return c, err
	}
	if err := s.indexCustomer(ctx, tx, c, keys); err != nil {
		return c, err
	}
	if err := s.keepVersion(ctx, tx, a, crm.ObjCustomer, id, c.Version, "", c.CustomerFields); err != nil {
		return c, err
	}
	if err := s.audit(ctx, tx, a, "customer.update", crm.ObjCustomer, id, auditDiff(crm.ObjCustomer, before.CustomerFields, c.CustomerFields)); err != nil {
		return c, err
	}
	return c, s.reviewedByEdit(ctx, tx, a, crm.ObjCustomer, id, c.OwnerID)
}

// DeleteCustomer moves a customer to the recycle bin with its contacts,
// opportunities and follow-ups.
func (s *Service) DeleteCustomer(ctx context.Context, a *access.Actor, id int64) error {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActDelete); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if _, err := editableCustomer(ctx, tx, a, id, false); err != nil {
			return err
		}
		now := s.clock()
		if err := tx.SetCustomerDeleted(ctx, id, a.UserID, &now, now); err != nil {
			return err
		}
		with, err := tx.CascadeCustomerDeleted(ctx, id, &now, a.UserID, now)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "customer.delete", crm.ObjCustomer, id, map[string]any{"with": with})
	})
}

// RestoreCustomer brings a customer back from the recycle bin with the
// contacts, opportunities and follow-ups deleted with it, unless a live
// record has taken one of their phones, e-mails, credit code or name
// meanwhile (then nothing comes back).
func (s *Service) RestoreCustomer(ctx context.Context, a *access.Actor, id int64) error {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActDelete); err != nil {
		return err
	}
	err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		c, err := editableCustomer(ctx, tx, a, id, true)
		if err == nil {
			err = s.openRecord(ctx, &c)
		}
		if err != nil {
			return notInBin(crm.ObjCustomer, err)
		}
		// Only the keys matter here: a record valid when deleted comes back
		// even if a rule has since become stricter.
		keys, _ := s.normalizeCustomer(&c.CustomerFields)
		_, ckeys, _, err := s.checkCustom(ctx, tx, crm.ObjCustomer, c.Custom)
		if err != nil {
			return err
		}
		if err := s.checkNewDuplicate(ctx, tx, a, append(keys, ckeys...), crm.ObjCustomer, id); err != nil {
			return err
		}
		now := s.clock()
		if err := tx.SetCustomerDeleted(ctx, id, a.UserID, nil, now); err != nil {
			return err
		}
		with, err := tx.CascadeCustomerDeleted(ctx, id, nil, a.UserID, now)
		if err != nil {
			return err
		}
		for _, ct := range with[crm.ObjContact] {
			keys, err := tx.RecordDedupKeys(ctx, crm.ObjContact, ct)
			if err != nil {
				return err
			}
			if err := checkDuplicate(ctx, tx, keys, crm.ObjContact, ct); err != nil { // stored keys are blind already
				return err
			}
		}
		if err := tx.RecomputeCustomerFollowUp(ctx, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "customer.restore", crm.ObjCustomer, id, map[string]any{"with": with})
	})
	s.auditEntryLookups(ctx, err)
	return err
}

// ListCustomers returns a page of the customers the actor may see; the
// filter's Pool flag lists the public pool instead. The ids shown are
// recorded in one audit event.
func (s *Service) ListCustomers(ctx context.Context, a *access.Actor, f crm.CustomerFilter) (CustomerPage, error) {
	return s.listCustomers(ctx, a, f, false)
}

// ListRecycledCustomers lists the actor's deleted customers, each with
// when the purge will remove it.
func (s *Service) ListRecycledCustomers(ctx context.Context, a *access.Actor, f crm.CustomerFilter) (CustomerPage, error) {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActDelete); err != nil {
		return CustomerPage{}, err
	}
	page, err := s.listCustomers(ctx, a, f, true)
	for i, c := range page.Items {
		if c.DeletedAt != nil {
			at := s.purgeAt(*c.DeletedAt)
			page.Items[i].PurgeAt = &at
		}
	}
	return page, err
}

func (s *Service) listCustomers(ctx context.Context, a *access.Actor, f crm.CustomerFilter, deleted bool) (CustomerPage, error) {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActRead); err != nil {
		return CustomerPage{}, err
	}
	// A drill-down's level is the list's own level filter.
	if f.Drill.Level != "" {
		f.Level, f.Drill.Level = f.Drill.Level, ""
	}
	if err := checkDrill(a, crm.ObjCustomer, f.Drill); err != nil {
		return CustomerPage{}, err
	}
	var filters []string
	if f.Level != "" {
		filters = append(filters, "level")
	}
	if f.Status != "" {
		filters = append(filters, "status")
	}
	if err := checkListFields(a, crm.ObjCustomer, customFilterFields(f.Custom, filters...), f.Sort); err != nil {
		return CustomerPage{}, err
	}
	if err := checkTeamFilter(f.OwnerID, f.DeptID); err != nil {
		return CustomerPage{}, err
	}
	q := store.CustomerQuery{Scope: a.SharedScope(crm.ObjCustomer, false), OnlyPool: f.Pool, Deleted: deleted, Filter: f}
	if err := s.customerDue(a, &q); err != nil {
		return CustomerPage{}, err
	}
	if t := f.Drill.NextFollowUpBefore; t != nil && (q.DueBefore == nil || t.Before(*q.DueBefore)) {
		q.DueBefore = t // the range of due=overdue, on the same index
	}
	if deleted {
		q.Scope = a.Scope(crm.ObjCustomer) // the recycle bin is the owner's
	}
	var none bool
	if q.Key, q.Terms, none = s.searchFor(a, crm.ObjCustomer, f.Query); none {
		return CustomerPage{Items: []crm.Customer{}}, nil
	}
	action := s.listAction(crm.ObjCustomer, strings.TrimSpace(f.Query))
	if f.Pool {
		action = "pool.list"
	}
	return listPage(ctx, s, a, action, crm.ObjCustomer, func(tx *store.Tx) ([]crm.Customer, string, int, error) {
		var err error
		if q.Custom, err = s.customMatches(ctx, tx, a, crm.ObjCustomer, f.Custom); err != nil {
			return nil, "", 0, err
		}
		// Count first: a scope with many rows is paged in sort order.
		total, err := tx.CountCustomers(ctx, q)
		if err != nil {
			return nil, "", 0, err
		}
		q.OrderedScan = total > store.CountCap
		items, next, err := tx.ListCustomers(ctx, q)
		return items, next, total, err
	}, func(c crm.Customer) int64 { return c.ID })
}

// exactKey reads a search text as an e-mail, a credit code or a phone
// number, for an exact match after normalisation; nil means "search names".
func (s *Service) exactKey(text string) *store.DedupKey {
	if strings.Contains(text, "@") {
		if v, err := quality.Email(text); err == nil {
			return &store.DedupKey{Kind: "email", Key: v}
		}
		return nil
	}
	if v, err := quality.CreditCode(text); err == nil {
		return &store.DedupKey{Kind: "credit_code", Key: v}
	}
	digits := 0
	for _, r := range text {
		if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
			digits++
		}
	}
	// Only text that reads as a number is one: the phone parser also takes
	// letters as keypad digits (1-800-FLOWERS), so a name with digits in
	// it ("Qzcnryxw151a5057 Wen", "3M中国") would be searched as a phone.
	if digits >= 6 && !hasLetters(text) {
		if v, err := s.norm.Phone(text); err == nil {
			return &store.DedupKey{Kind: "phone", Key: v}
		}
	}
	return nil
}

// extensionMarks are the words a phone number may carry before its
// extension.
var extensionMarks = strings.NewReplacer("分机", "", "转", "", "ext", "", "EXT", "", "Ext", "", "x", "", "X", "")

// hasLetters reports whether text holds letters other than an extension
// mark.
func hasLetters(text string) bool {
	return strings.IndexFunc(extensionMarks.Replace(text), unicode.IsLetter) >= 0
}

// ClaimFollowUpWithin is how soon a claimed customer is due for a
// follow-up: the date its previous owner planned is past (that is why it
// sat in the pool), and without a new one the claimed customer would be
// overdue the moment it was claimed. A date still ahead is kept.
const ClaimFollowUpWithin = 3 * 24 * time.Hour

// ClaimCustomer takes a customer from the public pool for the actor.
func (s *Service) ClaimCustomer(ctx context.Context, a *access.Actor, id int64) error {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActEdit); err != nil {
		return err
	}
	notInPool := &crm.Error{Code: crm.Conflict, Key: "not_in_pool", Message: "this customer is no longer in the public pool"}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.LockRecord(ctx, crm.ObjCustomer, id); err != nil {
			return err
		}
		if _, err := tx.GetCustomer(ctx, id, store.CustomerQuery{OnlyPool: true}); err != nil {
			return notInPool
		}
		// Conditional as well: only a customer still without an owner is
		// taken, whatever the check above saw.
		now := s.clock()
		if err := tx.ClaimPoolCustomer(ctx, id, a.UserID, now, now.Add(ClaimFollowUpWithin)); err != nil {
			if crm.IsCode(err, crm.NotFound) {
				return notInPool
			}
			return err
		}
		if err := tx.InsertPoolMoves(ctx, store.PoolLeave, a.UserID, a.UserID, s.clock(), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "customer.claim", crm.ObjCustomer, id, map[string]change{"owner_id": {From: nil, To: a.UserID}})
	})
}

// ReleaseCustomer returns a customer the actor may edit to the public pool.
func (s *Service) ReleaseCustomer(ctx context.Context, a *access.Actor, id int64) error {
	if err := s.require(ctx, a, crm.ObjCustomer, crm.ActEdit); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		c, err := editableCustomer(ctx, tx, a, id, false)
		if err != nil {
			return err
		}
		if err := tx.SetCustomerOwner(ctx, id, 0, a.UserID, s.clock()); err != nil {
			return err
		}
		if err := tx.InsertPoolMoves(ctx, store.PoolEnter, c.OwnerID, a.UserID, s.clock(), id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "customer.release", crm.ObjCustomer, id, map[string]change{"owner_id": {From: c.OwnerID, To: nil}})
	})
}
