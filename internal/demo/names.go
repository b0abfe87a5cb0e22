package demo

import (
	"fmt"
	"strconv"
	"strings"
)

// The word lists below build bilingual demo records. Identities that the
// duplicate check (撞单) compares — company names, phones, e-mail addresses,
// credit codes — are not drawn at random: each is a bijection of a record's
// index, so two records can never collide by accident.

// city is where a company is registered. The area code gives valid landline
// numbers; the region code is the administrative division in a unified
// social credit code.
type city struct {
	name, en, province, code, area, region string
	districts                              []string
}

var cities = []city{
	{"北京", "Beijing", "北京", "bj", "010", "110105", []string{"朝阳区", "海淀区", "东城区", "丰台区"}},
	{"上海", "Shanghai", "上海", "sh", "021", "310115", []string{"浦东新区", "徐汇区", "静安区", "闵行区"}},
	{"天津", "Tianjin", "天津", "tj", "022", "120116", []string{"滨海新区", "和平区", "南开区"}},
	{"重庆", "Chongqing", "重庆", "cq", "023", "500103", []string{"渝中区", "江北区", "渝北区"}},
	{"广州", "Guangzhou", "广东", "gz", "020", "440106", []string{"天河区", "越秀区", "海珠区", "番禺区"}},
	{"深圳", "Shenzhen", "广东", "sz", "0755", "440305", []string{"南山区", "福田区", "宝安区", "龙岗区"}},
	{"杭州", "Hangzhou", "浙江", "hz", "0571", "330106", []string{"西湖区", "滨江区", "余杭区", "拱墅区"}},
	{"南京", "Nanjing", "江苏", "nj", "025", "320106", []string{"鼓楼区", "建邺区", "江宁区"}},
	{"苏州", "Suzhou", "江苏", "su", "0512", "320505", []string{"工业园区", "高新区", "吴中区"}},
	{"成都", "Chengdu", "四川", "cd", "028", "510107", []string{"武侯区", "高新区", "锦江区", "成华区"}},
	{"武汉", "Wuhan", "湖北", "wh", "027", "420106", []string{"武昌区", "洪山区", "江汉区"}},
	{"西安", "Xi'an", "陕西", "xa", "029", "610113", []string{"雁塔区", "碑林区", "未央区"}},
	{"青岛", "Qingdao", "山东", "qd", "0532", "370212", []string{"市南区", "崂山区", "黄岛区"}},
	{"宁波", "Ningbo", "浙江", "nb", "0574", "330212", []string{"鄞州区", "海曙区", "北仑区"}},
	{"福州", "Fuzhou", "福建", "fz", "0591", "350102", []string{"鼓楼区", "台江区", "仓山区"}},
	{"长沙", "Changsha", "湖南", "cs", "0731", "430104", []string{"岳麓区", "芙蓉区", "天心区"}},
	{"昆明", "Kunming", "云南", "km", "0871", "530102", []string{"五华区", "盘龙区", "官渡区"}},
	{"哈尔滨", "Harbin", "黑龙江", "hrb", "0451", "230103", []string{"南岗区", "道里区", "香坊区"}},
	{"沈阳", "Shenyang", "辽宁", "sy", "024", "210102", []string{"和平区", "沈河区", "浑南区"}},
	{"东莞", "Dongguan", "广东", "dg", "0769", "441900", []string{"南城街道", "松山湖", "长安镇"}},
	{"佛山", "Foshan", "广东", "fs", "0757", "440604", []string{"禅城区", "南海区", "顺德区"}},
	{"石家庄", "Shijiazhuang", "河北", "sjz", "0311", "130102", []string{"长安区", "桥西区", "裕华区"}},
	{"郑州", "Zhengzhou", "河南", "zz", "0371", "410105", []string{"金水区", "郑东新区", "中原区"}},
	{"济南", "Jinan", "山东", "jn", "0531", "370102", []string{"历下区", "市中区", "槐荫区"}},
	{"合肥", "Hefei", "安徽", "hf", "0551", "340104", []string{"蜀山区", "包河区", "庐阳区"}},
	{"南昌", "Nanchang", "江西", "nc", "0791", "360102", []string{"东湖区", "红谷滩区", "青山湖区"}},
	{"贵阳", "Guiyang", "贵州", "gy", "0851", "520102", []string{"南明区", "云岩区", "观山湖区"}},
	{"海口", "Haikou", "海南", "hk", "0898", "460106", []string{"龙华区", "美兰区", "秀英区"}},
}

