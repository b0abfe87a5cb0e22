package crm

import (
	"slices"
	"testing"
)

// TestLimitedTo: a token's scopes only ever take away from its owner's role.
func TestLimitedTo(t *testing.T) {
	role := Role{Admin: true, Audit: true, Privacy: true, Grants: map[Object]ObjectGrant{
		ObjCustomer: {Read: true, Create: true, Edit: true, Delete: true, Scope: ScopeSubtree, Reveal: true,
			Fields: map[string]FieldAccess{"phone": FieldMasked}},
		ObjContact: {Read: true, Scope: ScopeOwn},
	}}
	cases := []struct {
		scopes                      []string
		custRead, custEdit, contact bool
		reveal, admin, audit        bool
		privacy                     bool
	}{
		{nil, false, false, false, false, false, false, false},
		{[]string{"customer:read"}, true, false, false, true, false, false, false},
		{[]string{"customer:write", "contact:write"}, true, true, true, true, false, false, false},
		{[]string{"admin", "audit"}, false, false, false, false, true, true, false},
		{[]string{"privacy"}, false, false, false, false, false, false, true},
	}
	for _, c := range cases {
		got := role.LimitedTo(c.scopes)
		cg := got.Grant(ObjCustomer)
		if cg.Read != c.custRead || cg.Edit != c.custEdit || cg.Delete != c.custEdit || got.Grant(ObjContact).Read != c.contact ||
			cg.Reveal != c.reveal || got.Admin != c.admin || got.Audit != c.audit || got.Privacy != c.privacy {
			t.Errorf("%v: %+v", c.scopes, got)
		}
		if got.Grant(ObjContact).Edit || cg.Scope != ScopeSubtree || cg.Field("phone") != FieldMasked {
			t.Errorf("%v widened or lost the role's own rules: %+v", c.scopes, got)
		}
	}
	if !role.Grants[ObjCustomer].Edit {
		t.Fatal("LimitedTo changed the role it was given")
	}
	// A role without the grant never offers the scope.
	sales := Role{Grants: map[Object]ObjectGrant{ObjTask: {Read: true}}}
	for _, sc := range TokenScopes() {
		if want := sc == "task:read"; ScopeWithinRole(sales, sc) != want {
			t.Errorf("ScopeWithinRole(%s) = %v", sc, !want)
		}
	}
	var p Problems
	if got := ValidateTokenScopes(&p, "scopes", []string{" TASK:read", "task:read", "admin"}); !slices.Equal(got, []string{"admin", "task:read"}) || len(p) != 0 {
		t.Errorf("normalised %v %v", got, p)
	}
	if ips := ParseAllowedIPs(&p, "ips", []string{"10.1.2.3/8", "::ffff:192.0.2.1", "fe80::1%eth0"}); ips != nil || len(p) != 1 || p[0].Param != "fe80::1%eth0" {
		t.Errorf("zoned address accepted: %v %v", ips, p)
	}
	if !IPAllowed([]string{"10.0.0.0/8"}, "::ffff:10.9.9.9") || IPAllowed([]string{"10.0.0.0/8"}, "11.0.0.1") || !IPAllowed(nil, "") {
		t.Error("IPAllowed")
	}
}
