package audit_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"custos/internal/audit"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// archiveLog is a sealed trail written over two years on a settable clock:
// a first day, a second day, and a day a year later, each sealed on its own
// (so each ends at a checkpoint).
type archiveLog struct {
	*sealedLog
	clock    *testorg.Clock
	org      *testorg.Org
	archiver *audit.Archiver
	day1     time.Time // the first day's events happened at day1
}

func newArchiveLog(t *testing.T, d store.Dialect) *archiveLog {
	t.Helper()
	db, raw := testdb.OpenRaw(t, d)
	keys, _, err := audit.LoadOrCreateKeys(filepath.Join(t.TempDir(), "audit.key"))
	if err != nil {
		t.Fatal(err)
	}
	l := &archiveLog{sealedLog: &sealedLog{db: db, raw: raw, keys: keys, dir: t.TempDir()}, clock: testorg.NewClock()}
	l.day1 = time.Now().Add(-2 * 365 * 24 * time.Hour).Truncate(time.Hour)
	l.clock.Set(l.day1)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	l.org = testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, AuditKeys: keys, Now: l.clock.Now})
	l.sealer = &audit.Sealer{DB: db, Keys: keys, Dir: l.dir, Logger: logger}
	l.archiver = &audit.Archiver{DB: db, Keys: keys, Dir: l.dir, Logger: logger, Now: l.clock.Now}
	l.day(t, "一号客户", "二号客户")
	l.clock.Advance(24 * time.Hour)
	l.day(t, "三号客户")
	l.clock.Advance(365 * 24 * time.Hour)
	l.day(t, "四号客户")
	return l
}