// brands are two-character trade names with their pinyin (unique, for
// e-mail domains).
var brands = splitPairs(`星河:xinghe 华信:huaxin 天宇:tianyu 金桥:jinqiao 博远:boyuan 恒通:hengtong 中科:zhongke
新元:xinyuan 瑞丰:ruifeng 鼎盛:dingsheng 华创:huachuang 海纳:haina 云帆:yunfan 卓越:zhuoyue 嘉禾:jiahe 宏达:hongda
长青:changqing 明德:mingde 致远:zhiyuan 启航:qihang 盛世:shengshi 东方:dongfang 凯旋:kaixuan 锦程:jincheng
远景:yuanjing 同创:tongchuang 万象:wanxiang 汇通:huitong 安泰:antai 银河:yinhe 华夏:huaxia 立信:lixin 德润:derun
润和:runhe 恒信:hengxin 金鼎:jinding 天成:tiancheng 宇航:yuhang 蓝海:lanhai 青云:qingyun 紫竹:zizhu 泰和:taihe
聚能:juneng 智晟:zhisheng 天合:tianhe 众诚:zhongcheng 百川:baichuan 新锐:xinrui 领航:linghang 和信:hexin
信达:xinda 恒瑞:hengrui 晨光:chenguang 朝阳:chaoyang 远航:yuanhang 华美:huamei 康泰:kangtai 乐源:leyuan
安信:anxin 诚远:chengyuan 弘毅:hongyi 美景:meijing 宏图:hongtu 华景:huajing 金辉:jinhui 鸿运:hongyun 森源:senyuan
联创:lianchuang 盛达:shengda 思源:siyuan 同方:tongfang 天瑞:tianrui 伟业:weiye 协力:xieli 兴业:xingye 旭日:xuri
亚泰:yatai 一诺:yinuo 永盛:yongsheng 优品:youpin 裕丰:yufeng 元亨:yuanheng 悦达:yueda 泽润:zerun 正和:zhenghe
志诚:zhicheng 中鼎:zhongding 卓信:zhuoxin 北辰:beichen 百利:baili 邦德:bangde 宝华:baohua 博雅:boya 灿星:canxing
辰宇:chenyu 德邦:debang 鼎新:dingxin 飞扬:feiyang 丰泽:fengze 福瑞:furui 冠华:guanhua 广源:guangyuan 国泰:guotai
海川:haichuan 浩宇:haoyu 和泰:hetai 弘远:hongyuan 华辰:huachen 汇智:huizhi 佳诚:jiacheng 嘉信:jiaxin 金帆:jinfan
锦华:jinhua 精诚:jingcheng 君安:junan 开元:kaiyuan 蓝图:lantu 朗润:langrun 力拓:lituo 利华:lihua 龙腾:longteng
茂源:maoyuan 铭泰:mingtai 南风:nanfeng 鹏程:pengcheng 普惠:puhui 启明:qiming 千帆:qianfan 清源:qingyuan
融通:rongtong 瑞通:ruitong 三友:sanyou 尚品:shangpin 深蓝:shenlan 盛和:shenghe 世纪:shiji 顺达:shunda 泰丰:taifeng
腾飞:tengfei 天泽:tianze 通达:tongda 拓新:tuoxin 万方:wanfang 维新:weixin 文华:wenhua 沃德:wode 祥和:xianghe
欣悦:xinyue 星辰:xingchen 雄风:xiongfeng 轩辕:xuanyuan 雅居:yaju 耀华:yaohua 易达:yida 奕辉:yihui 银泰:yintai
英华:yinghua 优创:youchuang 宇通:yutong 远洋:yuanyang 云海:yunhai 泽华:zehua 展鹏:zhanpeng 兆丰:zhaofeng
振华:zhenhua 智达:zhida 中天:zhongtian 众邦:zhongbang 卓远:zhuoyuan 子辰:zichen 宝丰:baofeng 博瑞:borui
承泽:chengze 大成:dacheng 德信:dexin 东润:dongrun 方圆:fangyuan 丰华:fenghua 光耀:guangyao 海盛:haisheng
恒昌:hengchang 弘泰:hongtai 华瑞:huarui 汇远:huiyuan 吉祥:jixiang 金石:jinshi 聚鑫:juxin 凯达:kaida 兰亭:lanting
力诺:linuo 美城:meicheng 明远:mingyuan 宁远:ningyuan 启源:qiyuan 瑞祥:ruixiang 山河:shanhe 尚德:shangde
天启:tianqi 新桥:xinqiao 云腾:yunteng`)

