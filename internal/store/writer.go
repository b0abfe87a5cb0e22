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
	db    *sql.DB
	queue chan *writeReq
	wg    sync.WaitGroup
	once  sync.Once
}

type writeReq struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan error
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

func (g *groupCommitter) do(ctx context.Context, fn func(*Tx) error, d Dialect) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	defer func() {
		// A send on the closed queue after stop means the database is closing.
		if recover() != nil {
			err = &crm.Error{Code: crm.Unavailable, Key: "shutting_down", Message: "the server is shutting down"}
		}
	}()
	select {
	case g.queue <- req:
	default:
		return &crm.Error{Code: crm.Unavailable, Key: "busy", Message: "the server is busy; please try again in a moment"}
	}
	// Wait for the answer even if ctx ends: the writer may already be running
	// fn, and the caller must learn whether it committed.
	return <-req.done
}

func (g *groupCommitter) stop() {
	g.once.Do(func() { close(g.queue) })
	g.wg.Wait()
}

func (g *groupCommitter) loop() {
	defer g.wg.Done()
	for first := range g.queue {
		batch := []*writeReq{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-g.queue:
				if !ok {
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

func (g *groupCommitter) commit(batch []*writeReq) {
	results := make([]error, len(batch))
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		for _, r := range batch {
			r.done <- fmt.Errorf("store: begin: %w", err)
		}
		return
	}
	wrapped := &Tx{q: tx, d: SQLite}
	for i, r := range batch {
		results[i] = g.runOne(tx, wrapped, r)
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
// savepoint when it fails or panics.
func (g *groupCommitter) runOne(tx *sql.Tx, wrapped *Tx, r *writeReq) (err error) {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if _, err := tx.Exec("SAVEPOINT w"); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: write panicked: %v", p)
		}
		if err != nil {
			if _, rbErr := tx.Exec("ROLLBACK TO w"); rbErr != nil {
				err = fmt.Errorf("%w (and rollback failed: %v)", err, rbErr)
			}
		}
		tx.Exec("RELEASE w")
	}()
	return r.fn(wrapped)
}
