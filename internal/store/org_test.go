package store_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// mustInsertDepartment creates a department below parent (0: a root).
func mustInsertDepartment(t *testing.T, db *store.DB, name string, parent int64) crm.Department {
	t.Helper()
	d := crm.Department{Name: name, ParentID: parent, CreatedAt: time.Now()}
	if err := db.WriteTx(t.Context(), func(tx *store.Tx) error { return tx.InsertDepartment(t.Context(), &d) }); err != nil {
		t.Fatalf("insert department %s: %v", name, err)
	}
	return d
}

// departmentPaths returns the stored path of every department by id.
func departmentPaths(t *testing.T, db *store.DB) map[int64]string {
	t.Helper()
	paths := map[int64]string{}
	err := db.ReadTx(t.Context(), func(tx *store.Tx) error {
		ds, err := tx.ListDepartments(t.Context())
		for _, d := range ds {
			paths[d.ID] = d.Path
		}
		return err
	})
	if err != nil {
		t.Fatalf("list departments: %v", err)
	}
	return paths
}

// moveDepartment moves d below parent in its own write.
func moveDepartment(t *testing.T, db *store.DB, d crm.Department, parent int64) error {
	t.Helper()
	d.ParentID = parent
	return db.WriteTx(t.Context(), func(tx *store.Tx) error { return tx.UpdateDepartment(t.Context(), &d) })
}

func pathOf(ids ...int64) string {
	p := "/"
	for _, id := range ids {
		p += strconv.FormatInt(id, 10) + "/"
	}
	return p
}

// TestMoveDepartmentRewritesSubtree: moving a department moves the paths of
// all its descendants and of nothing else.
func TestMoveDepartmentRewritesSubtree(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		sales := mustInsertDepartment(t, db, "Sales", 0)
		north := mustInsertDepartment(t, db, "North", sales.ID)
		south := mustInsertDepartment(t, db, "South", sales.ID)
		beijing := mustInsertDepartment(t, db, "Beijing", north.ID)
		haidian := mustInsertDepartment(t, db, "Haidian", beijing.ID)
		ops := mustInsertDepartment(t, db, "Operations", 0)

		if err := moveDepartment(t, db, north, ops.ID); err != nil {
			t.Fatalf("move North below Operations: %v", err)
		}

		want := map[int64]string{
			sales.ID:   pathOf(sales.ID),
			south.ID:   pathOf(sales.ID, south.ID),
			ops.ID:     pathOf(ops.ID),
			north.ID:   pathOf(ops.ID, north.ID),
			beijing.ID: pathOf(ops.ID, north.ID, beijing.ID),
			haidian.ID: pathOf(ops.ID, north.ID, beijing.ID, haidian.ID),
		}
		got := departmentPaths(t, db)
		for id, p := range want {
			if got[id] != p {
				t.Errorf("department %d: path %q, want %q", id, got[id], p)
			}
		}

		// And back to the root.
		if err := moveDepartment(t, db, north, 0); err != nil {
			t.Fatalf("move North to the root: %v", err)
		}
		if got := departmentPaths(t, db)[haidian.ID]; got != pathOf(north.ID, beijing.ID, haidian.ID) {
			t.Errorf("Haidian after moving North to the root: path %q, want %q", got, pathOf(north.ID, beijing.ID, haidian.ID))
		}
	})
}

// TestMoveDepartmentBelowItselfRefused: a department cannot become its own
// descendant; the refusal names parent_id and changes nothing.
func TestMoveDepartmentBelowItselfRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		sales := mustInsertDepartment(t, db, "Sales", 0)
		north := mustInsertDepartment(t, db, "North", sales.ID)
		beijing := mustInsertDepartment(t, db, "Beijing", north.ID)
		before := departmentPaths(t, db)

		for _, tc := range []struct {
			name   string
			parent int64
		}{
			{"below its grandchild", beijing.ID},
			{"below its child", north.ID},
			{"below itself", sales.ID},
		} {
			err := moveDepartment(t, db, sales, tc.parent)
			if !hasFieldError(err, crm.Invalid, "parent_id") {
				t.Errorf("move Sales %s: error = %v, want invalid with a parent_id field error", tc.name, err)
			}
		}
		got := departmentPaths(t, db)
		for id, p := range before {
			if got[id] != p {
				t.Errorf("department %d: path %q after refused moves, want %q", id, got[id], p)
			}
		}
	})
}

// hasFieldError reports whether err is a *crm.Error with code naming field.
func hasFieldError(err error, code crm.Code, field string) bool {
	var ce *crm.Error
	if !errors.As(err, &ce) || ce.Code != code {
		return false
	}
	for _, f := range ce.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