// day writes a day's events (customers created and viewed, and listed
// through an API token, whose events name the token) and seals them.
func (l *archiveLog) day(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		c := l.org.Customer(t, l.org.Rep1, crm.CustomerFields{Name: name})
		if _, err := l.org.Svc.GetCustomer(context.Background(), l.org.Rep1, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := l.org.Svc.AuthenticateToken(context.Background(), l.org.Token(t, l.org.Rep1), testorg.ClientForTest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.org.Svc.ListCustomers(context.Background(), tok, crm.CustomerFilter{}); err != nil {
		t.Fatal(err)
	}
	if n, err := l.sealer.SealOnce(context.Background()); err != nil || n == 0 {
		t.Fatalf("seal: %d %v", n, err)
	}
}

func (l *archiveLog) archive(t *testing.T, before time.Time) audit.ArchiveReport {
	t.Helper()
	rep, err := l.archiver.Archive(context.Background(), before)
	if err != nil {
		t.Fatalf("archive: %v", err)
	}
	return rep
}

func (l *archiveLog) count(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := l.raw.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (l *archiveLog) segmentPath(seg store.AuditSegment) string {
	return filepath.Join(l.dir, audit.SegmentDir, seg.File)
}

func wantOK(t *testing.T, r audit.Report) {
	t.Helper()
	if !r.OK() {
		t.Fatalf("verification failed: %v", r.Problems)
	}
}

// wantProblem checks that verification found a problem of the kind whose
// detail says `says`.
func wantProblem(t *testing.T, r audit.Report, kind, says string) audit.Problem {
	t.Helper()
	for _, p := range r.Problems {
		if p.Kind == kind && strings.Contains(p.Detail, says) {
			return p
		}
	}
	t.Fatalf("no %s problem saying %q among %v", kind, says, r.Problems)
	return audit.Problem{}
}

func TestArchiveSegments(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Run("archive, verify, go on", func(t *testing.T) {
				l := newArchiveLog(t, d)
				sealedBefore := l.count(t, "SELECT COUNT(*) FROM audit_events WHERE id IN (SELECT event_id FROM audit_seals)")
				rep := l.archive(t, l.day1.Add(36*time.Hour)) // the first two days
				if len(rep.Segments) != 1 || rep.Events == 0 || rep.Deleted != rep.Events {
					t.Fatalf("archive: %+v", rep)
				}
				seg := rep.Segments[0]
				if seg.FirstSeq != 1 || !seg.LastAt.Before(l.day1.Add(36*time.Hour)) {
					t.Fatalf("segment: %+v", seg)
				}
				for _, f := range []string{seg.File, strings.TrimSuffix(seg.File, ".jsonl.gz") + ".note"} {
					if fi, err := os.Stat(filepath.Join(l.dir, audit.SegmentDir, f)); err != nil || fi.Size() == 0 {
						t.Fatalf("segment file %s: %v", f, err)
					}
				}
				if n := l.count(t, "SELECT COUNT(*) FROM audit_events WHERE id IN (SELECT event_id FROM audit_seals WHERE seq <= $1)", seg.LastSeq); n != 0 {
					t.Fatalf("%d archived events are still in the database", n)
				}
				if left := l.count(t, "SELECT COUNT(*) FROM audit_events WHERE id IN (SELECT event_id FROM audit_seals)"); left != sealedBefore-seg.Events || left == 0 {
					t.Fatalf("%d sealed events left of %d, %d archived: the year-later day must stay", left, sealedBefore, seg.Events)
				}
				if n := l.count(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'audit.archive' AND actor_kind = 'system'"); n != 1 {
					t.Fatalf("%d audit.archive events", n)
				}
				r := l.verify(t)
				wantOK(t, r)
				if r.Segments != 1 || r.Archived != seg.Events || r.Events == 0 {
					t.Fatalf("verify: %+v", r)
				}
				// The viewer lists what is left and says up to when events were archived.
				page, err := l.org.Svc.AuditTrail(context.Background(), l.org.Admin, service.AuditQuery{Limit: 200})
				if err != nil || page.ArchivedThrough == nil || !page.ArchivedThrough.Equal(seg.LastAt) || page.ArchivedSeq != seg.LastSeq {
					t.Fatalf("trail after the archive: %+v %v", page, err)
				}
				for _, e := range page.Items {
					if e.Seq != 0 && e.Seq <= seg.LastSeq {
						t.Fatalf("an archived event is listed: %+v", e)
					}
				}

				// Again with the same cutoff: nothing more.
				if again := l.archive(t, l.day1.Add(36*time.Hour)); len(again.Segments) != 0 || again.Deleted != 0 {
					t.Fatalf("second archive: %+v", again)
				}
				// Events after the archive are sealed onto its chain and verify.
				l.day(t, "五号客户")
				wantOK(t, l.verify(t))
			})

			t.Run("segments end at checkpoints", func(t *testing.T) {
				l := newArchiveLog(t, d)
				l.archiver.SegmentEvents = 1
				rep := l.archive(t, l.clock.Now().Add(time.Hour))
				if len(rep.Segments) != 3 {
					t.Fatalf("%d segments, want one per sealed day: %+v", len(rep.Segments), rep)
				}
				var cps []int64
				rows, _ := l.raw.Query("SELECT size FROM audit_checkpoints ORDER BY size")
				for rows.Next() {
					var s int64
					rows.Scan(&s)
					cps = append(cps, s)
				}
				rows.Close()
				for i, seg := range rep.Segments {
					if seg.Number != int64(i+1) || seg.LastSeq != cps[i] || i > 0 && seg.Prev != rep.Segments[i-1].Head {
						t.Fatalf("segment %d: %+v (checkpoints %v)", i+1, seg, cps)
					}
				}
				r := l.verify(t)
				wantOK(t, r)
				if r.Segments != 3 || r.Events != 0 {
					t.Fatalf("verify: %+v", r)
				}
			})

			t.Run("everything sealed, then the chain goes on", func(t *testing.T) {
				l := newArchiveLog(t, d)
				// Unsealed events stay in the database whatever the cutoff.
				l.org.Customer(t, l.org.Rep1, crm.CustomerFields{Name: "未封存客户"})
				unsealed := l.count(t, "SELECT COUNT(*) FROM audit_events WHERE id NOT IN (SELECT event_id FROM audit_seals)")
				rep := l.archive(t, l.clock.Now().Add(time.Hour))
				if len(rep.Segments) != 1 {
					t.Fatalf("archive: %+v", rep)
				}
				if n := l.count(t, "SELECT COUNT(*) FROM audit_events WHERE id IN (SELECT event_id FROM audit_seals)"); n != 0 {
					t.Fatalf("%d sealed events left", n)
				}
				if n := l.count(t, "SELECT COUNT(*) FROM audit_events WHERE id NOT IN (SELECT event_id FROM audit_seals)"); n != unsealed+1 { // + audit.archive
					t.Fatalf("%d unsealed events, want %d and the archive's own", n, unsealed)
				}
				r := l.verify(t)
				wantOK(t, r)
				if r.Unsealed == 0 {
					t.Fatalf("verify: %+v", r)
				}
				// The sealer continues from the segment's head, not from 1.
				l.day(t, "六号客户")
				r = l.verify(t)
				wantOK(t, r)
				if first := l.count(t, "SELECT MIN(seq) FROM audit_seals"); first != rep.Segments[0].LastSeq+1 {
					t.Fatalf("the chain restarted at %d", first)
				}
			})

			t.Run("a byte flipped in a segment", func(t *testing.T) {
				l := newArchiveLog(t, d)
				seg := l.archive(t, l.day1.Add(36*time.Hour)).Segments[0]
				b, err := os.ReadFile(l.segmentPath(seg))
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)/2] ^= 0x01
				if err := os.WriteFile(l.segmentPath(seg), b, 0o600); err != nil {
					t.Fatal(err)
				}
				p := wantProblem(t, l.verify(t), "modified", "does not match the SHA-256 in its signed note")
				if !strings.Contains(p.Detail, seg.File) {
					t.Fatalf("the problem does not name the file: %s", p)
				}
			})

			t.Run("an event edited in a recompressed segment", func(t *testing.T) {
				l := newArchiveLog(t, d)
				seg := l.archive(t, l.day1.Add(36*time.Hour)).Segments[0]
				lines := readLines(t, l.segmentPath(seg))
				lines[4] = strings.Replace(lines[4], `"actor_name":"`, `"actor_name":"x`, 1)
				writeLines(t, l.segmentPath(seg), lines)
				r := l.verify(t)
				wantProblem(t, r, "modified", "does not match the SHA-256")
				if p := wantProblem(t, r, "modified", "does not match its MAC"); p.Seq != 5 || !strings.Contains(p.Detail, seg.File) {
					t.Fatalf("the edited event is not named: %s", p)
				}
			})

			t.Run("a segment file deleted", func(t *testing.T) {
				l := newArchiveLog(t, d)
				first := l.archive(t, l.day1.Add(12*time.Hour)).Segments[0]
				second := l.archive(t, l.day1.Add(36*time.Hour)).Segments[0]
				if second.FirstSeq != first.LastSeq+1 || second.Prev != first.Head {
					t.Fatalf("segments do not chain: %+v %+v", first, second)
				}
				wantOK(t, l.verify(t))
				os.Remove(l.segmentPath(first))
				r := l.verify(t)
				wantProblem(t, r, "deleted", "its file is missing")
				wantProblem(t, r, "checkpoint", "which is missing")
				// Also when the database forgets the segment too.
				if _, err := l.raw.Exec("DELETE FROM audit_segments WHERE number = $1", first.Number); err != nil {
					t.Fatal(err)
				}
				r = l.verify(t)
				wantProblem(t, r, "deleted", "no archive segment holds them")
				wantProblem(t, r, "checkpoint", "which is missing")
			})

			t.Run("a tampered log is not archived", func(t *testing.T) {
				l := newArchiveLog(t, d)
				if _, err := l.raw.Exec("UPDATE audit_events SET actor_name = 'someone else' WHERE id = (SELECT event_id FROM audit_seals WHERE seq = 3)"); err != nil {
					t.Fatal(err)
				}
				if _, err := l.archiver.Archive(context.Background(), l.day1.Add(36*time.Hour)); err == nil || !strings.Contains(err.Error(), "does not verify") {
					t.Fatalf("archive of a tampered log: %v", err)
				}
				if n := l.count(t, "SELECT COUNT(*) FROM audit_segments"); n != 0 {
					t.Fatalf("%d segments recorded", n)
				}
				entries, _ := os.ReadDir(filepath.Join(l.dir, audit.SegmentDir))
				if len(entries) != 0 {
					t.Fatalf("files left: %v", entries)
				}
				wantFirst(t, l.verify(t), "modified", 3)
			})

			t.Run("one archiver at a time, and what a crash leaves", func(t *testing.T) {
				l := newArchiveLog(t, d)
				ctx := context.Background()
				now := l.clock.Now()
				if err := l.db.WriteTx(ctx, func(tx *store.Tx) error {
					ok, err := tx.ClaimLease(ctx, "audit-archive", "another instance", now.Add(time.Minute), now)
					if !ok {
						t.Error("lease not taken")
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
				if rep := l.archive(t, l.day1.Add(36*time.Hour)); !rep.Busy || len(rep.Segments) != 0 {
					t.Fatalf("archive while another holds the lease: %+v", rep)
				}
				// The other instance died: its lease runs out. It left a segment
				// it never recorded; this run sets it aside and writes its own.
				l.clock.Advance(time.Hour)
				segDir := filepath.Join(l.dir, audit.SegmentDir)
				os.MkdirAll(segDir, 0o700)
				os.WriteFile(filepath.Join(segDir, "000001-1-3.jsonl.gz"), []byte("half written"), 0o600)
				os.WriteFile(filepath.Join(segDir, ".tmp-dead-000001-1-3.jsonl.gz"), []byte("half written"), 0o600)
				rep := l.archive(t, l.day1.Add(36*time.Hour))
				if rep.Busy || len(rep.Segments) != 1 {
					t.Fatalf("archive after the lease ran out: %+v", rep)
				}
				entries, _ := os.ReadDir(segDir)
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				// ReadDir sorts by name: the new segment, its note, the old one aside.
				if len(names) != 3 || names[0] != rep.Segments[0].File || !strings.HasPrefix(names[2], "000001-1-3.jsonl.gz.") ||
					!strings.HasSuffix(names[2], ".unrecorded") {
					t.Fatalf("segment directory: %v", names)
				}
				wantOK(t, l.verify(t))
			})
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func writeLines(t *testing.T, path string, lines []string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	io.WriteString(gz, strings.Join(lines, "\n")+"\n")
	gz.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
