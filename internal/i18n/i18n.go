// Package i18n holds the user-facing text of Custos in zh-CN and English and
// the one place where domain errors become sentences in the user's language.
package i18n

import (
	"errors"
	"fmt"
	"strings"

	"custos/internal/crm"
)

// The supported languages.
const (
	ZH = "zh-CN"
	EN = "en"
)

// Pick chooses the language: the user's setting if any, else the first
// supported language in an Accept-Language header, else Chinese.
func Pick(userLang, acceptLanguage string) string {
	if userLang == ZH || userLang == EN {
		return userLang
	}
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return ZH
		case strings.HasPrefix(tag, "en"):
			return EN
		}
	}
	return ZH
}

// T returns the text for key in lang, falling back to English and then to
// the key itself, so a missing translation shows up but breaks nothing.
func T(lang, key string) string {
	if lang == ZH {
		if s, ok := zh[key]; ok {
			return s
		}
	}
	if s, ok := en[key]; ok {
		return s
	}
	return key
}

// Tf formats the text for key with args.
func Tf(lang, key string, args ...any) string { return fmt.Sprintf(T(lang, key), args...) }

// FieldName returns the label of a field. A custom field ("custom.<key>")
// is named by its key: only the caller knows its definition's label (errors
// carry it, see FieldMessage). A nested field ("opportunity.amount") is named
// by its object and field. A field the catalog cannot name is named by its
// last part if the catalog knows that, else as the client sent it: never
// by a catalog key.
func FieldName(lang, field string) string {
	if key, ok := strings.CutPrefix(field, "custom."); ok {
		return key
	}
	if header, ok := strings.CutPrefix(field, "mapping."); ok {
		return T(lang, "field.mapping") + " " + header
	}
	if rest, ok := strings.CutPrefix(field, "opportunity."); ok {
		return T(lang, "field.opportunity") + " · " + FieldName(lang, rest)
	}
	if has("field." + field) {
		return T(lang, "field."+field)
	}
	if i := strings.LastIndexByte(field, '.'); i >= 0 && has("field."+field[i+1:]) {
		return T(lang, "field."+field[i+1:])
	}
	return field
}

// has reports whether the catalog holds key (the two languages hold the
// same keys; a test keeps them so).
func has(key string) bool {
	_, ok := en[key]
	return ok
}

// FieldMessage says in lang why a field was rejected, e.g. "公司名称：必填".
// A label the error carries (a custom field's, or a catalog key for a field
// whose usual label would mislead) wins over the catalog's label.
func FieldMessage(lang string, f crm.FieldError) string {
	return LabeledFieldMessage(lang, fieldLabel(lang, f), f)
}

// fieldLabel names the field of an error for people: the label the error
// carries, else the catalog's.
func fieldLabel(lang string, f crm.FieldError) string {
	switch {
	case lang == EN && f.LabelEn != "":
		return f.LabelEn
	case f.Label != "":
		return f.Label
	case f.LabelKey != "":
		return T(lang, f.LabelKey)
	}
	return FieldName(lang, f.Field)
}

// stageCriteriaMessage says what a refused stage move lacks, one sentence
// per stage in the order they were passed: "离开「方案报价」前需要：金额、报价日期".
func stageCriteriaMessage(lang string, fields []crm.FieldError) string {
	type group struct {
		key    string
		stage  string
		labels []string
	}
	var groups []group
	for _, f := range fields {
		stage := param(lang, f)
		if n := len(groups); n == 0 || groups[n-1].stage != stage || groups[n-1].key != f.Rule {
			groups = append(groups, group{key: f.Rule, stage: stage})
		}
		g := &groups[len(groups)-1]
		g.labels = append(g.labels, fieldLabel(lang, f))
	}
	list, sep := ", ", "; "
	if lang == ZH {
		list, sep = "、", "；"
	}
	parts := make([]string, len(groups))
	for i, g := range groups {
		key := "stage." + strings.TrimPrefix(g.key, "stage_") // stage.exit, stage.enter
		if len(g.labels) > 1 {
			key += "_many"
		}
		parts[i] = Tf(lang, key, g.stage, strings.Join(g.labels, list))
	}
	return strings.Join(parts, sep)
}

// param is the error's parameter in lang.
func param(lang string, f crm.FieldError) string {
	if lang == EN && f.ParamEn != "" {
		return f.ParamEn
	}
	return f.Param
}

// LabeledFieldMessage is FieldMessage with the field's label given, for
// fields the catalog cannot name (custom fields, a form's own wording).
func LabeledFieldMessage(lang, label string, f crm.FieldError) string {
	msg := T(lang, "rule.invalid")
	if has("rule." + f.Rule) {
		msg = T(lang, "rule."+f.Rule)
	}
	if strings.Contains(msg, "%s") {
		msg = fmt.Sprintf(msg, param(lang, f))
	}
	sep := ": "
	if lang == ZH {
		sep = "："
	}
	return label + sep + msg
}

// Message says in lang what went wrong. Internal errors never show their
// details; the caller logs them and shows the request id.
func Message(lang string, err error) string {
	var e *crm.Error
	if !errors.As(err, &e) {
		return T(lang, "error.internal")
	}
	if e.Key == "stage_criteria" && len(e.Fields) > 0 {
		return stageCriteriaMessage(lang, e.Fields)
	}
	if e.Key == "duplicate" && len(e.Fields) > 0 {
		return FieldMessage(lang, e.Fields[0])
	}
	if e.Key != "" {
		if s := T(lang, "error."+e.Key); s != "error."+e.Key {
			// A sentence that names something (the reason of a legal
			// hold) takes it from the error's first field.
			if strings.Contains(s, "%s") && len(e.Fields) > 0 {
				s = fmt.Sprintf(s, e.Fields[0].Param)
			}
			return s
		}
	}
	return T(lang, "error."+string(e.Code))
}
