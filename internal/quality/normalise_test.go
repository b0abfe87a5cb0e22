package quality

import (
	"slices"
	"strings"
	"testing"
)

// TestCompanyPlaceForms is the finding: the same company written
// with its place in brackets (after the brand, after the whole name, in
// full- or half-width brackets, with or without 市) or as a prefix must give
// one exact key, for places all over the country.
func TestCompanyPlaceForms(t *testing.T) {
	brands := []struct{ brand, trade string }{
		{"中铭", "科技"}, {"华信", "物流"}, {"恒瑞", "医药"}, {"蓝海", "网络技术"}, {"金石", "投资管理"},
	}
	cities := []struct{ short, full, province string }{
		{"北京", "北京市", ""}, {"上海", "上海市", ""}, {"深圳", "深圳市", "广东省"}, {"成都", "成都市", "四川省"},
		{"杭州", "杭州市", "浙江省"}, {"延边", "延边朝鲜族自治州", "吉林省"}, {"乌鲁木齐", "乌鲁木齐市", "新疆维吾尔自治区"},
		{"重庆", "重庆市", ""}, {"苏州", "苏州市", "江苏省"}, {"大兴安岭", "大兴安岭地区", "黑龙江省"},
	}
	for _, b := range brands {
		for _, c := range cities {
			forms := []string{
				b.brand + b.trade + "（" + c.short + "）有限公司",
				b.brand + "（" + c.short + "）" + b.trade + "有限公司",
				b.brand + "(" + c.full + ")" + b.trade + "有限公司",
				b.brand + b.trade + "(" + c.full + ")股份有限公司",
				b.brand + b.trade + "【" + c.short + "】有限公司",
				c.short + b.brand + b.trade + "有限公司",
				c.full + b.brand + b.trade + "有限公司",
				c.short + " " + b.brand + b.trade + "有限责任公司",
			}
			if c.province != "" {
				forms = append(forms, c.province+c.full+b.brand+b.trade+"有限公司",
					b.brand+b.trade+"（"+c.province+c.full+"）有限公司")
			}
			want := c.short + b.brand + b.trade
			for _, f := range forms {
				got := Company(f)
				if got.Key() != want || got.Place != c.short || got.Core != b.brand+b.trade {
					t.Errorf("Company(%q) = %+v (key %q); want key %q", f, got, got.Key(), want)
				}
			}
		}
	}
}

func TestCompanyDistinctPlaces(t *testing.T) {
	tests := []struct{ a, b string }{
		{"成都华信物流有限公司", "深圳华信物流有限公司"},
		{"华信物流（成都）有限公司", "华信物流（深圳）有限公司"},
		{"华信物流有限公司", "成都华信物流有限公司"},   // the place was dropped: not the same key
		{"广东华信物流有限公司", "深圳华信物流有限公司"}, // a province and a city in it: cannot tell
		{"中铭北京科技有限公司", "北京中铭科技有限公司"}, // a place in the middle without brackets is part of the name
		{"吉林市场营销有限公司", "吉林营销有限公司"},
	}
	for _, tt := range tests {
		if CompanyKey(tt.a) == CompanyKey(tt.b) {
			t.Errorf("CompanyKey(%q) == CompanyKey(%q) = %q; want different", tt.a, tt.b, CompanyKey(tt.a))
		}
	}
}

func TestCompanySplit(t *testing.T) {
	tests := []struct {
		raw         string
		place, core string
	}{
		{"华信物流有限公司", "", "华信物流"},
		{"成都华信物流有限公司", "成都", "华信物流"},
		{"深圳华信物流有限公司", "深圳", "华信物流"},
		{"北京市海淀区中铭科技有限公司", "北京", "中铭科技"},
		{"中铭科技（海淀）有限公司", "北京", "中铭科技"},
		{"中铭科技(北京市海淀区)有限公司", "北京", "中铭科技"},
		{"中铭科技（浦东新区）有限公司", "上海", "中铭科技"},
		{"广东省华信物流有限公司", "广东", "华信物流"},
		{"北京银行股份有限公司", "北京", "银行"},
		{"北京有限公司", "", "北京"},
		{"北京", "", "北京"},
		{"北京市场调研有限公司", "北京", "市场调研"},
		{"吉林省吉林市中铭科技有限公司", "吉林", "中铭科技"},
		// A leading name disagreeing with the bracket is the brand.
		{"金华科技（北京）有限公司", "北京", "金华科技"},
		{"北京金华科技有限公司", "北京", "金华科技"},
		// Two disagreeing brackets: the second stays in the name.
		{"中铭（北京）科技（上海）有限公司", "北京", "中铭科技上海"},
		// Brackets that name no place stay, as before.
		{"中国平安保险（集团）股份有限公司", "", "中国平安保险集团"},
		{"深圳市腾讯计算机系统有限公司", "深圳", "腾讯计算机系统"},
		// English names are unchanged.
		{"Beijing Zhongming Technology Co., Ltd.", "", "beijingzhongmingtechnology"},
		{"ACME (Shanghai) Co., Ltd.", "", "acmeshanghai"},
		{"Acme Co., Ltd.", "", "acme"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := Company(tt.raw); got.Place != tt.place || got.Core != tt.core {
			t.Errorf("Company(%q) = %+v; want place %q, core %q", tt.raw, got, tt.place, tt.core)
		}
	}
}

func TestDivisionCounts(t *testing.T) {
	if n := len(Provinces()); n != 34 {
		t.Errorf("%d provincial-level divisions; want 34", n)
	}
	// 333 prefecture-level divisions and the 4 municipalities.
	if n := len(Cities()); n != 337 {
		t.Errorf("%d cities; want 337", n)
	}
	seen := map[string]bool{}
	for _, c := range Cities() {
		if seen[c] {
			t.Errorf("city %q listed twice", c)
		}
		seen[c] = true
	}
}

func TestProvince(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"北京", "北京市"}, {"北京市", "北京市"}, {"Beijing", "北京市"}, {" beijing ", "北京市"}, {"ＢＥＩＪＩＮＧ", "北京市"},
		{"广东", "广东省"}, {"广东省", "广东省"}, {"guangdong", "广东省"},
		{"内蒙古", "内蒙古自治区"}, {"Inner Mongolia", "内蒙古自治区"}, {"innermongolia", "内蒙古自治区"},
		{"广西", "广西壮族自治区"}, {"新疆", "新疆维吾尔自治区"}, {"Xizang", "西藏自治区"},
		{"香港", "香港特别行政区"}, {"Macau", "澳门特别行政区"}, {"Shaanxi", "陕西省"}, {"Shanxi", "山西省"},
	}
	for _, tt := range tests {
		if got, ok := Province(tt.raw); !ok || got != tt.want {
			t.Errorf("Province(%q) = %q, %v; want %q", tt.raw, got, ok, tt.want)
		}
	}
	for _, raw := range []string{"", "华北", "深圳", "Atlantis"} {
		if got, ok := Province(raw); ok {
			t.Errorf("Province(%q) = %q; want no match", raw, got)
		}
	}
}

