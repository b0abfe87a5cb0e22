package service

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/transfer"
)

// ImportRequest is a file to import and the choices made for it.
type ImportRequest struct {
	Object crm.Object
	// Source names where the file's external ids come from (another CRM,
	// a spreadsheet series); "" is "default". Re-imports from the same
	// source update what earlier rounds created.
	Source   string
	FileName string
	File     io.ReaderAt
	Size     int64
	// Options.Mapping nil means the suggested mapping.
	Options crm.ImportOptions
}

// ImportPreview is what the dry run found: nothing is written to any
// record until the import is committed.
type ImportPreview struct {
	Import    crm.Import        `json:"import"`
	File      transfer.Info     `json:"file"`
	Header    []string          `json:"header"`
	Suggested map[string]string `json:"suggested_mapping"`
	// Rows are the first rows with their planned action (problems first).
	Rows []crm.ImportRow `json:"rows"`
}

// MaxImportBytes bounds an import file (the surfaces refuse a larger
// upload before reading it).
const MaxImportBytes = 512 << 20

// importChunk is the size of the pieces the file is stored in.
const importChunk = 1 << 20

// previewRowsShown bounds the rows a preview returns (all are stored).
const previewRowsShown = 200

// importingKey marks a context whose duplicate checks belong to an import:
// they are audited with the import (file, hash, counts), not one by one as
// an entry's lookups, and do not count toward the hourly search limit —
// the import's own size limit and approval bound them instead.
type importingKey struct{}

func importing(ctx context.Context) bool { return ctx.Value(importingKey{}) != nil }

// PreviewImport stores the file (sealed) as a new import and runs every row
// through the object's entry checks without writing a record: the planned
// action of each row, its problems in the user's language, duplicates in
// the organisation and within the file.
func (s *Service) PreviewImport(ctx context.Context, a *access.Actor, req ImportRequest) (ImportPreview, error) {
	if err := s.mayImport(ctx, a, req.Object); err != nil {
		return ImportPreview{}, err
	}
	if err := checkImportRequest(&req); err != nil {
		return ImportPreview{}, err
	}
	// A file that cannot be read is refused before anything is stored.
	rd, _, err := transfer.Open(req.File, req.Size, req.FileName, transfer.Options{Encoding: req.Options.Encoding, Sheet: req.Options.Sheet})
	if err != nil {
		return ImportPreview{}, err
	}
	rd.Close()
	im, err := s.storeImport(ctx, a, req)
	if err != nil {
		return ImportPreview{}, err
	}
	return s.preview(ctx, a, im, req.File)
}

// RepreviewImport previews a stored import again with other choices (a
// mapping, an encoding or sheet, an owner rule): the file is not sent again.
func (s *Service) RepreviewImport(ctx context.Context, a *access.Actor, id int64, opts crm.ImportOptions) (ImportPreview, error) {
	im, err := s.GetImport(ctx, a, id)
	if err != nil {
		return ImportPreview{}, err
	}
	if im.CreatedBy != a.UserID {
		return ImportPreview{}, crm.ErrForbidden()
	}
	if err := s.mayImport(ctx, a, im.Object); err != nil {
		return ImportPreview{}, err
	}
	req := ImportRequest{Object: im.Object, Source: im.Source, FileName: im.FileName, Size: im.FileSize, Options: opts}
	if err := checkImportRequest(&req); err != nil {
		return ImportPreview{}, err
	}
	if im.Status != crm.ImportPreviewed {
		return ImportPreview{}, &crm.Error{Code: crm.Conflict, Key: "import_state", Message: "the import is " + string(im.Status) + " and cannot be previewed again"}
	}
	ring, err := s.vault.DataKeys(ctx, []string{im.DataKey})
	if err != nil {
		return ImportPreview{}, err
	}
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.ClearImportRows(ctx, id) }); err != nil {
		return ImportPreview{}, err
	}
	im.Options = opts
	return s.preview(ctx, a, im, &storedFile{ctx: ctx, s: s, im: im, ring: ring, seq: -1})
}

