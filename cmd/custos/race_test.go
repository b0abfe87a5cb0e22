package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"custos/internal/store"
	"custos/internal/testdb"
)

// serveArgsEnv, when set, makes this test binary a Custos server process:
// TestMain runs serve with the JSON-encoded arguments it holds. The race
// tests start two such processes on one PostgreSQL database, as two
// instances behind a load balancer would run.
const serveArgsEnv = "CUSTOS_TEST_SERVE_ARGS"

// runArgsEnv, when set, makes this test binary run any Custos command with
// the JSON-encoded arguments it holds (a process a test can kill -9).
const runArgsEnv = "CUSTOS_TEST_RUN_ARGS"

func TestMain(m *testing.M) {
	if v := os.Getenv(serveArgsEnv); v != "" {
		os.Exit(serveChild(v))
	}
	if v := os.Getenv(runArgsEnv); v != "" {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			fmt.Fprintln(os.Stderr, "bad", runArgsEnv, err)
			os.Exit(2)
		}
		if err := run(context.Background(), args, func(string) string { return "" }, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveChild is the server process: it serves until SIGTERM.
func serveChild(encoded string) int {
	var args []string
	if err := json.Unmarshal([]byte(encoded), &args); err != nil {
		fmt.Fprintln(os.Stderr, "bad", serveArgsEnv, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, append([]string{"serve"}, args...), func(string) string { return "" }, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// spawn starts a server in a process of its own, stopped (SIGTERM, then
// a kill) when the test ends.
func spawn(t *testing.T, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	enc, _ := json.Marshal(append([]string{"-addr", addr}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveArgsEnv+"="+string(enc))
	srv := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, base: "http://" + addr}
	cmd.Stdout, cmd.Stderr = srv.stdout, srv.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var once sync.Once
	srv.stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		})
	}
	t.Cleanup(srv.stop)
	waitHealthy(t, srv.base, done, srv.stderr)
	return srv
}

// raceClient sends one session's API requests, from many goroutines at
// once, to several servers in turn.
type raceClient struct {
	c       *http.Client
	csrf    string
	servers []*server
}

// answer is one request's outcome: its status, the problem's code and
// detail (for an error) and the decoded body.
type answer struct {
	status       int
	code, detail string
	body         map[string]any
}

func (rc *raceClient) call(n int, method, path string, body any) answer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, rc.servers[n%len(rc.servers)].base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", "en")
	req.Header.Set("X-CSRF-Token", rc.csrf)
	resp, err := rc.c.Do(req)
	if err != nil {
		return answer{status: -1, detail: err.Error()}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &a.body)
	a.code, _ = a.body["code"].(string)
	a.detail, _ = a.body["detail"].(string)
	if a.detail == "" && resp.StatusCode >= 400 {
		a.detail = string(raw)
	}
	return a
}

// must is call for a set-up step that has to succeed.
func (rc *raceClient) must(t *testing.T, want int, method, path string, body any) map[string]any {
	t.Helper()
	a := rc.call(0, method, path, body)
	if a.status != want {
		t.Fatalf("%s %s: %d %s %s", method, path, a.status, a.code, a.detail)
	}
	return a.body
}

// race sends n copies of one request at the same moment, spread over the
// servers, and returns their answers.
func (rc *raceClient) race(n int, method, path string, body func(i int) any) []answer {
	out := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = rc.call(i, method, path, body(i))
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// events counts the successful audit events of an action (on one record
// when id is not 0).
func (rc *raceClient) events(t *testing.T, action string, id int64) int {
	t.Helper()
	q := "/api/v1/audit-events?outcome=ok&limit=500&action=" + action
	if id != 0 {
		q += fmt.Sprintf("&record_id=%d", id)
	}
	items, _ := rc.must(t, 200, "GET", q, nil)["items"].([]any)
	return len(items)
}

func idOf(m map[string]any) int64 { v, _ := m["id"].(float64); return int64(v) }

// oneWinner checks a race's answers: exactly one of them is want, and
// every other is the same refusal, of status lose and problem code.
func oneWinner(t *testing.T, name string, answers []answer, want, lose int, code string) answer {
	t.Helper()
	var won answer
	wins := 0
	for _, a := range answers {
		switch {
		case a.status == want:
			wins++
			won = a
		case a.status != lose || a.code != code || a.detail != answers[loser(answers, want)].detail:
			t.Errorf("%s: a loser answered %d %s %q; want %d %s, like the others", name, a.status, a.code, a.detail, lose, code)
		}
	}
	if wins != 1 {
		t.Errorf("%s: %d of %d requests won; want exactly one", name, wins, len(answers))
	}
	return won
}

// loser returns the index of the first answer that is not want.
func loser(answers []answer, want int) int {
	for i, a := range answers {
		if a.status != want {
			return i
		}
	}
	return 0
}

// TestRacesTwoInstances is DESIGN.md §2's "races are settled by the
// database": the same request sent 20 to 50 times at once, over two server
// processes on one PostgreSQL database (one process on SQLite, whose
// answers the PostgreSQL ones must equal), for several rounds. Each time
// exactly one request wins, every other gets the same clear refusal, and
// the audit trail holds exactly one success event.
func TestRacesTwoInstances(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			args, _, _ := serveArgs(t, d)
			first := spawn(t, args...)
			servers := []*server{first}
			if d == store.Postgres {
				servers = append(servers, spawn(t, args...))
			}
			b, csrf := signInAdmin(t, first)
			rc := &raceClient{c: &http.Client{Jar: b.c.Jar, Timeout: time.Minute}, csrf: csrf, servers: servers}
			stages, _ := rc.must(t, 200, "GET", "/api/v1/stages", nil)["items"].([]any)
			if len(stages) < 2 {
				t.Fatalf("stages: %v", stages)
			}
			secondStage := idOf(stages[1].(map[string]any))

			for round := range 3 {
				tag := fmt.Sprintf("%d%04d", round, time.Now().UnixNano()%10000)

				// The same company name, 20 times at once.
				before := rc.events(t, "customer.create", 0)
				won := oneWinner(t, "customer name", rc.race(20, "POST", "/api/v1/customers", func(int) any {
					return map[string]any{"name": "竞态测试有限公司" + tag}
				}), 201, 409, "duplicate")
				if n := rc.events(t, "customer.create", 0) - before; n != 1 {
					t.Errorf("customer name: %d create events; want 1", n)
				}
				customer := idOf(won.body)

				// Contacts with the same mobile, 20 at once.
				mobile := "139" + fmt.Sprintf("%08d", 10000000+round*1000+int(time.Now().UnixNano()%1000))
				won = oneWinner(t, "contact mobile", rc.race(20, "POST", "/api/v1/contacts", func(i int) any {
					return map[string]any{"customer_id": customer, "name": fmt.Sprintf("联系人%d", i), "mobile": mobile}
				}), 201, 409, "duplicate")
				contact := idOf(won.body)
				if n := rc.events(t, "contact.create", contact); n != 1 {
					t.Errorf("contact mobile: %d create events; want 1", n)
				}

				// A recycled contact restored 20 times at once.
				rc.must(t, 204, "DELETE", fmt.Sprintf("/api/v1/contacts/%d", contact), nil)
				oneWinner(t, "restore", rc.race(20, "POST", fmt.Sprintf("/api/v1/contacts/%d/restore", contact), func(int) any { return nil }),
					204, 404, "not_found")
				if n := rc.events(t, "contact.restore", contact); n != 1 {
					t.Errorf("restore: %d restore events; want 1", n)
				}

				// A pool customer claimed 50 times at once.
				rc.must(t, 204, "POST", fmt.Sprintf("/api/v1/customers/%d/release", customer), nil)
				oneWinner(t, "claim", rc.race(50, "POST", fmt.Sprintf("/api/v1/customers/%d/claim", customer), func(int) any { return nil }),
					204, 409, "conflict")
				if n := rc.events(t, "customer.claim", customer); n != 1 {
					t.Errorf("claim: %d claim events; want 1", n)
				}

				// An opportunity moved to the next stage 20 times at once,
				// each with the version read before.
				opp := rc.must(t, 201, "POST", "/api/v1/opportunities", map[string]any{"customer_id": customer, "name": "竞态商机" + tag, "amount": 100000})
				version := opp["version"]
				oneWinner(t, "stage move", rc.race(20, "POST", fmt.Sprintf("/api/v1/opportunities/%d/stage", idOf(opp)), func(int) any {
					return map[string]any{"stage_id": secondStage, "version": version}
				}), 200, 409, "conflict")
				if n := rc.events(t, "opportunity.stage", idOf(opp)); n != 1 {
					t.Errorf("stage move: %d stage events; want 1", n)
				}

				// A lead converted 20 times at once.
				lead := rc.must(t, 201, "POST", "/api/v1/leads", map[string]any{"name": "线索" + tag, "company": "竞态转化有限公司" + tag})
				oneWinner(t, "conversion", rc.race(20, "POST", fmt.Sprintf("/api/v1/leads/%d/convert", idOf(lead)), func(int) any {
					return map[string]any{"version": lead["version"]}
				}), 200, 409, "conflict")
				if n := rc.events(t, "lead.convert", idOf(lead)); n != 1 {
					t.Errorf("conversion: %d convert events; want 1", n)
				}

				// One contract number, 20 contracts at once (the number is
				// unique among live contracts: a duplicate-check key).
				before = rc.events(t, "contract.create", 0)
				oneWinner(t, "contract number", rc.race(20, "POST", "/api/v1/contracts", func(i int) any {
					return map[string]any{"customer_id": customer, "number": "HT-" + tag, "name": fmt.Sprintf("竞态合同%d", i)}
				}), 201, 409, "duplicate")
				if n := rc.events(t, "contract.create", 0) - before; n != 1 {
					t.Errorf("contract number: %d create events; want 1", n)
				}
			}
			for _, s := range servers {
				if strings.Contains(s.stderr.String(), "level=ERROR") {
					t.Errorf("a server logged errors:\n%s", s.stderr)
				}
			}
		})
	}
}