// industry is the trade word in a Chinese company name, a short code for
// e-mail domains and the value of the customer's industry field.
type industry struct{ word, code, field string }

var industries = []industry{
	{"网络科技", "net", "信息技术"}, {"信息技术", "it", "信息技术"}, {"软件", "soft", "软件"}, {"电子商务", "ec", "电子商务"},
	{"智能制造", "im", "制造业"}, {"机械设备", "mech", "制造业"}, {"精密机械", "pm", "制造业"}, {"新材料", "mat", "新材料"},
	{"生物医药", "bio", "医疗健康"}, {"医疗器械", "med", "医疗健康"}, {"健康管理", "care", "医疗健康"}, {"教育科技", "edu", "教育"},
	{"文化传媒", "media", "文化传媒"}, {"广告", "ad", "广告营销"}, {"国际贸易", "trade", "贸易"}, {"进出口", "ie", "贸易"},
	{"供应链管理", "scm", "物流"}, {"物流", "logi", "物流"}, {"餐饮管理", "cater", "餐饮"}, {"食品", "food", "食品饮料"},
	{"酒店管理", "hotel", "酒店旅游"}, {"旅游发展", "tour", "酒店旅游"}, {"建筑工程", "build", "建筑"}, {"装饰工程", "deco", "建筑"},
	{"房地产开发", "estate", "房地产"}, {"物业管理", "prop", "房地产"}, {"环保科技", "env", "环保"}, {"新能源", "ne", "能源"},
	{"电力设备", "power", "能源"}, {"汽车零部件", "auto", "汽车"}, {"化工", "chem", "化工"}, {"纺织", "tex", "纺织服装"},
	{"服饰", "wear", "纺织服装"}, {"家居", "home", "家居"}, {"农业发展", "agri", "农业"}, {"金融服务", "fin", "金融"},
	{"投资管理", "inv", "金融"}, {"企业管理咨询", "cons", "专业服务"}, {"人力资源", "hr", "专业服务"}, {"电子", "elec", "电子"},
}

// companySuffixes are legal forms; the duplicate check strips them, so they
// add no uniqueness and are chosen freely.
var companySuffixes = []string{"有限公司", "有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司", "集团有限公司"}

// qualifiers tell apart companies that would otherwise share a name: a
// second round through the combinations, or a retry after a duplicate.
var qualifiers = strings.Fields(`分公司 滨江 高新 开发区 东区 西区 南区 北区 新区 自贸区 科技园 工业园 港区 城东 城西
江北 江南 湖滨 浦江 海港 临港 青山 白云 金沙 银湖 双流 龙华 天河 雁塔 长安`)

var (
	enFirstWords = strings.Fields(`Northwind Bluestone Silverline Redwood Evergreen Summit Harbor Pioneer Crescent Atlas
Meridian Horizon Keystone Lighthouse Maple Oakridge Riverside Sterling Granite Falcon Aurora Beacon Cobalt Driftwood
Emerald Frontier Golden Highland Ironbridge Juniper Kingfisher Lakeside Monarch Nimbus Orchid Pinnacle Quartz Ridgeway
Sapphire Trident Unity Vanguard Westbrook Yellowstone Zenith Alder Bayside Cedar Dolphin Everest`)
	enSecondWords = strings.Fields(`Trading Logistics Technologies Systems Consulting Foods Industries Partners Software
Electronics Materials Pharma Media Design Engineering Energy Capital Supply Robotics Analytics Labs Networks Textiles
Instruments Marine`)
	enSuffixes   = []string{"Ltd", "Co., Ltd.", "Inc.", "LLC", "Limited", "Corp.", "GmbH", "Ltd"}
	enQualifiers = strings.Fields(`Global Pacific International Asia Orient United Premier Allied Royal Prime Apex Classic
Dynamic First Grand Metro Modern National Nova Omega Pan Polar Regal Smart Star Total Trans Ultra Vista`)
)

// surnames carry a weight (per mille, roughly their frequency in China).
type surname struct {
	han, pinyin string
	weight      int
}

