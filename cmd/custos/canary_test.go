package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"custos/internal/store"
	"custos/internal/testdb"
)

// TestPersonalDataCanary is issue 4's proof that personal data is stored
// only sealed: it seeds 1,000 people (contacts and leads) with unique
// names, mobiles and e-mails through the JSON API of the real server (with
// notes about them, and for 60 of them follow-ups naming them, corrected
// and recycled), makes
// sure search still finds them by name, phone and e-mail, and then scans
// every byte Custos wrote — the SQLite database, its WAL and shared memory,
// the key store, the audit checkpoints (or a pg_dump of the PostgreSQL
// database) — and the application log: no name, no name's bigram, no
// phone and no e-mail may appear.
func TestPersonalDataCanary(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			args, opt, keys := serveArgs(t, d)
			srv := launch(t, args...)
			b, csrf := signInAdmin(t, srv)
			people := newCanaries(1000)
			seedPeople(t, b, csrf, people)
			seedFollowUps(t, b, csrf, people[:60])

			// Search keeps working through the blind indexes.
			for _, q := range []struct{ text, want string }{
				{people[0].mobile, people[0].ref}, {people[2].email, people[2].ref},
				{people[4].name[3:9], people[4].ref}, // a bigram of a Chinese name
				{people[1].name, people[1].ref},      // an ASCII name's words
				{people[3].mobile, people[3].ref},    // a lead by phone
			} {
				req, _ := http.NewRequest("GET", srv.base+"/api/v1/search?q="+url.QueryEscape(q.text), nil)
				status, _, body := b.do(req)
				if status != 200 || !strings.Contains(body, q.want) {
					t.Errorf("search for a canary found not %s: %d %.300s", q.want, status, body)
				}
			}

			var hits []string
			if d == store.SQLite {
				hits = append(hits, people.scanDir(t, opt.Dir)...) // the database, its WAL and -shm, while running
			} else {
				hits = append(hits, people.scan("pg_dump", pgDump(t, opt.URL))...)
			}
			hits = append(hits, people.scanDir(t, keys)...)
			srv.stop()
			if d == store.SQLite {
				hits = append(hits, people.scanDir(t, opt.Dir)...) // after the WAL is checkpointed at close
			}
			hits = append(hits, people.scan("log", []byte(srv.stderr.String()+srv.stdout.String()))...)
			for _, h := range hits {
				t.Error(h)
			}
		})
	}
}

// canary is one seeded person; ref is how the API answer names them.
type canary struct {
	object, name, mobile, email, ref string
	id                               int64
}

type canaries []canary

// canaryMark is in every ASCII name and e-mail: eight letters that, case
// folded, occur by chance in base64 ciphertext about once in 10^12 tries.
const canaryMark = "qzcnryxw"

// newCanaries makes n people. Even ones get Chinese names from a block of
// rare characters nothing else in the database uses (so even one bigram of
// them found anywhere is a leak); odd ones ASCII names.
func newCanaries(n int) canaries {
	out := make(canaries, n)
	seen := map[string]bool{}
	for i := range out {
		c := &out[i]
		c.object = []string{"contacts", "leads"}[i%2]
		tag := make([]byte, 4)
		rand.Read(tag)
		if i%2 == 0 {
			var name []rune
			for range 3 {
				r, _ := rand.Int(rand.Reader, big.NewInt(80))
				name = append(name, rune(0x9F00+r.Int64()))
			}
			c.name = string(name)
		} else {
			c.name = "Qzcnryxw" + hex.EncodeToString(tag) + " Wen"
		}
		for {
			r, _ := rand.Int(rand.Reader, big.NewInt(100_000_000))
			c.mobile = fmt.Sprintf("139%08d", r.Int64())
			if !seen[c.mobile] {
				seen[c.mobile] = true
				break
			}
		}
		c.email = fmt.Sprintf("%s.%s.%d@mail.example", canaryMark, hex.EncodeToString(tag), i)
	}
	return out
}

