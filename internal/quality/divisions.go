package quality

import "strings"

// The administrative divisions of China, from GB/T 2260 (中华人民共和国行政区划
// 代码, as published by the Ministry of Civil Affairs with the 2023 changes):
// all 34 provincial-level divisions and all 333 prefecture-level divisions
// (cities, 地区, 自治州 and 盟). Taiwan, Hong Kong and Macao have no
// prefecture level in the standard. A prefecture whose short name is not its
// full name without 市/地区/盟 gives it after a slash (自治州 are called by
// their place name: 延边, 恩施, …).
var provinceData = []struct {
	name, en string
	cities   string
}{
	{"北京市", "Beijing", ""},
	{"天津市", "Tianjin", ""},
	{"河北省", "Hebei", "石家庄市 唐山市 秦皇岛市 邯郸市 邢台市 保定市 张家口市 承德市 沧州市 廊坊市 衡水市"},
	{"山西省", "Shanxi", "太原市 大同市 阳泉市 长治市 晋城市 朔州市 晋中市 运城市 忻州市 临汾市 吕梁市"},
	{"内蒙古自治区", "Inner Mongolia", "呼和浩特市 包头市 乌海市 赤峰市 通辽市 鄂尔多斯市 呼伦贝尔市 巴彦淖尔市 乌兰察布市 兴安盟 锡林郭勒盟 阿拉善盟"},
	{"辽宁省", "Liaoning", "沈阳市 大连市 鞍山市 抚顺市 本溪市 丹东市 锦州市 营口市 阜新市 辽阳市 盘锦市 铁岭市 朝阳市 葫芦岛市"},
	{"吉林省", "Jilin", "长春市 吉林市 四平市 辽源市 通化市 白山市 松原市 白城市 延边朝鲜族自治州/延边"},
	{"黑龙江省", "Heilongjiang", "哈尔滨市 齐齐哈尔市 鸡西市 鹤岗市 双鸭山市 大庆市 伊春市 佳木斯市 七台河市 牡丹江市 黑河市 绥化市 大兴安岭地区"},
	{"上海市", "Shanghai", ""},
	{"江苏省", "Jiangsu", "南京市 无锡市 徐州市 常州市 苏州市 南通市 连云港市 淮安市 盐城市 扬州市 镇江市 泰州市 宿迁市"},
	{"浙江省", "Zhejiang", "杭州市 宁波市 温州市 嘉兴市 湖州市 绍兴市 金华市 衢州市 舟山市 台州市 丽水市"},
	{"安徽省", "Anhui", "合肥市 芜湖市 蚌埠市 淮南市 马鞍山市 淮北市 铜陵市 安庆市 黄山市 滁州市 阜阳市 宿州市 六安市 亳州市 池州市 宣城市"},
	{"福建省", "Fujian", "福州市 厦门市 莆田市 三明市 泉州市 漳州市 南平市 龙岩市 宁德市"},
	{"江西省", "Jiangxi", "南昌市 景德镇市 萍乡市 九江市 新余市 鹰潭市 赣州市 吉安市 宜春市 抚州市 上饶市"},
	{"山东省", "Shandong", "济南市 青岛市 淄博市 枣庄市 东营市 烟台市 潍坊市 济宁市 泰安市 威海市 日照市 临沂市 德州市 聊城市 滨州市 菏泽市"},
	{"河南省", "Henan", "郑州市 开封市 洛阳市 平顶山市 安阳市 鹤壁市 新乡市 焦作市 濮阳市 许昌市 漯河市 三门峡市 南阳市 商丘市 信阳市 周口市 驻马店市"},
	{"湖北省", "Hubei", "武汉市 黄石市 十堰市 宜昌市 襄阳市 鄂州市 荆门市 孝感市 荆州市 黄冈市 咸宁市 随州市 恩施土家族苗族自治州/恩施"},
	{"湖南省", "Hunan", "长沙市 株洲市 湘潭市 衡阳市 邵阳市 岳阳市 常德市 张家界市 益阳市 郴州市 永州市 怀化市 娄底市 湘西土家族苗族自治州/湘西"},
	{"广东省", "Guangdong", "广州市 韶关市 深圳市 珠海市 汕头市 佛山市 江门市 湛江市 茂名市 肇庆市 惠州市 梅州市 汕尾市 河源市 阳江市 清远市 东莞市 中山市 潮州市 揭阳市 云浮市"},
	{"广西壮族自治区", "Guangxi", "南宁市 柳州市 桂林市 梧州市 北海市 防城港市 钦州市 贵港市 玉林市 百色市 贺州市 河池市 来宾市 崇左市"},
	{"海南省", "Hainan", "海口市 三亚市 三沙市 儋州市"},
	{"重庆市", "Chongqing", ""},
	{"四川省", "Sichuan", "成都市 自贡市 攀枝花市 泸州市 德阳市 绵阳市 广元市 遂宁市 内江市 乐山市 南充市 眉山市 宜宾市 广安市 达州市 雅安市 巴中市 资阳市 " +
		"阿坝藏族羌族自治州/阿坝 甘孜藏族自治州/甘孜 凉山彝族自治州/凉山"},
	{"贵州省", "Guizhou", "贵阳市 六盘水市 遵义市 安顺市 毕节市 铜仁市 黔西南布依族苗族自治州/黔西南 黔东南苗族侗族自治州/黔东南 黔南布依族苗族自治州/黔南"},
	{"云南省", "Yunnan", "昆明市 曲靖市 玉溪市 保山市 昭通市 丽江市 普洱市 临沧市 楚雄彝族自治州/楚雄 红河哈尼族彝族自治州/红河 文山壮族苗族自治州/文山 " +
		"西双版纳傣族自治州/西双版纳 大理白族自治州/大理 德宏傣族景颇族自治州/德宏 怒江傈僳族自治州/怒江 迪庆藏族自治州/迪庆"},
	{"西藏自治区", "Tibet", "拉萨市 日喀则市 昌都市 林芝市 山南市 那曲市 阿里地区"},
	{"陕西省", "Shaanxi", "西安市 铜川市 宝鸡市 咸阳市 渭南市 延安市 汉中市 榆林市 安康市 商洛市"},
	{"甘肃省", "Gansu", "兰州市 嘉峪关市 金昌市 白银市 天水市 武威市 张掖市 平凉市 酒泉市 庆阳市 定西市 陇南市 临夏回族自治州/临夏 甘南藏族自治州/甘南"},
	{"青海省", "Qinghai", "西宁市 海东市 海北藏族自治州/海北 黄南藏族自治州/黄南 海南藏族自治州/海南 果洛藏族自治州/果洛 玉树藏族自治州/玉树 海西蒙古族藏族自治州/海西"},
	{"宁夏回族自治区", "Ningxia", "银川市 石嘴山市 吴忠市 固原市 中卫市"},
	{"新疆维吾尔自治区", "Xinjiang", "乌鲁木齐市 克拉玛依市 吐鲁番市 哈密市 昌吉回族自治州/昌吉 博尔塔拉蒙古自治州/博尔塔拉 巴音郭楞蒙古自治州/巴音郭楞 阿克苏地区 " +
		"克孜勒苏柯尔克孜自治州/克孜勒苏 喀什地区 和田地区 伊犁哈萨克自治州/伊犁 塔城地区 阿勒泰地区"},
	{"台湾省", "Taiwan", ""},
	{"香港特别行政区", "Hong Kong", ""},
	{"澳门特别行政区", "Macao", ""},
}

