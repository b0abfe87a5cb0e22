package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testorg"
)

// TestServeSendsHSTS: the handler serve builds answers every request made
// over TLS — pages, API problems and /healthz alike — with
// Strict-Transport-Security, and sends none over plain HTTP.
func TestServeSendsHSTS(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := service.New(db, service.Options{Vault: testorg.NewVault(t), Argon2: testorg.CheapArgon})
	if _, err := svc.Bootstrap(ctx, "总部"); err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(svc, httpx.Config{TLS: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tlsSrv, plainSrv := httptest.NewTLSServer(h), httptest.NewServer(h)
	t.Cleanup(tlsSrv.Close)
	t.Cleanup(plainSrv.Close)
	for _, p := range []string{"/login", "/api/v1/customers", "/healthz"} {
		resp, err := tlsSrv.Client().Get(tlsSrv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != httpx.HSTS {
			t.Errorf("over TLS %s: Strict-Transport-Security %q", p, got)
		}
		resp, err = http.Get(plainSrv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
			t.Errorf("over plain HTTP %s: Strict-Transport-Security %q", p, got)
		}
	}
}
