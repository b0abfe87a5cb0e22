package service

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"custos/internal/access"
	"custos/internal/crm"
	"custos/internal/i18n"
	"custos/internal/kernel"
	"custos/internal/notify"
	"custos/internal/store"
)

// Notifications (issue 17 §4). A change that concerns someone else — a
// record handed to them, a request waiting for their decision, their own
// request decided — notifies them in the same transaction as the change:
// a notification row (the in-app centre) and, by their preferences, an
// outbox row per external channel (e-mail, WeCom, DingTalk, Feishu), which
// the delivery job sends with the retries and backoff of the security
// alerts (kernel.Deliver). A morning digest job adds one notification per
// user and day.
//
// What a notification holds: its kind, the parameters of its text (user
// names, counts, enum values) and a record reference — never a record's
// name or field value. The name is looked up when the notification is
// read, through the reader's scope and field rules; a record the reader
// may no longer see is named neutrally. Messages that leave Custos (e-mail,
// bots) name no record at all, only what happened, with a link.

// NotifyOptions configure the external channels of notifications.
type NotifyOptions struct {
	// Mail sends notification e-mail to each user's own address (nil: no
	// e-mail channel); serve passes the SMTP settings of alert e-mail.
	Mail *notify.Mailer
	// Bots are the organisation's group bots for notifications, at most
	// one per platform (CUSTOS_NOTIFY_<PLATFORM>_URL); a platform without
	// one is not offered.
	Bots []*notify.Bot
}

// objApproval is the reference of a notification about an approval
// request: not a record of the registry, named by its number alone.
const objApproval crm.Object = "approval"

// DigestHour is the local hour from which the morning digest is made.
const DigestHour = 8

// digestLease names the digest job's lease.
const digestLease = "notifications:digest"

// channelOn reports whether an external channel is set up.
func (s *Service) channelOn(ch string) bool {
	switch ch {
	case crm.ChannelInApp:
		return true
	case crm.ChannelEmail:
		return s.notifyOpt.Mail != nil
	}
	return s.bot(ch) != nil
}

// bot is the group bot of a channel, or nil.
func (s *Service) bot(ch string) *notify.Bot {
	for _, b := range s.notifyOpt.Bots {
		if string(b.Kind) == ch {
			return b
		}
	}
	return nil
}

// defaultPref is a switch nobody set: in the app everything; by e-mail and
// by the configured bots the approvals and the digest (hand-overs come in
// batches and are seen in the app).
func defaultPref(kind crm.NotificationKind, ch string) bool {
	return ch == crm.ChannelInApp || kind != crm.NotifyAssigned
}

// prefsOf merges a user's switches with the defaults; an unconfigured
// channel is off whatever was saved.
func (s *Service) prefsOf(saved map[crm.NotificationKind]map[string]bool) []crm.NotificationPref {
	var out []crm.NotificationPref
	for _, k := range crm.NotificationKinds {
		for _, ch := range crm.NotificationChannels {
			on, set := saved[k][ch]
			if !set {
				on = defaultPref(k, ch)
			}
			avail := s.channelOn(ch)
			out = append(out, crm.NotificationPref{Kind: k, Channel: ch, Enabled: on && avail, Available: avail})
		}
	}
	return out
}

// notify notifies a user inside tx: the notification, stored read when
// the user does not want it in the app, and one outbox row per external
// channel they want. A disabled user is not notified. With a once key,
// a second notification with the same key is not made (sent reports it).
func (s *Service) notify(ctx context.Context, tx *store.Tx, userID int64, n *crm.Notification, onceKey string) (sent bool, err error) {
	u, err := tx.GetUser(ctx, userID)
	if err != nil || u.Disabled {
		return false, err
	}
	saved, err := tx.NotificationPrefs(ctx, userID)
	if err != nil {
		return false, err
	}
	on := map[string]bool{}
	for _, p := range s.prefsOf(saved) {
		if p.Kind == n.Kind {
			on[p.Channel] = p.Enabled
		}
	}
	n.UserID, n.CreatedAt = userID, s.clock()
	if sent, err = tx.InsertNotification(ctx, n, on[crm.ChannelInApp], onceKey); err != nil || !sent {
		return false, err
	}
	for _, ch := range crm.NotificationChannels[1:] {
		if !on[ch] || ch == crm.ChannelEmail && u.Email == "" {
			continue
		}
		if err := tx.QueueDelivery(ctx, store.NotificationOutbox, n.ID, ch, n.CreatedAt); err != nil {
			return false, err
		}
	}
	return true, nil
}

