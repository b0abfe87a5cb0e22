package store

import "custos/internal/crm"

// The store's per-object tables and columns come from crm's record
// registry (issue 13): a table here is the one its object's description
// names, and an object takes part in a generic query (purge, hand-over,
// cascade, index rebuild) because its description says so. What stays
// written out per object is SQL that no description can carry: a closing
// condition, a join.

// tablesWhere returns the tables of the objects whose description
// satisfies keep.
func tablesWhere(keep func(crm.ObjectSpec) bool) map[crm.Object]string {
	out := map[crm.Object]string{}
	for _, s := range crm.Specs() {
		if keep(s) {
			out[s.Name] = s.Table
		}
	}
	return out
}
