package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestDuplicateReview drives the duplicate review through the real
// handlers: an administrator asks for a scan (which serve's background
// job runs), each reader sees only the pairs whose
// both records they may see (a rep never another rep's), compares two
// records, is refused a stale merge with the choices kept, merges, finds
// the merge in the history and undoes it (a field changed since is kept
// and named), and marks a pair as not a duplicate. Every form needs its
// CSRF token.
func TestDuplicateReview(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		a1 := o.t.LookAlike(t, o.rep1, "John Smith", "7364009")
		jon := o.t.LookAlike(t, o.rep1, "Jon Smith", "7364009")
		o.t.LookAlike(t, o.rep3, "Smith John", "7364090")
		buyer := "采购经理"
		a2, err := o.svc.UpdateContact(ctx, o.rep1, jon.ID, crm.ContactUpdate{Version: jon.Version, Title: &buyer}) // a field only it has
		noErr(t, err)
		browsers := map[string]*browser{"rep1": s.signIn("rep1", testPassword), "rep2": s.signIn("rep2", testPassword),
			"admin": signInAdmin(t, s, o)}
		compare := "/duplicates/contacts/compare?merged=" + id(a2.ID) + "&survivor=" + id(a1.ID)
		merge := func(survivorVersion int64) url.Values {
			return url.Values{"survivor_id": {id(a1.ID)}, "merged_id": {id(a2.ID)}, "survivor_version": {strconv.FormatInt(survivorVersion, 10)},
				"merged_version": {id(a2.Version)}, "keep.title": {"merged"}, "keep.name": {"merged"}}
		}
		runScenarios(t, s, browsers, []scenario{
			{name: "in the navigation", actor: "rep1", method: "GET", path: "/", wantStatus: http.StatusOK, wantContains: []string{`href="/duplicates"`}},
			{name: "the first object", actor: "rep1", method: "GET", path: "/duplicates", wantStatus: http.StatusSeeOther, wantLocation: "/duplicates/customers"},
			{name: "never scanned", actor: "rep1", method: "GET", path: "/duplicates/contacts", wantStatus: http.StatusOK,
				wantContains: []string{"尚未做过查重扫描", `href="/duplicates/leads"`}, wantNotContains: []string{`action="/duplicates/contacts/scan"`}},
			{name: "an object the finder does not scan", actor: "rep1", method: "GET", path: "/duplicates/tasks", wantStatus: http.StatusNotFound},
			{name: "reps do not scan", actor: "rep1", method: "POST", path: "/duplicates/contacts/scan", wantStatus: http.StatusForbidden},
			{name: "scanning needs the form's token", actor: "admin", method: "POST", path: "/duplicates/contacts/scan", noCSRF: true, wantStatus: http.StatusForbidden},
			{name: "ask for a scan", actor: "admin", method: "POST", path: "/duplicates/contacts/scan", wantStatus: http.StatusSeeOther,
				wantLocation: "/duplicates/contacts?scan=requested"},
			{name: "asked", actor: "admin", method: "GET", path: "/duplicates/contacts?scan=requested", wantStatus: http.StatusOK,
				wantContains: []string{"已申请扫描", "尚未做过查重扫描"},
				check: func(t *testing.T) { // serve's background job runs it
					if scans, err := o.svc.RunDueDuplicateScans(ctx, 0); err != nil || len(scans) != 1 {
						t.Fatalf("due scans: %v %+v", err, scans)
					}
				}},
			{name: "the administrator sees every pair and the group of three", actor: "admin", method: "GET", path: "/duplicates/contacts", wantStatus: http.StatusOK,
				wantContains: []string{"最近扫描", "读取 3 条记录", "保留 3 对疑似重复", "重复组", "Smith John", "立即扫描"}},
			{name: "rep1 sees their pair", actor: "rep1", method: "GET", path: "/duplicates/contacts", wantStatus: http.StatusOK,
				wantContains:    []string{"John Smith", "Jon Smith", strings.ReplaceAll(compare, "&", "&amp;"), `name="id_a" value="` + id(a1.ID) + `"`},
				wantNotContains: []string{"Smith John", "重复组", `action="/duplicates/contacts/scan"`}},
			{name: "rep2 sees none of rep1's", actor: "rep2", method: "GET", path: "/duplicates/contacts", wantStatus: http.StatusOK,
				wantContains: []string{"没有疑似重复"}, wantNotContains: []string{"Smith"}},
			{name: "in English", actor: "rep1", method: "GET", path: "/duplicates/contacts", header: map[string]string{"Accept-Language": "en"},
				wantStatus: http.StatusOK, wantContains: []string{"Possible duplicates", "Not a duplicate", "Compare"}},
			{name: "rep2 cannot compare them", actor: "rep2", method: "GET", path: compare, wantStatus: http.StatusUnprocessableEntity,
				wantContains: []string{"不存在"}, wantNotContains: []string{"Smith"}},
			{name: "compare", actor: "rep1", method: "GET", path: compare, wantStatus: http.StatusOK,
				wantContains: []string{"John Smith", "Jon Smith", `name="keep.name" value="survivor" checked`, `name="keep.title" value="merged" checked`,
					`name="survivor_version" value="1"`, `name="merged_version" value="2"`, "采购经理",
					`href="/duplicates/contacts/compare?merged=` + id(a1.ID) + `&amp;survivor=` + id(a2.ID) + `"`}},
			{name: "merging needs the form's token", actor: "rep1", method: "POST", path: "/duplicates/contacts/merge", body: merge(a1.Version),
				noCSRF: true, wantStatus: http.StatusForbidden},
			{name: "rep2 cannot merge them", actor: "rep2", method: "POST", path: "/duplicates/contacts/merge", body: merge(a1.Version),
				wantStatus: http.StatusUnprocessableEntity, wantNotContains: []string{"Smith"}},
			{name: "a stale version is refused, the choices kept", actor: "rep1", method: "POST", path: "/duplicates/contacts/merge", body: merge(a1.Version + 5),
				wantStatus: http.StatusConflict, wantContains: []string{"该记录已被他人修改", `name="keep.name" value="merged" checked`, `name="survivor_version" value="1"`}},
			{name: "merge", actor: "rep1", method: "POST", path: "/duplicates/contacts/merge", body: merge(a1.Version),
				wantStatus: http.StatusSeeOther, wantLocation: "/duplicates/contacts/merges?merged="},
		})
		ms, err := o.svc.Merges(ctx, o.rep1, crm.ObjContact, 10)
		if err != nil || len(ms) != 1 {
			t.Fatalf("merges: %v %+v", err, ms)
		}
		m := ms[0]
		got, err := o.svc.GetContact(ctx, o.rep1, a1.ID)
		noErr(t, err)
		if got.Name != "Jon Smith" || got.Title != "采购经理" {
			t.Fatalf("survivor after the merge: %+v", got.ContactFields)
		}
		// Someone corrects the title after the merge: the undo keeps it.
		title := "采购总监"
		_, err = o.svc.UpdateContact(ctx, o.rep1, a1.ID, crm.ContactUpdate{Version: got.Version, Title: &title})
		noErr(t, err)
		history := "/duplicates/contacts/merges"
		undo := history + "/" + id(m.ID) + "/undo"
		runScenarios(t, s, browsers, []scenario{
			{name: "the merge, with its undo", actor: "rep1", method: "GET", path: history + "?merged=" + id(m.ID), wantStatus: http.StatusOK,
				wantContains: []string{"已合并：Jon Smith 已并入 Jon Smith；转移了 0 条关联数据", `href="/contacts/` + id(a1.ID) + `"`, `action="` + undo + `"`}},
			{name: "the pair left the list", actor: "rep1", method: "GET", path: "/duplicates/contacts", wantStatus: http.StatusOK,
				wantContains: []string{"没有疑似重复"}},
			{name: "rep2 sees no merge of rep1's", actor: "rep2", method: "GET", path: history, wantStatus: http.StatusOK,
				wantContains: []string{"还没有合并记录"}, wantNotContains: []string{"Smith"}},
			{name: "rep2 cannot undo it", actor: "rep2", method: "POST", path: undo, wantStatus: http.StatusNotFound},
			{name: "undoing needs the form's token", actor: "rep1", method: "POST", path: undo, noCSRF: true, wantStatus: http.StatusForbidden},
			{name: "undo", actor: "rep1", method: "POST", path: undo, wantStatus: http.StatusSeeOther,
				wantLocation: history + "?kept=title&undone=" + id(m.ID)},
			{name: "what the undo kept", actor: "rep1", method: "GET", path: history + "?kept=title&undone=" + id(m.ID), wantStatus: http.StatusOK,
				wantContains: []string{"合并已撤销", "以下字段在合并后又被修改，保留当前值：职位", "已于"}},
			{name: "not twice", actor: "rep1", method: "POST", path: undo, wantStatus: http.StatusConflict, wantContains: []string{"该合并已被撤销"}},
			{name: "the pair is back", actor: "rep1", method: "GET", path: "/duplicates/contacts", wantStatus: http.StatusOK, wantContains: []string{"John Smith"}},
			{name: "rep2 cannot dismiss it", actor: "rep2", method: "POST", path: "/duplicates/contacts/dismiss",
				body: url.Values{"id_a": {id(a1.ID)}, "id_b": {id(a2.ID)}}, wantStatus: http.StatusNotFound},
			{name: "dismissing needs the form's token", actor: "rep1", method: "POST", path: "/duplicates/contacts/dismiss",
				body: url.Values{"id_a": {id(a1.ID)}, "id_b": {id(a2.ID)}}, noCSRF: true, wantStatus: http.StatusForbidden},
			{name: "not a duplicate", actor: "rep1", method: "POST", path: "/duplicates/contacts/dismiss",
				body: url.Values{"id_a": {id(a1.ID)}, "id_b": {id(a2.ID)}}, wantStatus: http.StatusSeeOther, wantLocation: "/duplicates/contacts?dismissed=1"},
			{name: "dismissed", actor: "rep1", method: "GET", path: "/duplicates/contacts?dismissed=1", wantStatus: http.StatusOK,
				wantContains: []string{"已标记为不是重复", "没有疑似重复"}},
		})
		back, err := o.svc.GetContact(ctx, o.rep1, a2.ID)
		if err != nil || back.Name != "Jon Smith" {
			t.Errorf("merged contact after the undo: %v %+v", err, back.ContactFields)
		}
		got, _ = o.svc.GetContact(ctx, o.rep1, a1.ID)
		if got.Name != "John Smith" || got.Title != title {
			t.Errorf("survivor after the undo: %+v", got.ContactFields)
		}
	})
}

