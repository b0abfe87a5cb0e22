package service

import (
	"context"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/store"
	"custos/internal/transfer"
)

// What the import wizard shows of a stored import between its requests:
// the targets a column may go to, the preview as it stands, and which
// created records were edited since.

// ImportTarget is a target a column of a file may be mapped to, with its
// label in the reader's language.
type ImportTarget struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

// ImportTargets lists the targets of an object's columns (its importable
// fields, custom fields, external ids, owner and links) with their labels.
func (s *Service) ImportTargets(ctx context.Context, a *access.Actor, o crm.Object, lang string) ([]ImportTarget, error) {
	if err := s.mayImport(ctx, a, o); err != nil {
		return nil, err
	}
	customs, err := s.CustomFields(ctx, a, o)
	if err != nil {
		return nil, err
	}
	lang = i18n.Pick(lang, "")
	var out []ImportTarget
	for _, t := range importTargets(o, customs) {
		out = append(out, ImportTarget{Name: t, Label: targetLabel(o, t, customs, lang)})
	}
	return out, nil
}

// ImportDetail is an import as its last preview left it, without running
// the dry run again: the import, the file as detected (File.Encoding is
// the guess; Import.Options.Encoding the encoding in use), its header and
// suggested mapping while the file is still stored, and the first rows
// with a problem.
func (s *Service) ImportDetail(ctx context.Context, a *access.Actor, id int64) (ImportPreview, error) {
	var out ImportPreview
	im, err := s.GetImport(ctx, a, id)
	if err != nil {
		return out, err
	}
	out.Import = im
	if out.Rows, err = s.ImportRows(ctx, a, id, 0, previewRowsShown, true); err != nil {
		return out, err
	}
	switch im.Status {
	case crm.ImportDone, crm.ImportUndone:
		return out, nil // the file is dropped once the import is done
	}
	ring, err := s.vault.DataKeys(ctx, []string{im.DataKey})
	if err != nil {
		return out, err
	}
	file := &storedFile{ctx: ctx, s: s, im: im, ring: ring, seq: -1}
	if out.File, err = transfer.Sniff(file, im.FileSize, im.FileName, transfer.Options{Sheet: im.Options.Sheet}); err != nil {
		return out, err
	}
	rd, _, err := transfer.Open(file, im.FileSize, im.FileName, transfer.Options{Encoding: im.Options.Encoding, Sheet: im.Options.Sheet})
	if err != nil {
		return out, err
	}
	defer rd.Close()
	out.Header = rd.Header()
	customs, err := s.CustomFields(ctx, a, im.Object)
	if err != nil {
		return out, err
	}
	out.Suggested = SuggestMapping(im.Object, out.Header, customs)
	return out, nil
}

// ImportChangedSince lists the records an import created that were edited
// since (the records an undo keeps unless confirmed for them).
func (s *Service) ImportChangedSince(ctx context.Context, a *access.Actor, id int64) ([]int64, error) {
	im, err := s.GetImport(ctx, a, id)
	if err != nil {
		return nil, err
	}
	created, err := s.importCreated(ctx, a, id)
	if err != nil {
		return nil, err
	}
	var changed []int64
	err = s.db.ReadTx(ctx, func(tx *store.Tx) error {
		changed = changed[:0]
		for _, rid := range created {
			v, err := tx.LiveVersion(ctx, im.Object, rid)
			if crm.IsCode(err, crm.NotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if v > 1 {
				changed = append(changed, rid)
			}
		}
		return nil
	})
	return changed, err
}
