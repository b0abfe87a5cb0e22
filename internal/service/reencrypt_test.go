package service_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestReencryptUnderLoad re-encrypts every person under new data keys and
// rotates and re-wraps the master key while readers and a writer keep
// working: zero errors, every person on a new key, every old key destroyed
// once superseded, and everything still reads back — versions too.
func TestReencryptUnderLoad(t *testing.T) {
	testdb.EachRaw(t, func(t *testing.T, d store.Dialect, opt store.Options, db *store.DB) {
		ctx := context.Background()
		raw := testdb.Raw(t, d, opt)
		o := testorg.New(t, db)
		if _, err := o.Svc.SaveCustomField(ctx, o.Admin, crm.CustomField{Object: crm.ObjContact, Key: "passport", Label: "护照", Type: "text", Sensitive: true}); err != nil {
			t.Fatal(err)
		}
		const n = 30
		ids := make([]int64, n)
		for i := range ids {
			c, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: fmt.Sprintf("人物%02d", i), Mobile: fmt.Sprintf("1390000%04d", i),
				Custom: map[string]any{"passport": fmt.Sprintf("E%08d", i)}})
			if err != nil {
				t.Fatal(err)
			}
			ids[i] = c.ID
		}
		oldKeys := map[int64]string{}
		for _, id := range ids {
			oldKeys[id] = rawString(t, raw, "SELECT person_key FROM contacts WHERE id = $1", id)
		}

		var stop atomic.Bool
		var wg sync.WaitGroup
		errs := make(chan error, 100)
		wg.Add(2)
		go func() { // readers: every answer must be whole
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				id := ids[i%n]
				c, err := o.Svc.GetContact(ctx, o.Rep1, id)
				if err != nil || c.Name != fmt.Sprintf("人物%02d", i%n) || c.Custom["passport"] != fmt.Sprintf("E%08d", i%n) {
					errs <- fmt.Errorf("read %d during re-encryption: %v %+v", id, err, c.ContactFields)
					return
				}
			}
		}()
		go func() { // a writer editing notes
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				id := ids[(i*7)%n]
				c, err := o.Svc.GetContact(ctx, o.Rep1, id)
				if err == nil {
					_, err = o.Svc.UpdateContact(ctx, o.Rep1, id, crm.ContactUpdate{Version: c.Version, Notes: new(fmt.Sprint("第", i, "次"))})
				}
				// A write that read the record just before it moved is
				// stale (reload and apply again), never a write under a
				// destroyed key.
				if err != nil && !crm.IsCode(err, crm.Conflict) {
					errs <- fmt.Errorf("write %d during re-encryption: %v", id, err)
					return
				}
			}
		}()
		if _, err := o.Svc.RotateMasterKey(ctx, o.Admin); err != nil {
			t.Fatal(err)
		}
		done, err := o.Svc.ReencryptPeople(ctx, o.Admin, 7, nil)
		if err != nil || done != n {
			t.Fatalf("re-encrypt: %d %v", done, err)
		}
		if _, err := o.Svc.RewrapKeys(ctx, o.Admin, 10, nil); err != nil {
			t.Fatal(err)
		}
		stop.Store(true)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		destroyed, err := o.Svc.DestroySupersededKeys(ctx, o.Admin)
		if err != nil || destroyed != n {
			t.Fatalf("destroy superseded: %d %v", destroyed, err)
		}
		var old []string
		for _, id := range ids {
			now := rawString(t, raw, "SELECT person_key FROM contacts WHERE id = $1", id)
			if now == oldKeys[id] {
				t.Errorf("contact %d still under its old key", id)
			}
			old = append(old, oldKeys[id])
		}
		if erased, err := o.Vault.Erased(ctx, old); err != nil || len(erased) != n {
			t.Errorf("old keys destroyed: %d of %d (%v)", len(erased), n, err)
		}
		for i, id := range ids {
			c, err := o.Svc.GetContact(ctx, o.Rep1, id)
			if err != nil || c.Erased || c.Mobile != fmt.Sprintf("+861390000%04d", i) {
				t.Fatalf("after re-encryption: %v %+v", err, c)
			}
			if vs, err := o.Svc.Versions(ctx, o.Rep1, crm.ObjContact, id); err != nil || len(vs) == 0 {
				t.Fatalf("versions after re-encryption: %v", err)
			}
		}
		if again, err := o.Svc.ReencryptPeople(ctx, o.Admin, 7, nil); err != nil || again != n {
			t.Errorf("a second run re-encrypts everyone again: %d %v", again, err)
		}
	})
}
