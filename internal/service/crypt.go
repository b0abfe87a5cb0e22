package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/identity"
	"custos/internal/store"
	"custos/internal/vault"
)

// Encryption of personal data (DESIGN.md §1 step 5, issue 4). A person's
// sensitive fields — the name, phones, e-mail and WeChat id of a contact or
// lead — are sealed under that person's data key on the way into the store
// and opened on the way out; a lead and the contact it becomes share the
// key. Index rows (duplicate keys and search terms) of every object are
// blind: keyed HMACs from the vault, never the value.

// personField is one sealed field of a record: its name (bound into the
// ciphertext) and where its value lives.
type personField struct {
	name string
	val  *string
}

func contactSealed(t *crm.Contact) []personField {
	return []personField{{"name", &t.Name}, {"mobile", &t.Mobile}, {"phone", &t.Phone}, {"email", &t.Email}, {"wechat", &t.WeChat}, {"notes", &t.Notes}}
}

func leadSealed(l *crm.Lead) []personField {
	return []personField{{"name", &l.Name}, {"mobile", &l.Mobile}, {"email", &l.Email}, {"wechat", &l.WeChat}, {"notes", &l.Notes}}
}

func followUpSealed(f *crm.FollowUp) []personField {
	return []personField{{"content", &f.Content}}
}

// sealedOf returns the record behind p, its sealed fields and its key, for
// the objects that hold personal data — and for follow-ups, whose content
// is what a salesperson wrote about a person or a customer; ok is false
// for the others.
func sealedOf(p any) (rec *crm.Record, fields []personField, ok bool) {
	switch r := p.(type) {
	case *crm.Contact:
		return &r.Record, contactSealed(r), true
	case *crm.Lead:
		return &r.Record, leadSealed(r), true
	case *crm.FollowUp:
		return &r.Record, followUpSealed(r), true
	}
	return nil, nil, false
}

// customOf returns the custom values of a record with custom fields, and
// its object.
func customOf(p any) (*map[string]any, crm.Object, bool) {
	r, ok := p.(crm.WithCustom)
	if !ok {
		return nil, "", false
	}
	return r.CustomValues(), r.Object(), true
}

// recordsKeyName names the system key sensitive custom values of customers
// and opportunities are sealed under (they belong to no one person).
const recordsKeyName = "records"

// sealKeyOf returns the key a record's sealed values go under: the
// person's for a contact or lead, the records system key otherwise.
func (s *Service) sealKeyOf(ctx context.Context, p any) (string, error) {
	if rec, _, ok := sealedOf(p); ok {
		if rec.DataKey == "" {
			return "", errors.New("service: sealing a record without a data key")
		}
		return rec.DataKey, nil
	}
	return s.vault.SystemKey(ctx, recordsKeyName)
}

// newPersonKey makes a data key for a new person. It is called before the
// write transaction opens, so the key store's own commit never holds the
// data writer; a key whose record then fails to commit is left unused.
func (s *Service) newPersonKey(ctx context.Context) (string, error) {
	id, err := s.vault.NewPersonKey(ctx)
	if err != nil {
		return "", fmt.Errorf("service: new data key: %w", err)
	}
	return id, nil
}

// ensureDataKey gives a record that has none (one written before
// encryption) a new data key.
func (s *Service) ensureDataKey(ctx context.Context, rec *crm.Record) error {
	if rec.DataKey != "" {
		return nil
	}
	var err error
	rec.DataKey, err = s.newPersonKey(ctx)
	return err
}

