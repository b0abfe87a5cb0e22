package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"custos/internal/audit"
	"custos/internal/service"
	"custos/internal/store"
)

// sealEvery is how often serve seals the audit trail: the longest an event
// stays outside the chain and its checkpoints.
const sealEvery = 2 * time.Second

// startSealer seals what waits — events written since the last seal by a
// server that crashed or was killed — before it returns, so a restarted
// server answers no request while such events can still be deleted
// unnoticed; then it seals in the background, as long as the server runs.
// stop ends it and seals what the last requests wrote, before the database
// closes.
func startSealer(ctx context.Context, c Config, db *store.DB, keys *audit.Keys, logger *slog.Logger) (stop func(), err error) {
	sealer, err := newSealer(c, db, keys, logger)
	if err != nil {
		return nil, err
	}
	n, err := sealer.SealOnce(ctx)
	switch {
	case errors.Is(err, audit.ErrCheckpointFileMissing):
		// Sealed in the database; the lost file is verify's finding and
		// the operator's to restore, and no reason to stop serving.
		logger.Error("seal audit trail", "err", err)
	case err != nil:
		return nil, fmt.Errorf("seal the audit events waiting since the last run: %w", err)
	case n > 0:
		logger.Info("sealed the audit events waiting since the last run", "events", n)
	}
	sealCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); sealer.Run(sealCtx, sealEvery) }()
	return func() {
		cancel()
		<-done
		if _, err := sealer.SealOnce(context.WithoutCancel(ctx)); err != nil {
			logger.Error("final audit seal", "err", err)
		}
	}, nil
}

// newSealer is the sealer of the audit keys and c's checkpoint directory.
func newSealer(c Config, db *store.DB, keys *audit.Keys, logger *slog.Logger) (*audit.Sealer, error) {
	return &audit.Sealer{DB: db, Keys: keys, Dir: c.AuditDir, Logger: logger}, nil
}

// auditCommand runs "custos audit verify": it replays the audit trail
// (its archive segments, then the database) against its events and every
// signed checkpoint (in the database and in the checkpoint directory) and
// fails naming the first tampered event. "custos audit seal" seals what
// waits, as serve does every 2 seconds; "custos audit archive [-before
// DATE]" moves sealed events before DATE (default: the retention) into
// signed segment files, as serve does every hour.
func auditCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" && args[0] != "seal" && args[0] != "archive" {
		return errors.New(`usage: custos audit verify|seal|archive [-before YYYY-MM-DD] [flags]`)
	}
	before, rest, err := cutValue(args[1:], "before")
	if err != nil {
		return err
	}
	if before != "" && args[0] != "archive" {
		return errors.New("-before belongs to custos audit archive")
	}
	c, err := parseConfig("audit "+args[0], rest, getenv, stderr)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Options{URL: c.DatabaseURL, Dir: c.DataDir})
	if err != nil {
		return err
	}
	defer db.Close()
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	// The audit key is never made here: verification needs the key the
	// trail was written with, and a new one would only make it fail.
	c.useOldDefaults(logger)
	keys, err := audit.LoadKeys(c.AuditKeyFile)
	if err == nil {
		err = service.CheckAuditKey(ctx, db, keys)
	}
	if err != nil {
		return c.explainKeyError(err)
	}
	if args[0] == "archive" {
		cutoff, err := archiveCutoff(c, before, time.Now())
		if err != nil {
			return err
		}
		return runArchive(ctx, &audit.Archiver{DB: db, Keys: keys, Dir: c.AuditDir, Logger: logger, Actor: "cli"}, cutoff, stdout)
	}
	if args[0] == "seal" {
		// Seals whatever waits now (after an upgrade, say), as serve would.
		n, err := (&audit.Sealer{DB: db, Keys: keys, Dir: c.AuditDir, Logger: logger}).SealOnce(ctx)
		fmt.Fprintf(stdout, "sealed %d audit events\n", n)
		return err
	}
	r, err := audit.Verify(ctx, db, keys, c.AuditDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit trail: %d sealed events in the database, %d in %d archive segments, %d checkpoints (%d from %s), %d not sealed yet\n",
		r.Events, r.Archived, r.Segments, r.Checkpoints, r.External, c.AuditDir, r.Unsealed)
	if r.OK() {
		fmt.Fprintln(stdout, "OK: every event and checkpoint verifies")
		return nil
	}
	for _, p := range r.Problems {
		fmt.Fprintln(stdout, "  "+p.String())
	}
	return fmt.Errorf("audit trail verification failed: %s", r.Problems[0])
}

