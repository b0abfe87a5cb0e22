package crm

import "time"

// Notifications (issue 17 §4): what happened that concerns a user, shown in
// the notification centre and, by the user's preferences, sent by e-mail or
// to a group bot. A notification stores an i18n key's parameters, never
// rendered text, so it reads in the reader's language; and it stores a
// record reference, never the record's name or any field value: the name
// is looked up when it is read, through the reader's scope and field rules.

// NotificationKind is an event a user is notified of.
type NotificationKind string

// The notification kinds.
const (
	// NotifyAssigned: records were handed or transferred to the user.
	NotifyAssigned NotificationKind = "assigned"
	// NotifyApprovalWaiting: a request waits for the user's decision.
	NotifyApprovalWaiting NotificationKind = "approval_waiting"
	// NotifyApprovalDecided: the user's own request was decided.
	NotifyApprovalDecided NotificationKind = "approval_decided"
	// NotifyDigest: the morning digest of what is due today.
	NotifyDigest NotificationKind = "digest"
)

// NotificationKinds lists the kinds in the order preferences show them.
var NotificationKinds = []NotificationKind{NotifyAssigned, NotifyApprovalWaiting, NotifyApprovalDecided, NotifyDigest}

// The notification channels: in-app (the notification centre), e-mail to
// the user's address, and the organisation's group bots.
const (
	ChannelInApp    = "inapp"
	ChannelEmail    = "email"
	ChannelWeCom    = "wecom"
	ChannelDingTalk = "dingtalk"
	ChannelFeishu   = "feishu"
)

// NotificationChannels lists the channels in the order preferences show them.
var NotificationChannels = []string{ChannelInApp, ChannelEmail, ChannelWeCom, ChannelDingTalk, ChannelFeishu}

// Notification is one notice to one user.
type Notification struct {
	ID     int64            `json:"id"`
	UserID int64            `json:"-"`
	Kind   NotificationKind `json:"kind"`
	// Object and RecordID refer to the record it is about, when one.
	Object   Object `json:"object,omitempty"`
	RecordID int64  `json:"record_id,omitempty"`
	// Params fill the kind's text: user names, counts, enum values —
	// never customer data.
	Params []string `json:"params"`
	// RecordName is the record's display name as the reader may see it
	// (masked by their field rules), empty when they may not see it.
	RecordName string `json:"record_name,omitempty"`
	// Title is the notice in the reader's language.
	Title     string     `json:"title"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
	// Deliveries are its e-mail and bot deliveries with their state.
	Deliveries []Delivery `json:"deliveries,omitempty"`
}

// NotificationPref is one event × channel switch of a user's preferences.
type NotificationPref struct {
	Kind    NotificationKind `json:"kind"`
	Channel string           `json:"channel"`
	Enabled bool             `json:"enabled"`
	// Available is false for a bot channel the administrator has not
	// configured: it cannot be switched on.
	Available bool `json:"available"`
}
