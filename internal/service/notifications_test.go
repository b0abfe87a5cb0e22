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
	"custos/internal/i18n"
	"custos/internal/notify"
	"custos/internal/notify/smtptest"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// inbox lists a user's notifications, failing the test on an error.
func inbox(t *testing.T, svc *service.Service, a *access.Actor) service.NotificationPage {
	t.Helper()
	page, err := svc.ListNotifications(context.Background(), a, "", 0)
	if err != nil {
		t.Fatalf("notifications of %s: %v", a.Name, err)
	}
	return page
}

// TestNotifyHandover: a record transferred to a user, and the records an
// offboarding hands over, notify the new owner in the same change; the
// record is named as the reader may see it, and neutrally once they may
// not; each user lists, counts and marks read only their own.
func TestNotifyHandover(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "丽水茶园"})
		if err := o.Svc.TransferRecord(ctx, o.Admin, crm.ObjCustomer, c.ID, o.Rep2.UserID, 0); err != nil {
			t.Fatal(err)
		}
		page := inbox(t, o.Svc, o.Rep2)
		if len(page.Items) != 1 || page.Unread != 1 {
			t.Fatalf("rep2's inbox: %+v", page)
		}
		n := page.Items[0]
		if n.Kind != crm.NotifyAssigned || n.Object != crm.ObjCustomer || n.RecordID != c.ID || n.RecordName != "丽水茶园" {
			t.Fatalf("notification: %+v", n)
		}
		if want := "客户：" + o.Admin.Name + " 将「丽水茶园」转交给您。"; n.Title != want && i18n.NotificationTitle(i18n.ZH, n) != want {
			t.Fatalf("zh title %q, want %q", i18n.NotificationTitle(i18n.ZH, n), want)
		}
		if got, want := i18n.NotificationTitle(i18n.EN, n), "Customers: "+o.Admin.Name+" handed “丽水茶园” over to you."; got != want {
			t.Fatalf("en title %q, want %q", got, want)
		}
		// The name shown is audited as the customer picker's are, so the
		// exposure report counts it.
		if ev, _ := listEvents(db, "customer.names"); len(ev) != 1 || ev[0].ActorID != o.Rep2.UserID || len(ev[0].RecordIDs) != 1 || ev[0].RecordIDs[0] != c.ID {
			t.Fatalf("names shown audited: %+v", ev)
		}
		if ev, _ := listEvents(db, "notification.list"); len(ev) != 1 || len(ev[0].RecordIDs) != 1 || ev[0].RecordIDs[0] != n.ID {
			t.Fatalf("list audited: %+v", ev)
		}
		for _, a := range []*access.Actor{o.Rep1, o.Admin} {
			if p := inbox(t, o.Svc, a); len(p.Items) != 0 || p.Unread != 0 {
				t.Fatalf("%s was notified: %+v", a.Name, p)
			}
		}
		// Another user's notification does not exist for them.
		if err := o.Svc.MarkNotificationRead(ctx, o.Rep1, n.ID); !crm.IsCode(err, crm.NotFound) {
			t.Fatalf("rep1 marking rep2's notification: %v", err)
		}
		if u, _ := o.Svc.UnreadNotifications(ctx, o.Rep2); u != 1 {
			t.Fatalf("unread after another's try: %d", u)
		}
		if err := o.Svc.MarkNotificationRead(ctx, o.Rep2, n.ID); err != nil {
			t.Fatal(err)
		}
		if u, _ := o.Svc.UnreadNotifications(ctx, o.Rep2); u != 0 {
			t.Fatalf("unread after marking: %d", u)
		}

		// Handed on to West: rep2 may no longer see it, and the old
		// notification names it neutrally.
		if err := o.Svc.TransferRecord(ctx, o.Admin, crm.ObjCustomer, c.ID, o.Rep3.UserID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Svc.GetCustomer(ctx, o.Rep2, c.ID); err == nil {
			t.Fatal("rep2 still sees the customer")
		}
		old := inbox(t, o.Svc, o.Rep2).Items[0]
		if old.RecordName != "" || !strings.Contains(i18n.NotificationTitle(i18n.EN, old), "a record you may not see") ||
			strings.Contains(old.Title, "丽水茶园") {
			t.Fatalf("a record out of reach named: %+v", old)
		}

		// Offboarding hands several records over at once: one notice per
		// object, counting them.
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "宁波港湾物流"})
		o.Customer(t, o.Rep1, crm.CustomerFields{Name: "温州鹿城鞋业"})
		o.StepUp(t, o.Admin)
		if _, err := o.Svc.Offboard(ctx, o.Admin, o.Rep1.UserID, service.Handover{CustomersTo: o.Rep2.UserID, OthersTo: o.Rep2.UserID}); err != nil {
			t.Fatal(err)
		}
		page = inbox(t, o.Svc, o.Rep2)
		if len(page.Items) != 2 || page.Unread != 1 || page.Items[0].RecordID != 0 || page.Items[0].Params[1] != "2" {
			t.Fatalf("after offboarding: %+v", page)
		}
		if got := i18n.NotificationTitle(i18n.ZH, page.Items[0]); got != "客户："+o.Admin.Name+" 将 2 条记录转交给您。" {
			t.Fatalf("zh: %q", got)
		}
		if n, err := o.Svc.MarkAllNotificationsRead(ctx, o.Rep2); err != nil || n != 1 {
			t.Fatalf("mark all: %d %v", n, err)
		}
		if page = inbox(t, o.Svc, o.Rep2); page.Unread != 0 || page.Items[0].ReadAt == nil {
			t.Fatalf("after mark all: %+v", page)
		}
		// The list is paged, newest first.
		first, err := o.Svc.ListNotifications(ctx, o.Rep2, "", 1)
		if err != nil || len(first.Items) != 1 || first.Next == "" {
			t.Fatalf("first page: %v %+v", err, first)
		}
		second, err := o.Svc.ListNotifications(ctx, o.Rep2, first.Next, 1)
		if err != nil || len(second.Items) != 1 || second.Items[0].ID >= first.Items[0].ID || second.Next != "" {
			t.Fatalf("second page: %v %+v", err, second)
		}
	})
}

