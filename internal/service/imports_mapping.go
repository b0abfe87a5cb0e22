package service

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"custos/internal/crm"
	"custos/internal/i18n"
)

// headerAliases are the other names a column of a field goes by in the
// spreadsheets and old CRMs teams bring, by the field's label key (labels
// themselves, in both languages, are always recognised).
var headerAliases = map[string][]string{
	"field.person_name":         {"姓名", "名字", "联系人", "联系人姓名", "full name", "contact name", "contact"},
	"field.name":                {"名称", "客户名称", "公司名称", "企业名称", "单位名称", "客户", "company name", "account name", "account"},
	"field.mobile":              {"手机", "手机号", "手机号码", "移动电话", "mobile phone", "cell", "cell phone"},
	"field.phone":               {"电话", "座机", "固定电话", "联系电话", "办公电话", "tel", "telephone", "phone number"},
	"field.email":               {"邮箱", "电子邮件", "电子邮箱", "邮件", "e-mail", "mail", "email address"},
	"field.address":             {"地址", "详细地址", "公司地址", "通讯地址"},
	"field.wechat":              {"微信", "微信号", "weixin"},
	"field.title":               {"职位", "职务", "头衔", "岗位", "job title", "position"},
	"field.industry":            {"行业", "所属行业"},
	"field.province":            {"省", "省份", "所在省份"},
	"field.city":                {"城市", "市", "所在城市"},
	"field.website":             {"网站", "网址", "官网", "url", "web"},
	"field.credit_code":         {"统一社会信用代码", "信用代码", "社会信用代码", "税号", "uscc"},
	"field.notes":               {"备注", "说明", "描述", "remark", "remarks", "comment", "comments", "description"},
	"field.level":               {"级别", "客户级别", "等级", "客户等级", "grade", "rating"},
	"field.source":              {"来源", "客户来源", "线索来源", "渠道"},
	"field.status":              {"状态"},
	"field.company":             {"公司", "公司名称", "单位", "企业", "company name", "organisation", "organization"},
	"field.tags":                {"标签", "tag"},
	"field.amount":              {"金额", "预计金额", "商机金额", "合同金额", "value", "deal value"},
	"field.currency":            {"币种", "货币"},
	"field.expected_close_date": {"预计成交日期", "预计签单日期", "预计成交", "close date"},
	"field.content":             {"内容", "跟进内容", "跟进记录", "记录"},
	"field.occurred_at":         {"跟进时间", "跟进日期", "时间", "日期", "date"},
	"field.next_at":             {"下次跟进时间", "下次跟进", "下次联系时间", "next follow-up", "next follow up"},
	"field.kind":                {"跟进方式", "方式", "类型", "type"},
	"field.due_at":              {"截止时间", "截止日期", "到期时间", "due", "due date"},
	"field.task_title":          {"任务", "任务标题", "标题", "subject"},
	"field.done":                {"完成", "已完成", "是否完成", "completed"},
}

// targetAliases name the columns of the targets that are not fields.
var targetAliases = map[string][]string{
	"external_id":          {"外部编号", "外部id", "原系统编号", "原系统id", "编号", "id", "external id", "rec_id", "record id"},
	"owner":                {"负责人", "归属人", "所有者", "拥有者", "销售", "业务员", "owner", "sales rep", "salesperson"},
	"customer":             {"客户", "客户名称", "所属客户", "公司", "公司名称", "customer", "account", "company"},
	"customer_external_id": {"客户编号", "客户外部编号", "customer id", "account id"},
}

// importTargets lists the targets a column of the object may go to, in
// the order a header is matched against them: the object's importable
// fields, its custom fields, then the targets that are not fields (links
// only where the registry says the object refers to that object).
func importTargets(o crm.Object, customs []crm.CustomField) []string {
	spec, _ := crm.Spec(o)
	var out []string
	for _, f := range spec.Fields {
		if f.Importable && f.Type != crm.TypeRef {
			out = append(out, f.Name)
		}
	}
	for _, c := range customs {
		if c.Active {
			out = append(out, "custom."+c.Key)
		}
	}
	out = append(out, "external_id", "owner")
	for _, f := range spec.Fields {
		if f.Type != crm.TypeRef || f.System {
			continue
		}
		if f.Ref == crm.ObjCustomer {
			out = append(out, "customer")
		}
		out = append(out, string(f.Ref)+"_external_id")
	}
	return slices.Compact(out)
}

