"""Writes `training/antispam/supplementary/messages.tsv`: the anti-spam supplementary training messages.

Why: the book's corpus has no legitimate automated notices (bank card movements, verification codes,
parcel, train and bill notices) and almost none of today's scam vocabulary (刷单, 时时彩, ETC认证, phishing
links), so no preprocessing or augmentation can teach either. These messages are written here by hand as
templates with slots (banks, apps, amounts, times, codes, links), filled by a seeded generator, so the
file is reproducible and reviewable. See `training/antispam/supplementary/README.md` (provenance) and
`tests/antispam/test_supplement.py` (no line is close to a challenge-set message).

    python scripts/gen_antispam_supplement.py            # rewrites the file (seed 2026)
"""

from __future__ import annotations

import argparse
import random
import string
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "training" / "antispam" / "supplementary" / "messages.tsv"
PER_TEMPLATE = 4  # filled variants per template (duplicates dropped)

BANKS = ["工商银行", "建设银行", "农业银行", "中国银行", "招商银行", "交通银行", "浦发银行", "民生银行", "兴业银行", "邮储银行", "平安银行", "中信银行"]
APPS = ["淘宝", "京东", "美团", "支付宝", "微信支付", "抖音", "小红书", "滴滴出行", "饿了么", "拼多多", "携程", "12306", "哔哩哔哩", "高德地图", "网易邮箱", "钉钉"]
COURIERS = ["顺丰速运", "中通快递", "圆通速递", "韵达快递", "申通快递", "京东物流", "邮政EMS", "极兔速递"]
PLACES = ["小区东门菜鸟驿站", "3号楼快递柜", "学校南门妈妈驿站", "公司前台", "丰巢柜(幸福里店)", "西区超市代收点", "物业服务中心"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆", "长沙", "郑州", "苏州", "天津"]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴霞"]
FOODS = ["火锅", "烤肉", "麻辣烫", "饺子", "烧烤", "日料", "小龙虾", "酸菜鱼", "牛肉面", "披萨"]
ITEMS = ["这件外套", "那双鞋", "这款耳机", "这个书包", "这台空气炸锅", "这件连衣裙", "这个充电宝", "这套茶具"]
TLDS = [".cn", ".com", ".top", ".xyz", ".vip", ".cc", ".net"]
SLANG = ["宝", "亲", "朋友", "老铁", "家人们"]


def digits(r: random.Random, n: int) -> str:
    return "".join(r.choice(string.digits) for _ in range(n))


def phone(r: random.Random) -> str:
    return r.choice(["13", "15", "17", "18", "19"]) + digits(r, 9)


def url(r: random.Random) -> str:
    host = "".join(r.choice(string.ascii_lowercase) for _ in range(r.randint(3, 7)))
    path = "".join(r.choice(string.ascii_letters + string.digits) for _ in range(r.randint(4, 6)))
    return r.choice(["", "http://", "https://"]) + host + r.choice(TLDS) + r.choice(["", "/" + path])


def money(r: random.Random, lo: int = 5, hi: int = 5000) -> str:
    v = r.randint(lo, hi)
    return f"{v}.{digits(r, 2)}" if r.random() < 0.6 else str(v)


def slots(r: random.Random) -> dict[str, str]:
    """One random value per slot name used by the templates below."""
    m, d = r.randint(1, 12), r.randint(1, 28)
    return {
        "bank": r.choice(BANKS), "app": r.choice(APPS), "courier": r.choice(COURIERS), "place": r.choice(PLACES),
        "city": r.choice(CITIES), "city2": r.choice(CITIES), "name": r.choice(NAMES), "food": r.choice(FOODS),
        "item": r.choice(ITEMS), "slang": r.choice(SLANG),
        "tail": digits(r, 4), "code6": digits(r, 6), "code4": digits(r, 4), "pick": f"{r.randint(1, 30)}-{r.randint(1, 6)}-{digits(r, 4)}",
        "m": str(m), "d": str(d), "hh": f"{r.randint(6, 22):02d}", "mm": f"{r.randint(0, 59):02d}", "h12": str(r.randint(1, 11)),
        "amt": money(r), "bal": money(r, 100, 90000), "small": str(r.randint(2, 300)), "big": str(r.choice([5, 10, 20, 30, 50, 100])),
        "pct": str(r.choice([3, 5, 6, 8])), "min": str(r.choice([5, 10, 15, 30])),
        "train": r.choice("GDKZ") + str(r.randint(10, 9999)), "car": f"{r.randint(1, 16):02d}", "seat": f"{r.randint(1, 20)}{r.choice('ABCDF')}",
        "flight": r.choice(["CA", "MU", "CZ", "HU", "3U", "ZH"]) + digits(r, 4), "order": r.choice("EGS") + digits(r, 9),
        "phone": phone(r), "qq": str(r.randint(10000000, 3999999999)), "wx": r.choice(["vx", "wx", "V"]) + digits(r, r.randint(6, 9)),
        "url": url(r), "room": f"{r.randint(1, 30)}栋{r.randint(1, 3)}单元{r.randint(1, 30)}0{r.randint(1, 4)}",
        "n": str(r.randint(2, 9)), "kg": str(r.randint(1, 40)), "deg": str(r.randint(60, 400)),
    }


