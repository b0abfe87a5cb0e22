package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/quality"
	"custos/internal/service"
)

// duplicatesCommand runs "custos duplicates -object contacts -format csv
// [-min-score S]": a duplicate scan through the service layer as the system
// actor (audited like any scan), then every pair it kept at or above S on
// stdout as CSV, with the records' external ids from their imports.
func duplicatesCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	local := flag.NewFlagSet("duplicates", flag.ContinueOnError)
	local.SetOutput(stderr)
	objectName := local.String("object", "contacts", "the records to scan, by their path (contacts, leads, customers)")
	format := local.String("format", "csv", "output format (csv)")
	minScore := local.Float64("min-score", quality.DefaultMatchThreshold, "report pairs scoring at least this (0..1)")
	rest, err := splitFlags(local, args)
	if err != nil {
		return err
	}
	if *format != "csv" {
		return errors.New("duplicates: -format: only csv is written")
	}
	var object crm.Object
	for _, s := range crm.Specs() {
		if s.Path == *objectName || string(s.Name) == *objectName {
			object = s.Name
		}
	}
	if object == "" {
		return fmt.Errorf("duplicates: -object: unknown object %q", *objectName)
	}
	c, err := parseConfig("duplicates", rest, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := openService(ctx, &c, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	return writeDuplicates(ctx, app.svc, object, *minScore, stdout, stderr)
}

// writeDuplicates scans and writes the CSV.
func writeDuplicates(ctx context.Context, svc *service.Service, object crm.Object, minScore float64, stdout, stderr io.Writer) error {
	a := access.System("custos duplicates")
	rules := quality.DefaultMatchRules()
	rules.Threshold = minScore
	scan, err := svc.ScanDuplicates(ctx, a, object, rules)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "scan %d: %d records, %d keys, %d oversized blocks skipped, %d candidate pairs, %d pairs at or above %.3f\n",
		scan.ID, scan.Records, scan.Keys, scan.BlocksSkipped, scan.Candidates, scan.Pairs, minScore)
	w := csv.NewWriter(stdout)
	if err := w.Write([]string{"id_a", "id_b", "external_id_a", "external_id_b", "score", "reasons"}); err != nil {
		return err
	}
	f := service.DuplicateFilter{MinScore: minScore, Limit: 1000}
	for {
		page, err := svc.DuplicatePairs(ctx, a, object, f)
		if err != nil {
			return err
		}
		for _, p := range page.Pairs {
			if err := w.Write([]string{strconv.FormatInt(p.IDA, 10), strconv.FormatInt(p.IDB, 10), p.ExternalA, p.ExternalB,
				strconv.FormatFloat(p.Score, 'f', 3, 64), p.Reasons}); err != nil {
				return err
			}
		}
		if len(page.Pairs) < f.Limit {
			break
		}
		last := page.Pairs[len(page.Pairs)-1].DupPair
		f.After = &last
	}
	w.Flush()
	return w.Error()
}

// dupScanEvery is how often serve asks which objects are due for a
// duplicate scan (asked for by an administrator, or their period passed).
const dupScanEvery = 30 * time.Second

// startDuplicateScans runs the background duplicate finder until stopped:
// every dupScanEvery it runs the scans that are due, one after another,
// off the request path.
func startDuplicateScans(ctx context.Context, svc *service.Service, every time.Duration, logger *slog.Logger) (stop func()) {
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(dupScanEvery)
		defer t.Stop()
		for {
			// The first look waits a period: a start does its own work
			// first (sealing, migrations), and a scan is never urgent.
			select {
			case <-jobCtx.Done():
				return
			case <-t.C:
			}
			scans, err := svc.RunDueDuplicateScans(jobCtx, every)
			for _, s := range scans {
				logger.Info("duplicate scan", "object", s.Object, "records", s.Records, "pairs", s.Pairs, "status", s.Status)
			}
			if err != nil && jobCtx.Err() == nil {
				logger.Error("duplicate scan", "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}
