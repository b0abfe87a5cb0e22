package quality

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestJaroWinkler(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.961},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.813},
		{"abc", "abc", 1},
		{"abc", "", 0},
		{"罗建华", "罗建华", 1},
	} {
		if got := jaroWinkler([]rune(c.a), []rune(c.b)); math.Abs(got-c.want) > 0.001 {
			t.Errorf("jaroWinkler(%q, %q) = %.3f, want %.3f", c.a, c.b, got, c.want)
		}
	}
}

func TestSoundex(t *testing.T) {
	for w, want := range map[string]string{"robert": "R163", "rupert": "R163", "ashcraft": "A261", "tymczak": "T522",
		"pfister": "P236", "lee": "L000", "罗建华": "罗建华"} {
		if got := soundex(w); got != want {
			t.Errorf("soundex(%q) = %q, want %q", w, got, want)
		}
	}
}

func TestCompareValues(t *testing.T) {
	for _, c := range []struct {
		kind    MatchKind
		a, b    string
		min     float64
		max     float64
		wantHow string
	}{
		{MatchPersonName, "John Smith", "john  smith", 1, 1, ""},
		{MatchPersonName, "John Smith", "Smith John", 0.9, 1, ""},
		{MatchPersonName, "Jon Smith", "John Smith", 0.8, 0.99, ""},
		{MatchPersonName, "John Smith", "Mary Jones", 0, 0.3, ""},
		{MatchPersonName, "罗 建华", "罗建华", 1, 1, ""},
		{MatchPersonName, "罗建华", "罗建平", 0.3, 0.95, ""},
		{MatchDate, "1980-03-12", "19800312", 1, 1, ""},
		{MatchDate, "1980-03-12", "1980-12-03", 0.8, 0.8, "day and month swapped"},
		{MatchDate, "1980-03-12", "1908-03-12", 0.8, 0.8, "digits transposed"},
		{MatchDate, "1980-03-12", "1980-03-13", 0.7, 0.7, "one digit off"},
		{MatchDate, "1980-03-12", "1975-07-30", 0, 0, ""},
		{MatchCode, "7364009", "7364090", 0.7, 0.7, "digits transposed"},
		{MatchCode, "7364009", "736409", 0.7, 0.7, "one character off"},
		{MatchText, "6988048", "6988049", 0.7, 0.7, "one character off"},
		{MatchText, "miller street", "street miller", 0.9, 1, ""},
		{MatchPhone, "+8613800138000", "+8613800138000", 1, 1, ""},
		{MatchPhone, "+8613800138000", "+8613800138001", 0.6, 0.6, "one digit off"},
		{MatchEmail, "zhang@x.cn", "zhang@y.cn", 0.7, 0.7, "same local part"},
		{MatchCompany, "中铭科技有限公司", "中铭科技", 1, 1, ""},
	} {
		got, how := compareValues(c.kind, c.a, c.b)
		if got < c.min || got > c.max || how != c.wantHow {
			t.Errorf("compare %s %q %q = %.2f %q, want %.2f..%.2f %q", c.kind, c.a, c.b, got, how, c.min, c.max, c.wantHow)
		}
	}
}

func person(id int64, name, dob, idNo string) MatchRecord {
	return MatchRecord{ID: id, Fields: []MatchField{
		{Name: "name", Kind: MatchPersonName, Value: name},
		{Name: "date_of_birth", Kind: MatchDate, Value: dob},
		{Name: "id_no", Kind: MatchText, Value: idNo},
	}}
}