// archiveCutoff is the moment before which "custos audit archive" moves
// events: -before (a date, midnight in the organisation's time zone, or an
// RFC 3339 time), else the retention. A cutoff in the future is refused.
func archiveCutoff(c Config, before string, now time.Time) (time.Time, error) {
	if before == "" {
		if c.AuditRetentionYears == 0 {
			return time.Time{}, errors.New("audit retention is 0 (every event stays in the database): give -before YYYY-MM-DD to archive")
		}
		return now.AddDate(-c.AuditRetentionYears, 0, 0), nil
	}
	zone, err := service.LoadTimeZone(c.TimeZone)
	if err != nil {
		return time.Time{}, fmt.Errorf("timezone %q: %w", c.TimeZone, err)
	}
	t, err := time.ParseInLocation("2006-01-02", before, zone)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, before); err != nil {
			return time.Time{}, fmt.Errorf("-before %q: give a date (YYYY-MM-DD) or an RFC 3339 time", before)
		}
	}
	if t.After(now) {
		return time.Time{}, fmt.Errorf("-before %s is in the future", before)
	}
	return t, nil
}

// runArchive archives and says what it did.
func runArchive(ctx context.Context, a *audit.Archiver, before time.Time, stdout io.Writer) error {
	rep, err := a.Archive(ctx, before)
	for _, s := range rep.Segments {
		fmt.Fprintf(stdout, "archived log positions %d to %d (%d events, %s to %s) into %s\n", s.FirstSeq, s.LastSeq, s.Events,
			s.FirstAt.Format(time.RFC3339), s.LastAt.Format(time.RFC3339), filepath.Join(a.Dir, audit.SegmentDir, s.File))
	}
	switch {
	case err != nil:
		return err
	case rep.Busy:
		fmt.Fprintln(stdout, "another instance is archiving now; nothing done")
	case len(rep.Segments) == 0:
		fmt.Fprintf(stdout, "nothing to archive: no sealed events before %s past the last archive segment (events after the newest checkpoint wait for the next seal)\n", before.Format(time.RFC3339))
	default:
		fmt.Fprintf(stdout, "%d events archived in %d segments, %d rows removed from the database; back up %s\n", rep.Events, len(rep.Segments), rep.Deleted, a.Dir)
	}
	return nil
}

// archiveJob is serve's hourly archive of the events past the retention
// (which must not be 0).
func archiveJob(c Config, db *store.DB, keys *audit.Keys, logger *slog.Logger) maintenanceJob {
	a := &audit.Archiver{DB: db, Keys: keys, Dir: c.AuditDir, Logger: logger, Actor: "audit-archive"}
	return maintenanceJob{name: "archive the audit trail", run: func(ctx context.Context) error {
		rep, err := a.Archive(ctx, time.Now().AddDate(-c.AuditRetentionYears, 0, 0))
		if rep.Events > 0 {
			logger.Info("audit events archived", "events", rep.Events, "segments", len(rep.Segments), "dir", c.AuditDir)
		}
		return err
	}}
}

// alertEvery is how often serve evaluates the anomaly rules, deliverEvery
// how often it sends the alert and notification deliveries that are due,
// and digestEvery how often it looks for users whose morning digest is due.
const (
	alertEvery   = time.Minute
	deliverEvery = 15 * time.Second
	digestEvery  = 5 * time.Minute
)

// startAlerts evaluates the anomaly rules and delivers raised alerts by
// webhook and e-mail, and notifications and their morning digest, in the
// background while the server runs (on
// PostgreSQL every instance may: each alert is raised once, and each
// delivery claimed by one instance at a time).
func startAlerts(ctx context.Context, svc *service.Service, logger *slog.Logger) (stop func()) {
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		evaluate, deliver, digest := time.NewTicker(alertEvery), time.NewTicker(deliverEvery), time.NewTicker(digestEvery)
		defer evaluate.Stop()
		defer deliver.Stop()
		defer digest.Stop()
		for {
			select {
			case <-jobCtx.Done():
				return
			case <-digest.C:
				// The morning digest, once a user's morning has come
				// (leased: one instance at a time; once per user and day
				// in any case); its notifications go out on the next beat.
				if _, err := svc.RunDigest(jobCtx); err != nil && jobCtx.Err() == nil {
					logger.Error("morning digest", "err", err)
				}
				continue
			case <-evaluate.C:
				raised, err := svc.EvaluateAlerts(jobCtx)
				if err != nil && jobCtx.Err() == nil {
					logger.Error("evaluate anomaly alerts", "err", err)
				}
				if len(raised) == 0 {
					continue
				}
				logger.Warn("security alerts raised", "count", len(raised)) // and delivered at once
			case <-deliver.C:
			}
			// Failures are kept on each delivery and retried; only a
			// database error ends up here. No secret is in either.
			if _, err := svc.DeliverAlerts(jobCtx); err != nil && jobCtx.Err() == nil {
				logger.Error("deliver security alerts", "err", err)
			}
			// Notifications go out on the same beat.
			if _, err := svc.DeliverNotifications(jobCtx); err != nil && jobCtx.Err() == nil {
				logger.Error("deliver notifications", "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}
