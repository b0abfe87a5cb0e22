package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"custos/internal/crm"
	"custos/internal/store"
)

// CheckpointFile is the file in the checkpoint directory that receives one
// JSON line per checkpoint; keep the directory on another disk than the
// database.
const CheckpointFile = "checkpoints.jsonl"

// sealBatch bounds the events sealed in one transaction.
const sealBatch = 2000

// Sealer seals the audit trail: one per database (on PostgreSQL the
// instance holding the seal lock; the others find nothing to do).
type Sealer struct {
	DB     *store.DB
	Keys   *Keys
	Dir    string // where checkpoints are written outside the database
	Logger *slog.Logger
	Now    func() time.Time
	// exported is the largest checkpoint known to be in the checkpoint
	// file; known tells whether it was read from the file yet.
	exported int64
	known    bool
}

// Run seals every interval until ctx ends.
func (s *Sealer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.SealOnce(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Error("seal audit trail", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SealOnce seals the events waiting (in batches), signs a checkpoint of the
// new head and writes it outside the database. It returns how many events
// it sealed.
func (s *Sealer) SealOnce(ctx context.Context) (int, error) {
	total := 0
	var lost error // the checkpoint file is gone: seal on, report it at the end
	for {
		n, cp, fresh, err := s.sealBatch(ctx)
		if err != nil {
			return total, err
		}
		if cp != nil {
			if err := s.writeExternal(*cp, fresh); errors.Is(err, ErrCheckpointFileMissing) {
				lost = err
			} else if err != nil {
				return total, err
			}
		}
		total += n
		if n < sealBatch {
			if lost != nil {
				return total, lost
			}
			return total, s.catchUpExternal(ctx)
		}
	}
}

// catchUpExternal appends the database's newest checkpoint to the
// checkpoint file when the file lacks it: a write that failed (or a crash
// between the commit and the write), or another instance's seal on
// PostgreSQL. The file then never stays shorter than the sealed trail,
// which custos audit verify reports as tampering.
func (s *Sealer) catchUpExternal(ctx context.Context) error {
	if s.Dir == "" {
		return nil
	}
	var last store.Checkpoint
	var ok bool
	if err := s.DB.ReadTx(ctx, func(tx *store.Tx) (err error) { last, ok, err = tx.LastCheckpoint(ctx); return err }); err != nil || !ok {
		return err
	}
	if !s.known {
		size, found, err := lastExternalSize(s.Dir)
		if err != nil {
			return err
		}
		if !found {
			return s.missingExternal(last.Size)
		}
		s.exported, s.known = size, true
	}
	if s.exported >= last.Size {
		return nil
	}
	return s.writeExternal(last, false)
}

// ErrCheckpointFileMissing is returned by SealOnce when the checkpoint
// file is gone while the database holds checkpoints: the events are sealed
// in the database all the same, and the file must be restored.
var ErrCheckpointFileMissing = errors.New("audit: the checkpoint file is missing")

func (s *Sealer) missingExternal(size int64) error {
	return fmt.Errorf("%w: %s, while the database holds checkpoints up to log position %d: restore it from its backup (custos audit verify fails until then); a new one is not started, so the loss stays visible",
		ErrCheckpointFileMissing, filepath.Join(s.Dir, CheckpointFile), size)
}

// sealBatch seals up to sealBatch events; fresh reports that the log was
// empty before, so the checkpoint made is its first.
func (s *Sealer) sealBatch(ctx context.Context) (int, *store.Checkpoint, bool, error) {
	var sealed int
	var cp *store.Checkpoint
	fresh := false
	err := s.DB.WriteTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.TrySealLock(ctx)
		if err != nil || !ok {
			return err
		}
		seq, head, err := tx.LastSealed(ctx)
		if err != nil {
			return err
		}
		fresh = seq == 0
		legacy, err := legacyMaxID(ctx, tx)
		if err != nil {
			return err
		}
		events, err := tx.UnsealedAuditEvents(ctx, sealBatch)
		if err != nil {
			return err
		}
		seals := make([]store.Seal, 0, len(events))
		for i := range events {
			e := &events[i]
			if !s.Keys.genuine(e, legacy) {
				// Not written by Custos: keep it out of the log; verify names it.
				if err := tx.RefuseAuditEvent(ctx, e.ID); err != nil {
					return err
				}
				s.Logger.Error("audit event without a valid MAC refused by the sealer", "event_id", e.ID)
				continue
			}
			seq++
			head = link(head, seq, e)
			seals = append(seals, store.Seal{EventID: e.ID, Seq: seq, Link: head})
		}
		if sealed = len(seals); sealed == 0 {
			return nil
		}
		if err := tx.SealAuditEvents(ctx, seals); err != nil {
			return err
		}
		c, err := s.checkpoint(seq, head, legacy)
		if err != nil {
			return err
		}
		cp = &c
		return tx.InsertCheckpoint(ctx, c)
	})
	return sealed, cp, fresh, err
}

// genuine reports whether an event may enter the log: stamped by Custos,
// or written before stamping existed (ids up to legacy).
func (k *Keys) genuine(e *crm.AuditEvent, legacy int64) bool {
	if e.MAC == "" {
		return e.ID <= legacy
	}
	return k.validMAC(e)
}

func legacyMaxID(ctx context.Context, tx *store.Tx) (int64, error) {
	v, err := tx.GetSetting(ctx, "audit_legacy_max_id")
	if err != nil || v == "" {
		return 0, err
	}
	return strconv.ParseInt(v, 10, 64)
}

// checkpoint signs the log's size and head. The body follows the
// transparency-log checkpoint layout (origin, size, head) plus the legacy
// boundary, so an altered settings row cannot admit unstamped events.
func (s *Sealer) checkpoint(size int64, head string, legacy int64) (store.Checkpoint, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	text := fmt.Sprintf("%s\n%d\n%s\nlegacy %d\n", Origin, size, head, legacy)
	signed, err := note.Sign(&note.Note{Text: text}, s.Keys.signer)
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	return store.Checkpoint{Size: size, Head: head, Note: string(signed), CreatedAt: now().UTC()}, nil
}

// writeExternal appends a checkpoint to the file outside the database and
// syncs it. A failure is returned (and logged by Run): the checkpoint is in
// the database already and the next seal writes it out (catchUpExternal).
// Only the log's first checkpoint (fresh) may create the file: a file gone
// later was lost or deleted, and starting a new one would hide that.
func (s *Sealer) writeExternal(c store.Checkpoint, fresh bool) error {
	if s.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("audit: checkpoint directory: %w", err)
	}
	flags := os.O_WRONLY | os.O_APPEND
	if fresh {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, CheckpointFile), flags, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return s.missingExternal(c.Size)
	}
	if err != nil {
		return fmt.Errorf("audit: checkpoint file: %w", err)
	}
	b, _ := json.Marshal(c)
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("audit: write checkpoint: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if s.known || fresh {
		s.exported, s.known = max(s.exported, c.Size), true
	}
	return nil
}

