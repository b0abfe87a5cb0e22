package web

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"custos/internal/crm"
	"custos/internal/service"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestTimeZones shows the same instants to a user in Asia/Shanghai and one
// in Europe/Berlin at their own local times, reads what each types in
// their own zone, and falls back to the organisation's default zone.
func TestTimeZones(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "时区测试有限公司"})
		// Winter: Shanghai is UTC+8, Berlin UTC+1 — a different day.
		occurred := time.Date(2025, 1, 15, 23, 30, 0, 0, time.UTC)
		// Summer: Berlin is on daylight saving time, UTC+2.
		next := time.Date(2031, 7, 1, 2, 0, 0, 0, time.UTC)
		_, err := o.svc.CreateFollowUp(ctx, o.rep1, crm.FollowUpInput{CustomerID: c.ID, Kind: "call", Content: "跨时区的电话",
			OccurredAt: &occurred, NextAt: &next})
		noErr(t, err)
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "mgr": s.signIn("mgr.east", testPassword),
			"rep2": s.signIn("rep2", testPassword)}
		customer := "/customers/" + id(c.ID)
		runScenarios(t, s, browsers, []scenario{
			{name: "the account page offers the time zone", actor: "rep1", method: "GET", path: "/account", wantStatus: 200,
				wantContains: []string{`action="/account/time-zone"`, `name="time_zone" type="text" value=""`, `list="time-zones"`,
					`<option value="Europe/Berlin">`, "服务器所在时区"}},
			{name: "an unknown zone is refused and kept", actor: "rep1", method: "POST", path: "/account/time-zone",
				body: url.Values{"time_zone": {"Mars/Olympus"}}, wantStatus: 422,
				wantContains: []string{"时区：不是已知的时区", `value="Mars/Olympus"`, `aria-invalid="true"`}},
			{name: "an unknown zone in English", actor: "rep1", method: "POST", path: "/account/time-zone", header: map[string]string{"Accept-Language": "en"},
				body: url.Values{"time_zone": {"Nowhere"}}, wantStatus: 422, wantContains: []string{"Time zone: is not a known time zone"}},
			{name: "rep1 chooses Shanghai", actor: "rep1", method: "POST", path: "/account/time-zone",
				body: url.Values{"time_zone": {"Asia/Shanghai"}}, wantStatus: 303, wantLocation: "/account"},
			{name: "the manager chooses Berlin", actor: "mgr", method: "POST", path: "/account/time-zone",
				body: url.Values{"time_zone": {"Europe/Berlin"}}, wantStatus: 303, wantLocation: "/account"},
			{name: "the choice shows on the account page", actor: "mgr", method: "GET", path: "/account", wantStatus: 200,
				wantContains: []string{`value="Europe/Berlin"`, "(UTC&#43;0"}},
			{name: "the time zone needs the CSRF token", actor: "rep2", method: "POST", path: "/account/time-zone", noCSRF: true,
				body: url.Values{"time_zone": {"Asia/Tokyo"}}, wantStatus: 403},

			// The same follow-up, each at their own local time; the
			// machine-readable instant is the same for both.
			{name: "Shanghai sees Shanghai times", actor: "rep1", method: "GET", path: customer, wantStatus: 200,
				wantContains:    []string{"2025年1月16日 07:30", "2031年7月1日 10:00", `datetime="2031-07-01T02:00:00Z"`},
				wantNotContains: []string{"2031年7月1日 04:00"}},
			{name: "Berlin sees Berlin times", actor: "mgr", method: "GET", path: customer, wantStatus: 200,
				wantContains:    []string{"2025年1月16日 00:30", "2031年7月1日 04:00", `datetime="2031-07-01T02:00:00Z"`},
				wantNotContains: []string{"2031年7月1日 10:00"}},
			{name: "Berlin in English", actor: "mgr", method: "GET", path: customer, header: map[string]string{"Accept-Language": "en"},
				wantStatus: 200, wantContains: []string{"1 Jul 2031 04:00"}},
			{name: "the customer list too", actor: "mgr", method: "GET", path: "/customers", wantStatus: 200,
				wantContains: []string{"2031年7月1日 04:00"}},

			// Typed times are read in the typist's zone.
			{name: "Shanghai types a next follow-up", actor: "rep1", method: "POST", path: customer + "/follow-ups",
				body:       url.Values{"kind": {"visit"}, "content": {"上海录入"}, "occurred_at": {"2025-03-01T09:00"}, "next_at": {"2031-08-01T09:00"}},
				wantStatus: 303, check: func(t *testing.T) {
					got, err := o.svc.GetCustomer(ctx, o.admin, c.ID)
					if err != nil || got.NextFollowUpAt == nil || !got.NextFollowUpAt.Equal(time.Date(2031, 8, 1, 1, 0, 0, 0, time.UTC)) {
						t.Errorf("next follow-up typed 09:00 in Shanghai: %v (%v), want 01:00 UTC", got.NextFollowUpAt, err)
					}
					items, _ := o.svc.ListFollowUps(ctx, o.admin, c.ID)
					if len(items) == 0 || items[0].Content != "上海录入" || !items[0].OccurredAt.Equal(time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC)) {
						t.Errorf("occurred typed 09:00 in Shanghai: %+v", items)
					}
				}},
			{name: "Berlin types a task's due time", actor: "mgr", method: "POST", path: "/tasks",
				body:       url.Values{"title": {"柏林录入的任务"}, "due_at": {"2031-08-01T09:00"}, "customer_id": {id(c.ID)}, "assignee_id": {id(o.rep1.UserID)}},
				wantStatus: 303, check: func(t *testing.T) {
					tasks, err := o.svc.ListTasks(ctx, o.rep1, service.TaskFilter{})
					if err != nil || len(tasks) != 1 || tasks[0].DueAt == nil || !tasks[0].DueAt.Equal(time.Date(2031, 8, 1, 7, 0, 0, 0, time.UTC)) {
						t.Errorf("due typed 09:00 in Berlin (summer): %+v (%v), want 07:00 UTC", tasks, err)
					}
				}},
		})

		// The task's edit form shows its due time in each reader's zone.
		tasks, err := o.svc.ListTasks(ctx, o.rep1, service.TaskFilter{})
		noErr(t, err)
		edit := "/tasks/" + id(tasks[0].ID) + "/edit"
		runScenarios(t, s, browsers, []scenario{
			{name: "Shanghai edits the due time", actor: "rep1", method: "GET", path: edit, wantStatus: 200,
				wantContains: []string{`name="due_at" type="datetime-local" value="2031-08-01T15:00"`}},
			{name: "Berlin edits the due time", actor: "mgr", method: "GET", path: edit, wantStatus: 200,
				wantContains: []string{`name="due_at" type="datetime-local" value="2031-08-01T09:00"`}},
		})
		// The quick follow-up form starts at "now" on the user's clock (the
		// hour may turn during the request: either side of it will do).
		shanghai := mustZone(t, "Asia/Shanghai")
		before := time.Now().In(shanghai).Format("2006-01-02T15")
		body := s.do(browsers["rep1"], "GET", customer, nil, nil).Body.String()
		after := time.Now().In(shanghai).Format("2006-01-02T15")
		input := `name="occurred_at" type="datetime-local" value="`
		if !strings.Contains(body, input+before) && !strings.Contains(body, input+after) {
			t.Errorf("the follow-up form does not start at Shanghai's now (%s)\n%s", before, excerpt(body))
		}

		// A user without a choice sees the organisation's default; a user
		// with one keeps it.
		c2 := mustCreateCustomer(t, o.svc, o.rep2, crm.CustomerFields{Name: "纽约默认有限公司"})
		_, err = o.svc.CreateFollowUp(ctx, o.rep2, crm.FollowUpInput{CustomerID: c2.ID, Kind: "call", Content: "默认时区", NextAt: &next})
		noErr(t, err)
		org := newSite(t, service.New(db, service.Options{Vault: o.t.Vault, Argon2: testorg.CheapArgon, TimeZone: mustZone(t, "America/New_York")}))
		orgBrowsers := map[string]*browser{"rep2": org.signIn("rep2", testPassword), "mgr": org.signIn("mgr.east", testPassword)}
		runScenarios(t, org, orgBrowsers, []scenario{
			{name: "the default zone is named on the account page", actor: "rep2", method: "GET", path: "/account", wantStatus: 200,
				wantContains: []string{"组织默认时区（America/New_York）"}},
			{name: "without a choice, the default zone", actor: "rep2", method: "GET", path: "/customers/" + id(c2.ID), wantStatus: 200,
				wantContains: []string{"2031年6月30日 22:00"}},
			{name: "a choice wins over the default", actor: "mgr", method: "GET", path: "/customers/" + id(c2.ID), wantStatus: 200,
				wantContains: []string{"2031年7月1日 04:00"}, wantNotContains: []string{"2031年6月30日 22:00"}},
		})
	})
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := service.LoadTimeZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