// TestNotifyApprovals: filing a request notifies its approvers; each
// decision notifies the next level or, at the end, the requester.
func TestNotifyApprovals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := approvalOrg(t, db)
		setPolicy(t, o, crm.ApprovalPolicy{Kind: crm.ApproveTransfer, Steps: []crm.ApprovalStep{{Type: "manager"}, {Type: "role", RoleKey: "admin"}}})
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "无锡太湖机械"})
		id := pendingID(t, o.Svc.TransferRecord(ctx, o.Rep1, crm.ObjCustomer, c.ID, o.Rep3.UserID, 0))

		waiting := inbox(t, o.Svc, o.MgrEast).Items
		if len(waiting) != 1 || waiting[0].Kind != crm.NotifyApprovalWaiting || waiting[0].RecordID != id {
			t.Fatalf("manager: %+v", waiting)
		}
		if got, want := i18n.NotificationTitle(i18n.EN, waiting[0]), o.Rep1.Name+" asks for your approval: Ownership transfer (request "; !strings.HasPrefix(got, want) {
			t.Fatalf("en: %q", got)
		}
		if got := i18n.NotificationTitle(i18n.ZH, waiting[0]); !strings.Contains(got, "请您审批：转移负责人") {
			t.Fatalf("zh: %q", got)
		}
		if p := inbox(t, o.Svc, o.Admin); len(p.Items) != 0 {
			t.Fatalf("the second level told before its turn: %+v", p.Items)
		}
		if _, err := decide(t, o, o.MgrEast, id, true); err != nil {
			t.Fatal(err)
		}
		if p := inbox(t, o.Svc, o.Admin); len(p.Items) != 1 || p.Items[0].Kind != crm.NotifyApprovalWaiting {
			t.Fatalf("admin after the first level: %+v", p.Items)
		}
		if p := inbox(t, o.Svc, o.Rep1); len(p.Items) != 0 {
			t.Fatalf("requester told before the end: %+v", p.Items)
		}
		if _, err := decide(t, o, o.Admin, id, true); err != nil {
			t.Fatal(err)
		}
		decided := inbox(t, o.Svc, o.Rep1).Items
		if len(decided) != 1 || decided[0].Kind != crm.NotifyApprovalDecided || decided[0].Params[1] != crm.ApprovalApplied {
			t.Fatalf("requester: %+v", decided)
		}
		if got := i18n.NotificationTitle(i18n.EN, decided[0]); !strings.HasSuffix(got, "(Ownership transfer): Applied.") {
			t.Fatalf("en: %q", got)
		}
		// The carried-out transfer hands the customer to rep3, the
		// approver's act done as the requester.
		if p := inbox(t, o.Svc, o.Rep3); len(p.Items) != 1 || p.Items[0].Kind != crm.NotifyAssigned || p.Items[0].RecordName != "无锡太湖机械" {
			t.Fatalf("new owner: %+v", p.Items)
		}

		// A rejection tells the requester at once.
		c2 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "常州武进纺织"})
		id2 := pendingID(t, o.Svc.TransferRecord(ctx, o.Rep1, crm.ObjCustomer, c2.ID, o.Rep3.UserID, 0))
		if _, err := decide(t, o, o.MgrEast, id2, false); err != nil {
			t.Fatal(err)
		}
		decided = inbox(t, o.Svc, o.Rep1).Items
		if len(decided) != 2 || decided[0].RecordID != id2 || decided[0].Params[1] != crm.ApprovalRejected {
			t.Fatalf("rejected: %+v", decided)
		}
	})
}