var surnames = []surname{
	{"王", "wang", 71}, {"李", "li", 70}, {"张", "zhang", 67}, {"刘", "liu", 54}, {"陈", "chen", 45}, {"杨", "yang", 31},
	{"黄", "huang", 22}, {"赵", "zhao", 20}, {"吴", "wu", 20}, {"周", "zhou", 19}, {"徐", "xu", 13}, {"孙", "sun", 13},
	{"马", "ma", 11}, {"朱", "zhu", 11}, {"胡", "hu", 10}, {"郭", "guo", 10}, {"何", "he", 9}, {"高", "gao", 9},
	{"林", "lin", 9}, {"罗", "luo", 9}, {"郑", "zheng", 8}, {"梁", "liang", 8}, {"谢", "xie", 6}, {"宋", "song", 6},
	{"唐", "tang", 6}, {"许", "xu", 6}, {"韩", "han", 5}, {"冯", "feng", 5}, {"邓", "deng", 5}, {"曹", "cao", 5},
	{"彭", "peng", 5}, {"曾", "zeng", 5}, {"肖", "xiao", 5}, {"田", "tian", 4}, {"董", "dong", 4}, {"袁", "yuan", 4},
	{"潘", "pan", 4}, {"于", "yu", 4}, {"蒋", "jiang", 4}, {"蔡", "cai", 4}, {"余", "yu", 4}, {"杜", "du", 4},
	{"叶", "ye", 4}, {"程", "cheng", 4}, {"苏", "su", 3}, {"魏", "wei", 3}, {"吕", "lv", 3}, {"丁", "ding", 3},
	{"任", "ren", 3}, {"沈", "shen", 3}, {"姚", "yao", 3}, {"卢", "lu", 3}, {"姜", "jiang", 3}, {"崔", "cui", 3},
	{"钟", "zhong", 3}, {"谭", "tan", 3}, {"陆", "lu", 3}, {"汪", "wang", 3}, {"范", "fan", 3}, {"金", "jin", 3},
	{"石", "shi", 2}, {"廖", "liao", 2}, {"贾", "jia", 2}, {"夏", "xia", 2}, {"韦", "wei", 2}, {"付", "fu", 2},
	{"方", "fang", 2}, {"白", "bai", 2}, {"邹", "zou", 2}, {"孟", "meng", 2}, {"熊", "xiong", 2}, {"秦", "qin", 2},
	{"邱", "qiu", 2}, {"江", "jiang", 2}, {"尹", "yin", 2}, {"薛", "xue", 2}, {"闫", "yan", 2}, {"段", "duan", 2},
	{"雷", "lei", 2}, {"侯", "hou", 2}, {"龙", "long", 2}, {"史", "shi", 2}, {"陶", "tao", 2}, {"黎", "li", 2},
	{"贺", "he", 2}, {"顾", "gu", 2}, {"毛", "mao", 2}, {"郝", "hao", 2}, {"龚", "gong", 2}, {"邵", "shao", 2},
	{"万", "wan", 1}, {"钱", "qian", 1}, {"严", "yan", 1}, {"武", "wu", 1}, {"戴", "dai", 1}, {"莫", "mo", 1},
	{"孔", "kong", 1}, {"向", "xiang", 1}, {"汤", "tang", 1}, {"欧阳", "ouyang", 1}, {"司马", "sima", 1}, {"上官", "shangguan", 1},
}