// targetNames returns the names a header may have for a target: its own
// names (the field's name and labels) and its other names.
func targetNames(o crm.Object, target string, customs []crm.CustomField) (own, other []string) {
	own = []string{target}
	if key, ok := strings.CutPrefix(target, "custom."); ok {
		for _, c := range customs {
			if c.Key == key {
				own = append(own, c.Label, c.LabelEn, c.Key)
			}
		}
		return own, nil
	}
	spec, _ := crm.Spec(o)
	if f, ok := spec.Field(target); ok {
		return append(own, i18n.T(i18n.ZH, f.Label), i18n.T(i18n.EN, f.Label)), headerAliases[f.Label]
	}
	// A record's own number is its object's name and "编号" (客户编号 in a
	// customer file); another object's number links to that record.
	ref, ok := strings.CutSuffix(target, "_external_id")
	if target == "external_id" {
		ref, ok = string(o), true
	}
	if ok {
		label := i18n.T(i18n.ZH, "object."+ref)
		own = append(own, label+"编号", label+"外部编号", label+"id", i18n.T(i18n.EN, "object."+ref)+" id")
	}
	return own, targetAliases[target]
}

// SuggestMapping proposes a target for each header it recognises: first by
// the targets' own names (field names and labels in Chinese and English),
// then by their other names, where a link to the record this one belongs
// to comes before the object's own fields (an opportunity's "客户名称" is
// its customer, a customer's is its name). Each target is proposed once.
func SuggestMapping(o crm.Object, header []string, customs []crm.CustomField) map[string]string {
	out := map[string]string{}
	taken := map[string]bool{}
	targets := importTargets(o, customs)
	links := slices.DeleteFunc(slices.Clone(targets), func(t string) bool { return t != "customer" && !strings.HasSuffix(t, "_external_id") })
	byOther := append(links, slices.DeleteFunc(slices.Clone(targets), func(t string) bool { return slices.Contains(links, t) })...)
	match := func(order []string, names func(t string) []string) {
		for _, h := range header {
			key := foldHeader(h)
			if key == "" || out[h] != "" {
				continue
			}
			for _, t := range order {
				if !taken[t] && slices.ContainsFunc(names(t), func(n string) bool { return foldHeader(n) == key }) {
					out[h], taken[t] = t, true
					break
				}
			}
		}
	}
	match(targets, func(t string) []string { own, _ := targetNames(o, t, customs); return own })
	match(byOther, func(t string) []string { _, other := targetNames(o, t, customs); return other })
	return out
}

// foldHeader folds a header for comparison: width and case folded, marks
// such as "*" or "（必填）" and spaces removed.
func foldHeader(s string) string {
	s = strings.ToLower(norm.NFKC.String(s))
	for _, note := range []string{"(必填)", "(选填)", "(required)", "(optional)"} {
		s = strings.ReplaceAll(s, note, "")
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_' {
			return r
		}
		return -1
	}, s)
}

// targetLabel is a target's column header in a template file, one that
// SuggestMapping maps back to the target.
func targetLabel(o crm.Object, target string, customs []crm.CustomField, lang string) string {
	if key, ok := strings.CutPrefix(target, "custom."); ok {
		for _, c := range customs {
			if c.Key == key {
				return c.LabelFor(lang)
			}
		}
	}
	spec, _ := crm.Spec(o)
	if f, ok := spec.Field(target); ok {
		return i18n.T(lang, f.Label)
	}
	ref, ok := strings.CutSuffix(target, "_external_id")
	if target == "external_id" {
		ref, ok = string(o), true
	}
	switch {
	case ok && lang == i18n.ZH:
		return i18n.T(lang, "object."+ref) + "编号"
	case ok:
		return i18n.T(lang, "object."+ref) + " ID"
	}
	return i18n.T(lang, "import.target."+target)
}
