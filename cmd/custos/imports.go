package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/transfer"
)

const importUsage = `Usage:
  custos import -object OBJECT -file FILE [-mapping M.json] [-as USER] [-owner-rule R] [-dry-run] [flags]
  custos import status N [-as USER]
  custos import resume N [-as USER]
  custos import undo N [-confirm] [-as USER]
`

// importCommand imports a CSV or XLSX file through the same service the web
// wizard and the API use: preview, then the commit job, in this process.
func importCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "status" || args[0] == "undo" || args[0] == "resume") {
		return importFollowUp(ctx, args[0], args[1:], getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage); fs.PrintDefaults() }
	object := fs.String("object", "", "what the rows are: "+crm.JoinObjects(service.ImportObjects())+" (or their plurals)")
	file := fs.String("file", "", "the CSV (UTF-8 or GBK/GB18030) or XLSX file")
	mapping := fs.String("mapping", "", "JSON file: {\"header\": \"field\"} or full import options; default: the suggested mapping")
	as := fs.String("as", "", "user name of the importer, whose rights apply (default: the first administrator)")
	ownerRule := fs.String("owner-rule", "", "importer (default), column, round_robin or pool")
	owners := fs.String("owners", "", "round_robin: comma-separated user names taking turns")
	source := fs.String("source", "", "where the external ids come from (default \"default\"); re-imports from one source update")
	encoding := fs.String("encoding", "", "CSV encoding: utf-8, utf-8-bom or gb18030 (default: detected)")
	sheet := fs.String("sheet", "", "XLSX sheet (default: the first)")
	createCustomers := fs.Bool("create-customers", false, "create the customer a row names when none exists")
	dryRun := fs.Bool("dry-run", false, "preview only: check every row, write nothing")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the import to this file (docs/benchmarks.md)")
	c, err := parseWithConfig(fs, "import", args, getenv, stderr)
	if err != nil {
		return err
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	if *object == "" || *file == "" {
		fs.Usage()
		return errors.New("import needs -object and -file")
	}
	opts, err := readImportOptions(*mapping)
	if err != nil {
		return err
	}
	opts.Encoding, opts.Sheet, opts.CreateCustomers = *encoding, *sheet, opts.CreateCustomers || *createCustomers
	if *ownerRule != "" {
		opts.OwnerRule = *ownerRule
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	app, a, stop, err := openImporter(ctx, c, *as, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	defer stop()
	if *owners != "" {
		if opts.Owners, err = app.svc.UserIDs(ctx, strings.Split(*owners, ",")); err != nil {
			return err
		}
	}
	req := service.ImportRequest{Object: objectNamed(*object), Source: *source, FileName: filepath.Base(*file), File: f,
		Size: st.Size(), Options: opts}
	preview, err := app.svc.PreviewImport(ctx, a, req)
	if err != nil {
		return describe(err)
	}
	im := preview.Import
	fmt.Fprintf(stderr, "import %d: %d rows previewed (%s, %s)\n", im.ID, im.Total, preview.File.Format, preview.File.Encoding)
	if !*dryRun {
		if im, err = app.svc.CommitImport(ctx, a, im.ID); err != nil {
			return describe(err)
		}
		if im, err = runToEnd(ctx, app.svc, a, im.ID, stderr); err != nil {
			return err
		}
	}
	return finishReport(ctx, app.svc, a, im, reportPath(*file, im.ID), *dryRun, stdout, stderr)
}

// runToEnd runs the commit job of an import in this process, waiting while
// a runner that stopped still holds its lease, and returns it as it ended.
func runToEnd(ctx context.Context, svc *service.Service, a *access.Actor, id int64, stderr io.Writer) (crm.Import, error) {
	holder := "cli:" + strconv.Itoa(os.Getpid())
	for waited := false; ; waited = true {
		err := svc.RunImport(ctx, id, holder, func(im crm.Import) {
			p := service.Progress(im, time.Now())
			fmt.Fprintf(stderr, "import %d: %d/%d rows (%d%%), %.0f rows/s, %ds left\n", im.ID, im.DoneRows, im.Total, p.Percent, p.RowsPerSec, p.SecondsTo)
		})
		if !errors.Is(err, service.ErrImportHeld) {
			if err != nil {
				return crm.Import{}, err
			}
			return svc.GetImport(ctx, a, id)
		}
		if !waited {
			fmt.Fprintf(stderr, "import %d: another runner holds it; waiting for its lease to run out\n", id)
		}
		select {
		case <-ctx.Done():
			return crm.Import{}, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// finishReport writes the per-row report and prints the closing line.
func finishReport(ctx context.Context, svc *service.Service, a *access.Actor, im crm.Import, report string, planned bool, stdout, stderr io.Writer) error {
	if err := writeImportReport(ctx, svc, a, im.ID, report, planned); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "report: %s\n", report)
	fmt.Fprintf(stdout, "import %d: created %d, updated %d, skipped %d, failed %d, duplicates %d\n",
		im.ID, im.Created, im.Updated, im.Skipped, im.Failed, im.Duplicates)
	return nil
}

// importFollowUp is "custos import status N" and "custos import undo N".
func importFollowUp(ctx context.Context, verb string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	as := fs.String("as", "", "user name acting (default: the first administrator)")
	confirm := fs.Bool("confirm", false, "undo: also delete records edited since the import")
	report := fs.String("report", "", "resume: where the per-row report goes (default: FILE.import-N.csv in the current directory)")
	var id int64
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, _ = strconv.ParseInt(args[0], 10, 64)
		args = args[1:]
	}
	c, err := parseWithConfig(fs, "import", args, getenv, stderr)
	if err != nil {
		return err
	}
	if id <= 0 {
		return fmt.Errorf("import %s needs the import's number", verb)
	}
	app, a, stop, err := openImporter(ctx, c, *as, stderr)
	if err != nil {
		return err
	}
	defer app.Close()
	defer stop()
	if verb == "undo" {
		u, err := app.svc.UndoImport(ctx, a, id, *confirm)
		if err != nil {
			return describe(err)
		}
		fmt.Fprintf(stdout, "import %d undone: %d records to the recycle bin, %d already deleted, %d kept (edited since: %s)\n",
			id, u.Deleted, u.Gone, len(u.Changed), idList(u.Changed))
		return nil
	}
	im, err := app.svc.GetImport(ctx, a, id)
	if err != nil {
		return describe(err)
	}
	if verb == "resume" {
		if im.Status == crm.ImportFailed || im.Status == crm.ImportPreviewed {
			if _, err := app.svc.CommitImport(ctx, a, id); err != nil {
				return describe(err)
			}
		}
		if im, err = runToEnd(ctx, app.svc, a, id, stderr); err != nil {
			return err
		}
		if *report == "" {
			*report = reportPath(im.FileName, id)
		}
		return finishReport(ctx, app.svc, a, im, *report, false, stdout, stderr)
	}
	p := service.Progress(im, time.Now())
	fmt.Fprintf(stdout, "import %d: %s, %s from %s (%s), %d/%d rows (%d%%), created %d, updated %d, skipped %d, failed %d, duplicates %d\n",
		im.ID, im.Status, im.Object, im.FileName, im.Source, im.DoneRows, im.Total, p.Percent,
		im.Created, im.Updated, im.Skipped, im.Failed, im.Duplicates)
	if im.Error != "" {
		fmt.Fprintf(stdout, "error: %s\n", im.Error)
	}
	return nil
}

// openImporter opens the service and the acting user, and seals the audit
// trail as the import writes it, as serve would.
func openImporter(ctx context.Context, c Config, as string, stderr io.Writer) (*opened, *access.Actor, func(), error) {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := openService(ctx, &c, logger)
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := app.svc.ActorByName(ctx, as)
	if err != nil {
		app.Close()
		return nil, nil, nil, err
	}
	stop, err := startSealer(ctx, c, app.db, app.auditKeys, logger)
	if err != nil {
		app.Close()
		return nil, nil, nil, err
	}
	return app, a, stop, nil
}

// readImportOptions reads a mapping file: a plain {"header": "field"} map,
// or the import options as the API takes them.
func readImportOptions(path string) (crm.ImportOptions, error) {
	var opts crm.ImportOptions
	if path == "" {
		return opts, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return opts, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return opts, fmt.Errorf("%s: %w", path, err)
	}
	if _, full := probe["mapping"]; full {
		err = json.Unmarshal(b, &opts)
	} else {
		err = json.Unmarshal(b, &opts.Mapping)
	}
	if err != nil {
		return opts, fmt.Errorf("%s: %w", path, err)
	}
	return opts, nil
}

// reportPath is the per-row report beside the file: contacts.csv →
// contacts.import-12.csv.
func reportPath(file string, id int64) string {
	ext := filepath.Ext(file)
	return strings.TrimSuffix(file, ext) + ".import-" + strconv.FormatInt(id, 10) + ".csv"
}

// writeImportReport writes every row's outcome (its planned action in a
// dry run) as CSV, in the shape scripts read.
func writeImportReport(ctx context.Context, svc *service.Service, a *access.Actor, id int64, path string, planned bool) error {
	var buf bytes.Buffer
	w := transfer.NewCSVWriter(&buf, false)
	if err := w.WriteRow([]string{"row", "external_id", "action", "record_id", "duplicate_of", "reason"}); err != nil {
		return err
	}
	for after := 0; ; {
		rows, err := svc.ImportRows(ctx, a, id, after, 1000, false)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			break
		}
		for _, r := range rows {
			action, rec := r.Action, ""
			if planned {
				action = r.Planned
			}
			if r.RecordID > 0 {
				rec = strconv.FormatInt(r.RecordID, 10)
			}
			if err := w.WriteRow([]string{strconv.Itoa(r.Line), r.ExternalID, action, rec, r.DuplicateOf, r.Reason}); err != nil {
				return err
			}
		}
		after = rows[len(rows)-1].Line
	}
	if err := w.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// describe turns a refusal into a line an operator can act on, naming the
// fields.
func describe(err error) error {
	var ce *crm.Error
	if !errors.As(err, &ce) || len(ce.Fields) == 0 {
		return err
	}
	var parts []string
	for _, f := range ce.Fields {
		parts = append(parts, strings.TrimSpace(f.Field+": "+f.Rule+" "+f.Param))
	}
	return fmt.Errorf("%s (%s)", ce.Message, strings.Join(parts, "; "))
}

func idList(ids []int64) string {
	if len(ids) == 0 {
		return "none"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}

// importEvery is how often serve looks for imports to commit.
const importEvery = 2 * time.Second

// startImports runs the import commit job in the background while the
// server runs: queued imports, and those whose runner died, are committed.
func startImports(ctx context.Context, svc *service.Service, logger *slog.Logger) (stop func()) {
	jobCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	holder := retentionHolder()
	go func() {
		defer close(done)
		t := time.NewTicker(importEvery)
		defer t.Stop()
		for {
			if err := svc.RunQueuedImports(jobCtx, holder, nil); err != nil && jobCtx.Err() == nil {
				logger.Error("commit imports", "err", err)
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

// objectNamed reads an object as people type it on the command line: its
// name or its plural path (contact, contacts, follow-ups).
func objectNamed(v string) crm.Object {
	for _, s := range crm.Specs() {
		if v == string(s.Name) || v == s.Path || v == string(s.Name)+"s" {
			return s.Name
		}
	}
	return crm.Object(v)
}