var givenNames = splitPairs(`伟:wei 芳:fang 娜:na 敏:min 静:jing 丽:li 强:qiang 磊:lei 军:jun 洋:yang 勇:yong 艳:yan
杰:jie 娟:juan 涛:tao 明:ming 超:chao 霞:xia 平:ping 刚:gang 凯:kai 鹏:peng 辉:hui 斌:bin 波:bo 宁:ning 婷:ting
雪:xue 琳:lin 倩:qian 颖:ying 慧:hui 晶:jing 博:bo 毅:yi 峰:feng 浩:hao 亮:liang 健:jian 帆:fan 蕾:lei 璐:lu
萍:ping 红:hong 秀英:xiuying 秀兰:xiulan 建华:jianhua 建国:jianguo 志强:zhiqiang 晓明:xiaoming 海燕:haiyan
丽娟:lijuan 俊杰:junjie 子轩:zixuan 浩然:haoran 梓涵:zihan 一诺:yinuo 欣怡:xinyi 雨桐:yutong 思远:siyuan
嘉怡:jiayi 宇航:yuhang 文博:wenbo 天佑:tianyou 明轩:mingxuan 佳琪:jiaqi 雅婷:yating 晨曦:chenxi 子豪:zihao
志伟:zhiwei 国庆:guoqing 红梅:hongmei 丽华:lihua 春燕:chunyan 晓东:xiaodong 建军:jianjun 文静:wenjing
建平:jianping 永刚:yonggang 立新:lixin 海涛:haitao 思琪:siqi 梦瑶:mengyao 佳慧:jiahui 雨萱:yuxuan 诗涵:shihan
泽宇:zeyu 皓轩:haoxuan 明杰:mingjie 玉兰:yulan 凤英:fengying 淑珍:shuzhen 德明:deming 正阳:zhengyang
少华:shaohua 振国:zhenguo 新民:xinmin 卫东:weidong 晓燕:xiaoyan 美玲:meiling 慧敏:huimin 家豪:jiahao
伟强:weiqiang 志明:zhiming 文杰:wenjie 秋菊:qiuju 永红:yonghong`)

var (
	enFirstNames = strings.Fields(`James Emily Michael Sarah David Jessica Daniel Laura Robert Anna Thomas Olivia Peter
Sophie Mark Grace Andrew Emma Kevin Linda Chris Rachel Steven Helen Paul Karen Brian Lucy Eric Amy Jason Kate Ryan
Hannah Tony Alice Frank Julia Simon Nina`)
	enLastNames = strings.Fields(`Smith Johnson Brown Taylor Miller Wilson Moore Anderson Thomas Jackson White Harris Martin
Thompson Clark Lewis Walker Hall Allen Young King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts
Carter Phillips Evans Turner Parker Collins Edwards Stewart Morris Schmidt Weber Fischer Tanaka Suzuki Kim Lee Park Nguyen`)
)

var (
	titlesCN    = strings.Fields(`总经理 副总经理 采购经理 采购主管 技术总监 财务经理 行政主管 IT经理 市场总监 运营经理 董事长 销售总监 项目经理 办公室主任`)
	titlesEN    = []string{"CEO", "Purchasing Manager", "IT Director", "Operations Manager", "CFO", "Head of Procurement", "Project Manager", "General Manager"}
	streets     = strings.Fields(`人民路 中山路 解放路 建设路 长江路 和平路 新华路 科技路 学院路 文化路 创业大道 世纪大道 滨江大道 金融街 高新大道 环城东路`)
	tags        = strings.Fields(`重点客户 老客户 渠道伙伴 政府项目 待续约 高潜力 价格敏感 需回访 年度框架 战略合作`)
	mobileHeads = strings.Fields(`130 131 132 133 134 135 136 137 138 139 150 151 152 153 155 156 157 158 159 166 177 180 181 182 183 184 185 186 187 188 189 199`)
	mailHosts   = []string{"qq.com", "163.com", "126.com", "foxmail.com", "sina.com"}
)

// Follow-up, opportunity and task texts.
var (
	topicsCN    = strings.Fields(`产品报价 试用反馈 合同条款 付款方式 实施计划 年度续约 新增需求 培训安排 售后问题 招标流程 技术方案 交付时间 发票事宜 样品寄送 竞品对比`)
	reactCN     = strings.Fields(`客户表示满意 客户需要内部讨论 客户对价格有顾虑 约定下周再沟通 客户要求提供案例 已转交技术团队跟进 决策人出差暂缓 客户希望尽快推进 预算需等下季度 客户要求上门演示`)
	topicsEN    = []string{"pricing", "the trial", "contract terms", "payment schedule", "the rollout plan", "the renewal", "new requirements", "training", "a support issue", "the tender"}
	reactEN     = []string{"they are happy so far", "they need to discuss internally", "price is a concern", "we agreed to talk next week", "they asked for references", "passed on to our engineers", "the decision maker is travelling", "they want to move fast"}
	productsCN  = strings.Fields(`CRM系统采购 年度服务合同 设备升级 软件许可续费 二期项目 数据平台建设 办公自动化 安防改造 物流系统 培训服务 咨询项目 云服务迁移`)
	productsEN  = []string{"CRM rollout", "Annual support", "Hardware refresh", "License renewal", "Phase 2", "Data platform", "Cloud migration", "Training package"}
	lostReasons = []string{"价格过高", "选择了竞争对手", "预算被取消", "需求发生变化", "决策周期过长", "Lost to a competitor", "客户内部重组"}
	taskTitles  = strings.Fields(`准备报价单 回访客户 发送合同 安排产品演示 整理需求文档 催收回款 预约拜访 寄送样品 确认交付时间 更新客户资料`)
	leadNotes   = []string{"展会上留下名片", "官网表单咨询", "老客户介绍", "电话咨询价格", "Inbound web enquiry", "参加了线上研讨会"}
)

