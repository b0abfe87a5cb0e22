package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"time"

	"custos/internal/access"
	"custos/internal/service"
)

// maintenanceEvery is how often serve purges the recycle bin, archives
// audit events past their retention and asks whether the retention
// policies are due; all also run once at start.
const maintenanceEvery = time.Hour

// maintenanceJob is one of serve's hourly jobs; each is idempotent and
// safe when several instances run it (they claim their work).
type maintenanceJob struct {
	name string
	run  func(ctx context.Context) error
}

// purgeJob removes what has been in the recycle bin longer than the
// retention window.
func purgeJob(svc *service.Service, logger *slog.Logger) maintenanceJob {
	return maintenanceJob{name: "purge the recycle bin", run: func(ctx context.Context) error {
		rep, err := svc.PurgeRecycleBin(ctx)
		if n := rep.Total(); n > 0 {
			logger.Info("recycle bin purged", "records", n, "by_object", rep.Purged)
		}
		if err != nil {
			return err
		}
		// What old imports kept of their files goes the same way.
		n, err := svc.ForgetOldImports(ctx)
		if n > 0 {
			logger.Info("old imports forgotten", "imports", n)
		}
		if err != nil {
			return err
		}
		// And approved exports nobody downloaded in time: file and key.
		if n, err = svc.ExpireExports(ctx); n > 0 {
			logger.Info("approved exports expired", "exports", n)
		}
		return err
	}}
}

// fixupJob pushes data-quality fix-up tasks to the owners of stale,
// incomplete or invalid records and closes those of records fixed since
// (see service.PushFixupTasks; safe on several instances: at most one
// fix-up per record and problem is open, a key settles it).
func fixupJob(svc *service.Service, logger *slog.Logger) maintenanceJob {
	return maintenanceJob{name: "push data-quality fix-up tasks", run: func(ctx context.Context) error {
		run, err := svc.PushFixupTasks(ctx, access.System("quality fix-ups"))
		if run.Created > 0 || run.Closed > 0 {
			logger.Info("fix-up tasks", "created", run.Created, "closed", run.Closed)
		}
		return err
	}}
}

// campaignJob closes review campaigns at their due date, starts the next
// one of each recurring campaign and keeps the owners' tasks in line with
// their records (see service.RunCampaigns; one instance at a time holds
// its lease, and each step is a conditional write or a key besides).
func campaignJob(svc *service.Service, logger *slog.Logger) maintenanceJob {
	holder := retentionHolder()
	return maintenanceJob{name: "run the review campaigns", run: func(ctx context.Context) error {
		run, err := svc.RunCampaigns(ctx, holder)
		if run.Closed > 0 || run.Started > 0 || run.Tasks != (service.CampaignTaskRun{}) {
			logger.Info("review campaigns", "closed", run.Closed, "started", run.Started, "tasks_created", run.Tasks.Created,
				"tasks_closed", run.Tasks.Closed, "tasks_reopened", run.Tasks.Reopened)
		}
		return err
	}}
}

// retentionEvery is how often the retention policies are applied (across
// all instances: the job's lease and last run are in the database, so the
// hourly maintenance asks and one instance a day runs it).
const retentionEvery = 24 * time.Hour

// retentionJob applies the retention policies: archive and destroy people
// without activity (see service.RunRetention).
func retentionJob(svc *service.Service, logger *slog.Logger) maintenanceJob {
	holder := retentionHolder()
	return maintenanceJob{name: "apply the retention policies", run: func(ctx context.Context) error {
		run, err := svc.RunRetention(ctx, holder, retentionEvery)
		if !run.Skipped {
			logger.Info("retention ran", "archived", run.Archived, "destroyed", run.Destroyed, "held", run.Held, "failed", run.Failed)
		}
		return err
	}}
}

// retentionHolder names this instance in a job's lease (retention, review
// campaigns).
func retentionHolder() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s:%d:%x", host, os.Getpid(), b)
}

// startMaintenance runs the jobs at start and then every maintenanceEvery
// in the background while the server runs; stop ends them (a job under way
// sees its context cancelled between its transactions).
func startMaintenance(ctx context.Context, logger *slog.Logger, jobs ...maintenanceJob) (stop func()) {
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(maintenanceEvery)
		defer t.Stop()
		for {
			for _, j := range jobs {
				if err := j.run(jobCtx); err != nil && jobCtx.Err() == nil {
					logger.Error(j.name, "err", err)
				}
			}
			select {
			case <-jobCtx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