# --- pass: legitimate notices (banks, codes, parcels, travel, bills), and everyday messages -------------
PASS_NOTICE = [
    "【{bank}】您尾号{tail}的储蓄卡{m}月{d}日{hh}:{mm}消费支出人民币{amt}元，活期余额{bal}元。",
    "您尾号{tail}的卡于{m}月{d}日{hh}:{mm}转账收入{amt}元，余额{bal}元。【{bank}】",
    "【{bank}】您账户{tail}于{m}月{d}日收到工资{amt}元，当前余额{bal}元。",
    "【{bank}】您尾号{tail}的信用卡本期账单{amt}元，到期还款日{m}月{d}日，可通过手机银行还款。",
    "{bank}：您尾号{tail}的卡{m}月{d}日快捷支付扣款{amt}元（{app}），如非本人操作请拨打卡背面客服电话。",
    "【{app}】验证码{code6}，{min}分钟内有效。您正在登录，请勿告诉他人。",
    "【{app}】您的验证码是{code4}，用于手机号绑定，请勿泄露。",
    "验证码：{code6}。您正在修改登录密码，如非本人操作请忽略本短信。【{app}】",
    "【{app}】{code6}（动态验证码），您正在进行身份验证，工作人员不会向您索要。",
    "【{courier}】您的快递已到{place}，取件码{pick}，请尽快领取。",
    "【{courier}】您的包裹正在派送中，快递员{name}，电话{phone}，请保持电话畅通。",
    "【菜鸟驿站】凭取件码{pick}到{place}取件，营业时间{hh}:00-21:00。",
    "您购买的商品已由{courier}揽收，运单号{order}，预计{m}月{d}日送达。【{app}】",
    "【{courier}】您的快递已签收，签收人：{place}。有问题可以打快递员电话{phone}。",
    "【铁路12306】订单{order}，{name}您已购{m}月{d}日{train}次{car}车{seat}号，{city}站{hh}:{mm}开，请携带身份证乘车。",
    "【铁路12306】您乘坐的{train}次列车晚点约{small}分钟，请留意车站广播和检票口信息。",
    "【航旅纵横】您预订的{m}月{d}日{flight}航班{city}-{city2}，{hh}:{mm}起飞，请提前两小时到达机场。",
    "尊敬的旅客，您的{flight}航班因天气原因延误，预计起飞时间{hh}:{mm}，请关注航站楼信息。",
    "【国家电网】您户号{code6}的{m}月电费{amt}元，请于{d}日前缴纳，可通过网上国网APP缴费。",
    "【自来水公司】您家{m}月用水{small}吨，水费{amt}元，已从账户代扣成功。",
    "【中国移动】您本月话费账单{amt}元，当前余额{small}元，感谢您的使用。",
    "【物业通知】{room}业主您好，本周{n}上午9点至12点停水检修，请提前储水。",
    "【物业服务中心】小区将于{m}月{d}日进行消防演练，届时警铃响起请勿惊慌。",
    "【{city}市人民医院】您已成功预约{m}月{d}日上午{h12}点的门诊，请携带医保卡按时就诊。",
    "【{app}】您的退款{amt}元已原路退回，预计1-3个工作日到账。",
    "【{app}】您的订单已发货，{courier}运单号{order}，点开APP可查看物流。",
    "【{city}交警】您的车辆于{m}月{d}日在某路段违停，请于15日内处理，可在交管12123APP查询。",
    "【社区卫生服务中心】{name}家长您好，孩子的疫苗接种时间为{m}月{d}日，请带接种本。",
    "【{city}公积金中心】您的公积金账户{m}月缴存{amt}元已到账。",
    "【学校通知】各位家长：明天学校组织春游，请给孩子准备午餐和水，早上{hh}点前到校。",
    # fifth round: more legitimate notices (libraries, transport, utilities, tickets, pensions, weather)
    "【{city}图书馆】您借阅的图书将于{m}月{d}日到期，请按时归还或在线续借。",
    "【{bank}】您的信用卡已于{m}月{d}日还款{amt}元，感谢您的使用。",
    "【{courier}】您寄给{name}的快件已送达，感谢使用。",
    "【{city}地铁】因设备故障，{n}号线部分区段列车晚点，请乘客合理安排出行。",
    "【燃气公司】您家的燃气表将于{m}月{d}日上门安检，请家中留人。",
    "【{app}】您预订的{city}酒店已确认，入住日期{m}月{d}日，订单号{order}。",
    "【{city}市考试院】您的考试报名已审核通过，请于{m}月{d}日起登录官网打印准考证。",
    "【{app}】您的电影票已出票，{m}月{d}日{hh}:{mm}，{n}号厅，取票码{code6}。",
    "【{city}人社局】您的{m}月养老金{amt}元已发放，请注意查收。",
    "您的车辆年检将于{m}月到期，请及时到检测站办理。【{city}车管所】",
    "【{city}气象台】今天夜间到明天有大到暴雨，请注意防范，减少外出。",
    "【{bank}】您申请的信用卡已寄出，{courier}单号{order}，收到后请本人激活。",
    "【社区通知】本周六上午在小区广场有免费义诊，欢迎居民参加。",
    "【{app}】您的会员将于{m}月{d}日到期，到期后不会自动续费。",
]
PASS_CHAT = [
    "今晚去吃{food}吧，{hh}点在老地方见？",
    "我到{city}了，刚下高铁，{n}点左右到家。",
    "你把那个文件发我一下，我晚上看看。",
    "周末有空吗？一起去爬山，叫上{name}。",
    "我给你转了{small}块，昨天的饭钱。",
    "明天降温了，出门记得多穿点衣服。",
    "哈哈哈笑死我了，你看群里那个视频没",
    "我微信号换了，以后加这个：{wx}",
    "帮我取一下快递吧，取件码{pick}，谢谢啦",
    "车票买好了，{m}月{d}号上午{h12}点的{train}",
    "我在路上堵车了，大概晚{small}分钟到，你们先点菜",
    "生日快乐！祝你天天开心，礼物下周给你",
    "刚刚那个电话是我打的，号码{phone}，有事回我",
    "这个月房租{amt}我已经转给房东了",
    "{name}，你家猫好可爱，什么品种的？",
    "晚上打球吗？{hh}点体育馆",
    "你上次推荐的那本书我看完了，挺好看的",
    "明天几点的飞机？要不要我送你去机场",
    "今天的作业是什么？我忘记抄了",
    "群里说下周聚会，你去不去？",
    "不好意思刚才在开会，没接到电话，什么事？",
    "谢啦，红包收到了，新年快乐！",
    "这周末{city}有演唱会，我抢到两张票，一起去？",
    "{name}生了个女儿，母子平安，过几天一起去看看吧",
]
PASS_FAMILY = [
    "爸，我{m}月{d}号放假回家，大概住{n}天。",
    "妈，钱收到了，不用给我打钱了，我够用。",
    "儿子，天冷了，被子要盖好，别感冒了。",
    "奶奶身体好多了，医生说下周可以出院。",
    "老公，下班顺路买点菜，家里没有鸡蛋了。",
    "闺女，考试考得怎么样？别太累了。",
    "姐，你上次说的那家{food}店叫什么名字？",
    "我们到{city}了，酒店挺好的，明天去逛逛。",
    "爸妈，我到学校了，一切都好，放心吧。",
    "老婆，我今晚加班，你们先吃别等我。",
    "宝贝，作业写完了吗？写完了早点睡。",
    "妈，我给你买了件羽绒服，快递明天到，记得查收。",
]
PASS_WORK = [
    "各位，明天上午{h12}点的会议改到下午{n}点，会议室不变。",
    "{name}，报表我已经发你邮箱了，麻烦看一下有没有问题。",
    "王总，合同已经盖章了，快递单号{order}，明天能到。",
    "请大家本周五前提交{m}月份的报销单，发票贴好。",
    "李老师您好，孩子今天发烧了，想请假一天。",
    "收到，我下午把方案改好发群里。",
    "客户那边说价格可以再谈，我们明天电话沟通一下。",
    "今天加班，晚饭公司报销，{hh}点后打车也可以报。",
    "新同事{name}今天入职，大家多多关照。",
    "服务器今晚{hh}点维护，大约{small}分钟，期间系统不可用。",
    "本周{n}下午{h12}点部门例会，请大家准时参加，带上本周进度。",
    "{name}，你下周的出差申请我批了，酒店自己订，回来按标准报销。",
    "各位同事，公司{m}月{d}日组织体检，请在OA系统上预约时间。",
    "团建定在{m}月{d}号，去郊区农家乐，要带家属的提前跟我说。",
    "麻烦把上个月的考勤表核对一下，有问题今天下班前反馈给人事。",
    "项目评审会推迟到下周{n}，材料先不用打印了。",
    "我明天请假去医院，有急事打我电话{phone}。",
    "发布会的PPT第{n}页数据不对，我改了一版放共享盘了。",
    "这周值班表已经排好了，{name}周六，我周日。",
    "快递到前台了吗？是客户寄来的样品，帮我签收一下。",
    "面试安排在{m}月{d}日上午{h12}点，公司{n}楼会议室，请带一份简历。",
    "季度奖金{m}月底随工资一起发，具体金额看绩效。",
    "今天的日报大家记得在钉钉上提交。",
    "这个需求客户明天要看效果，今晚辛苦大家加个班。",
    "年假还剩{n}天，今年不休的话会清零，记得安排。",
    "报销款{amt}元已经打到你工资卡了，注意查收。",
]
PASS_SHOP = [
    "老板，{item}还有L码吗？想要黑色的。",
    "您好，{item}什么时候能发货？我比较急。",
    "我昨天买的{item}有点小，可以换大一号吗？",
    "请问{item}能便宜点吗？我买两件。",
    "收到货了，质量不错，下次还来你家买",
    "师傅，我在小区门口，车牌尾号{code4}的是你吗？",
    "你好，我想订明天晚上{n}个人的位子，{hh}点左右。",
    "您好，我的外卖超时了一个小时还没到，能帮忙催一下吗？",
    "请问周日营业吗？我想过去看看{item}。",
    "亲，您的订单已经安排发货了，预计{n}天到。",
    "请问这个优惠券怎么用？结账的时候没减。",
    "您好，我昨天下的单还没发货，麻烦查一下，订单号{order}。",
    "{item}尺码偏大吗？我平时穿M。",
    "老板，帮我留两斤排骨，下班去拿。",
]
# --- spam: today's scams and advertising -------------------------------------------------------------------
SPAM = [
    "【{courier}】收件地址不完整，包裹暂存仓库，请通过{url}补充地址，三天内未处理将退回。",
    "您好，您的包裹在运输中丢失，我们将给您{deg}元理赔，请添加客服微信{wx}办理。",
    "【快递通知】您有一个包裹未签收，请点击链接{url}填写信息重新派送。",
    "您好，我是{courier}客服，您的快递被海关扣留，需缴纳保证金{deg}元，请联系{phone}。",
    "个人信用贷款，不看征信不押车，额度{big}万，最快两小时到账，电话{phone}。",
    "急用钱？{app}借款秒批，日息低至0.0{n}%，点击{url}领取额度。",
    "您的网贷额度已提升至{big}万元，回复1立即提现，逾期失效。",
    "征信不好也能贷，黑户可办，下款快，加微信{wx}咨询。",
    "您的贷款逾期已上报征信，请立即联系{phone}处理，否则将起诉。",
    "时时彩稳赚计划，专业导师带你每天盈利{deg}以上，加QQ{qq}进群。",
    "澳门首家线上娱乐城，百家乐、棋牌、体育，首充{deg}送{small}，网址{url}",
    "注册即送{big}元彩金，天天返水，提款秒到，{url}",
    "足球竞猜内部消息，稳赚不赔，带你回本，联系{wx}",
    "时时彩、快三、北京赛车，信誉平台，充值返利{pct}%，登录{url}",
    "招聘兼职刷单员，动动手指日赚{deg}元，一单一结，加QQ{qq}",
    "在家就能做的兼职，点赞关注就能赚钱，日结{deg}，加微信{wx}",
    "淘宝刷单，先垫付后返佣，佣金{pct}%，名额有限，联系{phone}",
    "招打字员，手机就能做，每天{n}小时，月入过万，{url}报名",
    "宝妈兼职，时间自由，零投资，日入{deg}+，私信{wx}",
    "【ETC】您的ETC认证已过期，将于今日停用，请点击{url}重新认证。",
    "【{bank}】检测到您的网银登录环境异常，账户已限制使用，请访问{url}完成身份核验。",
    "尊敬的客户，您的积分{big}000即将清零，请登录{url}兑换现金礼品。",
    "【社保局】您的社保卡已被暂停使用，请及时点击{url}进行信息核验。",
    "这里是{city}公安局，您的身份证被人冒用办理银行卡，需要您配合核查，请回电{phone}。",
    "【{app}】您的账号存在违规行为将被封禁，请在24小时内登录{url}申诉。",
    "您的个税退税{amt}元待领取，请点击{url}填写银行卡信息。",
    "恭喜您被抽中为幸运用户，获得iPhone一部，点击{url}领取大奖。",
    "恭喜您的手机号中奖{big}万元，请联系{phone}领取，需先交手续费。",
    "点击链接领取{app}现金红包{small}元：{url}",
    "各类发票代开，专票普票都有，税点低，联系{phone}",
    "本公司有普通发票、专票可代开，点数优惠，加微信{wx}",
    "开票找我，正规发票，可验证后付款，{phone}",
    "【{city}楼盘】首付{big}万起，地铁口精装修，买房送车位，咨询{phone}，回T退订",
    "店庆大酬宾，全场{n}折，会员再送{small}元券，详情{url}，退订回T",
    "加微信{wx}，免费领取美容体验券，名额有限！",
    "高仿名表名包，一比一复刻，支持货到付款，加{wx}看图",
    "股票内幕消息，明天必涨的牛股，加群免费领取，QQ{qq}",
    "{slang}，你的好友{name}邀请你免费领取会员，戳{url}",
    "医保卡余额可提现，手续费低，当天到账，联系{phone}",
    "低价出售各类账号，实名认证号，量大从优，QQ{qq}",
    # fifth round: more scams (frozen accounts, fake jobs and investments, impersonation, fake subsidies)
    "【{app}】尊敬的用户，您的账户已被冻结，请立即联系客服{phone}解冻，否则资金将被清零。",
    "急招网络客服，无需经验，在家办公，日薪{deg}元，加微信{wx}面试。",
    "美女主播一对一视频聊天，点击{url}下载APP，注册送{small}金币。",
    "投资虚拟币，一个月翻{n}倍，稳赚不赔，进群{url}",
    "您的信用卡已符合提额条件，额度可提升至{big}万，回复Y办理。",
    "养生茶免费试喝，包邮到家，降三高效果好，咨询{phone}",
    "【交管通知】您的驾驶证积分已满，请点击{url}处理，逾期将吊销。",
    "兄弟，我换号了，这是我新号，急需用钱，先转我{big}00，明天还你。",
    "同城交友，寂寞了来找我，{url}",
    "教育局补贴发放通知：每位家长可领取补贴{deg}元，请访问{url}登记。",
    "专业代写论文，查重率低，包通过，QQ{qq}",
    "游戏装备低价出售，充值{pct}折，联系{wx}",
]


