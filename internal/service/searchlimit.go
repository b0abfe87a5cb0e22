package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Blind indexes answer exact questions — "is 138 0013 8000 anyone's
// phone?" — so an unlimited search would let someone guess the digits a
// mask hides. Searches by a phone, e-mail or credit code are recorded with
// their kind, watched by the sensitive_search anomaly rule, and limited per
// actor and hour (DESIGN.md §5).

// DefaultSensitiveSearchesPerHour is the default hourly limit per actor.
const DefaultSensitiveSearchesPerHour = 100

// UnlimitedSensitiveSearches as the limit turns the check off (custos
// bench, which searches by phone thousands of times as one user).
const UnlimitedSensitiveSearches = 1 << 30

// sensitiveSearchKinds are the exact search kinds by a sensitive value.
var sensitiveSearchKinds = []string{"phone", "email", "credit_code"}

// sensitiveSearchActions lists every audit action of a sensitive search:
// the global search's and each list's.
func sensitiveSearchActions() []string {
	var out []string
	for _, k := range sensitiveSearchKinds {
		out = append(out, "search."+k)
		for _, o := range []crm.Object{crm.ObjCustomer, crm.ObjContact, crm.ObjLead, crm.ObjOpportunity} {
			out = append(out, string(o)+".search."+k)
		}
	}
	return out
}

// isSensitiveSearch reports whether an audit action is a search by a
// sensitive value.
func isSensitiveSearch(action string) bool {
	for _, k := range sensitiveSearchKinds {
		if action == "search."+k || strings.HasSuffix(action, ".search."+k) {
			return true
		}
	}
	return false
}

// checkSearchRate refuses a sensitive search once the actor made the
// hour's allowance of them (refused attempts count too, so hammering does
// not reopen the door); the refusal is audited.
func (s *Service) checkSearchRate(ctx context.Context, a *access.Actor, action string) error {
	if a == nil || a.Kind == access.KindSystem || !isSensitiveSearch(action) || s.searchLimit >= UnlimitedSensitiveSearches {
		return nil
	}
	var n int
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.CountActorSearches(ctx, string(a.Kind), a.UserID, s.clock().Add(-time.Hour), sensitiveSearchActions(), s.searchLimit)
		return err
	})
	if err != nil || n < s.searchLimit {
		return err
	}
	s.auditDenied(ctx, a, action, "", 0)
	return &crm.Error{Code: crm.RateLimited, Key: "search_limit",
		Message: fmt.Sprintf("at most %d searches by phone, e-mail or credit code an hour; try again later", s.searchLimit)}
}
