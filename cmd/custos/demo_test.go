package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"custos/internal/demo"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

func noEnv(string) string { return "" }

func TestDemoCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var out, errb bytes.Buffer
	args := []string{"demo", "-data-dir", dir, "-customers", "30", "-password", "demo-password-7"}
	if err := run(ctx, args, noEnv, &out, &errb); err != nil {
		t.Fatalf("demo: %v\nstderr:\n%s", err, errb.String())
	}
	for _, want := range []string{"one-time password", "customers      30 (", "follow-ups", "demo-password-7", "华东大区", "sales", "manager"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "demo: done: 30 customers") {
		t.Errorf("progress lacks the last line:\n%s", errb.String())
	}

	// A database with customers is left alone unless forced.
	out.Reset()
	err := run(ctx, []string{"demo", "-data-dir", dir, "-customers", "5"}, noEnv, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "already has 30 customers") {
		t.Errorf("second demo run: err = %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"demo", "-customers", "5", "-data-dir", dir, "-force", "-seed", "2"}, noEnv, &out, &errb); err != nil {
		t.Fatalf("forced demo run: %v", err)
	}
	if !strings.Contains(out.String(), "customers      5 (") {
		t.Errorf("forced run output:\n%s", out.String())
	}
}

func TestDemoCommandFlags(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"demo", "-customers", "x"}, noEnv, &out, &errb)
	if err == nil {
		t.Error("a bad -customers value was accepted")
	}
	err = run(context.Background(), []string{"demo", "-bogus", "1"}, noEnv, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("unknown flag: err = %v", err)
	}
	errb.Reset()
	run(context.Background(), []string{"demo", "-h"}, noEnv, &out, &errb)
	for _, want := range []string{"-bench-shape", "-followups-per-customer", "-data-dir"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %s:\n%s", want, errb.String())
		}
	}
}

func TestFillDemoIfEmpty(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := service.New(db, service.Options{Vault: testorg.NewVault(t), Argon2: testorg.CheapArgon})
		if _, err := svc.Bootstrap(ctx, "总部"); err != nil {
			t.Fatal(err)
		}
		// serve -demo's default data set (300 customers) is covered by
		// TestServeDemo; a small one keeps this test fast.
		var out bytes.Buffer
		if err := fillDemo(ctx, svc, demo.Options{Customers: 30, Seed: 1}, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "customers      30 (") {
			t.Errorf("first fill:\n%s", out.String())
		}
		out.Reset()
		if err := fillDemoIfEmpty(ctx, svc, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "no demo data added") {
			t.Errorf("second fill:\n%s", out.String())
		}
	})
}

// TestBenchCommand runs the benchmark briefly on a small bench-shaped data
// set; it checks the report, never the timings.
func TestBenchCommand(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var out, errb bytes.Buffer
	gen := []string{"demo", "-data-dir", dir, "-customers", "400", "-followups-per-customer", "1", "-bench-shape", "-password", "bench-password-1"}
	if err := run(ctx, gen, noEnv, &out, &errb); err != nil {
		t.Fatalf("demo: %v\n%s", err, errb.String())
	}
	out.Reset()
	errb.Reset()
	env := func(k string) string {
		if k == "CUSTOS_DEMO_PASSWORD" {
			return "bench-password-1"
		}
		return ""
	}
	args := []string{"bench", "-data-dir", dir, "-n", "10", "-c", "2", "-deep-page", "3", "-followups", "10", "-write-c", "1,4"}
	if err := run(ctx, args, env, &out, &errb); err != nil {
		t.Fatalf("bench: %v\n%s", err, errb.String())
	}
	report := out.String()
	for _, want := range []string{
		"rep " + demo.BenchRep + " sees 12 customers",
		"manager " + demo.BenchManager + " sees 120 customers",
		"| list api rep p1 | 2 | 10 | 0 |",
		"| list api manager p3 | 2 | 10 | 0 |",
		"| list html manager p3 | 2 | 10 | 0 |",
		"| search contacts mobile rep | 2 | 10 | 0 | 1 |",
		"| search contacts e-mail manager | 2 | 10 | 0 | 1 |",
		"| create follow-up (audit on) c=4 | 4 | 10 | 0 |",
		"| report funnel 30 days rep | 2 | 10 | 0 |",
		"| report trends year manager | 2 | 10 | 0 |",
		"| report activity 30 days manager | 2 | 10 | 0 |",
		// The administrator's view, through the read-only user the bench makes.
		"| report leaderboard year all records | 2 | 10 | 0 |",
		"| report pool 30 days all records | 2 | 10 | 0 |",
		"| dashboard html year manager | 2 | 10 | 0 |",
		"| dashboard html 30 days all records | 2 | 10 | 0 |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s\nstderr:\n%s", want, report, errb.String())
		}
	}
	if strings.Contains(report, "errors; first") {
		t.Errorf("requests failed:\n%s", report)
	}

	if err := run(ctx, []string{"bench", "-data-dir", dir}, noEnv, &out, &errb); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("bench without a password: err = %v", err)
	}

	// From outside (issue 18 §3): a running serve, measured over HTTP as
	// the rep's API token, with the server's CPU time per request.
	c, err := parseConfig("bench", []string{"-data-dir", dir}, noEnv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	app, err := openService(ctx, &c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := (&bench{benchOptions: benchOptions{password: "bench-password-1"}, svc: app.svc}).signIn(ctx, "rep", demo.BenchRep)
	app.Close()
	if err != nil {
		t.Fatal(err)
	}
	srv := launch(t, "-data-dir", dir)
	tokenEnv := func(k string) string {
		if k == "CUSTOS_BENCH_TOKEN" {
			return rep.token
		}
		return ""
	}
	out.Reset()
	errb.Reset()
	remote := []string{"bench", "-url", srv.base, "-server-pid", strconv.Itoa(os.Getpid()), "-n", "10", "-c", "2", "-followups", "10",
		"-run", "list api|report funnel|create"}
	if err := run(ctx, remote, tokenEnv, &out, &errb); err != nil {
		t.Fatalf("bench -url: %v\n%s", err, errb.String())
	}
	report = out.String()
	row := regexp.MustCompile(`\| list api token p1 \| 2 \| 10 \| 0 \| 12 \|( [0-9.]+ \|){5} [0-9.]+ \|`)
	for _, ok := range []bool{strings.Contains(report, "token (API token) sees 12 customers"), row.MatchString(report),
		strings.Contains(report, "| report funnel 30 days token | 2 | 10 | 0 |"), strings.Contains(report, "| create follow-up (audit on) c=2 | 2 | 10 | 0 |"),
		!strings.Contains(report, "errors; first")} {
		if !ok {
			t.Fatalf("bench -url report:\n%s\nstderr:\n%s", report, errb.String())
		}
	}
	if err := run(ctx, []string{"bench", "-url", srv.base}, noEnv, &out, &errb); err == nil || !strings.Contains(err.Error(), "CUSTOS_BENCH_TOKEN") {
		t.Errorf("bench -url without a token: err = %v", err)
	}
}
