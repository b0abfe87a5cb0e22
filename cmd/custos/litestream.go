package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"custos/internal/access"
	"custos/internal/backup"
	"custos/internal/compliance"
	"custos/internal/service"
	"custos/internal/store"
)

// Litestream (https://litestream.io) replicates a SQLite database
// continuously, beside Custos, to a directory or a bucket: a recovery point
// of seconds instead of the last scheduled backup. Custos does not link it;
// the operator runs `litestream replicate` next to `custos serve`, and these
// helpers run `litestream restore` to check or to recover from a replica
// (docs/operations.md, "A replica of seconds: Litestream").

// replicaBackup restores the newest state of a Litestream replica into
// scratch (a directory of its own under tmp) with the litestream command
// and takes a portable backup of it into dir, encrypted to recipients: a
// drill then checks the replica exactly as it checks a backup, and a
// restore recovers from it like from any backup. The installation's audit
// directory is only read — the backup keeps its checkpoints up to the
// replica's newest and the archive segments the replica records — never
// written: the replica is not opened as a running Custos would open it.
func replicaBackup(ctx context.Context, c Config, bin, replica, tmp, dir string, recipients []age.Recipient) (string, *backup.Manifest, error) {
	if c.DatabaseURL != "" {
		return "", nil, errors.New("a Litestream replica is of a SQLite database; this installation uses PostgreSQL (see docs/operations.md for its point-in-time recovery)")
	}
	scratch := filepath.Join(tmp, "replica")
	if err := os.MkdirAll(scratch, 0o700); err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "restore", "-o", filepath.Join(scratch, "custos.db"), replica)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("%s restore %s: %w: %s", bin, replica, err, strings.TrimSpace(string(out)))
	}
	keys, v, err := c.restoreKeys(ctx)
	if err != nil {
		return "", nil, err
	}
	v.Close()
	db, err := store.Open(ctx, store.Options{Dir: scratch})
	if err != nil {
		return "", nil, fmt.Errorf("the restored replica: %w", err)
	}
	defer db.Close()
	return backup.Create(ctx, backup.CreateOptions{DB: db, Keys: keys, AuditDir: c.AuditDir, Dir: dir,
		Recipients: recipients, Version: version})
}

// replicaScratch is a replica turned into a backup in scratch, encrypted
// to a key made for one drill and never written down.
type replicaScratch struct {
	path     string
	id       *age.X25519Identity
	manifest *backup.Manifest
	tmp      string
}

func (r replicaScratch) remove() {
	if r.tmp != "" {
		os.RemoveAll(r.tmp)
	}
}

// scratchReplica restores a replica and backs it up into scratch for a
// drill; remove the scratch whatever the error.
func scratchReplica(ctx context.Context, c Config, bin, replica string) (replicaScratch, error) {
	var r replicaScratch
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return r, err
	}
	if r.tmp, err = os.MkdirTemp("", "custos-replica-"); err != nil {
		return r, err
	}
	r.id = id
	r.path, r.manifest, err = replicaBackup(ctx, c, bin, replica, r.tmp, filepath.Join(r.tmp, "backup"), []age.Recipient{id.Recipient()})
	return r, err
}

// replicaSource is a Litestream replica seen as the source of one drill:
// fetching it restores the replica and backs it up into the drill's scratch,
// encrypted to a key made for this drill alone. The history names the
// replica (its URL without credentials), and a replica that cannot be
// restored is a failed drill in it like a backup that cannot be fetched.
type replicaSource struct {
	backup.Destination // the rest of the interface; a drill only fetches
	c                  Config
	replica            string
	id                 *age.X25519Identity
}

func (r replicaSource) Where(string) string {
	if u, err := url.Parse(r.replica); err == nil {
		return "Litestream replica " + u.Redacted()
	}
	return "Litestream replica"
}

func (r replicaSource) Get(ctx context.Context, _, scratch string) (string, error) {
	path, _, err := replicaBackup(ctx, r.c, r.c.LitestreamBin, r.replica, scratch, filepath.Join(scratch, "backup"), []age.Recipient{r.id.Recipient()})
	return path, err
}

// drillReplica is serve's scheduled drill of the Litestream replica: it is
// restored, backed up into scratch and drilled like a backup (the drill is
// in the backup history); any failure raises the drill_failed alert.
func drillReplica(ctx context.Context, c Config, svc *service.Service) error {
	err := func() error {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return err
		}
		src := replicaSource{Destination: backup.Dir(os.TempDir()), c: c, replica: c.DrillLitestream, id: id}
		_, err = svc.ScratchDrill(ctx, access.System("custos serve"), src, "replica", []age.Identity{id}, "", "", 50)
		return err
	}()
	if err != nil {
		detail := "the restore drill of the Litestream replica " + c.DrillLitestream + " failed: " + err.Error()
		if _, aerr := svc.RaiseOperationalAlert(ctx, compliance.AlertDrillFailed, detail); aerr != nil {
			err = errors.Join(err, aerr)
		}
	}
	return err
}

// startReplicaDrills drills the replica every -drill-every while serve
// runs (the first after one period: a start has enough to do).
func startReplicaDrills(ctx context.Context, c Config, svc *service.Service, logger *slog.Logger) (stop func()) {
	return runEvery(ctx, c.DrillEvery, func(ctx context.Context) {
		if err := drillReplica(ctx, c, svc); err != nil {
			logger.Error("restore drill of the Litestream replica", "replica", c.DrillLitestream, "err", err)
			return
		}
		logger.Info("restore drill of the Litestream replica passed", "replica", c.DrillLitestream)
	})
}
