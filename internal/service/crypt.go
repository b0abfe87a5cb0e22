package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"custos/internal/crm"
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
	return []personField{{"name", &t.Name}, {"mobile", &t.Mobile}, {"phone", &t.Phone}, {"email", &t.Email}, {"wechat", &t.WeChat}}
}

func leadSealed(l *crm.Lead) []personField {
	return []personField{{"name", &l.Name}, {"mobile", &l.Mobile}, {"email", &l.Email}, {"wechat", &l.WeChat}}
}

// sealedOf returns the record behind p, its sealed fields and its key, for
// the objects that hold personal data; ok is false for the others.
func sealedOf(p any) (rec *crm.Record, fields []personField, ok bool) {
	switch r := p.(type) {
	case *crm.Contact:
		return &r.Record, contactSealed(r), true
	case *crm.Lead:
		return &r.Record, leadSealed(r), true
	}
	return nil, nil, false
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

// sealRecord seals the personal fields of *p (a contact or lead) in place.
// The record must carry its data key.
func (s *Service) sealRecord(ctx context.Context, p any) error {
	rec, fields, ok := sealedOf(p)
	if !ok {
		return nil
	}
	if rec.DataKey == "" {
		return errors.New("service: sealing a record without a data key")
	}
	ring, err := s.vault.DataKeys(ctx, []string{rec.DataKey})
	if err != nil {
		return err
	}
	for _, f := range fields {
		if *f.val, err = ring.Seal(rec.DataKey, f.name, *f.val); err != nil {
			return err
		}
	}
	return nil
}

// sealedCopy returns a copy of a contact or lead with its personal fields
// sealed, for the store; the caller keeps the plaintext one.
func sealedCopy[T any](ctx context.Context, s *Service, v T) (T, error) {
	err := s.sealRecord(ctx, &v)
	return v, err
}

// openRecord opens the personal fields of one contact or lead in place.
func (s *Service) openRecord(ctx context.Context, p any) error {
	return openAll(ctx, s, []any{p})
}

// openRecords opens a page of contacts or leads; other types pass through.
func openRecords[T any](ctx context.Context, s *Service, items []T) error {
	ps := make([]any, len(items))
	for i := range items {
		ps[i] = &items[i]
	}
	return openAll(ctx, s, ps)
}

// openAll opens the sealed fields of records with one trip to the key
// store for all their keys. A record whose person was erased keeps empty
// fields and says so; a value that fails authentication is an integrity
// error naming the record and field, never garbage.
func openAll(ctx context.Context, s *Service, ps []any) error {
	var ids []string
	for _, p := range ps {
		if rec, _, ok := sealedOf(p); ok && rec.DataKey != "" {
			ids = append(ids, rec.DataKey)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ring, err := s.vault.DataKeys(ctx, ids)
	if err != nil {
		return err
	}
	for _, p := range ps {
		rec, fields, ok := sealedOf(p)
		if !ok || rec.DataKey == "" {
			continue
		}
		rec.Erased = ring.Erased(rec.DataKey)
		for _, f := range fields {
			plain, err := ring.Open(rec.DataKey, f.name, *f.val)
			switch {
			case errors.Is(err, vault.ErrErased):
				*f.val, rec.Erased = "", true
			case err != nil:
				return s.sealError(err, objectOf(p), rec.ID, f.name)
			default:
				*f.val = plain
			}
		}
	}
	return nil
}

func objectOf(p any) crm.Object {
	if _, ok := p.(*crm.Lead); ok {
		return crm.ObjLead
	}
	return crm.ObjContact
}

// sealError reports a value that could not be opened: tampered with, or
// its key missing from the key store. The log says which record; the user
// gets a plain message and the request id.
func (s *Service) sealError(err error, o crm.Object, id int64, field string) error {
	s.logger.Error("stored personal data cannot be opened", "object", o, "id", id, "field", field, "err", err)
	if errors.Is(err, vault.ErrIntegrity) {
		return &crm.Error{Code: crm.Internal, Key: "integrity", Message: fmt.Sprintf("%s %d: the stored %s failed its integrity check", o, id, field),
			Fields: []crm.FieldError{{Field: field, Rule: "integrity"}}}
	}
	return &crm.Error{Code: crm.Internal, Key: "key_missing", Message: fmt.Sprintf("%s %d: the data key of its %s is missing from the key store", o, id, field),
		Fields: []crm.FieldError{{Field: field, Rule: "key_missing"}}}
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

// checkNewDuplicate is checkDuplicate for plain keys of a record being
// written.
func (s *Service) checkNewDuplicate(ctx context.Context, tx *store.Tx, keys []store.DedupKey, o crm.Object, id int64) error {
	return checkDuplicate(ctx, tx, s.lookupKeys(keys), o, id)
}

// openDeletedNames opens the sealed names of recycled contacts or leads.
func (s *Service) openDeletedNames(ctx context.Context, o crm.Object, items []store.DeletedRecord) error {
	var keys []string
	for _, d := range items {
		keys = append(keys, d.DataKey)
	}
	ring, err := s.vault.DataKeys(ctx, keys)
	if err != nil {
		return err
	}
	for i := range items {
		d := &items[i]
		if d.DataKey == "" {
			continue
		}
		name, err := ring.Open(d.DataKey, "name", d.Name)
		if errors.Is(err, vault.ErrErased) {
			name, err = "", nil
		}
		if err != nil {
			return s.sealError(err, o, d.ID, "name")
		}
		d.Name = name
	}
	return nil
}

// personalNames lists the sealed fields of the objects holding personal
// data, by JSON name: the same names in records, versions and the payloads
// of approval requests.
var personalNames = map[crm.Object][]string{crm.ObjContact: crm.ContactSensitive, crm.ObjLead: crm.LeadSensitive}

// sealJSON seals the personal fields of a JSON object (a version's fields,
// an approval request's change) under the person's key.
func (s *Service) sealJSON(ctx context.Context, o crm.Object, keyID string, raw []byte) ([]byte, error) {
	return s.mapJSON(ctx, o, keyID, raw, vault.KeyRing.Seal)
}

// openJSON reverses sealJSON.
func (s *Service) openJSON(ctx context.Context, o crm.Object, keyID string, raw []byte) ([]byte, error) {
	return s.mapJSON(ctx, o, keyID, raw, vault.KeyRing.Open)
}

func (s *Service) mapJSON(ctx context.Context, o crm.Object, keyID string, raw []byte,
	fn func(r vault.KeyRing, keyID, field, value string) (string, error)) ([]byte, error) {
	names := personalNames[o]
	if len(names) == 0 || keyID == "" || len(raw) == 0 {
		return raw, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return raw, nil
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
		out, err := fn(ring, keyID, name, v)
		if errors.Is(err, vault.ErrErased) {
			out, err = "", nil
		}
		if err != nil {
			return nil, s.sealError(err, o, 0, name)
		}
		m[name] = out
	}
	return json.Marshal(m)
}

// dataKeyOf returns the data key of a contact or lead, "" for others.
func dataKeyOf(p any) string {
	if rec, _, ok := sealedOf(p); ok {
		return rec.DataKey
	}
	return ""
}

// sealRequest seals (seal true) or opens the personal fields in the change
// an approval request carries for a contact or lead, under that person's
// key: a pending change of someone's phone is as secret as the phone.
func (s *Service) sealRequest(ctx context.Context, tx *store.Tx, r *crm.ApprovalRequest, seal bool) error {
	if len(personalNames[r.Object]) == 0 || r.RecordID == 0 || len(r.Payload) == 0 {
		return nil
	}
	key, err := tx.PersonKey(ctx, r.Object, r.RecordID)
	if err != nil || key == "" {
		return err
	}
	if seal {
		r.Payload, err = s.sealJSON(ctx, r.Object, key, r.Payload)
	} else {
		r.Payload, err = s.openJSON(ctx, r.Object, key, r.Payload)
	}
	return err
}

// totpKeyName names the system key TOTP secrets are sealed under: anyone
// reading the database could otherwise make a user's second factor.
const totpKeyName = "totp"

func totpField(userID int64) string { return "totp:" + strconv.FormatInt(userID, 10) }

// getTOTP reads a user's TOTP credential with its secret opened. A secret
// stored before encryption is used as it is (the start-up upgrade seals it).
func (s *Service) getTOTP(ctx context.Context, tx *store.Tx, userID int64) (store.TOTPCredential, error) {
	c, err := tx.GetTOTP(ctx, userID)
	if err != nil || !vault.IsSealed(c.Secret) {
		return c, err
	}
	key, err := s.vault.SystemKey(ctx, totpKeyName)
	if err == nil {
		c.Secret, err = s.vault.Open(ctx, key, totpField(userID), c.Secret)
	}
	if err != nil {
		return c, s.sealError(err, "user", userID, "totp_secret")
	}
	return c, nil
}

// putPendingTOTP stores a new TOTP secret sealed.
func (s *Service) putPendingTOTP(ctx context.Context, tx *store.Tx, userID int64, secret string) error {
	sealed, err := s.sealTOTP(ctx, userID, secret)
	if err != nil {
		return err
	}
	return tx.PutPendingTOTP(ctx, userID, sealed, s.clock())
}

func (s *Service) sealTOTP(ctx context.Context, userID int64, secret string) (string, error) {
	key, err := s.vault.SystemKey(ctx, totpKeyName)
	if err != nil {
		return "", err
	}
	return s.vault.Seal(ctx, key, totpField(userID), secret)
}