// botServer is a fake WeCom, DingTalk and Feishu: it checks each
// platform's signature and keeps each request's exact body by path.
type botServer struct {
	t     *testing.T
	clock *testorg.Clock
	mu    sync.Mutex
	got   map[string][]string
}

func (b *botServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body struct {
		Sign string `json:"sign"`
	}
	json.Unmarshal(raw, &body)
	switch r.URL.Path {
	case "/dingtalk":
		if r.URL.Query().Get("sign") != notify.DingTalkSign("ding secret", b.clock.Now().UnixMilli()) {
			io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match"}`)
			return
		}
	case "/feishu":
		if body.Sign != notify.FeishuSign("feishu secret", b.clock.Now().Unix()) {
			io.WriteString(w, `{"code":19021,"msg":"sign match fail"}`)
			return
		}
	}
	b.mu.Lock()
	b.got[r.URL.Path] = append(b.got[r.URL.Path], string(raw))
	b.mu.Unlock()
	if r.URL.Path == "/feishu" {
		io.WriteString(w, `{"code":0,"msg":"success"}`)
		return
	}
	io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
}

func (b *botServer) bodies(path string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.got[path]...)
}

// TestNotifyPreferencesAndDelivery: preferences choose the channels; an
// e-mail reaches a fake SMTP server and each bot its fake platform in the
// platform's exact format, naming no record; the delivery state shows on
// the notification; a channel not set up cannot be switched on.
func TestNotifyPreferencesAndDelivery(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := testorg.NewClock()
		clock.Set(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC))
		bots := &botServer{t: t, clock: clock, got: map[string][]string{}}
		srv := httptest.NewServer(bots)
		defer srv.Close()
		mail := smtptest.NewServer(t, false)
		o := testorg.NewWith(t, db, service.Options{Argon2: testorg.CheapArgon, Now: clock.Now, TimeZone: time.UTC,
			PublicURL: "https://crm.example.com", Notify: service.NotifyOptions{
				Mail: &notify.Mailer{Addr: mail.Addr, From: "Custos <custos@example.com>"},
				Bots: []*notify.Bot{
					{Kind: notify.BotWeCom, URL: srv.URL + "/wecom?key=k"},
					{Kind: notify.BotDingTalk, URL: srv.URL + "/dingtalk?access_token=t", Secret: "ding secret"},
					{Kind: notify.BotFeishu, URL: srv.URL + "/feishu", Secret: "feishu secret"}}}})
		email, lang := "rep2@example.com", "en"
		if _, err := o.Svc.UpdateUser(ctx, o.Admin, o.Rep2.UserID, service.UserUpdate{Email: &email, Lang: &lang}); err != nil {
			t.Fatal(err)
		}
		// The defaults: in the app everything; e-mail and bots for
		// approvals and the digest, not for hand-overs.
		prefs, err := o.Svc.NotificationPrefs(ctx, o.Rep2)
		if err != nil || len(prefs) != len(crm.NotificationKinds)*len(crm.NotificationChannels) {
			t.Fatalf("prefs: %v %+v", err, prefs)
		}
		for _, p := range prefs {
			want := p.Channel == crm.ChannelInApp || p.Kind != crm.NotifyAssigned
			if p.Enabled != want || !p.Available {
				t.Fatalf("default %+v", p)
			}
		}
		// Hand-overs: not in the app, by e-mail and every bot.
		var set []crm.NotificationPref
		for _, ch := range crm.NotificationChannels {
			set = append(set, crm.NotificationPref{Kind: crm.NotifyAssigned, Channel: ch, Enabled: ch != crm.ChannelInApp})
		}
		if _, err := o.Svc.SaveNotificationPrefs(ctx, o.Rep2, set); err != nil {
			t.Fatal(err)
		}
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "丽水茶园", Phone: "13912345678"})
		if err := o.Svc.TransferRecord(ctx, o.Admin, crm.ObjCustomer, c.ID, o.Rep2.UserID, 0); err != nil {
			t.Fatal(err)
		}
		if p := inbox(t, o.Svc, o.Rep2); len(p.Items) != 0 || p.Unread != 0 {
			t.Fatalf("in the app although switched off: %+v", p)
		}
		if n := len(mail.Messages()) + len(bots.bodies("/wecom")); n != 0 {
			t.Fatalf("sent %d in the request", n)
		}
		if sent, err := o.Svc.DeliverNotifications(ctx); err != nil || sent != 4 {
			t.Fatalf("delivered %d of 4: %v", sent, err)
		}
		title := "Customers: " + o.Admin.Name + " handed “a record (see the link)” over to you."
		msgs := mail.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != email {
			t.Fatalf("mail: %+v", msgs)
		}
		_, body, _ := strings.Cut(msgs[0].Data, "\r\n\r\n")
		text, _ := base64.StdEncoding.DecodeString(strings.ReplaceAll(body, "\r\n", ""))
		if string(text) != title+"\n\nhttps://crm.example.com/notifications\n" {
			t.Fatalf("mail text %q", text)
		}
		botText := "Custos · " + o.Rep2.Name + ": " + title + "\nhttps://crm.example.com/notifications"
		quoted, _ := json.Marshal(botText)
		wantBody := map[string]string{
			"/wecom":    `{"msgtype":"text","text":{"content":` + string(quoted) + `}}`,
			"/dingtalk": `{"msgtype":"text","text":{"content":` + string(quoted) + `}}`,
			"/feishu": `{"content":{"text":` + string(quoted) + `},"msg_type":"text","sign":"` + notify.FeishuSign("feishu secret", clock.Now().Unix()) +
				`","timestamp":"` + strconv.FormatInt(clock.Now().Unix(), 10) + `"}`,
		}
		for path, want := range wantBody {
			got := bots.bodies(path)
			if len(got) != 1 || got[0] != want {
				t.Errorf("%s got %q, want %q", path, got, want)
			}
		}
		for _, m := range append(bots.bodies("/wecom"), string(text)) {
			if strings.Contains(m, "丽水茶园") || strings.Contains(m, "13912345678") {
				t.Fatalf("customer data sent out: %s", m)
			}
		}

		// Approvals in the app too, e-mail off: the state of the bots'
		// deliveries shows on the notification.
		if _, err := o.Svc.SaveNotificationPrefs(ctx, o.Rep2, []crm.NotificationPref{
			{Kind: crm.NotifyAssigned, Channel: crm.ChannelInApp, Enabled: true},
			{Kind: crm.NotifyAssigned, Channel: crm.ChannelEmail, Enabled: false}}); err != nil {
			t.Fatal(err)
		}
		c2 := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "宁波港湾物流"})
		if err := o.Svc.TransferRecord(ctx, o.Admin, crm.ObjCustomer, c2.ID, o.Rep2.UserID, 0); err != nil {
			t.Fatal(err)
		}
		page := inbox(t, o.Svc, o.Rep2)
		if len(page.Items) != 1 || len(page.Items[0].Deliveries) != 3 {
			t.Fatalf("deliveries queued: %+v", page.Items)
		}
		for _, d := range page.Items[0].Deliveries {
			if d.DeliveredAt != nil || d.NextAttempt == nil {
				t.Fatalf("not pending: %+v", d)
			}
		}
		if _, err := o.Svc.DeliverNotifications(ctx); err != nil {
			t.Fatal(err)
		}
		for _, d := range inbox(t, o.Svc, o.Rep2).Items[0].Deliveries {
			if d.DeliveredAt == nil || d.NextAttempt != nil || d.Channel == crm.ChannelEmail {
				t.Fatalf("not delivered: %+v", d)
			}
		}
		if len(mail.Messages()) != 1 {
			t.Fatal("e-mail sent although switched off")
		}

		// Unknown names and channels not set up are refused, naming the
		// field; nothing of the request is saved.
		bare := testorg.New(t, testdb.Open(t, db.Dialect()))
		_, err = bare.Svc.SaveNotificationPrefs(ctx, bare.Rep1, []crm.NotificationPref{
			{Kind: crm.NotifyDigest, Channel: crm.ChannelInApp, Enabled: false},
			{Kind: crm.NotifyDigest, Channel: crm.ChannelWeCom, Enabled: true}})
		if !crm.IsCode(err, crm.Invalid) || !strings.Contains(err.Error(), "channel") {
			t.Fatalf("a bot not set up: %v", err)
		}
		if p, _ := bare.Svc.NotificationPrefs(ctx, bare.Rep1); !p[len(crm.NotificationChannels)*3].Enabled || p[len(crm.NotificationChannels)*3+2].Available {
			t.Fatalf("after the refusal: %+v", p[len(crm.NotificationChannels)*3:])
		}
		if _, err := o.Svc.SaveNotificationPrefs(ctx, o.Rep2, []crm.NotificationPref{{Kind: "party", Channel: "pigeon"}}); !crm.IsCode(err, crm.Invalid) {
			t.Fatalf("unknown names: %v", err)
		}
	})
}

