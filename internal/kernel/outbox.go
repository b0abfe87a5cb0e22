package kernel

import (
	"context"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/store"
)

// Outbox delivery (issue 5, reused by issue 17's notifications): a change
// queues its messages in an outbox table in its own transaction, and a
// background job sends what is due — never the request path — retrying
// with backoff, at least once: a receiver may see a delivery twice and can
// tell by its id. Several instances may deliver together, each claiming
// its own.

// Outbox says how one outbox is delivered.
type Outbox struct {
	Store store.Outbox
	// Job names the system actor of the audit events; Action is their
	// action ("alert.deliver").
	Job, Action string
	// Send sends one delivery; an error is a failed attempt.
	Send func(ctx context.Context, d crm.Delivery, now time.Time) error
}

// The delivery job's pace: a claim lasts DeliveryLease (longer than one
// delivery may take), failed attempts wait DeliveryBackoff, and after
// MaxDeliveryAttempts (about eight hours of trying) a delivery is given up
// and shown as failed.
const (
	DeliveryLease       = 2 * time.Minute
	deliveryBatch       = 20
	MaxDeliveryAttempts = 12
)

// DeliveryBackoff is the wait after the n-th failed attempt: 30 s,
// doubling, at most an hour.
func DeliveryBackoff(n int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Deliver sends the outbox's deliveries that are due and reports how many
// went out.
func (k *Kernel) Deliver(ctx context.Context, ob Outbox) (int, error) {
	sent := 0
	for {
		now := k.Clock()
		var claimed []crm.Delivery
		err := k.DB.WriteTx(ctx, func(tx *store.Tx) (err error) {
			claimed, err = tx.ClaimDeliveries(ctx, ob.Store, now, now.Add(DeliveryLease), deliveryBatch)
			return err
		})
		if err != nil {
			return sent, err
		}
		for _, d := range claimed {
			sendErr := ob.Send(ctx, d, now)
			if err := k.recordDelivery(ctx, ob, d, sendErr); err != nil {
				return sent, err
			}
			if sendErr == nil {
				sent++
			}
		}
		if len(claimed) < deliveryBatch {
			return sent, nil
		}
	}
}

// recordDelivery stores an attempt's outcome: done (audited), due again
// after the backoff, or given up (audited) after the last attempt.
func (k *Kernel) recordDelivery(ctx context.Context, ob Outbox, d crm.Delivery, sendErr error) error {
	now := k.Clock()
	job := access.System(ob.Job)
	return k.DB.WriteTx(ctx, func(tx *store.Tx) error {
		if sendErr == nil {
			if err := tx.Delivered(ctx, ob.Store, d.ID, now); err != nil {
				return err
			}
			return k.Audit(ctx, tx, job, ob.Action, "", d.Of, map[string]any{"channel": d.Channel, "attempts": d.Attempts, "delivered": true})
		}
		reason := sendErr.Error()
		if len(reason) > 500 {
			reason = reason[:500]
		}
		k.Logger.Warn("delivery failed", "job", ob.Job, "delivery", d.ID, "channel", d.Channel, "attempt", d.Attempts, "err", reason)
		if d.Attempts < MaxDeliveryAttempts {
			next := now.Add(DeliveryBackoff(d.Attempts))
			return tx.DeliveryFailed(ctx, ob.Store, d.ID, now, &next, reason)
		}
		if err := tx.DeliveryFailed(ctx, ob.Store, d.ID, now, nil, reason); err != nil {
			return err
		}
		return k.Audit(ctx, tx, job, ob.Action, "", d.Of, map[string]any{"channel": d.Channel, "attempts": d.Attempts,
			"delivered": false, "error": reason})
	})
}
