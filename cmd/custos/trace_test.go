package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTraceCommand exports customers through the API of a running server,
// then names the export from the file with "custos trace", and answers
// "no match" for a file Custos never made.
func TestTraceCommand(t *testing.T) {
	dir, keys := t.TempDir(), t.TempDir()
	args := append([]string{"-data-dir", dir}, keyFlags(keys)...)
	srv := launch(t, args...)
	b, csrf := signInAdmin(t, srv)
	for i := range 15 {
		body := fmt.Sprintf(`{"name":"Harbor View %d Trading Co","address":"No. %d North Lake Road Haidian District"}`, i, i+1)
		req, _ := http.NewRequest("POST", srv.base+"/api/v1/customers", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		if status, _, resp := b.do(req); status != http.StatusCreated {
			t.Fatalf("create customer: %d %s", status, resp)
		}
	}
	status, file := b.get("/api/v1/customers/export?format=csv")
	if status != http.StatusOK || !strings.Contains(file, "Custos export #1") {
		t.Fatalf("export: %d %.300s", status, file)
	}
	srv.stop()

	exported, foreign := filepath.Join(t.TempDir(), "leak.csv"), filepath.Join(t.TempDir(), "other.csv")
	os.WriteFile(exported, []byte(file), 0o600)
	os.WriteFile(foreign, []byte("name,address\nHarbor View 1 Trading Co,No. 2 North Lake Road Haidian District\n"), 0o600)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"trace", exported}, args...), func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("trace: %v\n%s", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "export 1: customer by ") || !strings.Contains(out.String(), "confidence 1.000000") {
		t.Fatalf("trace output: %s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), append([]string{"trace", foreign}, args...), func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("trace: %v\n%s", err, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "no match") {
		t.Fatalf("trace of a foreign file: %s", out.String())
	}
	if err := run(context.Background(), append([]string{"trace"}, args...), func(string) string { return "" }, &out, &errOut); err == nil {
		t.Fatal("trace without a file")
	}
}
