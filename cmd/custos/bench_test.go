package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/demo"
	"custos/internal/httpx"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testorg"
)

// The Go benchmarks measure the same requests as "custos bench" on a small
// generated data set (600 customers, 1,200 follow-ups), so "go test -bench"
// needs no prepared database:
//
//	go test -run '^$' -bench . ./cmd/custos/
//
// The published figures come from "custos bench" on the full data set
// (docs/benchmarks.md).

type benchEnv struct {
	*bench
	rep, mgr *benchUser
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	svc := service.New(db, service.Options{Vault: testorg.NewVault(b), Argon2: testorg.CheapArgon})
	if _, err := svc.Bootstrap(ctx, "总部"); err != nil {
		b.Fatal(err)
	}
	const password = "bench-password-1"
	if _, err := demo.Generate(ctx, svc, access.System("bench"), demo.Options{Customers: 600, FollowUpsPerCustomer: 2,
		BenchShape: true, Password: password}); err != nil {
		b.Fatal(err)
	}
	h, err := newHandler(svc, httpx.Config{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	e := &benchEnv{bench: &bench{benchOptions: benchOptions{password: password, deepPage: 5}, svc: svc, base: srv.URL,
		hc: srv.Client(), out: io.Discard, log: io.Discard}}
	e.hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	for _, u := range []**benchUser{&e.rep, &e.mgr} {
		name := map[**benchUser]string{&e.rep: demo.BenchRep, &e.mgr: demo.BenchManager}[u]
		if *u, err = e.signIn(ctx, name, name); err != nil {
			b.Fatal(err)
		}
		if err := e.collect(ctx, *u); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func (e *benchEnv) do(method, path string, body []byte, u *benchUser, auth authKind, want int) error {
	req, err := e.request(context.Background(), method, path, body, u, auth)
	if err != nil {
		return err
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return nil
}

func BenchmarkListCustomers(b *testing.B) {
	e := newBenchEnv(b)
	for _, c := range []struct {
		name string
		u    *benchUser
		path string
		auth authKind
	}{
		{"api/rep", e.rep, "/api/v1/customers?limit=20", byToken},
		{"api/manager", e.mgr, "/api/v1/customers?limit=20", byToken},
		{"api/manager/p5", e.mgr, "/api/v1/customers?" + url.Values{"limit": {"20"}, "cursor": {e.mgr.deepCursor}}.Encode(), byToken},
		{"html/manager", e.mgr, "/customers", byCookie},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := e.do(http.MethodGet, c.path, nil, c.u, c.auth, http.StatusOK); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSearch(b *testing.B) {
	e := newBenchEnv(b)
	for _, c := range []struct {
		name, path string
		values     []string
	}{
		{"customers/brand", "/api/v1/customers", e.mgr.brands},
		{"contacts/name", "/api/v1/contacts", e.mgr.names},
		{"contacts/mobile", "/api/v1/contacts", e.mgr.mobiles},
		{"contacts/email", "/api/v1/contacts", e.mgr.ems},
		{"global/brand", "/api/v1/search", e.mgr.brands},
		{"global/name", "/api/v1/search", e.mgr.names},
	} {
		if len(c.values) == 0 {
			b.Fatalf("%s: no sample values", c.name)
		}
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				q := url.Values{"q": {c.values[i%len(c.values)]}}.Encode()
				if err := e.do(http.MethodGet, c.path+"?"+q, nil, e.mgr, byToken, http.StatusOK); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkCreateFollowUp creates follow-ups from 8 goroutines (on two
// cores), so the SQLite writer can batch them into group commits.
func BenchmarkCreateFollowUp(b *testing.B) {
	e := newBenchEnv(b)
	ids := e.rep.customerIDs
	e.createInParallel(b, "/api/v1/follow-ups", func(k int64) map[string]any {
		return map[string]any{"kind": "call", "content": fmt.Sprintf("benchmark follow-up %d", k),
			"customer_id": ids[int(k)%len(ids)], "next_at": time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)}
	})
}

// BenchmarkCreateCustomer creates customers through the API as the rep: the
// write path with duplicate check, search terms (and on SQLite their copy
// in customer_terms, kept by triggers) and audit.
func BenchmarkCreateCustomer(b *testing.B) {
	e := newBenchEnv(b)
	e.createInParallel(b, "/api/v1/customers", func(k int64) map[string]any {
		return map[string]any{"name": fmt.Sprintf("基准测试客户%d号科技有限公司", k), "level": "B"}
	})
}

// createInParallel POSTs the k-th body to path as the rep from 8
// goroutines (on two cores), so the SQLite writer can batch the writes
// into group commits; each must answer 201.
func (e *benchEnv) createInParallel(b *testing.B, path string, body func(k int64) map[string]any) {
	var n atomic.Int64
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			buf, _ := json.Marshal(body(n.Add(1)))
			if err := e.do(http.MethodPost, path, buf, e.rep, byToken, http.StatusCreated); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
