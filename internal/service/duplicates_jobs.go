package service

import (
	"context"
	"slices"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/store"
)

// The finder runs in the background (issue 14 §3): serve asks every half
// minute which objects are due — asked for by an administrator since the
// last scan began, or last scanned longer ago than the period — and scans
// them as the system job "duplicate finder". A scan takes minutes on a
// large organisation, so neither the web nor the API runs one inside a
// request: they ask (RequestDuplicateScan) and the page shows the latest
// scan's counts and state.

// scanRequestSetting names the setting holding when a scan of an object
// was last asked for (Unix milliseconds).
func scanRequestSetting(o crm.Object) string { return "duplicates.scan_requested." + string(o) }

// RequestDuplicateScan asks for a scan of an object (administrators); the
// background job starts it within a minute. Audited.
func (s *Service) RequestDuplicateScan(ctx context.Context, a *access.Actor, o crm.Object) error {
	if err := s.requireAdmin(ctx, a, "duplicates.scan_request"); err != nil {
		return err
	}
	if !slices.Contains(DuplicateObjects, o) {
		return objectProblem()
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutSetting(ctx, scanRequestSetting(o), strconv.FormatInt(s.clock().UnixMilli(), 10)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "duplicates.scan_request", o, 0, nil)
	})
}

// RunDueDuplicateScans scans every object that is due: asked for since its
// last scan began, or (every > 0) last scanned more than every ago. With
// several instances the scan's lease lets one run it; the others find it
// running (or begun after the request) and skip it. It returns the scans
// it ran.
func (s *Service) RunDueDuplicateScans(ctx context.Context, every time.Duration) ([]crm.DupScan, error) {
	var out []crm.DupScan
	job := access.System("duplicate finder")
	for _, o := range DuplicateObjects {
		due, err := s.scanDue(ctx, o, every)
		if err != nil || !due {
			if err != nil {
				return out, err
			}
			continue
		}
		scan, err := s.ScanDuplicates(ctx, job, o, quality.DefaultMatchRules())
		if crm.IsCode(err, crm.Conflict) {
			continue // running on another instance
		}
		if err != nil {
			return out, err
		}
		out = append(out, scan)
	}
	return out, nil
}

// scanDue reports whether an object is due for a scan.
func (s *Service) scanDue(ctx context.Context, o crm.Object, every time.Duration) (bool, error) {
	var due bool
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		last, scanned, err := tx.LastDupScanStart(ctx, o)
		if err != nil {
			return err
		}
		asked, err := tx.GetSetting(ctx, scanRequestSetting(o))
		if err != nil {
			return err
		}
		if ms, err := strconv.ParseInt(asked, 10, 64); err == nil && (!scanned || time.UnixMilli(ms).After(last)) {
			due = true
			return nil
		}
		due = every > 0 && (!scanned || s.clock().Sub(last) >= every)
		return nil
	})
	return due, err
}
