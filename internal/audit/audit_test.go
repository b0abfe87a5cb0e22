package audit_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"custos/internal/audit"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// sealedLog builds a database whose audit trail was written by a service
// holding the keys, seals it, and returns what a tamper test needs.
type sealedLog struct {
	db     *store.DB
	raw    *sql.DB
	keys   *audit.Keys
	dir    string
	sealer *audit.Sealer
	org    *testorg.Org
}

func newSealedLog(t *testing.T, d store.Dialect) *sealedLog {
	t.Helper()
	ctx := context.Background()
	db, raw := testdb.OpenRaw(t, d)
	keyFile := filepath.Join(t.TempDir(), "keys", "audit.key")
	keys, created, err := audit.LoadOrCreateKeys(keyFile)
	if err != nil || !created {
		t.Fatalf("create keys: %v %v", err, created)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	again, created, err := audit.LoadOrCreateKeys(keyFile)
	if err != nil || created || again.VerifierKey != keys.VerifierKey {
		t.Fatalf("reload keys: %v %v", err, created)
	}
	o := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, AuditKeys: keys})
	for _, name := range []string{"一号客户", "二号客户", "三号客户"} {
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: name})
		if _, err := o.Svc.GetCustomer(ctx, o.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	// A read through an API token: its event names the token.
	tok, err := o.Svc.AuthenticateToken(ctx, o.Token(t, o.Rep1), testorg.ClientForTest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Svc.ListCustomers(ctx, tok, crm.CustomerFilter{}); err != nil {
		t.Fatal(err)
	}
	l := &sealedLog{db: db, raw: raw, keys: keys, dir: t.TempDir(), org: o}
	l.sealer = &audit.Sealer{DB: db, Keys: keys, Dir: l.dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if n, err := l.sealer.SealOnce(ctx); err != nil || n < 10 {
		t.Fatalf("seal: %d %v", n, err)
	}
	// A second batch gives a second checkpoint.
	o.Customer(t, o.Rep2, crm.CustomerFields{Name: "四号客户"})
	if n, err := l.sealer.SealOnce(ctx); err != nil || n == 0 {
		t.Fatalf("seal again: %d %v", n, err)
	}
	return l
}

func (l *sealedLog) verify(t *testing.T) audit.Report {
	t.Helper()
	r, err := audit.Verify(context.Background(), l.db, l.keys, l.dir)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return r
}

func (l *sealedLog) exec(t *testing.T, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if _, err := l.raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// event is the id of the event at a log position, as SQL.
func event(seq int64) string {
	return "(SELECT event_id FROM audit_seals WHERE seq = " + strconv.FormatInt(seq, 10) + ")"
}

// wantFirst checks that verification found a problem of the kind, first
// at the log position (0: any).
func wantFirst(t *testing.T, r audit.Report, kind string, seq int64) {
	t.Helper()
	if r.OK() {
		t.Fatalf("tampering not detected: %+v", r)
	}
	p := r.Problems[0]
	if p.Kind != kind || seq != 0 && p.Seq != seq {
		t.Fatalf("first problem %s, want %s at %d; all: %v", p, kind, seq, r.Problems)
	}
}

func TestVerifyCatchesTampering(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Run("intact", func(t *testing.T) {
				l := newSealedLog(t, d)
				r := l.verify(t)
				if !r.OK() || r.Events < 10 || r.Checkpoints != 4 || r.External != 2 {
					t.Fatalf("intact log: %+v", r)
				}
			})
			t.Run("update", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.exec(t, "UPDATE audit_events SET actor_name = 'someone else' WHERE id = "+event(5))
				wantFirst(t, l.verify(t), "modified", 5)
			})
			t.Run("token", func(t *testing.T) {
				// Pinning a token's reads on another token (or none) is a change.
				l := newSealedLog(t, d)
				var seq int64
				if err := l.raw.QueryRow("SELECT s.seq FROM audit_events e JOIN audit_seals s ON s.event_id = e.id WHERE e.token_id <> 0").Scan(&seq); err != nil {
					t.Fatalf("no sealed token event: %v", err)
				}
				l.exec(t, "UPDATE audit_events SET token_id = 0 WHERE id = "+event(seq))
				wantFirst(t, l.verify(t), "modified", seq)
			})
			t.Run("delete", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.exec(t, "DELETE FROM audit_events WHERE id = "+event(4), "DELETE FROM audit_seals WHERE seq = 4")
				wantFirst(t, l.verify(t), "deleted", 4)
			})
			t.Run("delete the event, keep its seal", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.exec(t, "DELETE FROM audit_events WHERE id = "+event(4))
				wantFirst(t, l.verify(t), "deleted", 4)
			})
			t.Run("delete and renumber", func(t *testing.T) {
				// A careful attacker closes the gap and rebuilds the chain's
				// links; the signed checkpoints still tell.
				l := newSealedLog(t, d)
				l.exec(t, "DELETE FROM audit_events WHERE id = "+event(4), "DELETE FROM audit_seals WHERE seq = 4",
					"UPDATE audit_seals SET seq = -seq WHERE seq > 4", "UPDATE audit_seals SET seq = -seq - 1 WHERE seq < 0")
				r := l.verify(t)
				if r.OK() {
					t.Fatal("renumbered log passed")
				}
			})
			t.Run("insert", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.exec(t, `INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, action) VALUES (0, 'user', 1, 'admin', 'customer.view')`)
				if _, err := l.sealer.SealOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
				wantFirst(t, l.verify(t), "inserted", 0)
			})
			t.Run("insert not yet seen by the sealer", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.exec(t, `INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, action, nonce, mac) VALUES (0, 'user', 1, 'admin', 'customer.view', 'aa', 'bb')`)
				wantFirst(t, l.verify(t), "inserted", 0)
			})
			t.Run("insert queued for the sealer", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.exec(t, `INSERT INTO audit_events (id, at, actor_kind, actor_id, actor_name, action, nonce, mac) VALUES (900001, 0, 'user', 1, 'admin', 'customer.view', 'aa', 'bb')`,
					`INSERT INTO audit_pending (event_id) VALUES (900001)`)
				if _, err := l.sealer.SealOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
				wantFirst(t, l.verify(t), "inserted", 0)
				var sealed int
				l.raw.QueryRow("SELECT COUNT(*) FROM audit_seals WHERE event_id = 900001").Scan(&sealed)
				if sealed != 0 {
					t.Fatal("the sealer sealed an event without a valid MAC")
				}
			})
			t.Run("a genuine event taken off the sealer's queue", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.org.Customer(t, l.org.Rep1, crm.CustomerFields{Name: "五号客户"})
				l.exec(t, "DELETE FROM audit_pending")
				if n, err := l.sealer.SealOnce(context.Background()); err != nil || n != 0 {
					t.Fatalf("sealed %d: %v", n, err)
				}
				r := l.verify(t)
				wantFirst(t, r, "modified", 0)
				if !strings.Contains(r.Problems[0].Detail, "queue") {
					t.Fatalf("problem: %v", r.Problems[0])
				}
			})
			t.Run("swap two rows", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.exec(t, "UPDATE audit_seals SET seq = -1 WHERE seq = 3", "UPDATE audit_seals SET seq = 3 WHERE seq = 6",
					"UPDATE audit_seals SET seq = 6 WHERE seq = -1")
				wantFirst(t, l.verify(t), "reordered", 3)
			})
			t.Run("truncate the tail", func(t *testing.T) {
				l := newSealedLog(t, d)
				var last int64
				l.raw.QueryRow("SELECT MAX(seq) FROM audit_seals").Scan(&last)
				l.exec(t, "DELETE FROM audit_events WHERE id IN (SELECT event_id FROM audit_seals WHERE seq > 6)", "DELETE FROM audit_seals WHERE seq > 6")
				r := l.verify(t)
				if !slicesHas(r.Problems, "truncated") {
					t.Fatalf("truncation of %d events not reported: %v", last-6, r.Problems)
				}
			})
			t.Run("forged checkpoint", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.exec(t, "UPDATE audit_checkpoints SET note = replace(note, 'custos-audit', 'custos-audjt')")
				wantFirst(t, l.verify(t), "checkpoint", 0)
			})
			t.Run("checkpoints deleted from the database", func(t *testing.T) {
				l := newSealedLog(t, d)
				l.exec(t, "DELETE FROM audit_checkpoints")
				r := l.verify(t)
				if !slicesHas(r.Problems, "checkpoint") || !strings.Contains(r.Problems[0].Detail, "missing from the database") {
					t.Fatalf("deleted checkpoints: %v", r.Problems)
				}
			})
		})
	}
}