// TestCompareFieldRules: the comparison shows a field as the reader's role
// does — masked values masked, read-only ones as they are — and offers no
// choice for either: the kept record's value stays.
func TestCompareFieldRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		r := o.roles["sales"]
		r.ID, r.Key, r.Name = 0, "sales_masked", "sales_masked"
		grants := map[crm.Object]crm.ObjectGrant{}
		for obj, g := range r.Grants {
			if obj == crm.ObjContact {
				g.Fields = map[string]crm.FieldAccess{"mobile": crm.FieldMasked, "title": crm.FieldReadOnly}
			}
			grants[obj] = g
		}
		r.Grants = grants
		sys := access.System("test")
		saved, err := o.svc.SaveRole(ctx, sys, r)
		noErr(t, err)
		o.t.Roles[saved.Key] = saved
		rep := o.t.User(t, "masked.rep", o.east1.ID, saved.Key)
		c := mustCreateCustomer(t, o.svc, o.rep1, crm.CustomerFields{Name: "宁波港机"})
		mk := func(name, mobile, title string) crm.Contact {
			ct, err := o.svc.CreateContact(ctx, o.rep1, crm.ContactFields{CustomerID: c.ID, Name: name, Mobile: mobile, Title: title})
			noErr(t, err)
			noErr(t, o.svc.TransferRecord(ctx, sys, crm.ObjContact, ct.ID, rep.UserID, 0))
			return ct
		}
		a := mk("陈晓东", "13500003331", "")
		b := mk("陈晓冬", "13500003332", "厂长")
		noErr(t, o.svc.TransferRecord(ctx, sys, crm.ObjCustomer, c.ID, rep.UserID, 0))
		browsers := map[string]*browser{"rep": s.signIn("masked.rep", testPassword)}
		runScenarios(t, s, browsers, []scenario{
			{name: "masked and read-only fields: shown, not chosen", actor: "rep", method: "GET",
				path: "/duplicates/contacts/compare?survivor=" + id(a.ID) + "&merged=" + id(b.ID), wantStatus: http.StatusOK,
				wantContains:    []string{"陈晓东", "陈晓冬", `name="keep.name"`, "厂长", "您的角色不能修改此字段", "135****3331"},
				wantNotContains: []string{"13500003331", "13500003332", `name="keep.mobile"`, `name="keep.title"`}},
		})
	})
}
