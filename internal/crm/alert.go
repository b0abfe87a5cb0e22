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

// AlertDelivery is one alert to send on one channel (webhook, email).
type AlertDelivery struct {
	ID          int64      `json:"id"`
	AlertID     int64      `json:"alert_id"`
	Channel     string     `json:"channel"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	FailedAt    *time.Time `json:"failed_at,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
}