func slicesHas(ps []audit.Problem, kind string) bool {
	for _, p := range ps {
		if p.Kind == kind {
			return true
		}
	}
	return false
}

// TestVerifyNeedsTheCheckpointFile: the checkpoint file outside the
// database is the evidence against a database rolled back or cut short, so
// verify fails when it is missing or ends before the sealed trail (issue
// 12 §2), and the sealer neither starts a new file in place of a lost one
// nor leaves a file short once it is back.
func TestVerifyNeedsTheCheckpointFile(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) { checkpointFileNeeded(t, d) })
	}
}

func checkpointFileNeeded(t *testing.T, d store.Dialect) {

	ctx := context.Background()
	l := newSealedLog(t, d)
	file := filepath.Join(l.dir, audit.CheckpointFile)
	full, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSpace(string(full)), "\n")
	if len(lines) < 2 {
		t.Fatalf("want two checkpoints in the file, have %d", len(lines))
	}
	if r := l.verify(t); !r.OK() {
		t.Fatalf("intact trail: %v", r.Problems)
	}

	// Shorter: the file as it was before the second seal.
	if err := os.WriteFile(file, []byte(lines[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	r := l.verify(t)
	if r.OK() || !strings.Contains(r.Problems[0].Detail, "ends at log position") {
		t.Fatalf("short checkpoint file not reported: %v", r.Problems)
	}

	// Missing, and the sealer does not start a new file in its place.
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	r = l.verify(t)
	if r.OK() || !strings.Contains(r.Problems[0].Detail, "is missing") {
		t.Fatalf("missing checkpoint file not reported: %v", r.Problems)
	}
	l.org.Customer(t, l.org.Rep1, crm.CustomerFields{Name: "五号客户"})
	fresh := &audit.Sealer{DB: l.db, Keys: l.keys, Dir: l.dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := fresh.SealOnce(ctx); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("sealer with the checkpoint file gone: %v", err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("the sealer started a new checkpoint file in place of the lost one")
	}

	// Restored from its (older) backup: the next seal catches it up.
	if err := os.WriteFile(file, full, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.SealOnce(ctx); err != nil {
		t.Fatalf("seal after the file is back: %v", err)
	}
	if r := l.verify(t); !r.OK() {
		t.Fatalf("after the file is restored and caught up: %v", r.Problems)
	}
}
