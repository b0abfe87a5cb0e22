package crm

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// Token scopes name what a personal API token may do: "<object>:read",
// "<object>:write" (create, edit and delete; it includes read, since a
// change needs the record), "admin" (the administration functions),
// "audit" (reading the audit trail) and "privacy" (the privacy register
// and its requests). A
// token acts with the intersection of its scopes and its owner's role at
// the time of each request, so it never exceeds the role.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
	// ScopeAdminister is the token scope of the administration functions.
	ScopeAdminister = "admin"
	// ScopeAuditTrail is the token scope of reading the audit trail.
	ScopeAuditTrail = "audit"
	// ScopePrivacy is the token scope of the privacy officer's functions.
	ScopePrivacy = "privacy"
)

// TokenScopes lists every token scope, in menu order.
func TokenScopes() []string {
	out := make([]string, 0, 2*len(Objects)+3)
	for _, o := range Objects {
		out = append(out, string(o)+":"+ScopeRead, string(o)+":"+ScopeWrite)
	}
	return append(out, ScopeAdminister, ScopeAuditTrail, ScopePrivacy)
}

// MaxAllowedIPs bounds a token's IP allow-list.
const MaxAllowedIPs = 20

// ValidateTokenScopes normalises a scope list (lower case, sorted, no
// repeats) and names every unknown scope. At least one scope is required.
func ValidateTokenScopes(p *Problems, field string, in []string) []string {
	known := TokenScopes()
	var out []string
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		if !slices.Contains(known, s) {
			p.Add(field, "enum", strings.Join(known, ", "))
			return nil
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		p.Add(field, "required")
		return nil
	}
	slices.Sort(out)
	return out
}

// ScopeWithinRole reports whether the role grants what a scope names, so a
// token is never issued with more than its owner may do.
func ScopeWithinRole(r Role, scope string) bool {
	switch scope {
	case ScopeAdminister:
		return r.Admin
	case ScopeAuditTrail:
		return r.Audit
	case ScopePrivacy:
		return r.Privacy
	}
	obj, level, _ := strings.Cut(scope, ":")
	g := r.Grant(Object(obj))
	if level == ScopeWrite {
		return g.Create || g.Edit || g.Delete
	}
	return g.Read
}

// LimitedTo returns the role narrowed to a token's scopes: an object
// without a scope loses every action (and revealing masked values), an
// object with only "read" loses create, edit and delete, the admin flag
// needs the "admin" scope, reading the audit trail the "audit" scope and
// the privacy functions the "privacy" scope.
// The role's own rules (field rules, record scopes) are kept; nothing is
// ever widened.
func (r Role) LimitedTo(scopes []string) Role {
	out := r
	out.Grants = maps.Clone(r.Grants)
	if out.Grants == nil {
		out.Grants = map[Object]ObjectGrant{}
	}
	for o, g := range out.Grants {
		write := slices.Contains(scopes, string(o)+":"+ScopeWrite)
		read := write || slices.Contains(scopes, string(o)+":"+ScopeRead)
		g.Read, g.Reveal, g.Export = g.Read && read, g.Reveal && read, g.Export && read
		g.Create, g.Edit, g.Delete = g.Create && write, g.Edit && write, g.Delete && write
		out.Grants[o] = g
	}
	out.Admin = r.Admin && slices.Contains(scopes, ScopeAdminister)
	out.Audit = r.Audit && slices.Contains(scopes, ScopeAuditTrail)
	out.Privacy = r.Privacy && slices.Contains(scopes, ScopePrivacy)
	return out
}

// ParseAllowedIPs reads an IP allow-list: addresses or CIDR prefixes, IPv4
// or IPv6, each stored in its canonical masked form ("10.1.2.0/24"). An
// address alone allows exactly that address.
func ParseAllowedIPs(p *Problems, field string, in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		var pr netip.Prefix
		var err error
		if strings.Contains(s, "/") {
			pr, err = netip.ParsePrefix(s)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(s); err == nil && a.Zone() == "" {
				a = a.Unmap()
				pr = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err == nil && pr.Addr().Is4In6() && pr.Bits() >= 96 {
			pr = netip.PrefixFrom(pr.Addr().Unmap(), pr.Bits()-96)
		}
		if err != nil || !pr.IsValid() || pr.Addr().Is4In6() {
			p.Add(field, "cidr", s)
			return nil
		}
		pr = pr.Masked()
		if c := pr.String(); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) > MaxAllowedIPs {
		p.Add(field, "too_many", "20")
		return nil
	}
	return out
}

// IPAllowed reports whether ip is inside an allow-list; an empty list
// allows every address, an unreadable address none.
func IPAllowed(allowed []string, ip string) bool {
	if len(allowed) == 0 {
		return true
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, s := range allowed {
		if pr, err := netip.ParsePrefix(s); err == nil && pr.Contains(a) {
			return true
		}
	}
	return false
}

// APIToken is a personal API token. Only the hash of its secret is stored.
// Scopes narrow what it may do below its owner's role; AllowedIPs, when not
// empty, lists the only addresses (CIDR prefixes) it is accepted from.
type APIToken struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	Scopes     []string  `json:"scopes"`
	AllowedIPs []string  `json:"allowed_ips"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	LastUsedIP string    `json:"last_used_ip"`
	ExpiresAt  time.Time `json:"expires_at"`
	RevokedAt  time.Time `json:"revoked_at"`
}
