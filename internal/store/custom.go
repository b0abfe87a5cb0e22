package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"custos/internal/crm"
)

// encodeCustom stores custom values as a JSON object.
func encodeCustom(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("store: custom values are not JSON: %v", err)) // the service validated them
	}
	return string(b)
}

// decodeCustom reads custom values, keeping numbers exact.
func decodeCustom(s string) (map[string]any, error) {
	if s == "" || s == "{}" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode custom values: %w", err)
	}
	return m, nil
}

const customFieldCols = "id, object, field_key, label, label_en, field_type, required, is_unique, options, in_list, position, active, sensitive"

// ListCustomFields returns the definitions of an object ("" for all), in order.
func (tx *Tx) ListCustomFields(ctx context.Context, object crm.Object) ([]crm.CustomField, error) {
	if kept, ok := tx.customFields[object]; ok {
		return cloneCustomFields(kept), nil
	}
	out, err := tx.listCustomFields(ctx, object)
	if err == nil {
		if tx.customFields == nil {
			tx.customFields = map[crm.Object][]crm.CustomField{}
		}
		tx.customFields[object] = cloneCustomFields(out)
	}
	return out, err
}

// cloneCustomFields copies definitions, options too, so no caller can
// change the ones a transaction keeps.
func cloneCustomFields(in []crm.CustomField) []crm.CustomField {
	out := slices.Clone(in)
	for i := range out {
		out[i].Options = slices.Clone(out[i].Options)
	}
	return out
}

func (tx *Tx) listCustomFields(ctx context.Context, object crm.Object) ([]crm.CustomField, error) {
	var a args
	w := "TRUE"
	if object != "" {
		w = "object = " + a.add(string(object))
	}
	rows, err := tx.q.QueryContext(ctx, "SELECT "+customFieldCols+" FROM custom_fields WHERE "+w+" ORDER BY object, position, id", a...)
	if err != nil {
		return nil, mapErr("list custom fields", err)
	}
	defer rows.Close()
	out := []crm.CustomField{}
	for rows.Next() {
		var f crm.CustomField
		var opts string
		if err := rows.Scan(&f.ID, &f.Object, &f.Key, &f.Label, &f.LabelEn, &f.Type, &f.Required, &f.Unique, &opts, &f.InList,
			&f.Position, &f.Active, &f.Sensitive); err != nil {
			return nil, mapErr("scan custom field", err)
		}
		if err := json.Unmarshal([]byte(opts), &f.Options); err != nil {
			return nil, fmt.Errorf("store: decode options of custom field %d: %w", f.ID, err)
		}
		out = append(out, f)
	}
	return out, mapErr("list custom fields", rows.Err())
}

// SaveCustomField inserts (ID 0) or updates a definition. Object, key,
// type and sensitivity are fixed at creation.
func (tx *Tx) SaveCustomField(ctx context.Context, f *crm.CustomField, now int64) error {
	tx.customFields = nil
	opts, _ := json.Marshal(f.Options)
	if f.Options == nil {
		opts = []byte("[]")
	}
	if f.ID == 0 {
		err := tx.q.QueryRowContext(ctx, `INSERT INTO custom_fields (object, field_key, label, label_en, field_type, required, is_unique,
			options, in_list, position, active, created_at, sensitive) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id`,
			string(f.Object), f.Key, f.Label, f.LabelEn, f.Type, f.Required, f.Unique, string(opts), f.InList, f.Position, f.Active, now,
			f.Sensitive).Scan(&f.ID)
		return mapErr("insert custom field", err)
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE custom_fields SET label=$1, label_en=$2, required=$3, is_unique=$4, options=$5, in_list=$6,
		position=$7, active=$8 WHERE id=$9`, f.Label, f.LabelEn, f.Required, f.Unique, string(opts), f.InList, f.Position, f.Active, f.ID)
	return expectOne(res, err, "custom field")
}

// CustomMatch filters on one custom field: equality, or for a multiple
// choice field, containment. None matches no record at all.
type CustomMatch struct {
	Key, Value string
	Multi      bool
	None       bool
}

// customWhere renders " AND <match>" for every custom filter on the custom
// column col of a list query; every object with custom fields shares it.
func (tx *Tx) customWhere(col string, matches []CustomMatch, a *args) string {
	var w string
	for _, m := range matches {
		if m.None {
			w += " AND FALSE"
			continue
		}
		w += " AND " + tx.customMatch(col, m.Key, m.Value, m.Multi, a)
	}
	return w
}

// customMatch renders "the record's custom value for key equals value" (or,
// for multiple choice, contains it), identically on both databases.
func (tx *Tx) customMatch(col, key, value string, multi bool, a *args) string {
	if tx.d == Postgres {
		if multi {
			return "jsonb_exists((" + col + "::jsonb -> " + a.add(key) + "), " + a.add(value) + ")"
		}
		return "(" + col + "::jsonb ->> " + a.add(key) + ") = " + a.add(value)
	}
	path := a.add("$." + key)
	if multi {
		return "EXISTS (SELECT 1 FROM json_each(" + col + ", " + path + ") WHERE value = " + a.add(value) + ")"
	}
	return "CAST(json_extract(" + col + ", " + path + ") AS TEXT) = " + a.add(value)
}