func TestCompareExplainsItself(t *testing.T) {
	r := DefaultMatchRules()
	m := r.Compare(person(1, "John Smith", "1980-03-12", "7364009"), person(2, "Smith Jon", "1980-03-12", "7364090"))
	if !m.Passed || m.Score < r.Threshold {
		t.Fatalf("near duplicate not passed: %+v", m)
	}
	if why := m.Explain(); !strings.Contains(why, "same date_of_birth") || !strings.Contains(why, "id_no digits transposed") ||
		!strings.Contains(why, "name 0.") {
		t.Errorf("reasons %q do not say what matched", why)
	}
	if strings.Contains(m.Explain(), "Smith") || strings.Contains(m.Explain(), "7364") {
		t.Errorf("reasons %q carry values", m.Explain())
	}
	if m := r.Compare(person(1, "John Smith", "1980-03-12", "7364009"), person(2, "Mary Jones", "1975-07-30", "1234567")); m.Passed {
		t.Errorf("different people passed: %+v", m)
	}
	// Sharing only a name is not enough evidence.
	if m := r.Compare(person(1, "John Smith", "", ""), person(2, "John Smith", "", "")); m.Passed {
		t.Errorf("a name alone passed: %+v", m)
	}
	// AND: a required field that disagrees refuses the pair.
	r.Require = []string{"id_no"}
	if m := r.Compare(person(1, "John Smith", "1980-03-12", "7364009"), person(2, "John Smith", "1980-03-12", "1111111")); m.Passed {
		t.Errorf("required field ignored: %+v", m)
	}
	// A field weighted 0 is left out.
	r.Require = nil
	r.Fields = map[string]FieldRule{"date_of_birth": {Weight: 0}}
	if m := r.Compare(person(1, "John Smith", "1980-03-12", ""), person(2, "John Smith", "1980-03-12", "")); len(m.Reasons) != 1 {
		t.Errorf("zero weight compared: %+v", m)
	}
}

func TestBlockingKeys(t *testing.T) {
	a := BlockingKeys(MatchRecord{Fields: []MatchField{{Name: "name", Kind: MatchPersonName, Value: "John Smith"},
		{Name: "postcode", Kind: MatchText, Value: "4011"}}})
	b := BlockingKeys(MatchRecord{Fields: []MatchField{{Name: "name", Kind: MatchPersonName, Value: "Smyth Jon"},
		{Name: "postcode", Kind: MatchText, Value: "4011"}}})
	shared := 0
	for _, k := range a {
		if slices.Contains(b, k) {
			shared++
		}
	}
	if shared == 0 {
		t.Errorf("swapped, misspelt name shares no key: %v / %v", a, b)
	}
	zh := BlockingKeys(MatchRecord{Fields: []MatchField{{Name: "name", Kind: MatchPersonName, Value: "罗 建华"},
		{Name: "dob", Kind: MatchDate, Value: "1980-03-12"}}})
	if !slices.Contains(zh, "nx:h罗:dob:19800312") || !slices.Contains(zh, "nx:h建华:dob:19800312") {
		t.Errorf("Chinese name keys %v", zh)
	}
	// The whole name meets a copy with two digits of the date transposed.
	swapped := BlockingKeys(MatchRecord{Fields: []MatchField{{Name: "name", Kind: MatchPersonName, Value: "罗建华"},
		{Name: "dob", Kind: MatchDate, Value: "1980-03-21"}}})
	if !slices.Contains(zh, "nx:hn罗建华:dob~00112389") || !slices.Contains(swapped, "nx:hn罗建华:dob~00112389") {
		t.Errorf("transposed date shares no key: %v / %v", zh, swapped)
	}
	// A name is no key by itself: a million people share a few thousand
	// Chinese names; a name part with a postcode is a weak key.
	only := BlockingKeys(MatchRecord{Fields: []MatchField{{Name: "name", Kind: MatchPersonName, Value: "王伟"}}})
	if len(only) != 0 {
		t.Errorf("a name alone is a key: %v", only)
	}
	if !slices.ContainsFunc(a, func(k string) bool { return strings.HasPrefix(k, WeakKeyPrefix) }) {
		t.Errorf("a name part with a postcode is not a weak key: %v", a)
	}
	// A date is no key by itself: it would pair everyone born that day.
	if slices.ContainsFunc(zh, func(k string) bool { return strings.HasPrefix(k, "d") }) {
		t.Errorf("a date alone is a key: %v", zh)
	}
}

func TestMatchRulesValidate(t *testing.T) {
	if f, _ := DefaultMatchRules().Validate(); f != "" {
		t.Fatalf("default rules invalid at %s", f)
	}
	r := DefaultMatchRules()
	r.Threshold = 1.5
	if f, rule := r.Validate(); f != "threshold" || rule != "range" {
		t.Errorf("threshold 1.5: %s %s", f, rule)
	}
	r = DefaultMatchRules()
	r.Fields = map[string]FieldRule{"x": {Weight: -1}}
	if f, _ := r.Validate(); f != "fields.x.weight" {
		t.Errorf("negative weight: %s", f)
	}
}
