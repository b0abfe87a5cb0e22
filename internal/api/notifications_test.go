package api_test

import (
	"context"
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestNotificationsAPI: a user lists, counts and marks read their own
// notifications; another's id is not found; preferences are read and set,
// and a bad switch is refused naming the field.
func TestNotificationsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := testorg.New(t, db)
		srv := newServer(t, o)
		rep1, rep2 := token(t, o, o.Rep1), token(t, o, o.Rep2)
		c := o.Customer(t, o.Rep1, crm.CustomerFields{Name: "API通知客户"})
		if err := o.Svc.TransferRecord(context.Background(), o.Admin, crm.ObjCustomer, c.ID, o.Rep2.UserID, 0); err != nil {
			t.Fatal(err)
		}
		page, err := o.Svc.ListNotifications(context.Background(), o.Rep2, "", 0)
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("%v %+v", err, page)
		}
		read := "/api/v1/notifications/" + strconv.FormatInt(page.Items[0].ID, 10) + "/read"
		for _, sc := range []scenario{
			{name: "the new owner's list", token: rep2, method: "GET", path: "/api/v1/notifications", wantStatus: 200,
				wantContains: []string{`"kind":"assigned"`, `"record_name":"API通知客户"`, `"unread":1`, `"object":"customer"`}},
			{name: "nobody else's", token: rep1, method: "GET", path: "/api/v1/notifications", wantStatus: 200,
				wantContains: []string{`"items":[]`, `"unread":0`}},
			{name: "another's id is not found", token: rep1, method: "POST", path: read, wantStatus: 404},
			{name: "still unread", token: rep2, method: "GET", path: "/api/v1/notifications", wantStatus: 200, wantContains: []string{`"unread":1`}},
			{name: "mark read", token: rep2, method: "POST", path: read, wantStatus: 204},
			{name: "read", token: rep2, method: "GET", path: "/api/v1/notifications", wantStatus: 200, wantContains: []string{`"unread":0`, `"read_at"`}},
			{name: "nothing left to mark", token: rep2, method: "POST", path: "/api/v1/notifications/read-all", wantStatus: 200, wantContains: []string{`"marked":0`}},
			{name: "a bad cursor", token: rep2, method: "GET", path: "/api/v1/notifications?cursor=x", wantStatus: 422, wantContains: []string{`"field":"cursor"`}},
			{name: "preferences", token: rep2, method: "GET", path: "/api/v1/notification-preferences", wantStatus: 200,
				wantContains: []string{`{"kind":"digest","channel":"inapp","enabled":true,"available":true}`, `{"kind":"digest","channel":"wecom","enabled":false,"available":false}`}},
			{name: "switch one off", token: rep2, method: "PUT", path: "/api/v1/notification-preferences", body: `{"items":[{"kind":"assigned","channel":"inapp","enabled":false}]}`,
				wantStatus: 200, wantContains: []string{`{"kind":"assigned","channel":"inapp","enabled":false,"available":true}`}},
			{name: "a bot not set up", token: rep2, method: "PUT", path: "/api/v1/notification-preferences", body: `{"items":[{"kind":"digest","channel":"feishu","enabled":true}]}`,
				wantStatus: 422, wantContains: []string{`"field":"channel"`, `"rule":"not_configured"`}},
		} {
			sc.run(t, srv)
		}
	})
}
