package i18n

import (
	"fmt"

	"custos/internal/crm"
)

// NotificationTitle renders a notification in lang from its kind and
// parameters. The record's name is the one the reader may see
// (n.RecordName, filled when the notification is read); a record they may
// not see is named neutrally. Enum parameters (approval kinds and states,
// objects) are translated here, so a stored notification reads in every
// language.
func NotificationTitle(lang string, n crm.Notification) string {
	p := func(i int) string {
		if i < len(n.Params) {
			return n.Params[i]
		}
		return ""
	}
	name := n.RecordName
	if name == "" {
		name = T(lang, "notify.a_record")
	}
	switch n.Kind {
	case crm.NotifyAssigned:
		if n.RecordID != 0 {
			return Tf(lang, "notify.assigned_one", p(0), T(lang, "object."+string(n.Object)), name)
		}
		return Tf(lang, "notify.assigned_many", p(0), T(lang, "object."+string(n.Object)), p(1))
	case crm.NotifyApprovalWaiting:
		return Tf(lang, "notify.approval_waiting", p(0), T(lang, "enum.approval."+p(1)), n.RecordID)
	case crm.NotifyApprovalDecided:
		return Tf(lang, "notify.approval_decided", T(lang, "enum.approval."+p(0)), n.RecordID, T(lang, "enum.approval_status."+p(1)))
	case crm.NotifyDigest:
		return Tf(lang, "notify.digest", p(0), p(1), p(2))
	}
	return fmt.Sprint(n.Kind)
}
