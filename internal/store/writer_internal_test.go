package store

// These tests look inside the SQLite group committer (its queue) to make
// batching deterministic, so they live in package store and cannot use
// internal/testdb (which imports store).

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"custos/internal/crm"
)

// openSQLiteWriter opens a fresh SQLite database with the given writer queue size.
func openSQLiteWriter(t *testing.T, queue int) *DB {
	t.Helper()
	db, err := Open(t.Context(), Options{Dir: t.TempDir(), WriteQueue: queue})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// blockWriter parks the single writer inside a write until the returned
// release is called (it is also called at cleanup). release returns the
// blocking write's own result.
func blockWriter(t *testing.T, db *DB) (release func() error) {
	t.Helper()
	started, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.WriteTx(context.Background(), func(tx *Tx) error {
			close(started)
			<-unblock
			return tx.InsertAuditEvent(context.Background(), testEvent("test.blocker", "blocker"))
		})
	}()
	<-started
	var once sync.Once
	var err error
	release = func() error {
		once.Do(func() {
			close(unblock)
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { release() })
	return release
}

// waitQueued waits until n requests wait in the writer queue. The writer is
// blocked, so nothing else takes them out.
func waitQueued(db *DB, n int) {
	for len(db.writer.queue) < n {
		runtime.Gosched()
	}
}

func testEvent(action, requestID string) *AuditEvent {
	return &AuditEvent{At: time.Now(), ActorKind: "system", ActorName: "test", Action: action, RequestID: requestID}
}

// storedRequestIDs counts the stored events with action by request id.
func storedRequestIDs(t *testing.T, db *DB, action string) map[string]int {
	t.Helper()
	got := map[string]int{}
	err := db.ReadTx(t.Context(), func(tx *Tx) error {
		events, err := tx.ListAuditEvents(t.Context(), AuditFilter{Action: action, Limit: 500})
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

// TestGroupCommitIsolatesFailures queues 50 writes behind a blocked writer,
// so they run as one group commit. One returns an error and one panics after
// writing; each is rolled back to its savepoint alone and the other 48 commit.
func TestGroupCommitIsolatesFailures(t *testing.T) {
	db := openSQLiteWriter(t, 64)
	release := blockWriter(t, db)

	const n, failing, panicking = 50, 11, 29
	errs := make([]error, n)
	txs := make([]*Tx, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = db.WriteTx(t.Context(), func(tx *Tx) error {
				txs[i] = tx
				if err := tx.InsertAuditEvent(t.Context(), testEvent("test.batch", fmt.Sprint(i))); err != nil {
					return err
				}
				switch i {
				case failing:
					return errBoomInternal
				case panicking:
					panic("write went wrong")
				}
				return nil
			})
		})
	}
	waitQueued(db, n)
	if err := release(); err != nil {
		t.Fatalf("blocking write: %v", err)
	}
	wg.Wait()

	got := storedRequestIDs(t, db, "test.batch")
	for i, err := range errs {
		id := fmt.Sprint(i)
		switch i {
		case failing:
			if !errors.Is(err, errBoomInternal) {
				t.Errorf("failing write: error = %v, want %v", err, errBoomInternal)
			}
		case panicking:
			if err == nil || !strings.Contains(err.Error(), "panicked") {
				t.Errorf("panicking write: error = %v, want a 'panicked' error", err)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
			if got[id] != 1 {
				t.Errorf("write %d: %d event(s) stored, want 1", i, got[id])
			}
			if txs[i] != txs[0] {
				t.Errorf("write %d ran in another transaction than write 0; want one group commit", i)
			}
			continue
		}
		if got[id] != 0 {
			t.Errorf("write %d failed but left %d event(s)", i, got[id])
		}
	}
}

var errBoomInternal = errors.New("boom")

// TestWriteQueueFull: with the writer busy and the queue full, a write fails
// at once with crm.Unavailable and never runs; the queued write still commits.
func TestWriteQueueFull(t *testing.T) {
	db := openSQLiteWriter(t, 1)
	release := blockWriter(t, db)

	queued := make(chan error, 1)
	go func() {
		queued <- db.WriteTx(context.Background(), func(tx *Tx) error {
			return tx.InsertAuditEvent(context.Background(), testEvent("test.queue", "queued"))
		})
	}()
	waitQueued(db, 1)

	err := db.WriteTx(t.Context(), func(tx *Tx) error {
		t.Error("the function of a rejected write ran")
		return tx.InsertAuditEvent(context.Background(), testEvent("test.queue", "rejected"))
	})
	var ce *crm.Error
	if !errors.As(err, &ce) || ce.Code != crm.Unavailable {
		t.Errorf("WriteTx on a full queue: error = %v, want a *crm.Error with code %s", err, crm.Unavailable)
	}

	if err := release(); err != nil {
		t.Fatalf("blocking write: %v", err)
	}
	if err := <-queued; err != nil {
		t.Fatalf("queued write: %v", err)
	}
	if got := storedRequestIDs(t, db, "test.queue"); got["queued"] != 1 || got["rejected"] != 0 {
		t.Errorf("stored events = %v, want only the queued one", got)
	}
}

// TestWriteCancelledWhileQueued: a write whose context ends while it waits
// in the queue returns the context error and its function never runs.
func TestWriteCancelledWhileQueued(t *testing.T) {
	db := openSQLiteWriter(t, 4)
	release := blockWriter(t, db)

	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan struct{}, 1)
	result := make(chan error, 1)
	go func() {
		result <- db.WriteTx(ctx, func(tx *Tx) error {
			ran <- struct{}{}
			return tx.InsertAuditEvent(context.Background(), testEvent("test.cancel", "x"))
		})
	}()
	waitQueued(db, 1)
	cancel()
	if err := release(); err != nil {
		t.Fatalf("blocking write: %v", err)
	}
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("WriteTx error = %v, want context.Canceled", err)
	}
	select {
	case <-ran:
		t.Error("the function of a cancelled write ran")
	default:
	}
	if got := storedRequestIDs(t, db, "test.cancel"); len(got) != 0 {
		t.Errorf("a cancelled write stored events: %v", got)
	}
}
