package api_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"testing"

	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
	"custos/internal/testorg"
)

// TestDuplicatesAPI: an administrator asks for a scan (which serve's
// background job runs); each reader lists only the
// pairs whose both records they may see, page by page; a rep compares and
// merges their own records (a stale version is refused), finds the merge
// in the history, undoes it once, and dismisses the pair; another rep can
// do none of it to them.
func TestDuplicatesAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := testorg.New(t, db)
		srv := newServer(t, o)
		a1, a2 := o.LookAlike(t, o.Rep1, "John Smith", "7364009"), o.LookAlike(t, o.Rep1, "Jon Smith", "7364009")
		o.LookAlike(t, o.Rep3, "Smith John", "7364090")
		admin, rep1, rep2 := token(t, o, o.Admin), token(t, o, o.Rep1), token(t, o, o.Rep2)
		i := func(n int64) string { return strconv.FormatInt(n, 10) }
		pair := `"id_a":` + i(a1.ID) + `,"id_b":` + i(a2.ID)
		for _, sc := range []scenario{
			{name: "never scanned", token: rep1, method: "GET", path: "/api/v1/duplicates/contacts", wantStatus: 200,
				wantContains: []string{`"pairs":[]`, `"clusters":[]`}},
			{name: "reps do not scan", token: rep1, method: "POST", path: "/api/v1/duplicates/contacts/scan", wantStatus: 403},
			{name: "ask for a scan", token: admin, method: "POST", path: "/api/v1/duplicates/contacts/scan", wantStatus: 202,
				wantContains: []string{`"status":"requested"`}},
		} {
			sc.run(t, srv)
		}
		// serve's background job runs the scan asked for.
		if scans, err := o.Svc.RunDueDuplicateScans(ctx, 0); err != nil || len(scans) != 1 {
			t.Fatalf("due scans: %v %+v", err, scans)
		}
		for _, sc := range []scenario{
			{name: "the scan's counts", token: rep1, method: "GET", path: "/api/v1/duplicates/contacts", wantStatus: 200,
				wantContains: []string{`"status":"done"`, `"records":3`, `"pairs":3`}},
			{name: "the administrator's pairs", token: admin, method: "GET", path: "/api/v1/duplicates/contacts", wantStatus: 200,
				wantContains: []string{"Smith John", `"clusters":[[`}},
			{name: "rep1's pair", token: rep1, method: "GET", path: "/api/v1/duplicates/contacts?min_score=0.5", wantStatus: 200,
				wantContains: []string{pair, `"title_a":"John Smith"`, `"clusters":[[` + i(a1.ID) + `,` + i(a2.ID) + `]]`}, wantNotContains: []string{"Smith John", "next_cursor"}},
			{name: "rep2 sees none", token: rep2, method: "GET", path: "/api/v1/duplicates/contacts", wantStatus: 200,
				wantContains: []string{`"pairs":[]`}, wantNotContains: []string{"Smith"}},
			{name: "a bad cursor", token: rep1, method: "GET", path: "/api/v1/duplicates/contacts?after=x", wantStatus: 422, wantContains: []string{`"field":"after"`}},
			{name: "a bad score", token: rep1, method: "GET", path: "/api/v1/duplicates/contacts?min_score=2", wantStatus: 422, wantContains: []string{`"field":"min_score"`}},
			{name: "an object the finder does not scan", token: rep1, method: "GET", path: "/api/v1/duplicates/tasks", wantStatus: 422,
				wantContains: []string{`"field":"object"`}},
			{name: "no such collection", token: rep1, method: "GET", path: "/api/v1/duplicates/widgets", wantStatus: 404},
		} {
			sc.run(t, srv)
		}

		// Paging: one pair a page, the cursor leads to the next.
		var page struct {
			Pairs []crm.DupPair `json:"pairs"`
			Next  string        `json:"next_cursor"`
		}
		seen := map[string]bool{}
		for p, after := 0, ""; p < 4; p++ {
			body := scenario{name: "page", token: admin, method: "GET", path: "/api/v1/duplicates/contacts?limit=1&after=" + url.QueryEscape(after), wantStatus: 200}.run(t, srv)
			page.Next, page.Pairs = "", nil
			if err := json.Unmarshal([]byte(body), &page); err != nil {
				t.Fatal(err)
			}
			for _, pr := range page.Pairs {
				seen[pr.Cursor()] = true
			}
			if after = page.Next; after == "" {
				break
			}
		}
		if len(seen) != 3 {
			t.Errorf("paging one by one saw %d pairs, want 3", len(seen))
		}

		compare := "/api/v1/duplicates/contacts/compare?survivor=" + i(a1.ID) + "&merged=" + i(a2.ID)
		merge := func(survivorVersion int64) string {
			return `{"survivor_id":` + i(a1.ID) + `,"merged_id":` + i(a2.ID) + `,"survivor_version":` + i(survivorVersion) +
				`,"merged_version":` + i(a2.Version) + `,"fields":{"name":"merged"}}`
		}
		for _, sc := range []scenario{
			{name: "compare", token: rep1, method: "GET", path: compare, wantStatus: 200,
				wantContains: []string{`"name":"name","survivor":"John Smith","merged":"Jon Smith","differs":true,"editable":true,"default":"survivor"`, `"moves":{`}},
			{name: "rep2 cannot compare", token: rep2, method: "GET", path: compare, wantStatus: 422, wantContains: []string{`"rule":"not_found"`},
				wantNotContains: []string{"Smith"}},
			{name: "no ids", token: rep1, method: "GET", path: "/api/v1/duplicates/contacts/compare?survivor=x", wantStatus: 422, wantContains: []string{`"field":"survivor"`}},
			{name: "rep2 cannot merge", token: rep2, method: "POST", path: "/api/v1/contacts/merge", body: merge(a1.Version), wantStatus: 422,
				wantContains: []string{`"rule":"not_found"`}},
			{name: "stale", token: rep1, method: "POST", path: "/api/v1/contacts/merge", body: merge(a1.Version + 1), wantStatus: 409},
			{name: "a field that is not mergeable", token: rep1, method: "POST", path: "/api/v1/contacts/merge",
				body:       `{"survivor_id":` + i(a1.ID) + `,"merged_id":` + i(a2.ID) + `,"survivor_version":1,"merged_version":1,"fields":{"owner_id":"merged"}}`,
				wantStatus: 422, wantContains: []string{`"field":"fields.owner_id"`}},
			{name: "merge", token: rep1, method: "POST", path: "/api/v1/contacts/merge", body: merge(a1.Version), wantStatus: 200,
				wantContains: []string{`"survivor_id":` + i(a1.ID), `"fields":["name"]`}},
			{name: "the pair is closed", token: rep1, method: "GET", path: "/api/v1/duplicates/contacts", wantStatus: 200, wantContains: []string{`"pairs":[]`}},
			{name: "rep2 sees no merge", token: rep2, method: "GET", path: "/api/v1/merges/contacts", wantStatus: 200, wantContains: []string{`"items":[]`}},
		} {
			sc.run(t, srv)
		}
		ms, err := o.Svc.Merges(ctx, o.Rep1, crm.ObjContact, 10)
		if err != nil || len(ms) != 1 {
			t.Fatalf("merges: %v %+v", err, ms)
		}
		undo := "/api/v1/merges/" + i(ms[0].ID) + "/undo"
		for _, sc := range []scenario{
			{name: "history", token: rep1, method: "GET", path: "/api/v1/merges/contacts", wantStatus: 200,
				wantContains: []string{`"id":` + i(ms[0].ID), `"merged_id":` + i(a2.ID)}},
			{name: "rep2 cannot undo", token: rep2, method: "POST", path: undo, wantStatus: 404},
			{name: "undo", token: rep1, method: "POST", path: undo, wantStatus: 200, wantContains: []string{`"undone_at":`}, wantNotContains: []string{`"kept"`}},
			{name: "not twice", token: rep1, method: "POST", path: undo, wantStatus: 409},
			{name: "rep2 cannot dismiss", token: rep2, method: "POST", path: "/api/v1/duplicates/contacts/dismiss", body: `{` + pair + `}`, wantStatus: 404},
			{name: "not a duplicate", token: rep1, method: "POST", path: "/api/v1/duplicates/contacts/dismiss", body: `{` + pair + `}`, wantStatus: 204},
			{name: "gone from the list", token: rep1, method: "GET", path: "/api/v1/duplicates/contacts", wantStatus: 200, wantContains: []string{`"pairs":[]`}},
		} {
			sc.run(t, srv)
		}
		if got, err := o.Svc.GetContact(ctx, o.Rep1, a2.ID); err != nil || got.Name != "Jon Smith" {
			t.Errorf("merged contact after the undo: %v %+v", err, got.ContactFields)
		}
	})
}
