package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"custos/internal/crm"
)

// groupCommitter is SQLite's single writer. Requests queue on a bounded
// channel; the writer takes every request waiting, runs each inside its own
// SAVEPOINT of one transaction and commits them with one fsync. A request
// whose function fails is rolled back to its savepoint alone, so batching
// never mixes one request's failure into another's result.
type groupCommitter struct {
	db     *sql.DB
	queue  chan *writeReq
	wg     sync.WaitGroup
	mu     sync.RWMutex // guards closed against sends racing stop
	closed bool
}

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
	// alone runs the request as a transaction of its own, without the
	// savepoint (WriteTxAlone).
	alone bool
}

// maxBatch bounds one group commit so a burst cannot starve the first
// request's caller of its answer for long.
const maxBatch = 128

func newGroupCommitter(db *sql.DB, queueSize int) *groupCommitter {
	g := &groupCommitter{db: db, queue: make(chan *writeReq, queueSize)}
	g.wg.Add(1)
	go g.loop()
	return g
}

func (g *groupCommitter) do(ctx context.Context, fn func(*Tx) error, alone bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1), alone: alone}
	g.mu.RLock()
	if g.closed {
		g.mu.RUnlock()
		return &crm.Error{Code: crm.Unavailable, Key: "shutting_down", Message: "the server is shutting down"}
	}
	select {
	case g.queue <- req:
		g.mu.RUnlock()
	default:
		g.mu.RUnlock()
		return &crm.Error{Code: crm.Unavailable, Key: "busy", Message: "the server is busy; please try again in a moment"}
	}
	// Wait for the answer even if ctx ends: the writer may already be running
	// fn, and the caller must learn whether it committed.
	return <-req.done
}

func (g *groupCommitter) stop() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.queue)
	}
	g.mu.Unlock()
	g.wg.Wait()
}

func (g *groupCommitter) loop() {
	defer g.wg.Done()
	var next *writeReq // a request taken while draining that runs alone
	for {
		first := next
		next = nil
		if first == nil {
			var ok bool
			if first, ok = <-g.queue; !ok {
				return
			}
		}
		if first.alone {
			g.commitAlone(first)
			continue
		}
		batch := []*writeReq{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-g.queue:
				if !ok {
					break drain
				}
				if r.alone {
					next = r
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		g.commit(batch)
	}
}

// commitAlone runs one request as a transaction of its own. Without the
// group commit's savepoint SQLite keeps no copy of the pages it touches:
// a large write (an import batch) spent a third of its CPU journalling
// them, and closing each statement walked that journal from its start.
func (g *groupCommitter) commitAlone(r *writeReq) {
	if err := r.ctx.Err(); err != nil {
		r.done <- err
		return
	}
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		r.done <- fmt.Errorf("store: begin: %w", err)
		return
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			r.done <- fmt.Errorf("store: write panicked: %v", p)
		}
	}()
	if err := r.fn(&Tx{q: detached{tx}, d: SQLite}); err != nil {
		tx.Rollback()
		r.done <- err
		return
	}
	if err := tx.Commit(); err != nil {
		r.done <- fmt.Errorf("store: commit: %w", err)
		return
	}
	r.done <- nil
}

func (g *groupCommitter) commit(batch []*writeReq) {
	results := make([]error, len(batch))
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("store: begin: %w", err)
		}
		return
	}
	wrapped := &Tx{q: detached{tx}, d: SQLite}
	for i, r := range batch {
		var broken bool
		broken, results[i] = g.runOne(tx, wrapped, r)
		if broken {
			// The shared transaction is unusable: fail the whole batch
			// rather than let later requests run outside it.
			tx.Rollback()
			for j := range batch {
				if j > i || results[j] == nil {
					results[j] = fmt.Errorf("store: write batch aborted: %w", results[i])
				}
			}
			for j, r := range batch {
				r.done <- results[j]
			}
			return
		}
	}
	if err := tx.Commit(); err != nil {
		err = fmt.Errorf("store: commit: %w", err)
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}

// runOne runs one request between SAVEPOINT and RELEASE, rolling back to the
// savepoint when it fails or panics. broken reports that the shared
// transaction can no longer be trusted.
func (g *groupCommitter) runOne(tx *sql.Tx, wrapped *Tx, r *writeReq) (broken bool, err error) {
	if err := r.ctx.Err(); err != nil {
		return false, err
	}
	if _, err := tx.Exec("SAVEPOINT w"); err != nil {
		return true, fmt.Errorf("store: savepoint: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
		if err != nil {
			if _, rbErr := tx.Exec("ROLLBACK TO w"); rbErr != nil {
				broken, err = true, fmt.Errorf("%w (and rollback failed: %v)", err, rbErr)
				return
			}
		}
		if _, relErr := tx.Exec("RELEASE w"); relErr != nil {
			broken, err = true, fmt.Errorf("store: release savepoint: %w", relErr)
		}
	}()
	// Each request starts with nothing kept from the one before, which may
	// have been rolled back to its savepoint.
	wrapped.customFields = nil
	return false, r.fn(wrapped)
}

// detached runs each statement of a batched request without the request's
// cancellation: SQLite answers a cancelled statement by rolling back the
// whole shared transaction, which would take the other requests with it. A
// request whose context has ended runs no further statements.
type detached struct{ tx *sql.Tx }

func (d detached) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.tx.ExecContext(context.WithoutCancel(ctx), q, args...)
}

func (d detached) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.tx.QueryContext(context.WithoutCancel(ctx), q, args...)
}

func (d detached) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	// A *sql.Row cannot carry an error of ours; a cancelled context makes
	// the query fail before it reaches SQLite, which is all that matters.
	if ctx.Err() != nil {
		return d.tx.QueryRowContext(ctx, q, args...)
	}
	return d.tx.QueryRowContext(context.WithoutCancel(ctx), q, args...)
}
