package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"

	"custos/internal/access"
	"custos/internal/backup"
	"custos/internal/compliance"
	"custos/internal/crm"
	"custos/internal/store"
)

// Scheduled backups and drills (serve -backup-dir): one instance at a time
// (a lease in job_leases), due from the history in the database, so
// several instances on one PostgreSQL make one backup per period between
// them.

// BackupJob and DrillJob name the leases of the scheduled backup and drill.
const (
	BackupJob = "backup"
	DrillJob  = "backup-drill"
)

// backupLease bounds how long an instance that died mid-backup keeps
// others from backing up.
const backupLease = 2 * time.Hour

// backupRetry is the longest wait before a failed scheduled backup is
// tried again.
const backupRetry = 15 * time.Minute

// BackupSchedule is serve's backup plan.
type BackupSchedule struct {
	// BackupOptions.Dir is the first destination (empty: the backup is
	// made in a temporary directory and Copies[0] is the first).
	BackupOptions
	Copies []backup.Destination // further destinations: directories, buckets
	Every  time.Duration
	Keep   backup.Keep
	// DrillEvery is how often the newest backup is restored into scratch
	// and checked (0: never); the drill needs Identities.
	DrillEvery time.Duration
	Identities []age.Identity
	// DatabaseURL is the PostgreSQL database whose scratch schema a drill
	// restores into (empty: SQLite, a temporary directory).
	DatabaseURL string
	Holder      string // names this instance in the leases
}

// ScheduleRun is what one look at the schedule did.
type ScheduleRun struct {
	Backup  string   // the backup made, if one was due
	Removed []string // backups the retention removed
	Drilled string   // the backup drilled, if a drill was due
	Alerts  []string // operational alerts raised
}

// RunBackupSchedule makes a backup when one is due (none for Every),
// prunes every destination by the retention, raises an alert when a backup
// failed or none succeeded for twice Every, and drills the newest backup
// when a drill is due; a failed drill raises an alert too.
func (s *Service) RunBackupSchedule(ctx context.Context, o BackupSchedule) (ScheduleRun, error) {
	var run ScheduleRun
	sys := access.System("backup schedule")
	now := s.clock()
	last, found, err := s.lastRun(ctx, crm.BackupKindBackup, "ok")
	if err != nil {
		return run, err
	}
	due := !found || now.Sub(last.StartedAt) >= o.Every
	if tried, ok, err := s.lastRun(ctx, crm.BackupKindBackup, ""); err != nil {
		return run, err
	} else if ok && tried.Outcome != "ok" && now.Sub(tried.StartedAt) < min(o.Every, backupRetry) {
		due = false // a failed attempt is retried after a pause, not every minute
	}
	if due {
		ok, err := s.withLease(ctx, BackupJob, o.Holder, func() error {
			// Another instance may have backed up while this one waited.
			if last, found, err = s.lastRun(ctx, crm.BackupKindBackup, "ok"); err != nil || found && now.Sub(last.StartedAt) < o.Every {
				return err
			}
			path, _, err := s.CreateBackup(ctx, sys, o.BackupOptions, o.Copies...)
			if err != nil {
				s.alert(ctx, compliance.AlertBackupFailed, "the scheduled backup failed: "+err.Error(), &run)
				return err
			}
			run.Backup, last, found = path, crm.BackupRun{StartedAt: now}, true
			for _, d := range o.destinations() {
				removed, err := backup.Prune(ctx, d, o.Keep, now)
				run.Removed = append(run.Removed, removed...)
				if err != nil {
					return fmt.Errorf("backup retention in %s: %w", d, err)
				}
			}
			return nil
		})
		if err != nil || !ok {
			s.lateAlert(ctx, o, now, last, found, &run)
			return run, err
		}
	}
	s.lateAlert(ctx, o, now, last, found, &run)
	if o.DrillEvery <= 0 || len(o.Identities) == 0 {
		return run, nil
	}
	drilled, found, err := s.lastRun(ctx, crm.BackupKindDrill, "")
	if err != nil || found && now.Sub(drilled.StartedAt) < o.DrillEvery {
		return run, err
	}
	_, err = s.withLease(ctx, DrillJob, o.Holder, func() error {
		if drilled, found, err := s.lastRun(ctx, crm.BackupKindDrill, ""); err != nil || found && now.Sub(drilled.StartedAt) < o.DrillEvery {
			return err
		}
		dests := o.destinations()
		if len(dests) == 0 {
			return nil
		}
		first := dests[0]
		all, err := first.List(ctx)
		if err != nil || len(all) == 0 {
			return err
		}
		run.Drilled = first.Where(all[len(all)-1])
		if _, err := s.ScratchDrill(ctx, sys, first, all[len(all)-1], o.Identities, o.DatabaseURL, "", 50); err != nil {
			s.alert(ctx, compliance.AlertDrillFailed, "the restore drill of "+run.Drilled+" failed: "+err.Error(), &run)
			return err
		}
		return nil
	})
	return run, err
}

