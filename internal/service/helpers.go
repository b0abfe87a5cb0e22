package service

import (
	"errors"
	"time"

	"custos/internal/crm"
	"custos/internal/kernel"
)

type timeT = time.Time

// checkVersion refuses a missing or stale version (kernel.CheckVersion).
func checkVersion(got, current int64) error { return kernel.CheckVersion(got, current) }

// joinProblems merges the field errors of err (an Invalid *crm.Error or
// nil) with more problems.
func joinProblems(err error, more crm.Problems) error {
	var ce *crm.Error
	if errors.As(err, &ce) && ce.Code == crm.Invalid {
		more = append(ce.Fields, more...)
	} else if err != nil {
		return err
	}
	return more.Err()
}

// prefixFields names nested fields, e.g. "opportunity.amount".
func prefixFields(err error, prefix string) error {
	var ce *crm.Error
	if errors.As(err, &ce) {
		for i := range ce.Fields {
			ce.Fields[i].Field = prefix + ce.Fields[i].Field
		}
	}
	return err
}

// listAction names the audit action of a list or a search.
// A search by an exact sensitive value is recorded with its kind — never
// the value — as "<object>.search.<kind>", so the rate limit and the
// anomaly rule can weigh it.
func (s *Service) listAction(o crm.Object, query string) string {
	if query == "" {
		return string(o) + ".list"
	}
	if key := s.exactKey(query); key != nil && searchesKind(o, key.Kind) {
		return string(o) + ".search." + key.Kind
	}
	return string(o) + ".search"
}

// searchesKind reports whether a list of o finds records by an exact key
// of the kind; an object without such a field searches the text by name.
func searchesKind(o crm.Object, kind string) bool { return len(searchFields[o][kind]) > 0 }

// ids collects the ids of listed records for the list's audit event.
func ids[T any](items []T, id func(T) int64) []int64 {
	out := make([]int64, len(items))
	for i, v := range items {
		out[i] = id(v)
	}
	return out
}

// renameField renames a field in an error's field list.
func renameField(err error, from, to string) error {
	var ce *crm.Error
	if errors.As(err, &ce) {
		for i := range ce.Fields {
			if ce.Fields[i].Field == from {
				ce.Fields[i].Field = to
			}
		}
	}
	return err
}
