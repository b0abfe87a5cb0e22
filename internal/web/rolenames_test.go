package web

import (
	"context"
	"strings"
	"testing"

	"custos/internal/access"
	"custos/internal/store"
	"custos/internal/testdb"
)

// TestDefaultRoleNamesInTheReadersLanguage: the default roles are named in
// the reader's language on the roles and users pages and in the role
// choices; a name an administrator gave a role is shown as written.
func TestDefaultRoleNamesInTheReadersLanguage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		o := newOrg(t, db)
		s := newSite(t, o.svc)
		admin := signInAdmin(t, s, o)
		zh := map[string]string{"Accept-Language": "zh-CN"}
		en := map[string]string{"Accept-Language": "en"}
		for _, path := range []string{"/admin/roles", "/admin/users"} {
			rec := s.do(admin, "GET", path, nil, zh)
			expect(t, rec, rec.Body.String(), 200, "", "经理", "销售")
			if body := rec.Body.String(); strings.Contains(body, ">Manager<") || strings.Contains(body, "Sales</") {
				t.Errorf("%s in Chinese shows an English role name", path)
			}
			rec = s.do(admin, "GET", path, nil, en)
			expect(t, rec, rec.Body.String(), 200, "", "Manager", "Sales")
		}
		// Renamed, a role is shown as its administrator wrote it.
		role := o.roles["sales"]
		role.Name = "一线销售"
		if _, err := o.svc.SaveRole(context.Background(), access.System("test"), role); err != nil {
			t.Fatal(err)
		}
		rec := s.do(admin, "GET", "/admin/roles", nil, en)
		expect(t, rec, rec.Body.String(), 200, "", "一线销售")
	})
}
