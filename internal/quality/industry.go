package quality

import "strings"

// IndustrySection is one section (门类) of GB/T 4754-2017, 国民经济行业分类
// (Industrial classification for national economic activities).
type IndustrySection struct {
	Code string // "A" … "T"
	Name string // the standard Chinese name, the value Custos stores
	En   string
}

// industrySections are the 20 sections of GB/T 4754-2017 (with its 2019
// amendment), in order.
var industrySections = []IndustrySection{
	{"A", "农、林、牧、渔业", "Agriculture, forestry, animal husbandry and fishery"},
	{"B", "采矿业", "Mining"},
	{"C", "制造业", "Manufacturing"},
	{"D", "电力、热力、燃气及水生产和供应业", "Production and supply of electricity, heat, gas and water"},
	{"E", "建筑业", "Construction"},
	{"F", "批发和零售业", "Wholesale and retail trade"},
	{"G", "交通运输、仓储和邮政业", "Transport, storage and postal services"},
	{"H", "住宿和餐饮业", "Accommodation and catering"},
	{"I", "信息传输、软件和信息技术服务业", "Information transmission, software and information technology services"},
	{"J", "金融业", "Finance"},
	{"K", "房地产业", "Real estate"},
	{"L", "租赁和商务服务业", "Leasing and business services"},
	{"M", "科学研究和技术服务业", "Scientific research and technical services"},
	{"N", "水利、环境和公共设施管理业", "Water conservancy, environment and public facilities management"},
	{"O", "居民服务、修理和其他服务业", "Resident services, repair and other services"},
	{"P", "教育", "Education"},
	{"Q", "卫生和社会工作", "Health and social work"},
	{"R", "文化、体育和娱乐业", "Culture, sports and entertainment"},
	{"S", "公共管理、社会保障和社会组织", "Public administration, social security and social organisations"},
	{"T", "国际组织", "International organisations"},
}

// industrySynonyms are the words people type for a section, by its code.
// A Chinese synonym also counts inside a longer value ("互联网软件开发"),
// an English one only as the whole value.
var industrySynonyms = map[string][]string{
	"A": {"农业", "林业", "畜牧", "渔业", "养殖", "种植", "agriculture", "farming"},
	"B": {"采矿", "矿业", "煤炭", "石油开采", "mining"},
	"C": {"制造", "工厂", "加工", "机械", "汽车制造", "电子制造", "manufacturer", "factory"},
	"D": {"电力", "能源", "燃气", "供水", "热力", "energy", "utilities", "power"},
	"E": {"建筑", "建设", "装修", "工程施工", "construction"},
	"F": {"批发", "零售", "贸易", "商贸", "电商", "电子商务", "retail", "wholesale", "trade", "e-commerce", "ecommerce"},
	"G": {"物流", "运输", "仓储", "快递", "货运", "航运", "logistics", "transport", "shipping"},
	"H": {"餐饮", "酒店", "住宿", "饭店", "hotel", "hotels", "catering", "restaurant", "hospitality"},
	"I": {"互联网", "软件", "信息技术", "通信", "电信", "计算机", "it", "software", "internet", "telecom", "telecommunications", "saas"},
	"J": {"金融", "银行", "保险", "证券", "基金", "投资", "finance", "banking", "bank", "insurance", "financial services"},
	"K": {"房地产", "地产", "物业", "real estate", "property"},
	"L": {"租赁", "商务服务", "咨询", "广告", "人力资源", "法律服务", "consulting", "advertising", "leasing", "business services"},
	"M": {"科研", "研发", "技术服务", "检测", "设计", "research", "r&d"},
	"N": {"水利", "环保", "环境", "公共设施", "environmental"},
	"O": {"家政", "维修", "修理", "美容", "居民服务", "repair"},
	"P": {"教育", "培训", "学校", "education", "training"},
	"Q": {"医疗", "医院", "卫生", "医药", "健康", "养老", "healthcare", "health", "medical", "hospital"},
	"R": {"文化", "传媒", "体育", "娱乐", "影视", "游戏", "出版", "media", "entertainment", "sports", "culture"},
	"S": {"政府", "公共管理", "社会组织", "社会保障", "协会", "government", "public administration", "ngo"},
	"T": {"国际组织", "international organization"},
}

// industryIndex finds a section by the whole folded value: its Chinese or
// English name, its name without punctuation, or a synonym.
var industryIndex = func() map[string]int {
	idx := map[string]int{}
	code := map[string]int{}
	for i, s := range industrySections {
		code[s.Code] = i
		idx[fold(s.Name)] = i
		idx[stripPunct(s.Name)] = i
		idx[strings.ToLower(s.En)] = i
		idx[strings.ReplaceAll(strings.ToLower(s.En), "organisation", "organization")] = i
	}
	for c, words := range industrySynonyms {
		for _, w := range words {
			idx[w] = code[c]
		}
	}
	return idx
}()

// stripPunct folds s and keeps only its letters and digits.
func stripPunct(s string) string {
	return strings.Join(strings.FieldsFunc(fold(s), func(r rune) bool { return !isWordRune(r) }), "")
}

// Industry maps a free-text industry onto the Chinese name of its GB/T
// 4754-2017 section when that is unambiguous: the section's name in Chinese
// or English, a synonym ("互联网", "IT", "软件" → 信息传输、软件和信息技术服务业),
// or a Chinese value holding synonyms of one section only ("互联网软件开发").
// ok is false otherwise, and the caller keeps raw as typed.
func Industry(raw string) (string, bool) {
	s := strings.Join(strings.Fields(fold(raw)), " ")
	if s == "" {
		return "", false
	}
	if i, ok := industryIndex[s]; ok {
		return industrySections[i].Name, true
	}
	if i, ok := industryIndex[stripPunct(s)]; ok {
		return industrySections[i].Name, true
	}
	found := -1
	for i, sec := range industrySections {
		for _, w := range industrySynonyms[sec.Code] {
			if w[0] < 0x80 || !strings.Contains(s, w) {
				continue // English synonyms match whole values only
			}
			if found >= 0 && found != i {
				return "", false
			}
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return industrySections[found].Name, true
}

// Industries lists the sections of GB/T 4754-2017 in order.
func Industries() []IndustrySection {
	return append([]IndustrySection(nil), industrySections...)
}
