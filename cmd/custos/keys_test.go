package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestKeysCommand rotates the master key, re-wraps every key and retires
// the old version through "custos keys", between two runs of the server:
// the person stored before is read back after, and each step is audited.
func TestKeysCommand(t *testing.T) {
	dir, keys := t.TempDir(), t.TempDir()
	args := append([]string{"-data-dir", dir}, keyFlags(keys)...)
	srv := launch(t, args...)
	b, csrf := signInAdmin(t, srv)
	req, _ := http.NewRequest("POST", srv.base+"/api/v1/contacts", strings.NewReader(`{"name":"黄月英","mobile":"13655556666"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	if status, _, body := b.do(req); status != http.StatusCreated {
		t.Fatalf("create contact: %d %s", status, body)
	}
	srv.stop()

	keysRun := func(want string, verb ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(context.Background(), append(append([]string{"keys"}, verb...), args...), func(string) string { return "" }, &out, &errOut); err != nil {
			t.Fatalf("keys %v: %v\n%s", verb, err, errOut.String())
		}
		if !strings.Contains(out.String(), want) {
			t.Fatalf("keys %v said %q, want %q", verb, out.String(), want)
		}
	}
	keysRun("key store snapshot written", "snapshot")
	keysRun("master key version 2 added", "rotate")
	// The contact's key, the 63 others made with it in one key-store commit,
	// the blind-index key and the key sealing the administrator's TOTP
	// secret (the administrator role requires a second factor).
	keysRun("done: 66 keys re-wrapped", "rewrap", "-batch", "40")
	keysRun("master key version 1 retired", "retire", "-version", "1")
	keysRun("version 2 wraps 66 keys", "status")
	keysRun("done: 1 people re-encrypted", "reencrypt")
	keysRun("destroyed 1 superseded data keys", "destroy-superseded")

	admin := srv.adminFactor // enrolled on the first run
	srv = launch(t, args...)
	srv.adminFactor = admin
	b, _ = signIn(t, srv, "admin", adminPassphrase)
	req, _ = http.NewRequest("GET", srv.base+"/api/v1/search?q=13655556666", nil)
	if status, _, body := b.do(req); status != 200 || !strings.Contains(body, "黄月英") {
		t.Fatalf("contact after rotation: %d %s", status, body)
	}
	req, _ = http.NewRequest("GET", srv.base+"/api/v1/audit-events?action=keys.retire", nil)
	if status, _, body := b.do(req); status != 200 || !strings.Contains(body, "keys.retire") {
		t.Errorf("key operations not audited: %d %.300s", status, body)
	}
}