// notifyHandedOver tells the new owner of records what they were given:
// transferred, handed over, or created for them (a customer or task
// assigned at creation, a task reassigned). Nobody is told of what they did
// themselves. Imports and system jobs that assign in bulk do not notify
// per record.
func (s *Service) notifyHandedOver(ctx context.Context, tx *store.Tx, a *access.Actor, to int64, o crm.Object, ids []int64) error {
	if to == 0 || to == a.UserID || len(ids) == 0 {
		return nil
	}
	n := crm.Notification{Kind: crm.NotifyAssigned, Object: o, Params: []string{a.Name}}
	if len(ids) == 1 {
		n.RecordID = ids[0]
	} else {
		n.Params = append(n.Params, strconv.Itoa(len(ids)))
	}
	_, err := s.notify(ctx, tx, to, &n, "")
	return err
}

// notifyApprovers tells the approvers of a request's current level that it
// waits for them.
func (s *Service) notifyApprovers(ctx context.Context, tx *store.Tx, r crm.ApprovalRequest) error {
	ids, err := s.approvers(ctx, tx, r, r.Step)
	if err != nil || len(ids) == 0 {
		return err
	}
	requester, err := tx.GetUser(ctx, r.RequesterID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == r.RequesterID {
			continue
		}
		n := crm.Notification{Kind: crm.NotifyApprovalWaiting, Object: objApproval, RecordID: r.ID,
			Params: []string{requester.DisplayName, string(r.Kind)}}
		if _, err := s.notify(ctx, tx, id, &n, ""); err != nil {
			return err
		}
	}
	return nil
}

// notifyDecided tells a requester how their request ended.
func (s *Service) notifyDecided(ctx context.Context, tx *store.Tx, r crm.ApprovalRequest) error {
	n := crm.Notification{Kind: crm.NotifyApprovalDecided, Object: objApproval, RecordID: r.ID,
		Params: []string{string(r.Kind), r.Status}}
	_, err := s.notify(ctx, tx, r.RequesterID, &n, "")
	return err
}

// NotificationPage is one page of a user's notifications, newest first.
type NotificationPage struct {
	Items []crm.Notification `json:"items"`
	// Next is the cursor of the next (older) page; empty at the end.
	Next string `json:"next,omitempty"`
	// Unread counts all the user's unread notifications.
	Unread int `json:"unread"`
}

// requireUser refuses actors that have no inbox (system jobs).
func requireUser(a *access.Actor) error {
	if a == nil || a.Kind == access.KindSystem || a.UserID == 0 {
		return crm.ErrForbidden()
	}
	return nil
}

