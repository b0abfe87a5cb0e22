package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestPrivacyAPI walks the privacy rights through the API: the register
// (privacy officers only), consents granted and withdrawn by the record's
// owner, the export as JSON and as a zip of CSV files, a correction, and an
// erasure that a legal hold and an API token (which cannot step up) both
// stop.
func TestPrivacyAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		officer := o.User(t, "dpo", o.HQ.ID, "privacy")
		dpo, rep1 := token(t, o, officer), token(t, o, o.Rep1)
		ct, err := o.Svc.CreateContact(ctx, o.Rep1, crm.ContactFields{Name: "晴雯", Mobile: "13100001111", Email: "qingwen@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		id := strconv.FormatInt(ct.ID, 10)
		person := "/api/v1/privacy/people/contact/" + id
		en := map[string]string{"Accept-Language": "en"}
		for _, sc := range []scenario{
			{name: "register closed to sales", token: rep1, method: "GET", path: "/api/v1/privacy/requests", wantStatus: 403},
			{name: "export closed to the owner", token: rep1, method: "GET", path: person + "/export", wantStatus: 403, wantNotContains: []string{"晴雯"}},
			{name: "file", token: dpo, method: "POST", path: "/api/v1/privacy/requests", body: `{"object":"contact","record_id":` + id + `,"kind":"correction"}`,
				wantStatus: 201, wantContains: []string{`"person_name":"晴雯"`, `"status":"open"`}},
			{name: "file about nobody", token: dpo, method: "POST", path: "/api/v1/privacy/requests", body: `{"object":"contact","record_id":999999,"kind":"access"}`,
				wantStatus: 422, wantContains: []string{`"field":"record_id"`}},
			{name: "register", token: dpo, method: "GET", path: "/api/v1/privacy/requests?status=open", wantStatus: 200, wantContains: []string{`"overdue":0`, "晴雯"}},
			{name: "bad status filter", token: dpo, method: "GET", path: "/api/v1/privacy/requests?status=late", wantStatus: 422},
			{name: "grant consent", token: rep1, method: "POST", path: "/api/v1/contacts/" + id + "/consents", body: `{"purpose":"marketing","channel":"sms","source":"门店登记"}`,
				wantStatus: 200, wantContains: []string{`"purpose":"marketing"`, `"source":"门店登记"`}},
			{name: "withdraw consent", token: rep1, method: "POST", path: "/api/v1/contacts/" + id + "/consents/withdraw", body: `{"purpose":"marketing","channel":"sms"}`,
				wantStatus: 200, wantContains: []string{`"withdrawn_at"`}},
			{name: "consents", token: rep1, method: "GET", path: "/api/v1/contacts/" + id + "/consents", wantStatus: 200, wantContains: []string{`"withdrawn_at"`}},
			{name: "export json", token: dpo, method: "GET", path: person + "/export", wantStatus: 200,
				wantContains: []string{`"mobile":"+8613100001111"`, `"email":"qingwen@example.com"`, `"consents":[{`, `"action":"consent.withdraw"`}},
			{name: "export in another format", token: dpo, method: "GET", path: person + "/export?format=xml", wantStatus: 422},
			{name: "correct", token: dpo, method: "POST", path: "/api/v1/privacy/requests/1/complete",
				body: `{"status":"done","contact":{"version":1,"email":"qingwen@example.cn"}}`, wantStatus: 200, wantContains: []string{`"status":"done"`}},
			{name: "hold", token: dpo, method: "PUT", path: person + "/legal-hold", body: `{"reason":"抄检大观园"}`, wantStatus: 204},
			{name: "file erasure", token: dpo, method: "POST", path: "/api/v1/privacy/requests", body: `{"object":"contact","record_id":` + id + `,"kind":"erasure"}`, wantStatus: 201},
			{name: "erasure by token", token: dpo, method: "POST", path: "/api/v1/privacy/requests/2/complete", body: `{"status":"done"}`,
				wantStatus: 403, wantContains: []string{`"code":"step_up_required"`}},
			{name: "refuse the erasure", token: dpo, method: "POST", path: "/api/v1/privacy/requests/2/complete", header: en,
				body: `{"status":"refused","reason":"legal hold"}`, wantStatus: 200, wantContains: []string{`"status":"refused"`}},
			{name: "lift hold", token: dpo, method: "DELETE", path: person + "/legal-hold", wantStatus: 204},
			{name: "lift it again", token: dpo, method: "DELETE", path: person + "/legal-hold", wantStatus: 409},
			{name: "unarchive what is not archived", token: dpo, method: "POST", path: person + "/unarchive", wantStatus: 409},
			{name: "retention", token: dpo, method: "GET", path: "/api/v1/privacy/retention", wantStatus: 200, wantContains: []string{`"object":"contact"`, `"object":"lead"`}},
			{name: "retention change by token", token: dpo, method: "PUT", path: "/api/v1/privacy/retention/lead", body: `{"archive_months":12,"destroy_years":5}`,
				wantStatus: 403, wantContains: []string{`"code":"step_up_required"`}},
		} {
			sc.run(t, srv)
		}
		got, err := o.Svc.GetContact(ctx, o.Rep1, ct.ID)
		if err != nil || got.Email != "qingwen@example.cn" || got.Version != 2 {
			t.Fatalf("the correction: %v %+v", err, got)
		}

		// The CSV export: a zip of one CSV file per section.
		req, _ := http.NewRequest("GET", srv.URL+person+"/export?format=csv", nil)
		req.Header.Set("Authorization", "Bearer "+dpo)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="person-contact-`+id+`.zip"` {
			t.Fatalf("csv export: %d %v", resp.StatusCode, resp.Header)
		}
		z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		var contacts []byte
		for _, f := range z.File {
			if f.Name == "contacts.csv" {
				rc, _ := f.Open()
				contacts, _ = io.ReadAll(rc)
				rc.Close()
			}
		}
		if !bytes.Contains(contacts, []byte("qingwen@example.cn")) {
			t.Errorf("contacts.csv: %s", contacts)
		}
		var page struct {
			Items []crm.PrivacyRequest `json:"items"`
		}
		body := scenario{name: "closed requests", token: dpo, method: "GET", path: "/api/v1/privacy/requests", wantStatus: 200}.run(t, srv)
		if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Items) != 2 || page.Items[0].Reason != "legal hold" {
			t.Errorf("register after: %v %s", err, body)
		}
	})
}