// mayImport checks that the object takes imports and the actor may create
// its records.
func (s *Service) mayImport(ctx context.Context, a *access.Actor, o crm.Object) error {
	if objectHooks[o].imports == nil {
		return &crm.Error{Code: crm.Invalid, Message: "this object cannot be imported",
			Fields: []crm.FieldError{{Field: "object", Rule: "enum", Param: crm.JoinObjects(ImportObjects())}}}
	}
	return s.require(ctx, a, o, crm.ActCreate)
}

// preview is the dry run of a stored import over its file.
func (s *Service) preview(ctx context.Context, a *access.Actor, im crm.Import, file io.ReaderAt) (ImportPreview, error) {
	var out ImportPreview
	customs, err := s.CustomFields(ctx, a, im.Object)
	if err != nil {
		return out, err
	}
	rd, info, err := transfer.Open(file, im.FileSize, im.FileName, transfer.Options{Encoding: im.Options.Encoding, Sheet: im.Options.Sheet})
	if err != nil {
		return out, err
	}
	defer rd.Close()
	out.File, out.Header = info, rd.Header()
	out.Suggested = SuggestMapping(im.Object, out.Header, customs)
	if im.Options.Mapping == nil {
		im.Options.Mapping = out.Suggested
	}
	im.Options.Encoding, im.Options.Sheet = info.Encoding, info.Sheet
	// A mapping that does not fit leaves the import stored, to be
	// previewed again with a better one (RepreviewImport): out names it.
	out.Import = im
	plan, err := newImportPlan(im.Object, out.Header, im.Options, customs, s.Location(a))
	if err != nil {
		return out, err
	}
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.SetImportOptions(ctx, im.ID, im.Options) }); err != nil {
		return out, err
	}
	dry := &importRun{s: s, a: importActor(a, im.ID), im: im, plan: plan, hooks: objectHooks[im.Object].imports, dry: true}
	if err := dry.start(ctx); err != nil {
		return out, err
	}
	rows, total, err := dry.all(ctx, rd)
	if err != nil {
		return out, err
	}
	im.Total, im.ImportCounts = total, dry.counts
	err = s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetImportPlan(ctx, im.ID, total, dry.counts); err != nil {
			return err
		}
		return s.audit(ctx, tx, dry.a, "import.preview", im.Object, 0, importSummary(im))
	})
	out.Import, out.Rows = im, rows
	return out, err
}

// checkImportRequest refuses what cannot be an import before reading it.
func checkImportRequest(req *ImportRequest) error {
	var p crm.Problems
	req.FileName = p.Text("file_name", req.FileName, true, 255)
	if req.Source = strings.TrimSpace(req.Source); req.Source == "" {
		req.Source = "default"
	}
	req.Source = p.Text("source", req.Source, true, 100)
	if req.Size <= 0 {
		p.Add("file", "empty_file")
	} else if req.Size > MaxImportBytes {
		p.Add("file", "too_large", strconv.Itoa(MaxImportBytes>>20)+" MB")
	}
	switch req.Options.OwnerRule {
	case "", crm.OwnerImporter, crm.OwnerColumn, crm.OwnerPool:
	case crm.OwnerRoundRobin:
		if len(req.Options.Owners) == 0 && req.Options.DeptID == 0 {
			p.Add("owners", "required")
		}
	default:
		p.Add("owner_rule", "enum", strings.Join([]string{crm.OwnerImporter, crm.OwnerColumn, crm.OwnerRoundRobin, crm.OwnerPool}, ", "))
	}
	if req.Options.OwnerRule == crm.OwnerPool && req.Object != crm.ObjCustomer {
		p.Add("owner_rule", "pool_customers_only")
	}
	return p.Err()
}