// ListNotifications returns the actor's own notifications, newest first,
// limit at a time (20 when 0, at most 100) from the cursor, in their
// language, each with the name of its record as they may see it and its
// deliveries. The read is audited: one notification.list event with the
// notifications shown and, per object whose record names were shown, one
// "<object>.names" event with those records (as the customer picker's), so
// the exposure report counts them.
func (s *Service) ListNotifications(ctx context.Context, a *access.Actor, cursor string, limit int) (NotificationPage, error) {
	out := NotificationPage{Items: []crm.Notification{}}
	if err := requireUser(a); err != nil {
		return out, err
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	var before int64
	if cursor != "" {
		var err error
		if before, err = strconv.ParseInt(cursor, 10, 64); err != nil || before <= 0 {
			return out, &crm.Error{Code: crm.Invalid, Message: "bad cursor", Fields: []crm.FieldError{{Field: "cursor", Rule: "invalid"}}}
		}
	}
	var named map[crm.Object][]int64
	err := s.db.ReadTx(ctx, func(tx *store.Tx) error {
		list, err := tx.ListNotifications(ctx, a.UserID, before, limit+1)
		if err != nil {
			return err
		}
		if len(list) > limit {
			list = list[:limit]
			out.Next = strconv.FormatInt(list[limit-1].ID, 10)
		}
		if named, err = s.nameRecords(ctx, tx, a, list); err != nil {
			return err
		}
		ids := make([]int64, len(list))
		for i, n := range list {
			ids[i] = n.ID
		}
		deliveries, err := tx.Deliveries(ctx, store.NotificationOutbox, ids)
		if err != nil {
			return err
		}
		lang := i18n.Pick(a.Lang, "")
		for i := range list {
			list[i].Deliveries = deliveries[list[i].ID]
			list[i].Title = i18n.NotificationTitle(lang, list[i])
		}
		if list != nil {
			out.Items = list
		}
		out.Unread, err = tx.CountUnread(ctx, a.UserID)
		return err
	})
	if err != nil {
		return NotificationPage{Items: []crm.Notification{}}, err
	}
	ids := make([]int64, len(out.Items))
	for i, n := range out.Items {
		ids[i] = n.ID
	}
	events := []*crm.AuditEvent{s.event(a, "notification.list", "", 0)}
	events[0].RecordIDs = ids
	for _, o := range slices.Sorted(maps.Keys(named)) {
		e := s.event(a, string(o)+".names", o, 0)
		e.RecordIDs, e.Fields = named[o], mustJSON(namesShown(a, o))
		events = append(events, e)
	}
	if err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
		for _, e := range events {
			if err := s.insertEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return NotificationPage{Items: []crm.Notification{}}, err
	}
	return out, nil
}

// nameRecords fills each notification's record name as the reader may
// see it now: through their scope and field rules (masked where their role
// masks the name); a record out of their reach stays unnamed. It returns
// the records named, by object.
func (s *Service) nameRecords(ctx context.Context, tx *store.Tx, a *access.Actor, list []crm.Notification) (map[crm.Object][]int64, error) {
	named := map[crm.Object][]int64{}
	byObject := map[crm.Object][]int64{}
	for _, n := range list {
		if _, ok := crm.Spec(n.Object); ok && n.RecordID != 0 && a.Can(n.Object, crm.ActRead) {
			byObject[n.Object] = append(byObject[n.Object], n.RecordID)
		}
	}
	for o, ids := range byObject {
		ids = slices.Compact(slices.Sorted(slices.Values(ids)))
		names, err := s.namesOf(ctx, tx, a, o, ids, true)
		if err != nil {
			return nil, err
		}
		for i := range list {
			if list[i].Object == o {
				list[i].RecordName = names[list[i].RecordID]
			}
		}
		for _, id := range ids {
			if _, ok := names[id]; ok {
				named[o] = append(named[o], id)
			}
		}
	}
	return named, nil
}

// UnreadNotifications counts the actor's unread notifications, for the
// header's badge (one index range; not audited: it shows no record).
func (s *Service) UnreadNotifications(ctx context.Context, a *access.Actor) (int, error) {
	if requireUser(a) != nil {
		return 0, nil
	}
	var n int
	err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) { n, err = tx.CountUnread(ctx, a.UserID); return err })
	return n, err
}

// MarkNotificationRead marks one of the actor's notifications read;
// anyone else's does not exist for them.
func (s *Service) MarkNotificationRead(ctx context.Context, a *access.Actor, id int64) error {
	if err := requireUser(a); err != nil {
		return err
	}
	return s.db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.MarkNotificationRead(ctx, a.UserID, id, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "notification.read", "", id, nil)
	})
}

// MarkAllNotificationsRead marks all the actor's notifications read and
// returns how many were unread.
func (s *Service) MarkAllNotificationsRead(ctx context.Context, a *access.Actor) (int, error) {
	if err := requireUser(a); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.WriteTx(ctx, func(tx *store.Tx) (err error) {
		if n, err = tx.MarkAllNotificationsRead(ctx, a.UserID, s.clock()); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "notification.read_all", "", 0, map[string]any{"count": n})
	})
	return int(n), err
}

// NotificationPrefs returns the actor's switches per event and channel,
// the defaults filled in.
func (s *Service) NotificationPrefs(ctx context.Context, a *access.Actor) ([]crm.NotificationPref, error) {
	if err := requireUser(a); err != nil {
		return nil, err
	}
	var saved map[crm.NotificationKind]map[string]bool
	err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) { saved, err = tx.NotificationPrefs(ctx, a.UserID); return err })
	return s.prefsOf(saved), err
}

