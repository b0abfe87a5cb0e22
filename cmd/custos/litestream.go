package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"custos/internal/backup"
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
