package identity

import (
	"context"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// TokenInput creates a personal API token. Scopes are required
// ("customer:read", "contact:write", "admin"; write includes read) and may
// not exceed the owner's role; AllowedIPs (addresses or CIDR prefixes) is
// optional; ExpiresAt is optional and must lie in the future.
type TokenInput struct {
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	AllowedIPs []string   `json:"allowed_ips,omitempty"`
}

// NewAPIToken is a token just created: Secret is shown once and never again.
type NewAPIToken struct {
	crm.APIToken
	Secret string `json:"secret"`
}

// CreateAPIToken issues a personal API token for the actor. Only a person
// in a browser session may do so: a token cannot mint tokens.
func (s *Service) CreateAPIToken(ctx context.Context, a *access.Actor, in TokenInput) (NewAPIToken, error) {
	if a.Kind != access.KindUser || a.MFAPending {
		s.k.AuditDenied(ctx, a, "api_token.create", "", 0)
		return NewAPIToken{}, crm.ErrForbidden()
	}
	var p crm.Problems
	name := p.Text("name", in.Name, true, 60)
	scopes := crm.ValidateTokenScopes(&p, "scopes", in.Scopes)
	for _, sc := range scopes {
		if !crm.ScopeWithinRole(a.Role, sc) {
			p.Add("scopes", "beyond_role", sc)
			break
		}
	}
	ips := crm.ParseAllowedIPs(&p, "allowed_ips", in.AllowedIPs)
	now := s.k.Clock()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		p.Add("expires_at", "past")
	}
	if err := p.Err(); err != nil {
		return NewAPIToken{}, err
	}
	secret := tokenPrefix + RandomToken(32)
	t := crm.APIToken{UserID: a.UserID, Name: name, Prefix: secret[:len(tokenPrefix)+6], Scopes: scopes, AllowedIPs: ips, CreatedAt: now}
	if in.ExpiresAt != nil {
		t.ExpiresAt = in.ExpiresAt.UTC().Truncate(time.Millisecond)
	}
	err := s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertAPIToken(ctx, &t, hashToken(secret)); err != nil {
			return err
		}
		fields := map[string]any{"name": name, "scopes": scopes, "allowed_ips": ips}
		if !t.ExpiresAt.IsZero() {
			fields["expires_at"] = t.ExpiresAt
		}
		return s.k.Audit(ctx, tx, a, "api_token.create", "", t.ID, fields)
	})
	return NewAPIToken{APIToken: t, Secret: secret}, err
}

// ListAPITokens lists the actor's own tokens (never their secrets).
func (s *Service) ListAPITokens(ctx context.Context, a *access.Actor) ([]crm.APIToken, error) {
	if err := s.accountManagement(ctx, a, "api_token.list"); err != nil {
		return nil, err
	}
	var out []crm.APIToken
	err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		out, err = tx.ListAPITokens(ctx, a.UserID)
		return err
	})
	return out, err
}

// RevokeAPIToken retires one of the actor's tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, a *access.Actor, id int64) error {
	if err := s.accountManagement(ctx, a, "api_token.revoke"); err != nil {
		return err
	}
	return s.k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeAPIToken(ctx, a.UserID, id, s.k.Clock()); err != nil {
			return err
		}
		return s.k.Audit(ctx, tx, a, "api_token.revoke", "", id, nil)
	})
}