# --- third batch (independent author, session 16) ---------------------------------------------------------
# Its own slot lists; filled by `slots3` (all of `slots` plus these keys) only after every earlier row, so the
# earlier lines of the file and their random draws stay exactly as they were.
SHOPS = ["全家便利店", "瑞幸咖啡", "永辉超市", "华润万家", "蜜雪冰城", "肯德基", "沙县小吃", "盒马鲜生", "喜茶"]
PARKS = ["万达广场停车场", "市一医院停车场", "高铁站P2停车场", "龙湖天街地下车库", "滨江路路侧泊位", "科技园B区停车场"]
PROVINCES = ["京", "沪", "粤", "浙", "川", "鄂", "苏", "陕", "渝", "湘", "豫"]
HOSPITALS = ["市妇幼保健院", "市中医院", "区人民医院", "省肿瘤医院", "大学附属第一医院", "市口腔医院"]
STREETS = ["长安路", "解放街", "新华路", "人民北路", "建设街", "和平路", "中山路"]
SCHOOLS = ["实验小学", "第二中学", "育才小学", "外国语学校", "第十一中学", "阳光幼儿园"]
CINEMAS = ["万达影城", "横店电影城", "CGV影城", "大地影院", "金逸影城"]
RESTAURANTS = ["福满楼", "老街坊酒家", "湘里人家", "金鼎大酒店", "聚丰园", "喜宴楼"]
BUILDINGS = ["教三-201", "文科楼305", "主楼B区108", "理科楼412", "图书馆报告厅"]
SURNAMES = ["张", "王", "李", "刘", "陈", "杨", "赵", "孙", "周", "徐"]
PRODUCTS = ["扫地机器人", "蓝牙耳机", "儿童保温杯", "羊毛大衣", "电动牙刷", "乳胶枕", "运动手表"]
FEES = ["9.9", "12", "15", "19", "25", "30", "68"]


