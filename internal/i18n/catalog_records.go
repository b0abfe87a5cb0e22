package i18n

// Texts of contacts, leads, opportunities and tasks.
func init() {
	merge(en, map[string]string{
		"field.title":                   "Title",
		"field.mobile":                  "Mobile",
		"field.wechat":                  "WeChat",
		"field.notes":                   "Notes",
		"field.company":                 "Company",
		"field.amount":                  "Amount",
		"field.currency":                "Currency",
		"field.expected_close_date":     "Expected close date",
		"field.stage_id":                "Stage",
		"field.probability":             "Probability",
		"field.lost_reason":             "Lost reason",
		"field.name_en":                 "English name",
		"field.due_at":                  "Due",
		"field.opportunity_id":          "Opportunity",
		"field.lead_id":                 "Lead",
		"field.opportunity":             "Opportunity",
		"rule.range":                    "must be within %s",
		"rule.currency":                 "must be a three-letter ISO 4217 code such as CNY",
		"rule.converted":                "has already been converted",
		"enum.lead_status.new":          "New",
		"enum.lead_status.contacted":    "Contacted",
		"enum.lead_status.qualified":    "Qualified",
		"enum.lead_status.converted":    "Converted",
		"enum.lead_status.disqualified": "Disqualified",
		"error.lead_converted":          "This lead has already been converted.",
	})
	merge(zh, map[string]string{
		"field.title":                   "职位",
		"field.mobile":                  "手机",
		"field.wechat":                  "微信",
		"field.notes":                   "备注",
		"field.company":                 "公司",
		"field.amount":                  "金额",
		"field.currency":                "币种",
		"field.expected_close_date":     "预计成交日期",
		"field.stage_id":                "销售阶段",
		"field.probability":             "赢率",
		"field.lost_reason":             "输单原因",
		"field.name_en":                 "英文名称",
		"field.due_at":                  "截止时间",
		"field.opportunity_id":          "商机",
		"field.lead_id":                 "线索",
		"field.opportunity":             "商机",
		"rule.range":                    "必须在 %s 范围内",
		"rule.currency":                 "必须是三位 ISO 4217 币种代码，如 CNY",
		"rule.converted":                "已转化",
		"enum.lead_status.new":          "新线索",
		"enum.lead_status.contacted":    "已联系",
		"enum.lead_status.qualified":    "已确认",
		"enum.lead_status.converted":    "已转化",
		"enum.lead_status.disqualified": "无效",
		"error.lead_converted":          "该线索已转化。",
	})
}

func init() {
	merge(en, map[string]string{"error.password_change_required": "Change your one-time password first."})
	merge(zh, map[string]string{"error.password_change_required": "请先修改一次性密码。"})
}