// TestDigestOnceWithTwoInstances: two services on one database run the
// morning digest at once on a fake clock; each user whose morning it is
// gets one, once a day; a user whose local time is before 08:00 none.
func TestDigestOnceWithTwoInstances(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			opt := testdb.Options(t, d)
			clock := testorg.NewClock()
			clock.Set(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
			var dbs []*store.DB
			for range 2 {
				db, err := store.Open(ctx, opt)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs = append(dbs, db)
			}
			o := testorg.NewWith(t, dbs[0], service.Options{Argon2: testorg.CheapArgon, Now: clock.Now, TimeZone: time.UTC})
			other := service.New(dbs[1], service.Options{Vault: o.Vault, Argon2: testorg.CheapArgon, Now: clock.Now, TimeZone: time.UTC})
			for a, zone := range map[*access.Actor]string{o.Rep1: "Asia/Shanghai", o.Rep2: "Asia/Shanghai", o.Rep3: "Asia/Kolkata"} {
				if err := o.Svc.SetTimeZone(ctx, a, zone); err != nil {
					t.Fatal(err)
				}
			}
			// Rep1: one customer due on the 8th (Beijing), one whose
			// follow-up will be overdue then, and a task due; rep2 and rep3 the
			// same, rep3 in India (UTC+05:30). The others have nothing due.
			for _, a := range []*access.Actor{o.Rep1, o.Rep2, o.Rep3} {
				for _, next := range []time.Time{
					time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC), // 23:00 on the 7th in Beijing
					time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC),  // 11:00 on the 8th in Beijing
				} {
					c := o.Customer(t, a, crm.CustomerFields{Name: a.Name + next.Format("1504")})
					if _, err := o.Svc.CreateFollowUp(ctx, a, crm.FollowUpInput{Kind: "call", Content: "回访", CustomerID: c.ID, NextAt: &next}); err != nil {
						t.Fatal(err)
					}
				}
				due := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
				if _, err := o.Svc.CreateTask(ctx, a, crm.TaskFields{Title: "报价", DueAt: &due}); err != nil {
					t.Fatal(err)
				}
			}
			race := func() int {
				var wg sync.WaitGroup
				made := make([]int, 2)
				for i, svc := range []*service.Service{o.Svc, other} {
					wg.Go(func() {
						n, err := svc.RunDigest(ctx)
						if err != nil {
							t.Error(err)
						}
						made[i] = n
					})
				}
				wg.Wait()
				return made[0] + made[1]
			}
			digests := func(a *access.Actor) []crm.Notification {
				var out []crm.Notification
				for _, n := range inbox(t, o.Svc, a).Items {
					if n.Kind == crm.NotifyDigest {
						out = append(out, n)
					}
				}
				return out
			}
			// 07:30 in Beijing, 05:00 in India: nobody's morning yet (in UTC
			// it is evening, but nobody there has anything due).
			clock.Set(time.Date(2026, 12, 7, 23, 30, 0, 0, time.UTC))
			if n := race(); n != 0 {
				t.Fatalf("%d digests before 08:00", n)
			}
			// 08:30 in Beijing, 06:00 in India: rep1 and rep2, once.
			clock.Set(time.Date(2026, 12, 8, 0, 30, 0, 0, time.UTC))
			if n := race(); n != 2 {
				t.Fatalf("%d digests, want 2", n)
			}
			if n := race(); n != 0 {
				t.Fatalf("%d digests again the same morning", n)
			}
			got := digests(o.Rep1)
			if len(got) != 1 || len(digests(o.Rep3)) != 0 {
				t.Fatalf("rep1 %+v, rep3 %+v", got, digests(o.Rep3))
			}
			if p := got[0].Params; p[0] != "1" || p[1] != "1" || p[2] != "1" {
				t.Fatalf("counts %v", p)
			}
			if zh := i18n.NotificationTitle(i18n.ZH, got[0]); zh != "今日：待跟进 1 个，已逾期 1 个，待办任务 1 个。" {
				t.Fatalf("zh %q", zh)
			}
			if en := i18n.NotificationTitle(i18n.EN, got[0]); en != "Today: 1 follow-ups due, 1 overdue, 1 tasks due." {
				t.Fatalf("en %q", en)
			}
			// 14:00 in India: rep3's digest, made late; the next Beijing
			// day has not come.
			clock.Set(time.Date(2026, 12, 8, 8, 30, 0, 0, time.UTC))
			if n := race(); n != 1 || len(digests(o.Rep3)) != 1 {
				t.Fatalf("%d digests at 08:30 UTC", n)
			}
			// The next Beijing morning: a new day, a new digest.
			clock.Set(time.Date(2026, 12, 9, 0, 30, 0, 0, time.UTC))
			if n := race(); n != 2 || len(digests(o.Rep1)) != 2 {
				t.Fatalf("%d digests the next morning", n)
			}
		})
	}
}