def slots3(r: random.Random) -> dict[str, str]:
    """The slots of `slots` plus the third batch's own keys (drawn after them)."""
    s = slots(r)
    s.update({
        "shop": r.choice(SHOPS), "park": r.choice(PARKS),
        "plate": r.choice(PROVINCES) + r.choice("ABCDEFG") + "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(5)),
        "hospital": r.choice(HOSPITALS), "street": r.choice(STREETS), "school": r.choice(SCHOOLS),
        "cinema": r.choice(CINEMAS), "restaurant": r.choice(RESTAURANTS), "building": r.choice(BUILDINGS),
        "surname": r.choice(SURNAMES), "product": r.choice(PRODUCTS), "fee": r.choice(FEES),
        "c2": digits(r, 2), "year": str(r.choice([2023, 2024, 2025])), "gb": str(r.randint(1, 40)),
        "meet": f"{digits(r, 3)} {digits(r, 3)} {digits(r, 3)}", "deg2": str(r.randint(500, 1500)),
    })
    return s


PASS_NOTICE_3 = [
    "【{app}】您已成功付款{amt}元，收款方：{shop}，交易单号{order}。",
    "【{park}】车辆{plate}于{hh}:{mm}出场，停车{n}小时，应缴{small}元，已无感支付。",
    "车辆入场提醒：{plate}，{hh}:{mm}，{park}。",
    "【{city}燃气】您家的燃气余量已不足{n}立方，为避免影响做饭，请尽快充值。",
    "【中国电信】您的宽带将于{m}月{d}日到期，可在营业厅或中国电信APP续费，逾期将暂停上网。",
    "【{hospital}】{name}您好，您{m}月{d}日的检验报告已出，可在医院公众号查看或到自助机打印。",
    "【{city}政务服务】您申请的居住证已办结，请于工作日带身份证到{street}派出所领取。",
    "【{app}】您的连续包月会员将于明日续费{fee}元，如需取消请在“我的-会员管理”中关闭。",
    "【{courier}】快递员{name}将于今天{hh}:00前上门取件，请提前将物品打包好。",
    "【{bank}】您尾号{tail}的活期账户{m}月{d}日结息{small}.{c2}元。",
    "【物业】{room}业主您好，您家{m}月物业费{amt}元已缴清，电子收据可在业主小程序查看。",
    "【{app}】您的账号于{hh}:{mm}在一台新设备上登录，若不是您本人，请尽快修改密码。",
    "【{city}12345】您反映的小区路灯不亮问题已转交街道办处理，工单号{code6}，可来电查询进度。",
    "【{school}】本周{n}下午{h12}点召开家长会，地点在各班教室，请家长准时参加。",
    "【中国联通】截至{d}日，您本月通用流量剩余{gb}GB，通话剩余{small}分钟。",
    "【{city}税务】您{year}年度个人所得税综合所得汇算已办理完毕，应退税额{amt}元，请留意到账。",
    "【滴滴出行】行程已结束，本次车费{small}元已自动扣款，欢迎为司机评价。",
]
PASS_CHAT_3 = [
    "到了吗",
    "好嘞，马上下楼",
    "在干嘛呢？",
    "晚安啦，明天见😴",
    "ok，那就这么定了",
    "你到家了说一声哈",
    "今天好累啊，回去就想躺着",
    "你吃饭没？要不要给你带份{food}",
    "我在地铁上了，{min}分钟左右到",
    "电影票买好了，{cinema}{hh}:{mm}那场，别迟到哦",
    "上次那{small}块不急哈，你手头宽裕了再说",
    "那家{food}排队要一个多小时，咱换一家吧",
    "宝宝，我到你楼下了，不着急慢慢来",
    "下周六是我们在一起{n}周年，想好去哪吃了吗？",
]
PASS_FAMILY_3 = [
    "妈，这个月工资发了，给你转了{big}00，买点好吃的别省着。",
    "大伯的七十大寿定在{m}月{d}号中午，{restaurant}，咱全家都去。",
    "爸，你的降压药还剩几天？我网上给你下单了，后天到。",
    "外婆今天复查，医生说指标都正常，你们别担心。",
    "儿子，过年的票抢到没？实在不行我开车去{city}接你。",
    "姐，上回借你的{big}00我转回去了，你看看到了没。",
    "晚饭做了{food}，你大概几点到家？",
    "爷爷念叨你好几天了，有空给他打个视频。",
]
PASS_WORK_3 = [
    "周报今晚十点前发我",
    "{name}，下午{h12}点拜访客户你跟我一起去，带上报价单。",
    "差旅报销要附行程单和酒店水单，缺一样财务都不给过。",
    "各位同学，校运会报名截止到本周{n}，每人最多报两项，找体委登记。",
    "期末考试安排：{m}月{d}日上午高数，下午大学英语，地点{building}，记得带学生证。",
    "明早的培训改线上了，腾讯会议号{meet}，{hh}:{mm}开始。",
    "{surname}老师，论文初稿已发到您邮箱，您有空帮忙看看，谢谢！",
    "这批货客户要求{m}月{d}号前到仓，生产那边赶得出来吗？",
]
PASS_SHOP_3 = [
    "老板，单号{order}三天没更新物流了，能帮忙问问吗？",
    "退货寄出了，{courier}单号{order}，你们收到后麻烦退款。",
    "这个能开发票吗？公司报销要用，抬头和税号我发你。",
    "亲，差价{small}元已经退给您了，您看下到账没有哈",
    "师傅，{product}什么时候能上门装？我这周末都在家。",
]
SPAM_3 = [
    "您好，您在{app}购买的{product}因质量问题被召回，我们将双倍退款，请添加专员微信{wx}办理。",
    "亲，您的快递在中转时被弄丢了，按规定赔付{deg}元，请扫客服发您的二维码领取。",
    "无抵押，凭身份证就能办，{big}万额度当天放款，详询{phone}",
    "【{app}】您有一笔{big}000元借款额度待领取，年化低至{pct}%，戳{url}",
    "您好，您之前开通的{app}学生账户需要注销，否则会影响个人征信，请尽快联系{phone}。",
    "信用卡逾期了？协商停息挂账，专业团队帮你减免利息，加{wx}免费咨询",
    "手机贷，秒下款，不查征信",
    "真人荷官在线发牌，充{big}0送{big}，24小时提款，{url}",
    "世界杯竞猜火热开启，注册送体验金，日赚{deg}不是梦，网址{url}",
    "加入彩票计划群，跟着导师下注，已有上千人回本，QQ{qq}",
    "{slang}，最近在玩一个捕鱼游戏，能直接提现，我一天赚了{deg}，{url}下载",
    "招抖音点赞员，点一个赞{n}毛钱，日结无押金，加{wx}",
    "【任务平台】新人首单返{small}元，完成{n}个任务即可提现，{url}",
    "您好，我是{app}的人事，看了您的简历，现有居家兼职岗位，日薪{deg}-{deg2}元，详情加{wx}",
    "需要会打字、会用手机的人，一天两小时，工资日结，有意私聊",
    "学生党兼职，手机做任务，单单结算，零门槛",
    "【{bank}】您的电子密码器已过期，请登录{url}进行升级，逾期将无法使用网银。",
    "【10086】您的套餐可免费升级为5G畅享版，请登录{url}确认，否则下月将自动扣费{small}元。",
    "【{app}】您的店铺保证金{amt}元待退还，请尽快联系官方客服{phone}办理。",
    "您好，我是{app}客服，您开通的会员服务每月将扣费{small}元，如需取消请致电{phone}。",
    "【{city}医保】您的医保卡明日将被冻结，请立即点击{url}完成年度认证。",
    "【法院通知】您涉及一起经济纠纷案件，请于今日致电{phone}，逾期将强制执行。",
    "【{app}】系统检测到您多次付款失败，请在{url}重新绑定银行卡，以免影响使用。",
    "小{surname}，我是你们王局，明天来我办公室一趟，先加我这个微信{wx}。",
    "妈，我手机掉水里了，这是同学的号，快给我转{big}00交资料费，别打电话，在上课。",
    "公司有多余进项票，餐饮、住宿、运输都能开，诚信合作，{wx}",
    "USDT搬砖套利，日收益{pct}%，零风险，带你上车：{url}",
    "期货外汇喊单，老师实盘带单，月收益三成以上，加群{qq}",
    "恭喜您获得数字藏品空投资格，价值{deg}0元，限时领取{url}",
    "我司即将上市，现开放内部原始股认购，每股{n}元，上市后翻十倍，名额有限。",
    "帅哥，我是附近的小雨，今晚一个人好无聊，加我{wx}聊聊😘",
    "同城约会，真人见面，不满意不收费，{url}",
    "哥哥，看了你的朋友圈想和你交个朋友，这是我的QQ{qq}",
    "国家扶持项目，投{big}00元每天分红，拉人还有奖励，一起致富！",
    "诚邀加盟，零成本创业，带团队月入十万，时间自由，{wx}",
    "消费养老新模式，买东西就能领养老金，推荐三人即可升级会员。",
    "您好，您的{product}订单因仓库失误无法发货，我们将退款{amt}元并额外补偿，请点击{url}填写收款信息。",
    "【{app}】您有一笔运费险理赔{small}元未领取，请联系客服{phone}。",
    "【{shop}】会员日全场{n}折，第二杯半价，回TD退订",
    "装修找我们，全包{big}00元/平起，免费上门量房，电话{phone}",
    "学车包过，一对一教练不排队，{phone}",
    "少儿编程免费试听，名额仅剩{n}个，扫码报名{url}",
    "空调、油烟机深度清洗，{small}元起，上门服务，预约{phone}",
    "{city}学区房急售，业主急用钱，低于市场价{big}万，看房{phone}",
    "代办大额信用卡，包下卡，当天办理",
    "资金证明、刷流水、办签证，加{wx}",
    "你的照片被人传到网上了，快看{url}",
    "点击领取：{url}",
]