// seedPeople creates the people through the API, eight requests at a time.
func seedPeople(t *testing.T, b *browser, csrf string, people canaries) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				p := &people[i]
				// The notes repeat the person's name and e-mail: what is written
				// about a person must stay as sealed as the fields themselves.
				body, _ := json.Marshal(map[string]string{"name": p.name, "mobile": p.mobile, "email": p.email,
					"notes": "回访记录：" + p.name + " 说发邮件到 " + p.email})
				req, _ := http.NewRequest("POST", b.base+"/api/v1/"+p.object, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-CSRF-Token", csrf)
				status, _, resp := b.do(req)
				mu.Lock()
				if status != http.StatusCreated {
					t.Errorf("create %s %d: %d %s", p.object, i, status, resp)
				}
				// The id from the answer's body: not every create sends a
				// Location, and an empty reference would match any result.
				var created struct{ ID int64 }
				json.Unmarshal([]byte(resp), &created)
				p.ref, p.id = fmt.Sprintf(`"id":%d,`, created.ID), created.ID
				mu.Unlock()
			}
		}()
	}
	for i := range people {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

// seedFollowUps writes what a salesperson would about each person: a
// follow-up about the contact or lead naming them, and one on a customer
// of their own naming them too (sealed under the customer's key). Every
// other one is corrected (a second version) and every fourth one recycled,
// so versions and the recycle bin hold their words as well.
func seedFollowUps(t *testing.T, b *browser, csrf string, people canaries) {
	t.Helper()
	call := func(method, path string, body any) (int, string) {
		t.Helper()
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, b.base+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		status, _, resp := b.do(req)
		return status, resp
	}
	for i, p := range people {
		said := "和" + p.name + "通话，手机 " + p.mobile + "，邮件 " + p.email
		status, resp := call("POST", "/api/v1/customers", map[string]any{"name": fmt.Sprintf("金丝猴商贸%04d", i)})
		var customer struct{ ID int64 }
		if json.Unmarshal([]byte(resp), &customer); status != http.StatusCreated {
			t.Fatalf("create customer: %d %s", status, resp)
		}
		about := map[string]any{"kind": "call", "content": said}
		if p.object == "contacts" {
			about["contact_id"] = p.id
		} else {
			about["lead_id"] = p.id
		}
		for j, in := range []map[string]any{about, {"kind": "visit", "content": "拜访时" + said, "customer_id": customer.ID}} {
			status, resp := call("POST", "/api/v1/follow-ups", in)
			var f struct{ ID, Version int64 }
			if json.Unmarshal([]byte(resp), &f); status != http.StatusCreated {
				t.Fatalf("create follow-up: %d %s", status, resp)
			}
			path := fmt.Sprintf("/api/v1/follow-ups/%d", f.ID)
			if (i+j)%2 == 0 {
				if status, resp := call("PATCH", path, map[string]any{"version": f.Version, "content": "更正：" + said}); status != http.StatusOK {
					t.Fatalf("correct follow-up: %d %s", status, resp)
				}
			}
			if (i+j)%4 == 1 {
				if status, resp := call("DELETE", path, nil); status != http.StatusNoContent {
					t.Fatalf("recycle follow-up: %d %s", status, resp)
				}
			}
		}
	}
}

// scanDir scans every file under dir.
func (cs canaries) scanDir(t *testing.T, dir string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		hits = append(hits, cs.scan(path, b)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// scan reports every canary found in b: the ASCII mark in any case, any
// seeded mobile (11 digits), and any bigram of a Chinese name.
func (cs canaries) scan(where string, b []byte) []string {
	var hits []string
	if i := bytes.Index(bytes.ToLower(b), []byte(canaryMark)); i >= 0 {
		hits = append(hits, fmt.Sprintf("%s: a canary name or e-mail at byte %d: %q", where, i, excerpt(b, i)))
	}
	phones, bigrams := map[string]bool{}, map[string]bool{}
	for _, c := range cs {
		phones[c.mobile] = true
		if r := []rune(c.name); r[0] >= 0x9F00 {
			bigrams[string(r[0:2])], bigrams[string(r[1:3])] = true, true
		}
	}
	for i := 0; i+11 <= len(b); i++ {
		if b[i] == '1' && phones[string(b[i:i+11])] {
			hits = append(hits, fmt.Sprintf("%s: a canary mobile at byte %d: %q", where, i, excerpt(b, i)))
			break
		}
	}
	for i := 0; i+6 <= len(b); i++ {
		if b[i] == 0xE9 && bigrams[string(b[i:i+6])] {
			hits = append(hits, fmt.Sprintf("%s: a canary name bigram at byte %d: %q", where, i, excerpt(b, i)))
			break
		}
	}
	return hits
}

func excerpt(b []byte, i int) []byte {
	return b[max(0, i-40):min(len(b), i+40)]
}

// pgDump dumps the test's PostgreSQL schema as SQL text.
func pgDump(t *testing.T, rawURL string) []byte {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	out, err := exec.Command("pg_dump", "--no-owner", "--schema="+schema, u.String()).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !regexp.MustCompile(`CREATE TABLE \S*contacts`).Match(out) {
		t.Fatalf("pg_dump holds no contacts table:\n%.500s", out)
	}
	return out
}
