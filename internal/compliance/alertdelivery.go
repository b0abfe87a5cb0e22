package compliance

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"custos/internal/crm"
	"custos/internal/kernel"
	"custos/internal/notify"
	"custos/internal/store"
)

// Alert delivery (issue 5): besides the security page, a raised alert goes
// to a webhook and by e-mail when they are configured. Raising an alert
// queues one delivery per channel in the same transaction (an outbox), and
// a background job sends what is due — never the request path — retrying
// with backoff, at least once: a receiver may see a delivery twice and can
// tell by its id. The messages carry the alert (rule, user, what happened),
// never customer data.

// AlertDelivery configures where alerts go besides the security page.
type AlertDelivery struct {
	Webhook *notify.Webhook // nil: no webhook
	Mail    *notify.Mailer  // nil: no e-mail
	// MailTo are the e-mail recipients; empty: every active
	// administrator with an e-mail address.
	MailTo []string
	// Bots are group bots of WeCom, DingTalk and Feishu, at most one of
	// each: a channel named by the platform.
	Bots []*notify.Bot
}

// The delivery channels.
const (
	channelWebhook = "webhook"
	channelEmail   = "email"
)

// channels lists the configured channels.
func (d AlertDelivery) channels() []string {
	var out []string
	if d.Webhook != nil {
		out = append(out, channelWebhook)
	}
	if d.Mail != nil {
		out = append(out, channelEmail)
	}
	for _, b := range d.Bots {
		out = append(out, string(b.Kind))
	}
	return out
}

// bot is the group bot of a channel, or nil.
func (d AlertDelivery) bot(channel string) *notify.Bot {
	for _, b := range d.Bots {
		if string(b.Kind) == channel {
			return b
		}
	}
	return nil
}

// queueDeliveries puts a raised alert in the outbox, inside its transaction.
func (s *Service) queueDeliveries(ctx context.Context, tx *store.Tx, alertID int64, now time.Time) error {
	for _, ch := range s.delivery.channels() {
		if err := tx.QueueDelivery(ctx, store.AlertOutbox, alertID, ch, now); err != nil {
			return err
		}
	}
	return nil
}

// DeliverAlerts sends the deliveries that are due and reports how many
// went out. Serve runs it every few seconds as the system job "alerts";
// several instances may run it together, each claiming its own.
func (s *Service) DeliverAlerts(ctx context.Context) (int, error) {
	return s.k.Deliver(ctx, kernel.Outbox{Store: store.AlertOutbox, Job: "alerts", Action: "alert.deliver", Send: s.deliver})
}

// deliver sends one delivery.
func (s *Service) deliver(ctx context.Context, d crm.AlertDelivery, now time.Time) error {
	var al crm.SecurityAlert
	if err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) (err error) { al, err = tx.GetAlert(ctx, d.Of); return err }); err != nil {
		return err
	}
	id := strconv.FormatInt(d.ID, 10)
	switch {
	case d.Channel == channelWebhook && s.delivery.Webhook != nil:
		return s.delivery.Webhook.Post(ctx, id, s.alertJSON(d.ID, al), now)
	case d.Channel == channelEmail && s.delivery.Mail != nil:
		to := s.delivery.MailTo
		if len(to) == 0 {
			err := s.k.DB.ReadTx(ctx, func(tx *store.Tx) (err error) { to, err = tx.AdminEmails(ctx); return err })
			if err != nil {
				return err
			}
		}
		subject, body := s.alertMail(al)
		return s.delivery.Mail.Send(ctx, "alert-"+id, to, subject, body, now)
	case s.delivery.bot(d.Channel) != nil:
		_, body := s.alertMail(al)
		return s.delivery.bot(d.Channel).Send(ctx, body, now)
	}
	return fmt.Errorf("the %s channel is not configured", d.Channel)
}

// alertMessage is the webhook's body.
type alertMessage struct {
	Type       string       `json:"type"`
	DeliveryID int64        `json:"delivery_id"`
	Alert      alertSummary `json:"alert"`
	URL        string       `json:"url,omitempty"`
}

// alertSummary is what a delivery says of an alert: the rule, whom it
// concerns and what happened (counts, a network), no customer data.
type alertSummary struct {
	ID          int64     `json:"id"`
	Rule        string    `json:"rule"`
	UserID      int64     `json:"user_id,omitempty"`
	UserName    string    `json:"user_name"`
	WindowStart time.Time `json:"window_start"`
	Detail      string    `json:"detail"`
	CreatedAt   time.Time `json:"created_at"`
	Suspended   bool      `json:"suspended"`
}

func summary(al crm.SecurityAlert) alertSummary {
	return alertSummary{ID: al.ID, Rule: al.Rule, UserID: al.UserID, UserName: al.UserName, WindowStart: al.WindowStart,
		Detail: al.Detail, CreatedAt: al.CreatedAt, Suspended: al.Suspended}
}

// alertsURL is the security page, when the public URL is known.
func (s *Service) alertsURL() string {
	if s.publicURL == "" {
		return ""
	}
	return strings.TrimRight(s.publicURL, "/") + "/alerts"
}

func (s *Service) alertJSON(delivery int64, al crm.SecurityAlert) []byte {
	b, _ := json.Marshal(alertMessage{Type: "custos.security_alert", DeliveryID: delivery, Alert: summary(al), URL: s.alertsURL()})
	return b
}

// alertMail is an alert's e-mail, in Chinese and English.
func (s *Service) alertMail(al crm.SecurityAlert) (subject, body string) {
	subject = "[Custos] 安全告警 Security alert: " + al.Rule
	suspended := "否 / no"
	if al.Suspended {
		suspended = "是 / yes"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Custos 安全告警 / security alert\n\n")
	fmt.Fprintf(&b, "规则 / Rule:        %s\n", al.Rule)
	fmt.Fprintf(&b, "用户 / User:        %s (#%d)\n", al.UserName, al.UserID)
	fmt.Fprintf(&b, "时间 / When:        %s\n", al.CreatedAt.In(s.zone).Format(time.RFC3339))
	fmt.Fprintf(&b, "详情 / What:        %s\n", al.Detail)
	fmt.Fprintf(&b, "已暂停 / Suspended: %s\n", suspended)
	if u := s.alertsURL(); u != "" {
		fmt.Fprintf(&b, "\n%s\n", u)
	}
	return subject, b.String()
}
