package store_test

import (
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
)

// TestPrivacyMigrationOnExistingRoles: a database that had its roles before
// migration 20 gets the privacy officer role, and its administrators the
// privacy flag; a new database is left to the first start (which creates
// every default role) so the two never collide.
func TestPrivacyMigrationOnExistingRoles(t *testing.T) {
	eachOptions(t, func(t *testing.T, d store.Dialect, opt store.Options) {
		db := mustOpen(t, opt)
		err := db.ReadTx(t.Context(), func(tx *store.Tx) error {
			roles, err := tx.ListRoles(t.Context())
			if err == nil && len(roles) != 0 {
				t.Errorf("a new database has roles before its first start: %+v", roles)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.WriteTx(t.Context(), func(tx *store.Tx) error {
			for _, r := range crm.DefaultRoles() {
				if r.Key == "privacy" {
					continue // as on a database made before migration 20
				}
				if err := tx.InsertRole(t.Context(), &r, time.Now()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		raw := rawDB(t, d, opt)
		for _, q := range []string{"DROP TABLE legal_holds", "DROP TABLE consents", "DROP TABLE privacy_requests",
			"ALTER TABLE roles DROP COLUMN privacy", "DELETE FROM schema_migrations WHERE version = 20"} {
			if _, err := raw.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		db = mustOpen(t, opt)
		defer db.Close()
		err = db.ReadTx(t.Context(), func(tx *store.Tx) error {
			officer, err := tx.GetRoleByKey(t.Context(), "privacy")
			if err != nil {
				return err
			}
			admin, err := tx.GetRoleByKey(t.Context(), "admin")
			if err != nil {
				return err
			}
			sales, err := tx.GetRoleByKey(t.Context(), "sales")
			if !officer.Privacy || officer.Admin || officer.Audit || len(officer.Grants) != 0 || !admin.Privacy || sales.Privacy {
				t.Errorf("after migration 20: officer %+v, admin %+v, sales %+v", officer, admin, sales)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
