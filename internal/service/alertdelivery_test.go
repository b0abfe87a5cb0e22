package service_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/notify"
	"custos/internal/notify/smtptest"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// hookReceiver is a webhook endpoint that checks each delivery's signature
// against the test's clock and answers with the status it is told.
type hookReceiver struct {
	t      *testing.T
	secret []byte
	clock  *testorg.Clock
	mu     sync.Mutex
	status int
	got    []hookDelivery
}

type hookDelivery struct {
	id   string
	body map[string]any
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	if h.clock != nil {
		now = h.clock.Now()
	}
	if err := notify.Verify(h.secret, r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature), body, now, 5*time.Minute); err != nil {
		h.t.Errorf("webhook signature: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		h.t.Errorf("webhook body: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, hookDelivery{id: r.Header.Get(notify.HeaderDelivery), body: m})
	w.WriteHeader(h.status)
}

func (h *hookReceiver) deliveries() []hookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookDelivery(nil), h.got...)
}

func (h *hookReceiver) answer(status int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.status = status
}

// raiseSearchAlert replays a burst of searches by phone that raises one
// sensitive_search alert for a.
func raiseSearchAlert(t *testing.T, o *testorg.Org, db *store.DB, a *access.Actor, at time.Time) {
	t.Helper()
	replay(t, db, burst(31, as(a, "user", at, "search.phone"), nil))
	raised, err := o.Svc.EvaluateAlerts(context.Background())
	if err != nil || len(raised) != 1 {
		t.Fatalf("raise: %v %+v", err, raised)
	}
}

func TestAlertDelivery(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		day := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
		clock.Set(day)
		hook := &hookReceiver{t: t, secret: []byte("webhook secret 0123456789"), clock: clock, status: http.StatusInternalServerError}
		srv := httptest.NewServer(hook)
		defer srv.Close()
		mail := smtptest.NewServer(t, false)
		o := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, Now: clock.Now, TimeZone: time.UTC,
			PublicURL: "https://crm.example.com", AlertDelivery: service.AlertDelivery{
				Webhook: &notify.Webhook{URL: srv.URL, Secret: hook.secret},
				Mail:    &notify.Mailer{Addr: mail.Addr, From: "Custos <custos@example.com>"}}})
		email := "admin@example.com"
		if _, err := o.Svc.UpdateUser(ctx, o.Admin, o.Admin.UserID, service.UserUpdate{Email: &email}); err != nil {
			t.Fatal(err)
		}
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "丽水茶园", Phone: "13912345678"})

		raiseSearchAlert(t, o, db, o.Rep2, day.Add(-10*time.Minute))
		if n := len(hook.deliveries()) + len(mail.Messages()); n != 0 {
			t.Fatalf("raising an alert sent %d messages itself", n)
		}

		// The first round: the e-mail goes, the webhook fails.
		sent, err := o.Svc.DeliverAlerts(ctx)
		if err != nil || sent != 1 {
			t.Fatalf("first round: %d sent, %v", sent, err)
		}
		msgs := mail.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != email {
			t.Fatalf("e-mail: %+v", msgs)
		}
		_, body, _ := strings.Cut(msgs[0].Data, "\r\n\r\n")
		text, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(body, "\r\n", ""))
		if !strings.Contains(string(text), "sensitive_search") || !strings.Contains(string(text), "https://crm.example.com/alerts") {
			t.Fatalf("e-mail text: %s", text)
		}
		first := hook.deliveries()
		if len(first) != 1 {
			t.Fatalf("webhook attempts: %d", len(first))
		}
		alert, _ := first[0].body["alert"].(map[string]any)
		if first[0].body["type"] != "custos.security_alert" || alert["rule"] != "sensitive_search" || alert["user_name"] != o.Rep2.Name {
			t.Fatalf("webhook body: %+v", first[0].body)
		}

		// Not due yet: nothing is sent again.
		if sent, err := o.Svc.DeliverAlerts(ctx); err != nil || sent != 0 || len(hook.deliveries()) != 1 {
			t.Fatalf("before the backoff: %d sent, %d attempts, %v", sent, len(hook.deliveries()), err)
		}
		// After the backoff the webhook is tried again, with the same id.
		hook.answer(http.StatusNoContent)
		clock.Advance(31 * time.Second)
		if sent, err := o.Svc.DeliverAlerts(ctx); err != nil || sent != 1 {
			t.Fatalf("retry: %d sent, %v", sent, err)
		}
		got := hook.deliveries()
		if len(got) != 2 || got[1].id != got[0].id {
			t.Fatalf("retried deliveries: %+v", got)
		}
		for _, d := range got {
			b, _ := json.Marshal(d.body)
			if strings.Contains(string(b), "丽水茶园") || strings.Contains(string(b), "13912345678") {
				t.Fatalf("customer data in an alert: %s", b)
			}
		}
		alerts, err := o.Svc.SecurityAlerts(ctx, o.Admin, "")
		if err != nil || len(alerts) != 1 || len(alerts[0].Deliveries) != 2 {
			t.Fatalf("alerts: %v %+v", err, alerts)
		}
		for _, d := range alerts[0].Deliveries {
			if d.DeliveredAt == nil || d.NextAttempt != nil || d.LastError != "" {
				t.Fatalf("delivery not done: %+v", d)
			}
		}
		if ev, _ := listEvents(db, "alert.deliver"); len(ev) != 2 || ev[0].ActorKind != "system" {
			t.Fatalf("deliveries audited: %+v", ev)
		}

		// An endpoint that keeps failing is given up after the last attempt
		// and shows as failed.
		hook.answer(http.StatusBadGateway)
		clock.Set(day.Add(time.Hour))
		raiseSearchAlert(t, o, db, o.Rep3, clock.Now().Add(-5*time.Minute))
		for range 30 {
			if _, err := o.Svc.DeliverAlerts(ctx); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Hour)
		}
		alerts, _ = o.Svc.SecurityAlerts(ctx, o.Admin, "")
		var hookDelivery crm.AlertDelivery
		for _, d := range alerts[0].Deliveries {
			if d.Channel == "webhook" {
				hookDelivery = d
			}
		}
		if hookDelivery.FailedAt == nil || hookDelivery.Attempts != 12 || hookDelivery.NextAttempt != nil || !strings.Contains(hookDelivery.LastError, "502") {
			t.Fatalf("given up: %+v", hookDelivery)
		}
		if ev, _ := listEvents(db, "alert.deliver"); len(ev) != 4 || !strings.Contains(string(ev[0].Fields), `"delivered":false`) {
			t.Fatalf("giving up audited: %d events", len(ev))
		}
		if len(hook.deliveries()) != 2+12 {
			t.Fatalf("%d webhook attempts", len(hook.deliveries()))
		}
	})
}

