package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"custos/internal/testdb"
)

// TestImportCommand drives `custos import` as an operator would: a dry
// run, an import killed with SIGKILL in the middle, its resumption (no row
// twice), its report, its status and its undo — on both databases.
func TestImportCommand(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			args, _, _ := serveArgs(t, d)
			cli := func(cmd ...string) (string, string) {
				t.Helper()
				var out, errb bytes.Buffer
				if err := run(ctx, append(cmd, args...), noEnv, &out, &errb); err != nil {
					t.Fatalf("%v: %v\nstderr:\n%s", cmd, err, errb.String())
				}
				return out.String(), errb.String()
			}
			cli("demo", "-customers", "1", "-password", "demo-password-7")

			dir := t.TempDir()
			const n = 1500
			var b strings.Builder
			b.WriteString("客户编号,客户名称,统一社会信用代码\n")
			for i := range n {
				fmt.Fprintf(&b, "K%d,导入测试%d有限公司,\n", i, i)
			}
			b.WriteString("K-bad,坏行有限公司,12345\n") // a credit code with a wrong check digit
			file := filepath.Join(dir, "customers.csv")
			if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}

			out, _ := cli("import", "-object", "customers", "-file", file, "-dry-run")
			if want := fmt.Sprintf("import 1: created %d, updated 0, skipped 0, failed 1, duplicates 0\n", n); out != want {
				t.Fatalf("dry run: %q, want %q", out, want)
			}

			// The real import, killed once its first batches are in.
			id, killed := importAndKill(t, append([]string{"import", "-object", "customers", "-file", file}, args...))
			status, _ := cli("import", "status", strconv.Itoa(id))
			if !strings.Contains(status, fmt.Sprintf("import %d: running", id)) {
				t.Fatalf("status after kill -9: %s", status)
			}
			resumed := filepath.Join(dir, "resumed.csv")
			out, errs := cli("import", "resume", strconv.Itoa(id), "-report", resumed)
			if want := fmt.Sprintf("import %d: created %d, updated 0, skipped 0, failed 1, duplicates 0\n", id, n); out != want {
				t.Fatalf("resumed after %d rows: %q, want %q\nstderr:\n%s", killed, out, want, errs)
			}
			report, err := os.ReadFile(resumed)
			if err != nil {
				t.Fatalf("report: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(string(report)), "\n")
			if lines[0] != "row,external_id,action,record_id,duplicate_of,reason" || len(lines) != n+2 ||
				!strings.HasPrefix(lines[1], "2,K0,created,") || !strings.HasPrefix(lines[n+1], fmt.Sprintf("%d,K-bad,failed,,,", n+2)) {
				t.Fatalf("report: %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
			}

			// A second round from the same source updates instead of duplicating.
			out, _ = cli("import", "-object", "customers", "-file", file)
			if want := fmt.Sprintf("import %d: created 0, updated %d, skipped 0, failed 1, duplicates 0\n", id+1, n); out != want {
				t.Fatalf("second round: %q, want %q", out, want)
			}
			out, _ = cli("import", "undo", strconv.Itoa(id))
			if !strings.Contains(out, fmt.Sprintf("import %d undone: 0 records to the recycle bin, 0 already deleted, %d kept", id, n)) {
				t.Fatalf("undo: %s", out)
			}
		})
	}
}

// importAndKill runs an import in a process of its own and kills it (SIGKILL)
// once it has committed some batches; it returns the import's number and
// the rows done by then.
func importAndKill(t *testing.T, args []string) (id, done int) {
	t.Helper()
	enc, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), runArgsEnv+"="+string(enc))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	progress := regexp.MustCompile(`^import (\d+): (\d+)/\d+ rows`)
	lines := bufio.NewScanner(stderr)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if m := progress.FindStringSubmatch(lines.Text()); m != nil {
			if done, _ = strconv.Atoi(m[2]); done >= 400 {
				id, _ = strconv.Atoi(m[1])
				break
			}
		}
	}
	cmd.Process.Kill()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		t.Fatal("the killed import did not end")
	}
	if id == 0 {
		t.Fatalf("no progress before the end:\n%s", strings.Join(seen, "\n"))
	}
	return id, done
}
