package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
)

// TestDuplicatesCommand finds, through "custos duplicates", two contacts
// entered twice with the same name and WeChat id (the entry check looks at
// mobiles and e-mails only) and writes them as the CSV the issue names.
func TestDuplicatesCommand(t *testing.T) {
	dir, keys := t.TempDir(), t.TempDir()
	args := append([]string{"-data-dir", dir}, keyFlags(keys)...)
	srv := launch(t, args...)
	b, csrf := signInAdmin(t, srv)
	for _, body := range []string{`{"name":"黄月英","wechat":"hyy_1988","mobile":"13655556666"}`,
		`{"name":"黄 月英","wechat":"hyy_1988"}`, `{"name":"诸葛亮","wechat":"kongming"}`} {
		req, _ := http.NewRequest("POST", srv.base+"/api/v1/contacts", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		if status, _, resp := b.do(req); status != http.StatusCreated {
			t.Fatalf("create contact: %d %s", status, resp)
		}
	}
	srv.stop()

	var out, errOut bytes.Buffer
	cmd := append([]string{"duplicates", "-object", "contacts", "-format", "csv"}, args...)
	if err := run(context.Background(), cmd, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("duplicates: %v\n%s", err, errOut.String())
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0], ",") != "id_a,id_b,external_id_a,external_id_b,score,reasons" {
		t.Fatalf("output %q, want the header and one pair", rows)
	}
	if p := rows[1]; p[0] != "1" || p[1] != "2" || p[4] != "1.000" && !strings.HasPrefix(p[4], "0.") ||
		!strings.Contains(p[5], "same name") || !strings.Contains(p[5], "same wechat") || strings.Contains(p[5], "hyy") {
		t.Errorf("pair %q", p)
	}
	if !strings.Contains(errOut.String(), "3 records") {
		t.Errorf("summary %q", errOut.String())
	}
	if err := run(context.Background(), append([]string{"duplicates", "-object", "tasks"}, args...), func(string) string { return "" },
		&out, &errOut); err == nil || !strings.Contains(err.Error(), "object") {
		t.Errorf("tasks scanned: %v", err)
	}
}