// TestAlertDeliveryClaimsOnce: two instances on one database, delivering
// at once, send each delivery once.
func TestAlertDeliveryClaimsOnce(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			opt := testdb.Options(t, d)
			hook := &hookReceiver{t: t, secret: []byte("shared secret"), status: http.StatusNoContent}
			srv := httptest.NewServer(hook)
			defer srv.Close()
			var services []*service.Service
			var dbs []*store.DB
			v := testorg.NewVault(t) // several instances share one key store
			for range 2 {
				db, err := store.Open(ctx, opt)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs = append(dbs, db)
				services = append(services, service.New(db, service.Options{Vault: v, Argon2: testorg.CheapArgon,
					AlertDelivery: service.AlertDelivery{Webhook: &notify.Webhook{URL: srv.URL, Secret: hook.secret}}}))
			}
			// Three batches' worth of raised alerts, queued as raising does.
			const alerts = 60
			now := time.Now()
			err := dbs[0].WriteTx(ctx, func(tx *store.Tx) error {
				for i := range alerts {
					al := crm.SecurityAlert{Rule: "failed_signin", UserName: "guess" + strconv.Itoa(i), WindowStart: now, CreatedAt: now}
					if _, err := tx.InsertAlert(ctx, &al); err != nil {
						return err
					}
					if err := tx.QueueDelivery(ctx, store.AlertOutbox, al.ID, "webhook", now); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for _, svc := range services {
				wg.Go(func() {
					if _, err := svc.DeliverAlerts(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			seen := map[string]int{}
			for _, d := range hook.deliveries() {
				seen[d.id]++
			}
			if len(seen) != alerts {
				t.Fatalf("%d distinct deliveries sent, want %d", len(seen), alerts)
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("delivery %s sent %d times", id, n)
				}
			}
		})
	}
}

// TestAlertDeliveryBots: the group bots of WeCom, DingTalk and Feishu are
// channels of their own, each sent the alert's text in its platform's
// format and recorded as delivered.
func TestAlertDeliveryBots(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		clock.Set(time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC))
		var mu sync.Mutex
		got := map[string]string{} // path → the message's text
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct {
				MsgType string            `json:"msgtype"`
				Text    map[string]string `json:"text"`
				Content map[string]string `json:"content"`
				Sign    string            `json:"sign"`
			}
			json.NewDecoder(r.Body).Decode(&body)
			mu.Lock()
			defer mu.Unlock()
			switch r.URL.Path {
			case "/wecom", "/dingtalk":
				signed := r.URL.Path == "/wecom" || r.URL.Query().Get("sign") == notify.DingTalkSign("ding secret", clock.Now().UnixMilli())
				if !signed || body.MsgType != "text" {
					io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
					return
				}
				got[r.URL.Path] = body.Text["content"]
				io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
			case "/feishu":
				if body.Sign != notify.FeishuSign("feishu secret", clock.Now().Unix()) {
					io.WriteString(w, `{"code":19021,"msg":"sign match fail"}`)
					return
				}
				got[r.URL.Path] = body.Content["text"]
				io.WriteString(w, `{"code":0,"msg":"success"}`)
			}
		}))
		defer srv.Close()
		o := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, Now: clock.Now, TimeZone: time.UTC,
			AlertDelivery: service.AlertDelivery{Bots: []*notify.Bot{
				{Kind: notify.BotWeCom, URL: srv.URL + "/wecom?key=k"},
				{Kind: notify.BotDingTalk, URL: srv.URL + "/dingtalk?access_token=t", Secret: "ding secret"},
				{Kind: notify.BotFeishu, URL: srv.URL + "/feishu", Secret: "feishu secret"}}}})
		raiseSearchAlert(t, o, db, o.Rep2, clock.Now().Add(-10*time.Minute))
		if sent, err := o.Svc.DeliverAlerts(ctx); err != nil || sent != 3 {
			t.Fatalf("delivered %d of 3: %v", sent, err)
		}
		mu.Lock()
		for _, path := range []string{"/wecom", "/dingtalk", "/feishu"} {
			if !strings.Contains(got[path], "sensitive_search") || !strings.Contains(got[path], o.Rep2.Name) {
				t.Errorf("%s got %q", path, got[path])
			}
		}
		mu.Unlock()
		alerts, err := o.Svc.SecurityAlerts(ctx, o.Admin, "")
		if err != nil || len(alerts) != 1 || len(alerts[0].Deliveries) != 3 {
			t.Fatalf("deliveries: %v %+v", err, alerts)
		}
		for _, d := range alerts[0].Deliveries {
			if d.DeliveredAt == nil || !strings.Contains("wecom dingtalk feishu", d.Channel) {
				t.Errorf("delivery %+v", d)
			}
		}
	})
}
