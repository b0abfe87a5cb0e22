package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

var errBoom = errors.New("boom")

// auditEvent returns a minimal event; requestID tells the rows of one test
// request apart.
func auditEvent(action, requestID string) *store.AuditEvent {
	return &store.AuditEvent{At: time.Now(), ActorKind: "system", ActorName: "test", Action: action, RequestID: requestID}
}

// auditRequestIDs counts the stored events with action by request id.
func auditRequestIDs(t *testing.T, db *store.DB, action string) map[string]int {
	t.Helper()
	got := map[string]int{}
	err := db.ReadTx(t.Context(), func(tx *store.Tx) error {
		events, err := tx.ListAuditEvents(t.Context(), store.AuditFilter{Action: action, Limit: 500})
		for _, e := range events {
			got[e.RequestID]++
		}
		return err
	})
	if err != nil {
		t.Fatalf("list audit events: %v", err)
	}
	return got
}

// countCustomers counts every live customer.
func countCustomers(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	err := db.ReadTx(t.Context(), func(tx *store.Tx) (err error) {
		n, err = tx.CountCustomers(t.Context(), store.CustomerQuery{Scope: store.Scope{Kind: crm.ScopeAll}})
		return err
	})
	if err != nil {
		t.Fatalf("count customers: %v", err)
	}
	return n
}

// TestWriteTxConcurrentBurst runs many writes at once; one of them fails
// after writing. Every other write commits, the failed one leaves nothing.
func TestWriteTxConcurrentBurst(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		const n, failing = 50, 17
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = db.WriteTx(t.Context(), func(tx *store.Tx) error {
					if err := tx.InsertAuditEvent(t.Context(), auditEvent("test.burst", fmt.Sprint(i))); err != nil {
						return err
					}
					if i == failing {
						return errBoom
					}
					return nil
				})
			})
		}
		wg.Wait()

		got := auditRequestIDs(t, db, "test.burst")
		for i, err := range errs {
			id := fmt.Sprint(i)
			if i == failing {
				if !errors.Is(err, errBoom) {
					t.Errorf("failing write: error = %v, want %v", err, errBoom)
				}
				if got[id] != 0 {
					t.Errorf("failing write left %d event(s)", got[id])
				}
				continue
			}
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
			if got[id] != 1 {
				t.Errorf("write %d: %d event(s) stored, want 1", i, got[id])
			}
		}
	})
}

// TestWriteTxAllOrNothing: a write whose function fails after inserting a
// customer leaves no customer.
func TestWriteTxAllOrNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		err := db.WriteTx(t.Context(), func(tx *store.Tx) error {
			c := crm.Customer{CustomerFields: crm.CustomerFields{Name: "华为技术有限公司", Status: "prospect"}}
			c.CreatedAt = time.Now()
			if err := tx.InsertCustomer(t.Context(), &c); err != nil {
				return err
			}
			if err := tx.InsertAuditEvent(t.Context(), auditEvent("customer.create", "all-or-nothing")); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("WriteTx error = %v, want %v", err, errBoom)
		}
		if n := countCustomers(t, db); n != 0 {
			t.Errorf("%d customer(s) after a failed write, want 0", n)
		}
		if got := auditRequestIDs(t, db, "customer.create"); len(got) != 0 {
			t.Errorf("audit events after a failed write: %v", got)
		}
	})
}

// TestWriteTxCancelledContext: a write whose context has ended neither runs
// nor writes.
func TestWriteTxCancelledContext(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := db.WriteTx(ctx, func(tx *store.Tx) error {
			return tx.InsertAuditEvent(context.Background(), auditEvent("test.cancelled", "x"))
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("WriteTx error = %v, want context.Canceled", err)
		}
		if got := auditRequestIDs(t, db, "test.cancelled"); len(got) != 0 {
			t.Errorf("a cancelled write stored events: %v", got)
		}
	})
}

// TestWriteTxAlone: a write run alone commits all or nothing, like WriteTx,
// while ordinary writes go on around it.
func TestWriteTxAlone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		insert := func(tx *store.Tx, name, requestID string) error {
			c := crm.Customer{CustomerFields: crm.CustomerFields{Name: name, Status: "prospect"}}
			c.CreatedAt = time.Now()
			if err := tx.InsertCustomer(t.Context(), &c); err != nil {
				return err
			}
			return tx.InsertAuditEvent(t.Context(), auditEvent("customer.create", requestID))
		}
		var wg sync.WaitGroup
		errs := make([]error, 40)
		for i := range errs {
			wg.Go(func() {
				name := fmt.Sprintf("公司%d", i)
				switch i % 4 {
				case 0: // alone, committed
					errs[i] = db.WriteTxAlone(t.Context(), func(tx *store.Tx) error {
						if err := insert(tx, name+"甲", fmt.Sprint("alone-", i)); err != nil {
							return err
						}
						return insert(tx, name+"乙", fmt.Sprint("alone-", i))
					})
				case 1: // alone, failing after writing
					err := db.WriteTxAlone(t.Context(), func(tx *store.Tx) error {
						if err := insert(tx, name, fmt.Sprint("failed-", i)); err != nil {
							return err
						}
						return errBoom
					})
					if !errors.Is(err, errBoom) {
						errs[i] = fmt.Errorf("failed write: %v", err)
					}
				default:
					errs[i] = db.WriteTx(t.Context(), func(tx *store.Tx) error { return insert(tx, name, fmt.Sprint("grouped-", i)) })
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := countCustomers(t, db); n != 10*2+20 {
			t.Errorf("%d customers, want %d", n, 10*2+20)
		}
		for id, n := range auditRequestIDs(t, db, "customer.create") {
			if id[:6] == "failed" || (id[:5] == "alone" && n != 2) {
				t.Errorf("request %s left %d events", id, n)
			}
		}
	})
}

// TestCustomFieldsKeptPerTransaction: the definitions a transaction keeps
// never outlive a savepoint rolled back after changing them.
func TestCustomFieldsKeptPerTransaction(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		err := db.WriteTx(t.Context(), func(tx *store.Tx) error {
			if defs, err := tx.ListCustomFields(t.Context(), crm.ObjContact); err != nil || len(defs) != 0 {
				return fmt.Errorf("before: %v %v", defs, err)
			}
			err := tx.Savepoint(t.Context(), func() error {
				f := crm.CustomField{Object: crm.ObjContact, Key: "dob", Label: "生日", Type: "date", Active: true}
				if err := tx.SaveCustomField(t.Context(), &f, time.Now().UnixMilli()); err != nil {
					return err
				}
				if defs, err := tx.ListCustomFields(t.Context(), crm.ObjContact); err != nil || len(defs) != 1 {
					return fmt.Errorf("inside: %v %v", defs, err)
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				return err
			}
			if defs, err := tx.ListCustomFields(t.Context(), crm.ObjContact); err != nil || len(defs) != 0 {
				return fmt.Errorf("after the rollback: %v %v", defs, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
