package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"custos/internal/access"
)

// traceCommand runs "custos trace FILE": the file (CSV or XLSX, a whole
// export or an excerpt, saved again by a spreadsheet or not) traced back
// through the service layer, as the system actor (audited), to the export
// whose fingerprint it carries. It prints the export, the user, the time
// and the confidence, or "no match"; the exit status is 0 either way, and
// non-zero only when the file cannot be read.
func traceCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || len(args[0]) == 0 || args[0][0] == '-' {
		return errors.New("trace: name the file first: custos trace FILE [flags]")
	}
	file, flags := args[0], args[1:]
	c, err := parseConfig("trace", flags, getenv, stderr)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := openService(ctx, &c, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	res, err := app.svc.Trace(ctx, access.System("custos trace"), f, st.Size(), filepath.Base(file))
	if err != nil {
		return err
	}
	if !res.Match {
		fmt.Fprintf(stdout, "no match (%d fingerprint positions read, %d exports compared)\n", res.Marks, res.Tried)
		if res.Claimed != 0 {
			fmt.Fprintf(stdout, "the file's watermark line claims export %d, but its fingerprint is not that export's\n", res.Claimed)
		}
		return nil
	}
	fmt.Fprintf(stdout, "export %d: %s by %s (user %d) at %s, %d rows\nconfidence %.6f: a file not from this export would agree this well with probability %.1e (%d of %d fingerprint positions agree, %d exports compared)\n",
		res.ExportID, res.Object, res.UserName, res.UserID, res.At.UTC().Format("2006-01-02 15:04:05 UTC"), res.Rows,
		res.Confidence, res.Chance, res.Agree, res.Marks, res.Tried)
	return nil
}