// storeImport seals the file under a key of its own and stores it with
// the new import, so the commit job can read it on any instance, after
// any restart, and nobody can read it once the key is erased.
func (s *Service) storeImport(ctx context.Context, a *access.Actor, req ImportRequest) (crm.Import, error) {
	im := crm.Import{Object: req.Object, Source: req.Source, FileName: req.FileName, FileSize: req.Size,
		Options: req.Options, Status: crm.ImportPreviewed, CreatedBy: a.UserID, CreatedAt: s.clock()}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(req.File, 0, req.Size)); err != nil {
		return im, err
	}
	im.FileHash = hex.EncodeToString(h.Sum(nil))
	var err error
	if im.DataKey, err = s.newPersonKey(ctx); err != nil {
		return im, err
	}
	ring, err := s.vault.DataKeys(ctx, []string{im.DataKey})
	if err != nil {
		return im, err
	}
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.InsertImport(ctx, &im) }); err != nil {
		return im, err
	}
	buf := make([]byte, importChunk)
	for seq, off := 0, int64(0); off < req.Size; seq++ {
		n, err := req.File.ReadAt(buf, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return im, err
		}
		sealed, err := ring.Seal(im.DataKey, "import.file", string(buf[:n]))
		if err != nil {
			return im, err
		}
		if err := s.db.WriteTx(ctx, func(tx *store.Tx) error { return tx.PutImportChunk(ctx, im.ID, seq, sealed) }); err != nil {
			return im, err
		}
		off += int64(n)
	}
	return im, nil
}

// importActor is the importer acting within one import: every audit event
// of it carries the import's id.
func importActor(a *access.Actor, id int64) *access.Actor {
	c := *a
	c.RequestID = "import-" + strconv.FormatInt(id, 10)
	return &c
}

// importSummary is what the audit trail keeps of an import.
func importSummary(im crm.Import) map[string]any {
	return map[string]any{"import_id": im.ID, "file_name": im.FileName, "file_sha256": im.FileHash, "source": im.Source,
		"rows": im.Total, "counts": im.ImportCounts, "status": im.Status}
}

// GetImport returns an import its creator or an administrator may see.
func (s *Service) GetImport(ctx context.Context, a *access.Actor, id int64) (crm.Import, error) {
	var im crm.Import
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		im, err = tx.GetImport(ctx, id)
		return err
	})
	if err != nil {
		return im, err
	}
	if im.CreatedBy != a.UserID && !a.IsAdmin() {
		return crm.Import{}, crm.ErrNotFound("import")
	}
	return im, nil
}

// ImportProgress is how far a running import got and how fast it goes.
type ImportProgress struct {
	Percent    int     `json:"percent"`
	RowsPerSec float64 `json:"rows_per_second"`
	SecondsTo  int     `json:"seconds_left"`
}

// Progress computes an import's progress at now.
func Progress(im crm.Import, now time.Time) ImportProgress {
	var p ImportProgress
	if im.Total > 0 {
		p.Percent = im.DoneRows * 100 / im.Total
	}
	if im.StartedAt == nil || im.DoneRows == 0 {
		return p
	}
	end := now
	if im.FinishedAt != nil {
		end = *im.FinishedAt
	}
	if secs := end.Sub(*im.StartedAt).Seconds(); secs > 0 {
		p.RowsPerSec = float64(im.DoneRows) / secs
		p.SecondsTo = int(float64(im.Total-im.DoneRows) / p.RowsPerSec)
	}
	return p
}

// ImportRows returns rows of an import after a line: all, or only those
// with a problem; with their original cells (opened) for the error report.
func (s *Service) ImportRows(ctx context.Context, a *access.Actor, id int64, after, limit int, problems bool) ([]crm.ImportRow, error) {
	im, err := s.GetImport(ctx, a, id)
	if err != nil {
		return nil, err
	}
	var rows []crm.ImportRow
	var raws []string
	err = s.db.ReadTx(ctx, func(tx *store.Tx) error {
		rows, raws, err = tx.ImportRows(ctx, id, after, limit, problems)
		return err
	})
	// The original cells are shown to the person who uploaded them only:
	// an administrator reviewing someone's import sees outcomes and
	// reasons, not values their field rules might mask.
	if err != nil || !problems || im.DataKey == "" || im.CreatedBy != a.UserID {
		return rows, err
	}
	if err := s.auditRead(ctx, a, "import.errors", im.Object, 0, nil); err != nil {
		return nil, err
	}
	ring, err := s.vault.DataKeys(ctx, []string{im.DataKey})
	if err != nil {
		return nil, err
	}
	for i, raw := range raws {
		if raw == "" || ring.Erased(im.DataKey) {
			continue
		}
		if rows[i].Raw, err = openCells(ring, im.DataKey, raw); err != nil {
			return nil, err
		}
	}
	return rows, nil
}