// districtData are well-known county-level divisions (GB/T 2260 districts
// and county-level cities) that companies put in their names, by the city
// they belong to. Only names that are unambiguous are listed: 朝阳 (also a
// city in Liaoning), 鼓楼, 普陀, 宝山, 江北, 白云, 光明, 长安 and the like are
// left out, since a place read wrongly would join two companies.
var districtData = []struct{ city, districts string }{
	{"北京市", "东城区 西城区 海淀区 丰台区 石景山区 门头沟区 房山区 顺义区 昌平区 大兴区 怀柔区 平谷区 密云区 延庆区"},
	{"上海市", "浦东新区/浦东 黄浦区 徐汇区 长宁区 静安区 虹口区 杨浦区 闵行区 嘉定区 松江区 青浦区 奉贤区 崇明区"},
	{"天津市", "滨海新区/滨海 南开区 西青区 津南区 北辰区 东丽区 武清区 宝坻区 宁河区 静海区 蓟州区"},
	{"重庆市", "渝中区 渝北区 沙坪坝区 九龙坡区 巴南区 北碚区 万州区 涪陵区"},
	{"深圳市", "福田区 罗湖区 南山区 宝安区 龙岗区 龙华区 坪山区 盐田区"},
	{"广州市", "天河区 越秀区 海珠区 荔湾区 番禺区 花都区 南沙区 增城区 从化区 黄埔区"},
	{"佛山市", "顺德区"},
	{"杭州市", "上城区 拱墅区 西湖区 滨江区 萧山区 余杭区 临平区 钱塘区 富阳区 临安区"},
	{"南京市", "玄武区 秦淮区 建邺区 雨花台区 栖霞区 江宁区 浦口区 六合区 溧水区 高淳区"},
	{"武汉市", "江岸区 江汉区 硚口区 汉阳区 武昌区 洪山区 东西湖区 蔡甸区 江夏区 黄陂区 新洲区"},
	{"成都市", "锦江区 青羊区 金牛区 武侯区 成华区 龙泉驿区 温江区 郫都区 双流区 新都区 青白江区"},
	{"西安市", "雁塔区 碑林区 莲湖区 未央区 灞桥区 临潼区 阎良区 高陵区 鄠邑区"},
	{"苏州市", "姑苏区 吴中区 相城区 吴江区 昆山市 常熟市 张家港市 太仓市"},
	{"无锡市", "江阴市 宜兴市"},
	{"金华市", "义乌市"},
	{"宁波市", "慈溪市 余姚市"},
	{"泉州市", "晋江市 石狮市"},
}