func TestCity(t *testing.T) {
	tests := []struct{ raw, province, city string }{
		{"深圳", "广东省", "深圳市"}, {"深圳市", "广东省", "深圳市"}, {"北京", "北京市", "北京市"},
		{"吉林市", "吉林省", "吉林市"}, {"延边", "吉林省", "延边朝鲜族自治州"}, {"阿里地区", "西藏自治区", "阿里地区"},
		{"兴安盟", "内蒙古自治区", "兴安盟"}, {"大兴安岭", "黑龙江省", "大兴安岭地区"}, {"海南藏族自治州", "青海省", "海南藏族自治州"},
	}
	for _, tt := range tests {
		p, c, ok := City(tt.raw)
		if !ok || p != tt.province || c != tt.city {
			t.Errorf("City(%q) = %q, %q, %v; want %q, %q", tt.raw, p, c, ok, tt.province, tt.city)
		}
	}
	// 吉林 and 海南 are provinces too: ambiguous in a city field.
	for _, raw := range []string{"吉林", "海南", "海淀区", "", "Gotham"} {
		if p, c, ok := City(raw); ok {
			t.Errorf("City(%q) = %q, %q; want no match", raw, p, c)
		}
	}
}

func TestIndustry(t *testing.T) {
	const it = "信息传输、软件和信息技术服务业"
	tests := []struct{ raw, want string }{
		{"互联网", it}, {"IT", it}, {"it", it}, {"软件", it}, {"互联网软件开发", it}, {"Software", it},
		{it, it}, {"信息传输，软件和信息技术服务业", it},
		{"Information transmission, software and information technology services", it},
		{"物流", "交通运输、仓储和邮政业"}, {"银行", "金融业"}, {"Finance", "金融业"}, {"房地产", "房地产业"},
		{"制造业", "制造业"}, {"医疗器械", "卫生和社会工作"}, {"International organizations", "国际组织"},
	}
	for _, tt := range tests {
		if got, ok := Industry(tt.raw); !ok || got != tt.want {
			t.Errorf("Industry(%q) = %q, %v; want %q", tt.raw, got, ok, tt.want)
		}
	}
	// Unknown or ambiguous (互联网 and 金融): kept as typed by the caller.
	for _, raw := range []string{"", "互联网金融", "物流软件", "widgets", "digital"} {
		if got, ok := Industry(raw); ok {
			t.Errorf("Industry(%q) = %q; want no match", raw, got)
		}
	}
	if n := len(Industries()); n != 20 || Industries()[0].Code != "A" || Industries()[19].Code != "T" {
		t.Errorf("Industries() = %d sections; want A–T", n)
	}
}

func TestPersonName(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"罗 建华", "罗建华"}, {"罗　建华", "罗建华"}, {" 罗  建 华 ", "罗建华"}, {"罗\u00a0建华", "罗建华"},
		{"John Smith", "John Smith"}, {"Smith 建华", "Smith 建华"}, {"建华 Smith", "建华 Smith"}, {"罗建华", "罗建华"},
	}
	for _, tt := range tests {
		if got := PersonName(tt.raw); got != tt.want {
			t.Errorf("PersonName(%q) = %q; want %q", tt.raw, got, tt.want)
		}
	}
}

// TestSearchTermsSpanSpaces: the bigrams of a name typed with a space are
// those of the name without it, so a search for 罗建华 finds 罗 建华 (stored
// before names were normalised) and the other way round.
func TestSearchTermsSpanSpaces(t *testing.T) {
	for _, stored := range []string{"罗 建华", "罗　建华", "罗建华"} {
		terms := SearchTerms(stored)
		for _, q := range []string{"罗建华", "罗 建华", "罗建"} {
			for _, term := range SearchTerms(q) {
				if !slices.Contains(terms, term) {
					t.Errorf("SearchTerms(%q) = %v lacks %q of the query %q", stored, terms, term, q)
				}
			}
		}
	}
	// A line break still separates (a lead's name and company).
	if terms := SearchTerms("罗建华\n中铭科技"); slices.Contains(terms, "华中") {
		t.Errorf("SearchTerms across a line break = %v; want no 华中", terms)
	}
	if got := strings.Join(SearchTerms("John Smith"), " "); got != "john smith" {
		t.Errorf("SearchTerms(John Smith) = %q", got)
	}
}