// TestNotifyAssignedAtCreation: a customer or task created for someone
// else, or a task reassigned, notifies its new owner; one's own does not.
func TestNotifyAssignedAtCreation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		if _, err := o.Svc.CreateTask(ctx, o.Rep1, crm.TaskFields{Title: "自己的任务"}); err != nil {
			t.Fatal(err)
		}
		k, err := o.Svc.CreateTask(ctx, o.MgrEast, crm.TaskFields{Title: "经理派的任务", AssigneeID: o.Rep1.UserID})
		if err != nil {
			t.Fatal(err)
		}
		c, err := o.Svc.CreateCustomer(ctx, o.MgrEast, service.CustomerInput{CustomerFields: crm.CustomerFields{Name: "嘉兴南湖电子"}, OwnerID: o.Rep1.UserID})
		if err != nil {
			t.Fatal(err)
		}
		items := inbox(t, o.Svc, o.Rep1).Items
		if len(items) != 2 || items[0].Object != crm.ObjCustomer || items[0].RecordID != c.ID || items[0].RecordName != "嘉兴南湖电子" ||
			items[1].Object != crm.ObjTask || items[1].RecordID != k.ID || items[1].RecordName != "经理派的任务" {
			t.Fatalf("rep1: %+v", items)
		}
		if p := inbox(t, o.Svc, o.MgrEast); len(p.Items) != 0 {
			t.Fatalf("the manager told of their own act: %+v", p.Items)
		}
		rep2 := o.Rep2.UserID
		if _, err := o.Svc.UpdateTask(ctx, o.MgrEast, k.ID, crm.TaskUpdate{Version: k.Version, AssigneeID: &rep2}); err != nil {
			t.Fatal(err)
		}
		if p := inbox(t, o.Svc, o.Rep2); len(p.Items) != 1 || p.Items[0].RecordID != k.ID {
			t.Fatalf("reassigned: %+v", p.Items)
		}
	})
}