// lastExternalSize returns the size of the last checkpoint in the
// checkpoint file, reading only its tail (the file grows with every seal);
// found is false when there is no file.
func lastExternalSize(dir string) (size int64, found bool, err error) {
	f, err := os.Open(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("audit: checkpoint file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, true, fmt.Errorf("audit: checkpoint file: %w", err)
	}
	const tail = 64 << 10
	off := max(fi.Size()-tail, 0)
	b := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil {
		return 0, true, fmt.Errorf("audit: checkpoint file: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		var c store.Checkpoint
		if json.Unmarshal([]byte(line), &c) == nil && c.Size > size {
			size = c.Size
		}
	}
	return size, true, nil
}

// parseCheckpoint verifies a checkpoint's signature and reads its body.
func (k *Keys) parseCheckpoint(signed string) (size int64, head string, legacy int64, err error) {
	n, err := note.Open([]byte(signed), note.VerifierList(k.verifier))
	if err != nil {
		return 0, "", 0, fmt.Errorf("signature does not verify: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) != 4 || lines[0] != Origin {
		return 0, "", 0, fmt.Errorf("not a %s checkpoint", Origin)
	}
	if size, err = strconv.ParseInt(lines[1], 10, 64); err != nil {
		return 0, "", 0, fmt.Errorf("bad size: %w", err)
	}
	if _, err := fmt.Sscanf(lines[3], "legacy %d", &legacy); err != nil {
		return 0, "", 0, fmt.Errorf("bad legacy line: %w", err)
	}
	return size, lines[2], legacy, nil
}

// Signs reports whether the checkpoint was signed by these keys: start-up
// tells the audit key of a database that records none yet (written before
// keys were bound to it) from a foreign one by its newest checkpoint.
func (k *Keys) Signs(c store.Checkpoint) bool {
	size, head, _, err := k.parseCheckpoint(c.Note)
	return err == nil && size == c.Size && head == c.Head
}