// sealRecord seals, in place, the personal fields of a contact or lead and
// the values of sensitive custom fields of any record.
func (s *Service) sealRecord(ctx context.Context, tx *store.Tx, p any) error {
	rec, fields, personal := sealedOf(p)
	custom, o, hasCustom := customOf(p)
	sensitive, err := s.sensitiveCustomKeys(ctx, tx, o, hasCustom && len(*custom) > 0)
	if err != nil || !personal && len(sensitive) == 0 {
		return err
	}
	keyID, err := s.sealKeyOf(ctx, p)
	if err != nil {
		return err
	}
	ring, err := s.vault.DataKeys(ctx, []string{keyID})
	if err != nil {
		return err
	}
	if personal {
		for _, f := range fields {
			if *f.val, err = ring.Seal(rec.DataKey, f.name, *f.val); err != nil {
				return err
			}
		}
	}
	if hasCustom {
		*custom, err = sealCustom(ring, keyID, *custom, sensitive)
	}
	return err
}

// sensitiveCustomKeys lists the object's sensitive custom field keys (none
// without asking when the record has no custom values).
func (s *Service) sensitiveCustomKeys(ctx context.Context, tx *store.Tx, o crm.Object, needed bool) ([]string, error) {
	if !needed {
		return nil, nil
	}
	defs, err := tx.ListCustomFields(ctx, o)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range defs {
		if d.Sensitive {
			out = append(out, d.Key)
		}
	}
	return out, nil
}