// pair is a Chinese word and its pinyin.
type pair struct{ han, pinyin string }

func splitPairs(s string) []pair {
	var out []pair
	for _, f := range strings.Fields(s) {
		han, py, _ := strings.Cut(f, ":")
		out = append(out, pair{han, py})
	}
	return out
}

// Brands returns the two-character brand words of generated Chinese company
// names: each is a realistic two-character search that matches a few
// hundred of 100,000 customers.
func Brands() []string {
	out := make([]string, len(brands))
	for i, b := range brands {
		out[i] = b.han
	}
	return out
}

// bijection is x → (x·a + b) mod n with a coprime to n: a cheap permutation
// of [0, n) that scatters consecutive indexes.
type bijection struct{ n, a, b uint64 }

func newBijection(n, salt uint64) bijection {
	for _, a := range []uint64{1_000_003, 104_729, 130_363, 155_921, 179_424_691, 7_919} {
		if gcd(a%n, n) == 1 && a%n != 0 {
			return bijection{n: n, a: a % n, b: salt % n}
		}
	}
	return bijection{n: n, a: 1, b: salt % n}
}

func (p bijection) at(x uint64) uint64 { return (x%p.n*p.a + p.b) % p.n }

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// identities derives unique names and numbers from record indexes.
type identities struct {
	cnCombo, enCombo        bijection
	mobileB, landlineB, org bijection
	qq                      bijection
	cnCombos, enCombos      uint64
}

func newIdentities(seed uint64) identities {
	cn := uint64(len(cities) * len(brands) * len(industries))
	en := uint64(len(enFirstWords) * len(enSecondWords) * len(cities))
	return identities{
		cnCombos: cn, enCombos: en,
		cnCombo:   newBijection(cn, seed*7+1),
		enCombo:   newBijection(en, seed*11+3),
		mobileB:   newBijection(100_000_000, seed*13+5),
		landlineB: newBijection(60_000_000, seed*17+7),
		org:       newBijection(100_000_000, seed*19+11),
		qq:        newBijection(900_000_000, seed*23+13),
	}
}

// companyName is a company's identity: name, e-mail domain and city.
type companyName struct {
	name, domain string
	city         city
	industry     string // the customer's industry field
	english      bool
}

// company returns the name of company number idx. style picks the legal
// suffix; attempt > 0 adds a qualifier after a duplicate.
func (id identities) company(idx uint64, english bool, style int, attempt int) companyName {
	if english {
		return id.englishCompany(idx, style, attempt)
	}
	u := id.cnCombo.at(idx)
	round := idx / id.cnCombos
	c := cities[u%uint64(len(cities))]
	u /= uint64(len(cities))
	b := brands[u%uint64(len(brands))]
	u /= uint64(len(brands))
	ind := industries[u]
	name := c.name + b.han + ind.word
	domain := b.pinyin + "-" + ind.code + "-" + c.code
	if round > 0 {
		q := qualifiers[(round-1)%uint64(len(qualifiers))]
		if round > uint64(len(qualifiers)) {
			q += strconv.FormatUint((round-1)/uint64(len(qualifiers))+1, 10)
		}
		name += "（" + q + "）"
		domain += strconv.FormatUint(round, 10)
	}
	if attempt > 0 {
		name += "（" + qualifiers[(int(idx)+attempt*7)%len(qualifiers)] + strconv.Itoa(attempt) + "部）"
		domain += "-r" + strconv.Itoa(attempt)
	}
	return companyName{name: name + companySuffixes[style%len(companySuffixes)], domain: domain + ".com", city: c, industry: ind.field}
}

