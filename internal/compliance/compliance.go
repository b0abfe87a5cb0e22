// Package compliance holds the use cases that read the audit trail rather
// than act on records: the anomaly alerts and their delivery outbox, the
// exposure report and incidents. It stands on the kernel (internal/kernel)
// like identity and the records service do, and writes its own audit events
// through it.
//
// It never imports the records service: what it needs of the records side
// is below it (the shapes a read records, kernel.FieldsShown and
// kernel.SearchShown) or handed in (Options.RecordNames, the names of
// records under an actor's scope and field rules). service.Service embeds a
// *Service, so the surfaces call these use cases on the one service as
// before (see docs/architecture.md, "Layers").
package compliance

import (
	"context"
	"sync/atomic"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/store"
)

// RecordNames answers the names of records of one object, by id, as the
// actor would see them: only those in the actor's scope, each shown as the
// actor's field rule for the name allows (hidden: ""), sealed names opened.
// The records service provides it; ids not answered are out of scope.
type RecordNames func(ctx context.Context, tx *store.Tx, a *access.Actor, o crm.Object, ids []int64) (map[int64]string, error)

// Options configure the compliance service.
type Options struct {
	// Zone is the organisation's time zone: working hours for the
	// after-hours rule and the time in alert e-mails (time.Local when nil).
	Zone *time.Location
	// Delivery sends anomaly alerts by webhook and e-mail besides the
	// security page (zero: the page alone).
	Delivery AlertDelivery
	// PublicURL is the address people open Custos at; alert deliveries
	// link the security page under it (none when empty).
	PublicURL string
	// RecordNames names the records of an exposure report for
	// administrators. Required.
	RecordNames RecordNames
}

// Service holds the compliance use cases.
type Service struct {
	k         *kernel.Kernel
	zone      *time.Location
	delivery  AlertDelivery
	publicURL string
	names     RecordNames
	// judged is what the last completed alert evaluation looked at.
	judged atomic.Pointer[alertsJudged]
}

// New returns the compliance service over a kernel.
func New(k *kernel.Kernel, opt Options) *Service {
	if opt.RecordNames == nil {
		panic("compliance: New without RecordNames: exposure reports could not name records")
	}
	s := &Service{k: k, zone: opt.Zone, delivery: opt.Delivery, publicURL: opt.PublicURL, names: opt.RecordNames}
	if s.zone == nil {
		s.zone = time.Local
	}
	return s
}
