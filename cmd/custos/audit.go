package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"custos/internal/audit"
	"custos/internal/service"
	"custos/internal/store"
)

// sealEvery is how often serve seals the audit trail: the longest an event
// stays outside the chain and its checkpoints.
const sealEvery = 2 * time.Second

// startSealer seals the audit trail in the background, as long as the
// server runs; stop ends it and seals what the last requests wrote, before
// the database closes.
func startSealer(ctx context.Context, c Config, db *store.DB, logger *slog.Logger) (stop func(), err error) {
	keys, _, err := audit.LoadOrCreateKeys(c.AuditKeyFile)
	if err != nil {
		return nil, err
	}
	sealer := &audit.Sealer{DB: db, Keys: keys, Dir: c.AuditDir, Logger: logger}
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

// auditCommand runs "custos audit verify": it replays the audit trail
// against its events and every signed checkpoint (in the database and in
// the checkpoint directory) and fails naming the first tampered event.
// "custos audit seal" seals what waits, as serve does every 2 seconds.
func auditCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" && args[0] != "seal" {
		return errors.New(`usage: custos audit verify|seal [flags]`)
	}
	c, err := parseConfig("audit "+args[0], args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	if _, err := os.Stat(c.AuditKeyFile); err != nil {
		return fmt.Errorf("audit key file %s: %w (verification needs the key the trail was written with)", c.AuditKeyFile, err)
	}
	keys, _, err := audit.LoadOrCreateKeys(c.AuditKeyFile)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Options{URL: c.DatabaseURL, Dir: c.DataDir})
	if err != nil {
		return err
	}
	defer db.Close()
	if args[0] == "seal" {
		// Seals whatever waits now (after an upgrade, say), as serve would.
		n, err := (&audit.Sealer{DB: db, Keys: keys, Dir: c.AuditDir, Logger: slog.New(slog.NewTextHandler(stderr, nil))}).SealOnce(ctx)
		fmt.Fprintf(stdout, "sealed %d audit events\n", n)
		return err
	}
	r, err := audit.Verify(ctx, db, keys, c.AuditDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit trail: %d sealed events, %d checkpoints (%d from %s), %d not sealed yet\n",
		r.Events, r.Checkpoints, r.External, c.AuditDir, r.Unsealed)
	if r.OK() {
		fmt.Fprintln(stdout, "OK: every event and checkpoint verifies")
		return nil
	}
	for _, p := range r.Problems {
		fmt.Fprintln(stdout, "  "+p.String())
	}
	return fmt.Errorf("audit trail verification failed: %s", r.Problems[0])
}

// alertEvery is how often serve evaluates the anomaly rules.
const alertEvery = time.Minute

// startAlerts evaluates the anomaly rules in the background while the
// server runs (on PostgreSQL every instance may; each alert is raised once).
func startAlerts(ctx context.Context, svc *service.Service, logger *slog.Logger) (stop func()) {
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(alertEvery)
		defer t.Stop()
		for {
			select {
			case <-jobCtx.Done():
				return
			case <-t.C:
			}
			if raised, err := svc.EvaluateAlerts(jobCtx); err != nil && jobCtx.Err() == nil {
				logger.Error("evaluate anomaly alerts", "err", err)
			} else if len(raised) > 0 {
				logger.Warn("security alerts raised", "count", len(raised))
			}
		}
	}()
	return func() { cancel(); <-done }
}
