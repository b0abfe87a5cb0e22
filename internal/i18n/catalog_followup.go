package i18n

// Follow-up texts, kept apart from the main catalog while the pages grow.
func init() {
	merge(en, map[string]string{
		"field.kind":          "Kind",
		"field.content":       "Content",
		"field.occurred_at":   "Time",
		"field.next_at":       "Next follow-up",
		"field.customer_id":   "Customer",
		"rule.future":         "cannot be in the future",
		"rule.after_occurred": "must be later than the follow-up itself",
		"enum.kind.call":      "Call",
		"enum.kind.visit":     "Visit",
		"enum.kind.meeting":   "Meeting",
		"enum.kind.message":   "Message",
		"enum.kind.email":     "E-mail",
		"enum.kind.note":      "Note",
	})
	merge(zh, map[string]string{
		"field.kind":          "跟进方式",
		"field.content":       "跟进内容",
		"field.occurred_at":   "跟进时间",
		"field.next_at":       "下次跟进时间",
		"field.customer_id":   "客户",
		"rule.future":         "不能是将来的时间",
		"rule.after_occurred": "必须晚于本次跟进时间",
		"enum.kind.call":      "电话",
		"enum.kind.visit":     "拜访",
		"enum.kind.meeting":   "会议",
		"enum.kind.message":   "消息",
		"enum.kind.email":     "邮件",
		"enum.kind.note":      "备注",
	})
}

func merge(dst, src map[string]string) {
	for k, v := range src {
		dst[k] = v
	}
}