// place is a recognised place name: its province and, when the name is a
// prefecture (or a district within one), its city. Municipalities are their
// own city.
type place struct {
	province int // index into provinceData
	city     string
}

// provinceShort is a province's name without its suffix.
func provinceShort(name string) string {
	for _, suffix := range []string{"特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"} {
		if rest, ok := strings.CutSuffix(name, suffix); ok {
			return rest
		}
	}
	return name
}

// splitShort reads "全名/简称", or a full name whose short form drops one of
// the suffixes.
func splitShort(entry string, suffixes ...string) (full, short string) {
	if full, short, ok := strings.Cut(entry, "/"); ok {
		return full, short
	}
	for _, suffix := range suffixes {
		if rest, ok := strings.CutSuffix(entry, suffix); ok && len([]rune(rest)) >= 2 {
			return entry, rest
		}
	}
	return entry, entry
}

// The lookup tables, built once from the data above.
var (
	// places holds every name a company may carry its place by: provinces,
	// prefectures and the districts above, full and short.
	places = map[string]place{}
	// provinceNames finds a province by full, short or English name.
	provinceNames = map[string]int{}
	// cityNames finds a prefecture (or municipality) by full or short name.
	cityNames = map[string]place{}
	// placeShort is each city's (or province's) short name, the form a
	// company key carries.
	placeShort = map[place]string{}
	// maxPlaceRunes bounds a prefix search.
	maxPlaceRunes int
	// cityList is every prefecture and municipality by full name, in
	// standard order, for suggestion lists.
	cityList []string
)

