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


def fill(templates: list[str], r: random.Random) -> list[str]:
    out: list[str] = []
    for t in templates:
        seen = set()
        for _ in range(PER_TEMPLATE * 3):
            s = t.format(**slots(r))
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("label\tkind\ttext\n")
        for row in rows:
            assert "\t" not in row[2] and "\n" not in row[2]
            f.write("\t".join(row) + "\n")
    print(f"{len(rows)} lines -> {args.out}")


if __name__ == "__main__":
    main()