// ActorByName returns the actor of a user named by user name or e-mail,
// for the CLI; "" names the first active administrator.
func (s *Service) ActorByName(ctx context.Context, name string) (*access.Actor, error) {
	var users []crm.User
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		users, err = tx.ListUsers(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(users, func(a, b crm.User) int { return cmp.Compare(a.ID, b.ID) })
	for _, u := range users {
		if u.Disabled || name != "" && !strings.EqualFold(u.Username, name) && !strings.EqualFold(u.Email, name) {
			continue
		}
		a, err := s.UserActor(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		if name != "" || a.IsAdmin() {
			return a, nil
		}
	}
	if name == "" {
		return nil, errors.New("no active administrator: name the user with -as")
	}
	return nil, fmt.Errorf("no active user %q", name)
}

// UserIDs returns the ids of active users named by user name or e-mail.
func (s *Service) UserIDs(ctx context.Context, names []string) ([]int64, error) {
	var ids []int64
	for _, n := range names {
		a, err := s.ActorByName(ctx, strings.TrimSpace(n))
		if err != nil {
			return nil, err
		}
		ids = append(ids, a.UserID)
	}
	return ids, nil
}

// ListImports returns the latest imports: the actor's own, or everyone's
// for an administrator.
func (s *Service) ListImports(ctx context.Context, a *access.Actor, limit int) ([]crm.Import, error) {
	by := a.UserID
	if a.IsAdmin() {
		by = 0
	}
	var out []crm.Import
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ListImports(ctx, by, min(max(limit, 1), 200))
		return err
	})
	return out, err
}

// ImportTemplate returns the header row of an object's template file in
// the language: every target a column can have, its own name first.
func (s *Service) ImportTemplate(ctx context.Context, a *access.Actor, o crm.Object, lang string) ([]string, error) {
	targets, err := s.ImportTargets(ctx, a, o, lang)
	if err != nil {
		return nil, err
	}
	header := make([]string, len(targets))
	for i, t := range targets {
		header[i] = t.Label
	}
	return header, nil
}

// SaveImportMapping stores a named mapping (with its value maps and owner
// rule) for the object's next files of the same shape.
func (s *Service) SaveImportMapping(ctx context.Context, a *access.Actor, o crm.Object, name string, opts crm.ImportOptions) error {
	if err := s.mayImport(ctx, a, o); err != nil {
		return err
	}
	var p crm.Problems
	name = p.Text("name", name, true, 60)
	if err := p.Err(); err != nil {
		return err
	}
	b, err := json.Marshal(opts)
	if err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.SaveImportMapping(ctx, o, name, b, a.UserID, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "import.mapping_save", o, 0, map[string]any{"name": name})
	})
}

// ImportMappings returns the object's saved mappings by name.
func (s *Service) ImportMappings(ctx context.Context, a *access.Actor, o crm.Object) (map[string]crm.ImportOptions, error) {
	if err := s.mayImport(ctx, a, o); err != nil {
		return nil, err
	}
	var raw map[string][]byte
	if err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		raw, err = tx.ImportMappings(ctx, o)
		return err
	}); err != nil {
		return nil, err
	}
	out := make(map[string]crm.ImportOptions, len(raw))
	for name, b := range raw {
		var opts crm.ImportOptions
		if err := json.Unmarshal(b, &opts); err != nil {
			return nil, fmt.Errorf("service: mapping %q: %w", name, err)
		}
		out[name] = opts
	}
	return out, nil
}