// destinations are where the schedule's backups are kept, the first
// first.
func (o BackupSchedule) destinations() []backup.Destination {
	if o.Dir == "" {
		return o.Copies
	}
	return append([]backup.Destination{backup.Dir(o.Dir)}, o.Copies...)
}

// lateAlert raises an alert when no backup succeeded for twice the period
// (before the first success, a failed attempt raises its own).
func (s *Service) lateAlert(ctx context.Context, o BackupSchedule, now time.Time, last crm.BackupRun, found bool, run *ScheduleRun) {
	if !found || now.Sub(last.StartedAt) <= 2*o.Every {
		return
	}
	s.alert(ctx, compliance.AlertBackupLate, fmt.Sprintf("no backup has succeeded since %s (planned every %s)",
		last.StartedAt.UTC().Format(time.RFC3339), o.Every), run)
}

// ScratchDrill drills the backup called name in d (downloaded first if it
// is not local) into scratch it makes and removes: a temporary directory
// on SQLite; on PostgreSQL scratchURL (an empty database), else a scratch
// schema in the database at databaseURL.
func (s *Service) ScratchDrill(ctx context.Context, a *access.Actor, d backup.Destination, name string, ids []age.Identity, databaseURL, scratchURL string, sample int) (DrillReport, error) {
	if err := s.requireAdmin(ctx, a, "backup"); err != nil {
		return DrillReport{}, err
	}
	tmp, err := os.MkdirTemp("", "custos-drill-")
	if err != nil {
		return DrillReport{}, err
	}
	defer os.RemoveAll(tmp)
	path, err := d.Get(ctx, name, filepath.Join(tmp, "download"))
	if err != nil {
		// Recorded like any failed drill, so the history and the alert
		// name the backup that could not be fetched.
		return DrillReport{}, s.recordRun(ctx, a, "backup.drill", crm.BackupRun{Kind: crm.BackupKindDrill, StartedAt: s.clock(), Path: d.Where(name)},
			map[string]any{"backup": d.Where(name)}, err)
	}
	scratch := store.Options{Dir: filepath.Join(tmp, "data")}
	if databaseURL != "" {
		scratch = store.Options{URL: scratchURL}
		if scratchURL == "" {
			u, drop, err := store.ScratchSchema(ctx, databaseURL)
			if err != nil {
				return DrillReport{}, err
			}
			defer drop()
			scratch.URL = u
		}
	}
	return s.DrillBackup(ctx, a, DrillOptions{From: path, Source: d.Where(name), Identities: ids, Scratch: scratch,
		ScratchAuditDir: filepath.Join(tmp, "audit"), Sample: sample})
}

// withLease runs fn holding the named lease; ok is false when another
// instance holds it.
func (s *Service) withLease(ctx context.Context, name, holder string, fn func() error) (ok bool, err error) {
	now := s.clock()
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) (err error) {
		ok, err = tx.ClaimLease(ctx, name, holder, now.Add(backupLease), now)
		return err
	}); err != nil || !ok {
		return false, err
	}
	defer func() {
		done := context.WithoutCancel(ctx)
		if rerr := s.db.WriteTx(done, func(tx *store.Tx) error { return tx.ReleaseLease(done, name, holder) }); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}()
	return true, fn()
}

func (s *Service) lastRun(ctx context.Context, kind, outcome string) (r crm.BackupRun, found bool, err error) {
	err = s.db.ReadTx(ctx, func(tx *store.Tx) error {
		r, found, err = tx.LastBackupRun(ctx, kind, outcome)
		return err
	})
	return r, found, err
}

// alert raises an operational alert; failing to raise it is logged, since
// the failure it reports is what the caller returns.
func (s *Service) alert(ctx context.Context, rule, detail string, run *ScheduleRun) {
	raised, err := s.RaiseOperationalAlert(ctx, rule, detail)
	if err != nil {
		s.logger.Error("raise an operational alert", "rule", rule, "err", err)
	}
	if raised {
		run.Alerts = append(run.Alerts, rule)
	}
}