def fill(templates: list[str], r: random.Random, make=slots) -> list[str]:
    out: list[str] = []
    for t in templates:
        seen = set()
        for _ in range(PER_TEMPLATE * 3):
            s = t.format(**make(r))
            if s not in seen:
                seen.add(s)
                out.append(s)
            if len(seen) == PER_TEMPLATE:
                break
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    r = random.Random(args.seed)
    rows = [("pass", k, s) for k, ts in (("notice", PASS_NOTICE), ("chat", PASS_CHAT), ("family", PASS_FAMILY),
                                         ("work", PASS_WORK), ("shopping", PASS_SHOP)) for s in fill(ts, r)]
    rows += [("spam", "scam_or_ad", s) for s in fill(SPAM, r)]
    # third batch: after every earlier row, same generator, its own slots (earlier lines unchanged)
    rows += [("pass", k, s) for k, ts in (("notice", PASS_NOTICE_3), ("chat", PASS_CHAT_3), ("family", PASS_FAMILY_3),
                                          ("work", PASS_WORK_3), ("shopping", PASS_SHOP_3)) for s in fill(ts, r, slots3)]
    rows += [("spam", "scam_or_ad", s) for s in fill(SPAM_3, r, slots3)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("label\tkind\ttext\n")
        for row in rows:
            assert "\t" not in row[2] and "\n" not in row[2]
            f.write("\t".join(row) + "\n")
    print(f"{len(rows)} lines -> {args.out}")


if __name__ == "__main__":
    main()