// sealCustom returns a copy of custom values with the sensitive ones
// sealed: each value's JSON under the key, bound to its field.
func sealCustom(ring vault.KeyRing, keyID string, m map[string]any, sensitive []string) (map[string]any, error) {
	if len(sensitive) == 0 || len(m) == 0 {
		return m, nil
	}
	out := maps.Clone(m)
	for _, k := range sensitive {
		v, ok := out[k]
		if !ok || v == nil {
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if out[k], err = ring.Seal(keyID, "custom."+k, string(b)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// openCustom opens, in place, every sealed custom value. It needs no
// definitions: a sealed value says so itself.
func openCustom(ring vault.KeyRing, keyID string, m map[string]any) (field string, err error) {
	for k, v := range m {
		str, ok := v.(string)
		if !ok || !vault.IsSealed(str) {
			continue
		}
		plain, err := ring.Open(keyID, "custom."+k, str)
		if errors.Is(err, vault.ErrErased) {
			delete(m, k)
			continue
		}
		if err != nil {
			return "custom." + k, err
		}
		var val any
		if err := json.Unmarshal([]byte(plain), &val); err != nil {
			return "custom." + k, vault.ErrIntegrity
		}
		m[k] = val
	}
	return "", nil
}

// hasSealedCustom reports whether any custom value is sealed.
func hasSealedCustom(m map[string]any) bool {
	for _, v := range m {
		if str, ok := v.(string); ok && vault.IsSealed(str) {
			return true
		}
	}
	return false
}

// sealedCopy returns a copy of a record with its personal fields and
// sensitive custom values sealed, for the store; the caller keeps the
// plaintext one.
func sealedCopy[T any](ctx context.Context, s *Service, tx *store.Tx, v T) (T, error) {
	err := s.sealRecord(ctx, tx, &v)
	return v, err
}

// openRecord opens the sealed values of one record in place.
func (s *Service) openRecord(ctx context.Context, p any) error {
	return openAll(ctx, s, []any{p})
}

// openRecords opens a page of records; types without sealed values pass.
func openRecords[T any](ctx context.Context, s *Service, items []T) error {
	ps := make([]any, len(items))
	for i := range items {
		ps[i] = &items[i]
	}
	return openAll(ctx, s, ps)
}

// openAll opens the sealed values of records with one trip to the key
// store for all their keys. A record whose person was erased keeps empty
// fields and says so; a value that fails authentication is an integrity
// error naming the record and field, never garbage.
func openAll(ctx context.Context, s *Service, ps []any) error {
	keyOf := make([]string, len(ps))
	var ids []string
	var records string // the records system key, fetched when first needed
	for i, p := range ps {
		if rec, _, ok := sealedOf(p); ok {
			keyOf[i] = rec.DataKey
		} else if custom, _, ok := customOf(p); ok && hasSealedCustom(*custom) {
			if records == "" {
				var err error
				if records, err = s.vault.SystemKey(ctx, recordsKeyName); err != nil {
					return err
				}
			}
			keyOf[i] = records
		}
		if keyOf[i] != "" {
			ids = append(ids, keyOf[i])
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ring, err := s.vault.DataKeys(ctx, ids)
	if err != nil {
		return err
	}
	for i, p := range ps {
		if keyOf[i] == "" {
			continue
		}
		if err := s.openOne(ring, keyOf[i], p); err != nil {
			return err
		}
	}
	return nil
}

// openOne opens one record's sealed values with a loaded key ring.
func (s *Service) openOne(ring vault.KeyRing, keyID string, p any) error {
	id := int64(0)
	if rec, fields, ok := sealedOf(p); ok {
		id = rec.ID
		rec.Erased = ring.Erased(keyID)
		for _, f := range fields {
			plain, err := ring.Open(keyID, f.name, *f.val)
			switch {
			case errors.Is(err, vault.ErrErased):
				*f.val = ""
			case err != nil:
				return s.sealError(err, objectOf(p), rec.ID, f.name)
			default:
				*f.val = plain
			}
		}
	}
	if custom, o, ok := customOf(p); ok {
		if field, err := openCustom(ring, keyID, *custom); err != nil {
			return s.sealError(err, o, id, field)
		}
	}
	return nil
}

// objectOf names the object of a record sealedOf knows.
func objectOf(p any) crm.Object {
	if r, ok := p.(crm.ObjectOf); ok {
		return r.Object()
	}
	return ""
}

// sealError reports a value that could not be opened: tampered with, or
// its key missing from the key store. The log says which record; the user
// gets a plain message and the request id.
func (s *Service) sealError(err error, o crm.Object, id int64, field string) error {
	return s.k.SealError(err, o, id, field)
}

// Blind index terms. Domains keep exact keys and name terms apart.
const (
	blindKeyDomain  = "k"
	blindTermDomain = "t"
)

// indexKeys blinds a record's duplicate keys for storing: one row per live
// blind-index version.
func (s *Service) indexKeys(keys []store.DedupKey) []store.DedupKey {
	out := make([]store.DedupKey, 0, len(keys))
	for _, k := range keys {
		if k.Key == "" {
			continue
		}
		for _, term := range s.vault.IndexTerms(blindKeyDomain, k.Key) {
			out = append(out, store.DedupKey{Kind: k.Kind, Key: term})
		}
	}
	return out
}

// lookupKeys blinds keys for a duplicate check or search.
func (s *Service) lookupKeys(keys []store.DedupKey) []store.DedupKey {
	out := make([]store.DedupKey, 0, len(keys))
	for _, k := range keys {
		if k.Key != "" {
			out = append(out, store.DedupKey{Kind: k.Kind, Key: s.vault.SearchTerm(blindKeyDomain, k.Key)})
		}
	}
	return out
}

// indexTerms blinds a record's search terms for storing.
func (s *Service) indexTerms(terms []string) []string {
	out := make([]string, 0, len(terms))
	for _, t := range terms {
		out = append(out, s.vault.IndexTerms(blindTermDomain, t)...)
	}
	return out
}

// lookupTerms blinds search terms for a search.
func (s *Service) lookupTerms(terms []string) []string {
	if terms == nil {
		return nil
	}
	out := make([]string, len(terms))
	for i, t := range terms {
		out[i] = s.vault.SearchTerm(blindTermDomain, t)
	}
	return out
}

// writeIndex replaces a record's duplicate keys and search terms with
// their blind forms.
func (s *Service) writeIndex(ctx context.Context, tx *store.Tx, o crm.Object, id int64, keys []store.DedupKey, terms []string) error {
	if err := tx.ReplaceDedupKeys(ctx, string(o), id, s.indexKeys(keys)); err != nil {
		return err
	}
	return tx.ReplaceSearchTerms(ctx, string(o), id, s.indexTerms(terms))
}

// indexNew is writeIndex for a record just inserted, which has no index
// rows to replace: two statements fewer per record created.
func (s *Service) indexNew(ctx context.Context, tx *store.Tx, o crm.Object, id int64, keys []store.DedupKey, terms []string) error {
	if err := tx.InsertDedupKeys(ctx, string(o), id, s.indexKeys(keys)); err != nil {
		return err
	}
	return tx.InsertSearchTerms(ctx, string(o), id, s.indexTerms(terms))
}

// checkNewDuplicate is checkDuplicate for plain keys of a record being
// written.
//
// A check by a phone, e-mail or credit code the actor typed is a lookup
// like a search by it (searchlimit.go): it counts toward the actor's hourly
// limit and is audited by kind (see checkEntryLookups).
func (s *Service) checkNewDuplicate(ctx context.Context, tx *store.Tx, a *access.Actor, keys []store.DedupKey, o crm.Object, id int64) error {
	blind := s.lookupKeys(keys)
	looked, err := s.checkEntryLookups(ctx, tx, a, blind, o, id)
	if err != nil {
		return err
	}
	return looked.settle(ctx, tx, checkDuplicate(ctx, tx, blind, o, id))
}

// openDeletedNames opens the sealed names of recycled contacts or leads,
// and the sealed content of recycled follow-ups (which they are listed by).
func (s *Service) openDeletedNames(ctx context.Context, o crm.Object, items []crm.DeletedRecord) error {
	return s.openFields(ctx, o, nameField(o), len(items), func(i int) (int64, *string, string) {
		return items[i].ID, &items[i].Name, items[i].DataKey
	})
}

// openNames opens, in place, the sealed names of n contacts or leads that
// name gives one by one (its id, name and data key; no key: not sealed),
// with one trip to the key store. An erased person's name becomes empty.
func (s *Service) openNames(ctx context.Context, o crm.Object, n int, name func(i int) (int64, *string, string)) error {
	return s.openFields(ctx, o, "name", n, name)
}

// openFields is openNames for any one sealed field.
func (s *Service) openFields(ctx context.Context, o crm.Object, field string, n int, name func(i int) (int64, *string, string)) error {
	var keys []string
	for i := range n {
		if _, _, key := name(i); key != "" {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ring, err := s.vault.DataKeys(ctx, keys)
	if err != nil {
		return err
	}
	for i := range n {
		id, val, key := name(i)
		if key == "" {
			continue
		}
		plain, err := ring.Open(key, field, *val)
		if errors.Is(err, vault.ErrErased) {
			plain, err = "", nil
		}
		if err != nil {
			return s.sealError(err, o, id, field)
		}
		*val = plain
	}
	return nil
}

// openName opens a person's sealed name; an erased person's is empty.
func openName(ring vault.KeyRing, key, sealed string) (string, error) {
	name, err := ring.Open(key, "name", sealed)
	if errors.Is(err, vault.ErrErased) {
		return "", nil
	}
	return name, err
}

// personalNames lists the sealed fields of the objects holding personal
// data, by JSON name: the same names in records, versions and the payloads
// of approval requests.
var personalNames = func() map[crm.Object][]string {
	out := map[crm.Object][]string{}
	for _, o := range crm.Objects {
		if names := crm.SealedFields(o); len(names) > 0 {
			out[o] = names
		}
	}
	return out
}()

// sealJSON seals the personal fields and sensitive custom values of a JSON
// object (a version's fields, an approval request's change) as in the
// record: under the person's key, or the records system key when keyID is
// empty.
func (s *Service) sealJSON(ctx context.Context, tx *store.Tx, o crm.Object, keyID string, raw []byte) ([]byte, error) {
	m, ok := jsonObject(raw)
	if !ok {
		return raw, nil
	}
	custom, _ := m["custom"].(map[string]any)
	sensitive, err := s.sensitiveCustomKeys(ctx, tx, o, len(custom) > 0)
	names := personalNames[o]
	if err != nil || len(sensitive) == 0 && (len(names) == 0 || keyID == "") {
		return raw, err
	}
	if keyID == "" {
		if keyID, err = s.vault.SystemKey(ctx, recordsKeyName); err != nil {
			return nil, err
		}
	}
	ring, err := s.vault.DataKeys(ctx, []string{keyID})
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if v, ok := m[name].(string); ok {
			if m[name], err = ring.Seal(keyID, name, v); err != nil {
				return nil, err
			}
		}
	}
	if len(custom) > 0 {
		if m["custom"], err = sealCustom(ring, keyID, custom, sensitive); err != nil {
			return nil, err
		}
	}
	return json.Marshal(m)
}

// openJSON reverses sealJSON.
func (s *Service) openJSON(ctx context.Context, o crm.Object, keyID string, raw []byte) ([]byte, error) {
	m, ok := jsonObject(raw)
	if !ok {
		return raw, nil
	}
	custom, _ := m["custom"].(map[string]any)
	sealedCustom := hasSealedCustom(custom)
	names := personalNames[o]
	if !sealedCustom && (len(names) == 0 || keyID == "") {
		return raw, nil
	}
	var err error
	if keyID == "" {
		if keyID, err = s.vault.SystemKey(ctx, recordsKeyName); err != nil {
			return nil, err
		}
	}
	ring, err := s.vault.DataKeys(ctx, []string{keyID})
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		v, ok := m[name].(string)
		if !ok {
			continue
		}
		plain, err := ring.Open(keyID, name, v)
		if errors.Is(err, vault.ErrErased) {
			plain, err = "", nil
		}
		if err != nil {
			return nil, s.sealError(err, o, 0, name)
		}
		m[name] = plain
	}
	if field, err := openCustom(ring, keyID, custom); err != nil {
		return nil, s.sealError(err, o, 0, field)
	}
	return json.Marshal(m)
}

// jsonObject decodes a JSON object; ok is false for anything else.
func jsonObject(raw []byte) (map[string]any, bool) {
	var m map[string]any
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

// dataKeyOf returns the data key of a contact, lead or follow-up, "" for
// others.
func dataKeyOf(p any) string {
	if rec, _, ok := sealedOf(p); ok {
		return rec.DataKey
	}
	return ""
}

// sealRequest seals the personal fields in the change an approval request
// carries for a record, under that record's key (the records key for
// customers and opportunities): a pending change of someone's phone is as
// secret as the phone. openRequest reverses it for a reader.
func (s *Service) sealRequest(ctx context.Context, tx *store.Tx, r *crm.ApprovalRequest) error {
	return s.mapRequest(ctx, tx, r, func(key string) ([]byte, error) { return s.sealJSON(ctx, tx, r.Object, key, r.Payload) })
}

func (s *Service) openRequest(ctx context.Context, tx *store.Tx, r *crm.ApprovalRequest) error {
	return s.mapRequest(ctx, tx, r, func(key string) ([]byte, error) { return s.openJSON(ctx, r.Object, key, r.Payload) })
}

func (s *Service) mapRequest(ctx context.Context, tx *store.Tx, r *crm.ApprovalRequest, fn func(key string) ([]byte, error)) error {
	if r.RecordID == 0 || len(r.Payload) == 0 {
		return nil
	}
	key, err := tx.PersonKey(ctx, r.Object, r.RecordID) // "" for customers and opportunities: the records key
	if err == nil {
		r.Payload, err = fn(key)
	}
	return err
}

// sealTOTP seals a TOTP secret as identity stores it (for the start-up
// upgrade of secrets stored before encryption).
func (s *Service) sealTOTP(ctx context.Context, userID int64, secret string) (string, error) {
	return identity.SealTOTP(ctx, s.vault, userID, secret)
}