func init() {
	addPlace := func(name string, p place) {
		if _, taken := places[name]; !taken { // a province keeps its short name (吉林, 海南)
			places[name] = p
		}
		maxPlaceRunes = max(maxPlaceRunes, len([]rune(name)))
	}
	cityIndex := map[string]place{}
	for i, pd := range provinceData {
		short := provinceShort(pd.name)
		p := place{province: i}
		placeShort[p] = short
		provinceNames[pd.name], provinceNames[short] = i, i
		en := strings.ToLower(pd.en)
		provinceNames[en], provinceNames[strings.ReplaceAll(en, " ", "")] = i, i
		addPlace(pd.name, p)
		addPlace(short, p)
		if pd.cities == "" && strings.HasSuffix(pd.name, "市") { // a municipality is its own city
			c := place{province: i, city: pd.name}
			placeShort[c] = short
			cityIndex[pd.name], cityIndex[short] = c, c
			cityList = append(cityList, pd.name)
		}
	}
	for alias, name := range map[string]string{"nei mongol": "内蒙古自治区", "xizang": "西藏自治区", "macau": "澳门特别行政区"} {
		provinceNames[alias] = provinceNames[name]
	}
	for i, pd := range provinceData {
		for _, entry := range strings.Fields(pd.cities) {
			full, short := splitShort(entry, "市", "地区", "盟")
			c := place{province: i, city: full}
			placeShort[c] = short
			cityList = append(cityList, full)
			cityIndex[full] = c
			if _, taken := cityIndex[short]; !taken {
				cityIndex[short] = c
			}
		}
	}
	// Provinces first, then cities: a short name both carry (吉林, 海南)
	// reads as the province.
	for _, pd := range provinceData {
		for _, entry := range strings.Fields(pd.cities) {
			full, short := splitShort(entry, "市", "地区", "盟")
			addPlace(full, cityIndex[full])
			addPlace(short, cityIndex[full])
		}
	}
	for _, dd := range districtData {
		c := cityIndex[dd.city]
		for _, entry := range strings.Fields(dd.districts) {
			full, short := splitShort(entry, "新区", "区", "市")
			addPlace(full, c)
			addPlace(short, c)
		}
	}
	cityNames = cityIndex
}

// compatible reports whether two places can be one company's: the same
// province, and the same city unless one of them names none. It returns
// the more specific of the two.
func compatible(a, b place) (place, bool) {
	if a.province != b.province {
		return place{}, false
	}
	switch {
	case a.city == "":
		return b, true
	case b.city == "" || a.city == b.city:
		return a, true
	}
	return place{}, false
}

// Province maps a free-text province onto its standard name ("北京",
// "北京市", "Beijing" → "北京市"); ok is false when raw names none, and then
// the caller keeps raw as typed.
func Province(raw string) (string, bool) {
	s := strings.TrimSpace(fold(raw))
	if i, ok := provinceNames[s]; ok {
		return provinceData[i].name, true
	}
	if i, ok := provinceNames[strings.Join(strings.Fields(s), " ")]; ok {
		return provinceData[i].name, true
	}
	return "", false
}

// City maps a free-text prefecture-level city onto its standard name and
// its province ("深圳" → 广东省, 深圳市; "北京" → 北京市, 北京市). A short
// name that is also a province's (吉林, 海南) is ambiguous in a city field
// and not mapped; its full form (吉林市) is.
func City(raw string) (province, city string, ok bool) {
	s := strings.Join(strings.Fields(fold(raw)), "")
	c, found := cityNames[s]
	if !found {
		return "", "", false
	}
	if i, isProvince := provinceNames[s]; isProvince && provinceData[i].name != c.city {
		return "", "", false
	}
	return provinceData[c.province].name, c.city, true
}

// Provinces lists the standard province names in GB/T 2260 order.
func Provinces() []string {
	out := make([]string, len(provinceData))
	for i, pd := range provinceData {
		out[i] = pd.name
	}
	return out
}

// Cities lists the standard names of the municipalities and every
// prefecture-level division.
func Cities() []string {
	return append([]string(nil), cityList...)
}
