package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestAllVersions: a reader pages through the newest 200 versions; what
// must reach every version (re-sealing under another key, restoring an old
// one, undoing a merge) gets them all.
func TestAllVersions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			for v := int64(1); v <= 205; v++ {
				if err := tx.InsertVersion(ctx, crm.ObjContact, 7, store.RecordVersion{Version: v,
					Fields: json.RawMessage(`{"name":"x"}`), ActorName: "test", At: time.Now()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = db.ReadTx(ctx, func(tx *store.Tx) error {
			page, err := tx.ListVersions(ctx, crm.ObjContact, 7)
			if err != nil || len(page) != 200 || page[0].Version != 205 {
				t.Errorf("listed %d versions (newest %v): %v", len(page), page[0].Version, err)
			}
			all, err := tx.AllVersions(ctx, crm.ObjContact, 7)
			if err != nil || len(all) != 205 || all[204].Version != 1 {
				t.Errorf("all versions: %d %v", len(all), err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
