package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"unicode"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/demo"
	"custos/internal/service"
)

// demoCommand fills a database with generated demo data, through the
// service layer like any other client.
func demoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	customers := fs.Int("customers", 300, "number of customers")
	followUps := fs.Int("followups-per-customer", 5, "average follow-ups per customer (exact with -bench-shape; -1 for none)")
	users := fs.Int("users", 0, "number of sales reps (0: one per 40 customers, 6 to 40)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same records")
	benchShape := fs.Bool("bench-shape", false, "shape ownership for custos bench: "+demo.BenchRep+" owns 3%, "+demo.BenchManager+"'s subtree 30%")
	concurrency := fs.Int("concurrency", 8, "customers generated at once")
	password := fs.String("password", getenv("CUSTOS_DEMO_PASSWORD"), "password of every generated user; empty means random (CUSTOS_DEMO_PASSWORD)")
	force := fs.Bool("force", false, "add demo data even though the database already has customers (use another -seed)")
	c, err := parseWithConfig(fs, "demo", args, getenv, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	app, err := openService(ctx, &c, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	svc := app.svc
	if err := bootstrap(ctx, svc, c, stdout); err != nil {
		return err
	}
	// The trail is sealed as the data is written, as serve would: a data
	// set is not handed over with a backlog for the next start to seal.
	stopSealing, err := startSealer(ctx, c, app.db, app.auditKeys, logger)
	if err != nil {
		return err
	}
	defer stopSealing()
	n, err := countCustomers(ctx, svc)
	if err != nil {
		return err
	}
	if n > 0 && !*force {
		return fmt.Errorf("the database already has %d customers; demo data goes into an empty database (or use -force with another -seed)", n)
	}
	opt := demo.Options{Customers: *customers, FollowUpsPerCustomer: *followUps, Users: *users, Seed: *seed,
		BenchShape: *benchShape, Concurrency: *concurrency, Password: *password, Progress: stderr}
	return generateDemo(ctx, svc, opt, stdout)
}

// fillDemoIfEmpty fills an empty database with the default demo data set
// and prints the users it created; a database with customers stays as it
// is. serve --demo calls it after Bootstrap, before listening.
func fillDemoIfEmpty(ctx context.Context, svc *service.Service, stdout io.Writer) error {
	return fillDemo(ctx, svc, demo.Options{Seed: 1, Progress: stdout}, stdout)
}

// fillDemo is fillDemoIfEmpty with the data set's options.
func fillDemo(ctx context.Context, svc *service.Service, opt demo.Options, stdout io.Writer) error {
	n, err := countCustomers(ctx, svc)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "The database already has %d customers; no demo data added.\n", n)
		return nil
	}
	return generateDemo(ctx, svc, opt, stdout)
}

func generateDemo(ctx context.Context, svc *service.Service, opt demo.Options, stdout io.Writer) error {
	sys := access.System("demo")
	sum, err := demo.Generate(ctx, svc, sys, opt)
	if err != nil {
		return err
	}
	stages, err := svc.Stages(ctx, sys)
	if err != nil {
		return err
	}
	printSummary(stdout, sum, stages, opt.Seed)
	return nil
}

// bootstrap prepares an empty database as serve does, and shows the
// administrator's one-time password on the terminal (never in a log).
func bootstrap(ctx context.Context, svc *service.Service, c Config, stdout io.Writer) error {
	boot, err := svc.Bootstrap(ctx, c.OrgName)
	if err != nil {
		return fmt.Errorf("first start: %w", err)
	}
	if boot.Created {
		// The administrator role requires a second factor (an organisation
		// may turn that off), so the first sign-in has two steps to finish
		// before anything else opens: say so, or the operator is surprised.
		fmt.Fprintf(stdout, "\nCustos created the administrator account.\n  user name:          %s\n  one-time password:  %s\n"+
			"Sign in and choose a new password; this one is shown only now. Then set up a second factor\n"+
			"(an authenticator app or a passkey): the administrator role requires one.\n\n",
			boot.Username, boot.Password)
	}
	return nil
}

