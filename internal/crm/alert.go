package crm

import "time"

// SecurityAlert is one raised anomaly alert.
type SecurityAlert struct {
	ID          int64      `json:"id"`
	Rule        string     `json:"rule"`
	UserID      int64      `json:"user_id,omitempty"`
	UserName    string     `json:"user_name"`
	WindowStart time.Time  `json:"window_start"`
	Detail      string     `json:"detail"`
	CreatedAt   time.Time  `json:"created_at"`
	Status      string     `json:"status"` // open, reviewed
	Suspended   bool       `json:"suspended"`
	ReviewedBy  int64      `json:"reviewed_by,omitempty"`
	ReviewedAt  *time.Time `json:"reviewed_at,omitempty"`
	// Deliveries are its webhook and e-mail deliveries (when listed).
	Deliveries []AlertDelivery `json:"deliveries,omitempty"`
}

// AlertDelivery is one alert to send on one channel (webhook, email, a
// group bot).
type AlertDelivery = Delivery

// Delivery is one message of an outbox (a security alert's, a
// notification's) to send on one channel, with its delivery state.
type Delivery struct {
	ID int64 `json:"id"`
	// Of is the alert or notification it sends (shown nested under it).
	Of          int64      `json:"-"`
	Channel     string     `json:"channel"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
}
