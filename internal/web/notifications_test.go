package web

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestNotificationCentre: the header counts a user's unread
// notifications; /notifications lists their own, linking to the record's
// normal page (which checks access again), marks read with the CSRF token,
// in Chinese and English; the account page sets the switches.
func TestNotificationCentre(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "通知中心测试公司"})
		noErr(t, o.svc.TransferRecord(ctx, o.admin, crm.ObjCustomer, c.ID, o.rep2.UserID, 0))
		page, err := o.svc.ListNotifications(ctx, o.rep2, "", 0)
		noErr(t, err)
		if len(page.Items) != 1 {
			t.Fatalf("%+v", page)
		}
		n := strconv.FormatInt(page.Items[0].ID, 10)
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "rep2": s.signIn("rep2", testPassword)}
		runScenarios(t, s, browsers, []scenario{
			{name: "the header counts the unread", actor: "rep2", method: "GET", path: "/", wantStatus: 200,
				wantContains: []string{`href="/notifications"`, `<span class="badge count">1</span>`, "通知，1 条未读"}},
			{name: "no badge without unread", actor: "rep1", method: "GET", path: "/", wantStatus: 200,
				wantContains: []string{`href="/notifications"`}, wantNotContains: []string{`badge count`}},
			{name: "the list links to the record", actor: "rep2", method: "GET", path: "/notifications", wantStatus: 200,
				wantContains: []string{`href="/customers/` + id(c.ID) + `"`, "客户：" + o.admin.Name + " 将「通知中心测试公司」转交给您。",
					`action="/notifications/` + n + `/read"`, `action="/notifications/read-all"`}},
			{name: "in English", actor: "rep2", method: "GET", path: "/notifications", header: map[string]string{"Accept-Language": "en"}, wantStatus: 200,
				wantContains: []string{"Customers: " + o.admin.Name + " handed “通知中心测试公司” over to you."}},
			{name: "nobody else's", actor: "rep1", method: "GET", path: "/notifications", wantStatus: 200,
				wantNotContains: []string{"通知中心测试公司"}},
			{name: "another's is not found", actor: "rep1", method: "POST", path: "/notifications/" + n + "/read", body: url.Values{}, wantStatus: 404},
			{name: "marking needs the CSRF token", actor: "rep2", method: "POST", path: "/notifications/" + n + "/read", noCSRF: true, body: url.Values{}, wantStatus: 403},
			{name: "mark read", actor: "rep2", method: "POST", path: "/notifications/" + n + "/read", body: url.Values{}, wantStatus: 303, wantLocation: "/notifications"},
			{name: "read: no badge, no button", actor: "rep2", method: "GET", path: "/notifications", wantStatus: 200,
				wantContains: []string{"通知中心测试公司"}, wantNotContains: []string{`badge count`, `action="/notifications/` + n + `/read"`}},
			{name: "the account page shows the switches", actor: "rep2", method: "GET", path: "/account", wantStatus: 200,
				wantContains: []string{`action="/account/notifications"`, `value="assigned:inapp" aria-label="记录转交给我 · 站内" checked`,
					`value="digest:wecom" aria-label="早间摘要（今日待跟进与逾期） · 企业微信" disabled`}},
			{name: "switch hand-overs off in the app", actor: "rep2", method: "POST", path: "/account/notifications",
				body: url.Values{"pref": {"approval_waiting:inapp", "approval_decided:inapp", "digest:inapp"}}, wantStatus: 303, wantLocation: "/account#notifications",
				check: func(t *testing.T) {
					prefs, err := o.svc.NotificationPrefs(ctx, o.rep2)
					noErr(t, err)
					for _, p := range prefs {
						if p.Channel == crm.ChannelInApp && p.Enabled != (p.Kind != crm.NotifyAssigned) {
							t.Errorf("after saving: %+v", p)
						}
					}
				}},
		})
	})
}