// countCustomers counts live and recycled customers, as a system job (the
// count is an audited read like any other).
func countCustomers(ctx context.Context, svc *service.Service) (int, error) {
	sys := access.System("demo")
	live, err := svc.ListCustomers(ctx, sys, crm.CustomerFilter{Limit: 1})
	if err != nil {
		return 0, err
	}
	bin, err := svc.ListRecycledCustomers(ctx, sys, crm.CustomerFilter{Limit: 1})
	if err != nil {
		return 0, err
	}
	return live.Total + bin.Total, nil
}

func printSummary(w io.Writer, s demo.Summary, stages []crm.Stage, seed uint64) {
	var byStage []string
	for _, st := range stages {
		if n := s.Stages[st.Name]; n > 0 {
			byStage = append(byStage, fmt.Sprintf("%s %d", st.Name, n))
		}
	}
	fmt.Fprintf(w, "Demo data (seed %d): %d departments, %d users\n", seed, s.Departments, len(s.People))
	fmt.Fprintf(w, "  customers      %d (%d in the public pool)\n", s.Customers, s.PoolCustomers)
	fmt.Fprintf(w, "  contacts       %d\n", s.Contacts)
	fmt.Fprintf(w, "  leads          %d (%d converted)\n", s.Leads, s.ConvertedLeads)
	fmt.Fprintf(w, "  opportunities  %d (%s)\n", s.Opportunities, strings.Join(byStage, ", "))
	fmt.Fprintf(w, "  follow-ups     %d (next follow-up: %d overdue, %d due today, %d later)\n", s.FollowUps, s.Overdue, s.DueToday, s.DueLater)
	fmt.Fprintf(w, "  tasks          %d\n", s.Tasks)
	if s.Skipped > 0 {
		fmt.Fprintf(w, "  skipped        %d (refused as duplicates of existing records)\n", s.Skipped)
	}
	fmt.Fprintf(w, "Generated in %s: %d service calls (%.0f/s), %.0f follow-ups/s.\n\n", s.Elapsed.Round(1e6), s.Calls, s.CallRate(), s.FollowUpRate())
	fmt.Fprintf(w, "Users (every one signs in with the password %s, shown only now):\n", s.Password)
	rows := [][]string{{"user name", "name", "role", "department", "customers"}}
	for _, p := range s.People {
		rows = append(rows, []string{p.Username, p.Name, p.Role, p.Department, strconv.Itoa(p.Customers)})
	}
	printColumns(w, rows)
	if s.BenchRep != "" {
		fmt.Fprintf(w, "\nBenchmark users: %s (sales rep) and %s (manager); run: custos bench -password <password>\n", s.BenchRep, s.BenchManager)
	}
}

// parseWithConfig parses a subcommand's own flags from args and passes the
// rest to parseConfig, so the subcommand takes the same configuration flags
// as serve. Every configuration flag takes a value.
func parseWithConfig(fs *flag.FlagSet, name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var own, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			rest = append(rest, args[i:]...)
			break
		}
		flagName, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch flagName {
		case "h", "help":
			fs.Usage()
			fmt.Fprintln(stderr, "\nConfiguration flags (as for serve):")
			_, err := parseConfig(name, []string{"-h"}, getenv, stderr)
			return Config{}, err
		}
		target := &rest
		f := fs.Lookup(flagName)
		if f != nil {
			target = &own
		}
		*target = append(*target, a)
		if hasValue {
			continue
		}
		if f != nil {
			if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
		}
		if i+1 < len(args) {
			i++
			*target = append(*target, args[i])
		}
	}
	if err := fs.Parse(own); err != nil {
		return Config{}, err
	}
	return parseConfig(name, rest, getenv, stderr)
}

// printColumns prints rows as aligned columns. Chinese characters take two
// columns in a terminal, which text/tabwriter does not know.
func printColumns(w io.Writer, rows [][]string) {
	width := func(s string) int {
		n := 0
		for _, r := range s {
			n++
			if unicode.Is(unicode.Han, r) || r >= 0xFF00 && r <= 0xFFEF {
				n++
			}
		}
		return n
	}
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], width(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		b.WriteString(" ")
		for i, cell := range row {
			b.WriteString(" " + cell)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-width(cell)+1))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}