// SaveNotificationPrefs sets some of the actor's switches, all or none: an
// unknown event or channel, or switching on a channel the administrator
// has not set up, is refused naming the field.
func (s *Service) SaveNotificationPrefs(ctx context.Context, a *access.Actor, prefs []crm.NotificationPref) ([]crm.NotificationPref, error) {
	if err := requireUser(a); err != nil {
		return nil, err
	}
	kinds := make([]string, len(crm.NotificationKinds))
	for i, k := range crm.NotificationKinds {
		kinds[i] = string(k)
	}
	var p crm.Problems
	for _, pr := range prefs {
		p.Enum("kind", string(pr.Kind), true, kinds)
		p.Enum("channel", pr.Channel, true, crm.NotificationChannels)
		if pr.Enabled && slices.Contains(crm.NotificationChannels, pr.Channel) && !s.channelOn(pr.Channel) {
			p.Add("channel", "not_configured")
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	var saved map[crm.NotificationKind]map[string]bool
	err := s.db.WriteTx(ctx, func(tx *store.Tx) (err error) {
		for _, pr := range prefs {
			if err := tx.SaveNotificationPref(ctx, a.UserID, pr); err != nil {
				return err
			}
		}
		if saved, err = tx.NotificationPrefs(ctx, a.UserID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "notification_prefs.save", "", a.UserID, map[string]any{"prefs": prefs})
	})
	if err != nil {
		return nil, err
	}
	return s.prefsOf(saved), nil
}

// DeliverNotifications sends the notification e-mail and bot messages
// that are due, with the security alerts' retries and backoff, and
// reports how many went out. Serve runs it every few seconds as the
// system job "notifications"; several instances may run it together.
func (s *Service) DeliverNotifications(ctx context.Context) (int, error) {
	return s.k.Deliver(ctx, kernel.Outbox{Store: store.NotificationOutbox, Job: "notifications", Action: "notification.deliver",
		Send: s.sendNotification})
}

// sendNotification sends one delivery: the notice in its recipient's
// language, naming no record, with a link to the notification centre.
func (s *Service) sendNotification(ctx context.Context, d crm.Delivery, now time.Time) error {
	var n crm.Notification
	var u crm.User
	err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) {
		if n, err = tx.NotificationByID(ctx, d.Of); err != nil {
			return err
		}
		u, err = tx.GetUser(ctx, n.UserID)
		return err
	})
	if err != nil {
		return err
	}
	if u.Disabled {
		return &crm.Error{Code: crm.Forbidden, Message: "the recipient's account is disabled"}
	}
	lang := i18n.Pick(u.Lang, "")
	n.RecordName = i18n.T(lang, "notify.record_by_link")
	title := i18n.NotificationTitle(lang, n)
	link := s.notificationsURL()
	id := strconv.FormatInt(d.ID, 10)
	switch {
	case d.Channel == crm.ChannelEmail && s.notifyOpt.Mail != nil:
		body := title + "\n"
		if link != "" {
			body += "\n" + link + "\n"
		}
		return s.notifyOpt.Mail.Send(ctx, "notification-"+id, []string{u.Email}, "[Custos] "+title, body, now)
	case s.bot(d.Channel) != nil:
		text := "Custos · " + u.DisplayName + ": " + title
		if link != "" {
			text += "\n" + link
		}
		return s.bot(d.Channel).Send(ctx, text, now)
	}
	return &crm.Error{Code: crm.Invalid, Message: "the " + d.Channel + " channel is not configured"}
}

// notificationsURL is the notification centre, when the public URL is known.
func (s *Service) notificationsURL() string {
	if s.publicURL == "" {
		return ""
	}
	return strings.TrimRight(s.publicURL, "/") + "/notifications"
}

// RunDigest makes the morning digests that are due: for each active user
// whose local time (their time zone, else the organisation's) is past
// DigestHour, one notification counting their customers due for a
// follow-up today and overdue and their open tasks due, unless they have
// nothing due. Each user gets at most one per local day: the job runs
// under a lease, and the database refuses a second digest of the same day
// (the notification's once key), so instances racing each other, or a run
// after a lapsed lease, never notify twice. It reports how many it made.
func (s *Service) RunDigest(ctx context.Context) (made int, err error) {
	_, err = s.withLease(ctx, digestLease, newLeaseHolder(), func() error {
		var users []crm.User
		if err := s.db.ReadTx(ctx, func(tx *store.Tx) (err error) { users, err = tx.ListUsers(ctx); return err }); err != nil {
			return err
		}
		job := access.System("digest")
		for _, u := range users {
			if u.Disabled {
				continue
			}
			local := s.clock().In(s.Location(&access.Actor{TimeZone: u.TimeZone}))
			if local.Hour() < DigestHour {
				continue
			}
			y, m, d := local.Date()
			start := time.Date(y, m, d, 0, 0, 0, 0, local.Location())
			err := s.db.WriteTx(ctx, func(tx *store.Tx) error {
				c, err := tx.CountDigest(ctx, u.ID, start, start.AddDate(0, 0, 1))
				if err != nil || c == (store.DigestCounts{}) {
					return err
				}
				n := crm.Notification{Kind: crm.NotifyDigest, Params: []string{strconv.Itoa(c.DueToday), strconv.Itoa(c.Overdue), strconv.Itoa(c.TasksDue)}}
				sent, err := s.notify(ctx, tx, u.ID, &n, "digest:"+start.Format(time.DateOnly))
				if err != nil || !sent {
					return err
				}
				made++
				return s.audit(ctx, tx, job, "notification.digest", "", n.ID, map[string]any{"user_id": u.ID, "day": start.Format(time.DateOnly)})
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return made, err
}