func (id identities) englishCompany(idx uint64, style int, attempt int) companyName {
	u := id.enCombo.at(idx)
	round := idx / id.enCombos
	w1 := enFirstWords[u%uint64(len(enFirstWords))]
	u /= uint64(len(enFirstWords))
	w2 := enSecondWords[u%uint64(len(enSecondWords))]
	u /= uint64(len(enSecondWords))
	c := cities[u]
	words := []string{w1}
	domain := strings.ToLower(w1)
	if round > 0 {
		q := enQualifiers[(round-1)%uint64(len(enQualifiers))]
		words = append(words, q)
		domain += strings.ToLower(q)
		if round > uint64(len(enQualifiers)) {
			domain += strconv.FormatUint(round, 10)
			words = append(words, strconv.FormatUint(round, 10))
		}
	}
	if attempt > 0 {
		q := enQualifiers[(int(idx)+attempt*7)%len(enQualifiers)]
		words = append(words, q, strconv.Itoa(attempt))
		domain += "-" + strings.ToLower(q) + strconv.Itoa(attempt)
	}
	words = append(words, w2)
	domain += "-" + strings.ToLower(w2) + "-" + c.code + ".com"
	name := strings.Join(words, " ") + " (" + c.en + ") " + enSuffixes[style%len(enSuffixes)]
	industryField := map[string]string{"Trading": "贸易", "Logistics": "物流", "Technologies": "信息技术", "Systems": "信息技术",
		"Software": "软件", "Foods": "食品饮料", "Pharma": "医疗健康", "Media": "文化传媒", "Energy": "能源", "Capital": "金融",
		"Electronics": "电子", "Textiles": "纺织服装", "Materials": "新材料"}[w2]
	if industryField == "" {
		industryField = "专业服务"
	}
	return companyName{name: name, domain: domain, city: c, industry: industryField, english: true}
}

// mobile returns a valid, unique Chinese mobile number for person pid.
func (id identities) mobile(pid uint64, attempt int) string {
	x := pid + uint64(attempt)*(1<<26)
	head := mobileHeads[(x*2654435761>>7)%uint64(len(mobileHeads))]
	return fmt.Sprintf("%s%08d", head, id.mobileB.at(x))
}

// landline returns a unique switchboard number in the company's city.
func (id identities) landline(c city, idx uint64, attempt int) string {
	return fmt.Sprintf("%s-%08d", c.area, 20_000_000+id.landlineB.at(idx+uint64(attempt)*(1<<25)))
}

// publicMail returns a unique address at a public mail host.
func (id identities) publicMail(pid uint64, py string, attempt int) string {
	x := pid + uint64(attempt)*(1<<26)
	host := mailHosts[x%uint64(len(mailHosts))]
	if host == "qq.com" || py == "" {
		return fmt.Sprintf("%d@%s", 100_000_000+id.qq.at(x), host)
	}
	return fmt.Sprintf("%s%08d@%s", py, id.mobileB.at(x+(1<<27)), host)
}

// creditCode returns a valid, unique unified social credit code
// (GB 32100-2015) for company idx registered in c.
func (id identities) creditCode(c city, idx uint64, modern bool, attempt int) string {
	u := id.org.at(idx + uint64(attempt)*(1<<25))
	var body string
	if modern {
		// Codes issued since 2015 mostly read "MA" + seven characters.
		b := []byte("MA000000")
		for i := 7; i >= 2; i-- {
			b[i] = creditAlphabet[u%31]
			u /= 31
		}
		body = string(b)
	} else {
		body = fmt.Sprintf("%08d", u)
	}
	org := body + orgCheck(body)
	return CreditCodeWithCheck("91" + c.region + org)
}

const creditAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CreditCodeWithCheck appends the check character to the first 17
// characters of a unified social credit code.
func CreditCodeWithCheck(first17 string) string {
	sum := 0
	for i := range 17 {
		sum += strings.IndexByte(creditAlphabet, first17[i]) * creditWeights[i]
	}
	return first17 + string(creditAlphabet[(31-sum%31)%31])
}

// orgCheck is the check character of an organisation code (GB 11714).
func orgCheck(body string) string {
	weights := [8]int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 8 {
		ch := body[i]
		v := int(ch - '0')
		if ch >= 'A' {
			v = int(ch-'A') + 10
		}
		sum += v * weights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return "X"
	case 11:
		return "0"
	default:
		return strconv.Itoa(c)
	}
}
